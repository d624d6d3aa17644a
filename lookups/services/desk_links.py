"""Whom the desk last linked a purchase to: its latest succeeded token change, in its environment.

The one rule for "the current desk link of a purchase", for one purchase or many: a purchase is
known by its environment and original transaction ID together, as Sandbox and Production are
apart at Apple.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from lookups.models import TokenChange

Key = tuple[str, str]


def _succeeded() -> QuerySet[TokenChange]:
    return TokenChange.objects.filter(outcome=TokenChange.Outcome.SUCCEEDED)


def current_link(environment: str, original_transaction_id: str) -> TokenChange | None:
    """The purchase's latest succeeded change, with its agent and account."""
    return (
        _succeeded()
        .filter(environment=environment, original_transaction_id=original_transaction_id)
        .select_related("account", "agent")
        .order_by("-settled_at", "-pk")
        .first()
    )


def current_links(keys: Iterable[Key]) -> dict[Key, TokenChange]:
    """The latest succeeded change of each (environment, original transaction ID), one query."""
    wanted = set(keys)
    if not wanted:
        return {}
    match = Q()
    for environment, original_transaction_id in wanted:
        match |= Q(environment=environment, original_transaction_id=original_transaction_id)
    succeeded = _succeeded().filter(match).order_by("settled_at", "pk")
    return {(change.environment, change.original_transaction_id): change for change in succeeded}


def still_current_links(changes: Iterable[TokenChange]) -> list[TokenChange]:
    """Those of these succeeded changes that are still their purchase's current link."""
    changes = list(changes)
    current = current_links(_key(change) for change in changes)
    return [
        change
        for change in changes
        if (latest := current.get(_key(change))) and latest.pk == change.pk
    ]


def _key(change: TokenChange) -> Key:
    return change.environment, change.original_transaction_id
