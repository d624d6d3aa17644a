"""`python manage.py setup_demo`: the local signing key, demo logins and demo customers."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lookups.services.demo_accounts import create_demo_accounts, create_demo_users
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
        count = create_demo_accounts()
        self.stdout.write(f"Demo customer accounts: {count}")
        self.stdout.write("Demo logins:")
        for username, password, group in users:
            self.stdout.write(f"  {username:<8} {password:<20} {group}")
