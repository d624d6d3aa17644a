"""`python manage.py generate_demo_activity`: a few weeks of demo lookups, links and failures."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookups.services.demo_activity import create_demo_activity


class Command(BaseCommand):
    help = (
        "Make a few weeks of demo lookups, links and failures (order IDs DEMO…, tickets DEMO-…, "
        "agents demo-*) so the reports have something to show. Does nothing if they exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=21)

    def handle(self, *args: object, days: int, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo activity is for local runs: it runs only with DEBUG on.")
        if not 1 <= days <= 366:
            raise CommandError("--days is a number of days from 1 to 366.")
        activity = create_demo_activity(days=days)
        verb = "Made" if activity.created else "Already there:"
        self.stdout.write(
            f"{verb} {activity.lookups} demo lookups and {activity.token_changes} token changes."
        )
