"""Whether the desk offers "Extend" beside a purchase, and if not, why: what Apple would accept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lookups.models import Purchase
from lookups.services.apple_actions.acting_app import why_not_acted_on
from lookups.services.extending import expected_refusals, is_subscription


@dataclass(frozen=True)
class ExtensionOffer:
    can_extend: bool
    # Apple's first expected refusal, in the words of its rules, with its error code.
    why_not: str = ""


def extension_offers(purchases: Iterable[Purchase | None]) -> dict[str, ExtensionOffer]:
    """By original transaction ID, for each auto-renewable subscription among the purchases;
    a lifetime unlock, a credit pack or a season pass has no offer at all."""
    offers = {}
    for purchase in purchases:
        if purchase is None or not is_subscription(purchase):
            continue
        if why := why_not_acted_on(purchase.app, purchase.environment):
            offers[purchase.original_transaction_id] = ExtensionOffer(can_extend=False, why_not=why)
            continue
        refusals = expected_refusals(purchase)
        offers[purchase.original_transaction_id] = ExtensionOffer(
            can_extend=not refusals, why_not=refusals[0].described if refusals else ""
        )
    return offers
