from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookups.services.apple_actions import engine
from lookups.services.apple_actions.engine import Settlement, answer_wait


def shortest_wait_minutes() -> int:
    """The youngest a pending action may be and still be reconciled, in whole minutes."""
    return math.ceil(answer_wait().total_seconds() / 60)


class Command(BaseCommand):
    help = (
        "Settle actions at Apple of every kind (links, extensions, consumption answers) a crash "
        "left pending, by asking Apple what became of each. Those Apple can't tell about stay "
        "pending, and the command fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=10,
            metavar="MINUTES",
            help=(
                "Only actions pending for longer than this (default 10). Keep it well above "
                "APPSTORE_CALL_BUDGET_SECONDS, so a call still waiting for Apple is left alone."
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
        # A crash leaves a handful of rows at most, and settling each one commits on its own.
        stranded = list(engine.stranded(timedelta(minutes=older_than)))
        results: dict[str, Counter[Settlement]] = {}
        for kind, row in stranded:
            reconciliation = engine.reconcile(kind, row)
            results.setdefault(kind.audit_name, Counter())[reconciliation.settlement] += 1
            line = (
                f"{kind.audit_name} {row.pk} ({kind.describe(row)}): "
                f"{reconciliation.settlement}: {reconciliation.detail}"
            )
            if reconciliation.settlement == Settlement.LEFT_PENDING:
                self.stderr.write(line)
            else:
                self.stdout.write(line)

        summaries = [
            f"{sum(counts.values())} {name}s pending for over {older_than} minutes: "
            f"{counts[Settlement.SUCCEEDED]} succeeded, {counts[Settlement.FAILED]} failed, "
            + (
                f"{counts[Settlement.UNCONFIRMED]} unconfirmed, "
                if counts[Settlement.UNCONFIRMED]
                else ""
            )
            + f"{counts[Settlement.SETTLED_ELSEWHERE]} settled meanwhile, "
            f"{counts[Settlement.LEFT_PENDING]} left pending."
            for name, counts in results.items()
        ] or [f"0 token changes pending for over {older_than} minutes: nothing to settle."]
        summary = " ".join(summaries)
        if any(counts[Settlement.LEFT_PENDING] for counts in results.values()):
            raise CommandError(f"{summary} The next run tries them again.")
        self.stdout.write(summary)
