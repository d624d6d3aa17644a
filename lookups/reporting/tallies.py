"""The managers' figures read from the daily tallies the database keeps (PostgreSQL).

A range of ninety days is a few thousand tally rows however many lookups and token changes it
held; figures.py falls back to counting the rows themselves where no tallies are kept (SQLite).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Q, QuerySet, Sum

from lookups.models import DailyTally

if TYPE_CHECKING:
    from lookups.reporting.figures import ReportFilters

Source = DailyTally.Source


def kept(using: str = "default") -> bool:
    """Whether the database keeps the tallies (its triggers are PostgreSQL's)."""
    return connections[using].vendor == "postgresql"


def in_range(filters: ReportFilters, source: str) -> QuerySet[DailyTally]:
    tallies = DailyTally.objects.filter(source=source, day__gte=filters.start, day__lte=filters.end)
    if filters.agent is not None:
        tallies = tallies.filter(agent_id=filters.agent.pk)
    app_ids = filters.apps.tally_ids()
    if app_ids is not None:
        tallies = tallies.filter(app_id__in=app_ids)
    if filters.environment:
        tallies = tallies.filter(environment=filters.environment)
    return tallies


def by_day_and_outcome(filters: ReportFilters, source: str) -> list[dict]:
    """Rows like the counting query's: day, outcome and n."""
    return list(
        in_range(filters, source)
        .values("day", "outcome")
        .annotate(n=Sum("row_count"))
        .filter(n__gt=0)
        .order_by()
    )


def by_agent(filters: ReportFilters, source: str, **only: str) -> dict[int, int]:
    """Rows per agent's user ID; `usernames` names them."""
    return dict(
        in_range(filters, source)
        .filter(**only)
        .values("agent_id")
        .annotate(n=Sum("row_count"))
        .filter(n__gt=0)
        .order_by()
        .values_list("agent_id", "n")
    )


def usernames(*totals: dict[int, int]) -> dict[int, str]:
    """The usernames of the agents these totals count, in one query."""
    agent_ids = set().union(*totals)
    return dict(get_user_model().objects.filter(pk__in=agent_ids).values_list("pk", "username"))


def by_error_code(filters: ReportFilters, source: str) -> dict[int, int]:
    return dict(
        in_range(filters, source)
        .exclude(error_code=0)
        .values("error_code")
        .annotate(n=Sum("row_count"))
        .filter(n__gt=0)
        .order_by()
        .values_list("error_code", "n")
    )


def linked_and_offer_codes(filters: ReportFilters, succeeded: str) -> tuple[int, int]:
    totals = (
        in_range(filters, Source.TOKEN_CHANGE)
        .filter(outcome=succeeded)
        .aggregate(linked=Sum("row_count"), offer_codes=Sum("row_count", filter=Q(offer_code=True)))
    )
    return totals["linked"] or 0, totals["offer_codes"] or 0
