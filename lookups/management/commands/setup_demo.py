"""`python manage.py setup_demo`: the local signing key, demo logins, customers, product names
and a few weeks of demo activity for the reports."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lookups.services.demo_accounts import create_demo_accounts, create_demo_users
from lookups.services.demo_activity import create_demo_activity
from lookups.services.demo_apps import create_demo_apps
from lookups.services.demo_products import create_demo_products
from lookups.simulators.appstore.local import ensure_private_key


class Command(BaseCommand):
    help = "Create the local App Store key, the demo users and the demo customer accounts."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.SUPPORTDESK_LOCAL:
            raise CommandError(
                "setup_demo makes well-known passwords: it runs only with SUPPORTDESK_LOCAL=true."
            )
        if not settings.APPSTORE_PRIVATE_KEY and settings.APPSTORE_PRIVATE_KEY_PATH:
            ensure_private_key(settings.APPSTORE_PRIVATE_KEY_PATH)
        users = create_demo_users()
        self.stdout.write(f"Demo apps: {', '.join(create_demo_apps())}")
        count = create_demo_accounts()
        self.stdout.write(f"Demo customer accounts: {count}")
        self.stdout.write(f"Demo products named in the catalogue: {create_demo_products()}")
        activity = create_demo_activity()
        self.stdout.write(
            f"Demo activity for the reports ({'made now' if activity.created else 'already there'}"
            f"): {activity.lookups} lookups, {activity.token_changes} token changes, "
            "marked DEMO"
        )
        self.stdout.write("Demo logins:")
        for username, password, group in users:
            self.stdout.write(f"  {username:<8} {password:<20} {group}")
