"""`python manage.py setup_demo`: the local signing key, demo logins, customers, product names
and a few weeks of demo activity for the reports."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookups.services.demo_accounts import create_demo_accounts, create_demo_users
from lookups.services.demo_activity import create_demo_activity, create_demo_activity_later
from lookups.services.demo_apps import create_demo_apps
from lookups.services.demo_products import create_demo_products
from lookups.simulators.appstore.local import ensure_private_key


class Command(BaseCommand):
    help = "Create the local App Store key, the demo users and the demo customer accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--activity-later",
            action="store_true",
            help="queue the demo activity for the background worker instead of making it now",
        )

    def handle(self, *args: object, activity_later: bool, **options: object) -> None:
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
        if activity_later:
            queued = create_demo_activity_later()
            self.stdout.write(
                "Demo activity for the reports: "
                + ("queued for the background worker" if queued else "already there or queued")
            )
        else:
            activity = create_demo_activity()
            self.stdout.write(
                "Demo activity for the reports "
                f"({'made now' if activity.created else 'already there'}): {activity.lookups} "
                f"lookups, {activity.token_changes} token changes, marked DEMO"
            )
        self.stdout.write("Demo logins:")
        for username, password, group in users:
            self.stdout.write(f"  {username:<8} {password:<20} {group}")
