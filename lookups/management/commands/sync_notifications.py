from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lookups.appstore import AppStoreError
from lookups.services.notifications import sync_from_history


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not an ISO date or date-time.") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Read Apple's Get Notification History and store (and apply) every notification the "
        "endpoint missed. Safe to run again: notifications already stored are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, type=_moment, help="ISO date or date-time")
        parser.add_argument("--until", type=_moment, help="ISO date or date-time (default now)")

    def handle(self, *args: Any, since: datetime, until: datetime | None, **options: Any) -> None:
        # Apple's end date is exclusive and counts milliseconds: one more takes in a notification
        # signed in this very millisecond.
        until = until or timezone.now() + timedelta(milliseconds=1)
        if since >= until:
            raise CommandError("--since must be before --until.")
        try:
            sync = sync_from_history(since, until)
        except AppStoreError as error:
            raise CommandError(
                f"Apple refused Get Notification History: {error.describe()}"
            ) from error
        self.stdout.write(
            f"{sync.stored} stored, {sync.known} already known, {sync.refused} failed verification"
        )
