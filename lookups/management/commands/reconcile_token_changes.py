from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lookups.models import TokenChange
from lookups.services.reconciling import Settlement, reconcile_token_change
from lookups.services.settling import answer_wait


def shortest_wait_minutes() -> int:
    """The youngest a pending change may be and still be reconciled, in whole minutes."""
    return math.ceil(answer_wait().total_seconds() / 60)


class Command(BaseCommand):
    help = (
        "Settle token changes a crash left pending, by asking Apple which token each purchase "
        "carries now. Changes Apple can't be asked about stay pending, and the command fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=10,
            metavar="MINUTES",
            help=(
                "Only changes pending for longer than this (default 10). Keep it well above "
                "APPSTORE_CALL_BUDGET_SECONDS, so a link still waiting for Apple is left alone."
            ),
        )

    def handle(self, *args: Any, older_than: int, **options: Any) -> None:
        shortest = shortest_wait_minutes()
        if older_than < shortest:
            raise CommandError(
                f"--older-than must be at least {shortest} minute{'' if shortest == 1 else 's'}: "
                "a change younger than the "
                f"App Store call budget ({settings.APPSTORE_CALL_BUDGET_SECONDS:g} s) plus "
                f"TOKEN_CHECK_MARGIN_SECONDS ({settings.TOKEN_CHECK_MARGIN_SECONDS:g} s) may "
                "still be waiting for Apple's answer."
            )
        cutoff = timezone.now() - timedelta(minutes=older_than)
        # A crash leaves a handful of rows at most, and settling each one commits on its own.
        stranded = list(
            TokenChange.objects.filter(
                outcome=TokenChange.Outcome.PENDING, created_at__lt=cutoff
            ).order_by("created_at", "pk")
        )

        results: Counter[Settlement] = Counter()
        for change in stranded:
            reconciliation = reconcile_token_change(change)
            results[reconciliation.settlement] += 1
            line = (
                f"token change {change.pk} (purchase {change.original_transaction_id}, "
                f"ticket {change.ticket_reference}): {reconciliation.settlement}: "
                f"{reconciliation.detail}"
            )
            if reconciliation.settlement == Settlement.LEFT_PENDING:
                self.stderr.write(line)
            else:
                self.stdout.write(line)

        left = results[Settlement.LEFT_PENDING]
        summary = (
            f"{len(stranded)} token changes pending for over {older_than} minutes: "
            f"{results[Settlement.SUCCEEDED]} succeeded, "
            f"{results[Settlement.FAILED]} failed, "
            f"{results[Settlement.SETTLED_ELSEWHERE]} settled meanwhile, {left} left pending."
        )
        if left:
            raise CommandError(f"{summary} The next run tries them again.")
        self.stdout.write(summary)
