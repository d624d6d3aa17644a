"""Whether the desk offers "Extend" beside a purchase, and if not, why: what Apple would accept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from lookups.models import Purchase
from lookups.services.apple_actions.acting_app import why_not_acted_on
from lookups.services.extending import (
    expected_refusals,
    is_subscription,
    past_year_extension_counts,
)


@dataclass(frozen=True)
class ExtensionOffer:
    can_extend: bool
    # Apple's first expected refusal, in the words of its rules, with its error code.
    why_not: str = ""


def extension_offers(purchases: Iterable[Purchase | None]) -> dict[str, ExtensionOffer]:
    """By original transaction ID, for each auto-renewable subscription among the purchases;
    a lifetime unlock, a credit pack or a season pass has no offer at all."""
    subscriptions = [p for p in purchases if p is not None and is_subscription(p)]
    now = timezone.now()
    # One query for every purchase's past extensions, not one a purchase.
    past_year = past_year_extension_counts(subscriptions, now=now)
    offers = {}
    for purchase in subscriptions:
        if why := why_not_acted_on(purchase.app, purchase.environment):
            offers[purchase.original_transaction_id] = ExtensionOffer(can_extend=False, why_not=why)
            continue
        key = (purchase.environment, purchase.original_transaction_id)
        refusals = expected_refusals(purchase, now=now, past_year=past_year.get(key, 0))
        offers[purchase.original_transaction_id] = ExtensionOffer(
            can_extend=not refusals, why_not=refusals[0].described if refusals else ""
        )
    return offers
