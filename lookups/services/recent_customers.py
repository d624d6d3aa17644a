"""The customers an agent touched last: opened, or wrote a note about."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from lookups.models import CustomerAccount, CustomerVisit

RECENT_LIMIT = 20


def touch(agent, account: CustomerAccount, *, at: datetime | None = None) -> None:
    # One INSERT ... ON CONFLICT UPDATE: no race between two tabs, one query either way.
    CustomerVisit.objects.bulk_create(
        [CustomerVisit(agent=agent, account=account, visited_at=at or timezone.now())],
        update_conflicts=True,
        unique_fields=["agent", "account"],
        update_fields=["visited_at"],
    )


def recent_customers(agent, *, limit: int = RECENT_LIMIT) -> list[CustomerAccount]:
    visits = (
        CustomerVisit.objects.filter(agent=agent)
        .select_related("account")
        .order_by("-visited_at")[:limit]
    )
    return [visit.account for visit in visits]
