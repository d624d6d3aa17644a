"""Offer-code purchases Apple told the desk about that no customer is linked to yet."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from lookups.appstore.transactions import OfferType
from lookups.models import AppStoreNotification, Purchase, TokenChange
from lookups.services.app_scope import EVERY_APP, AppScope


def unlinked_offer_code_purchases(apps: AppScope = EVERY_APP) -> QuerySet[Purchase]:
    """Carrying no token yet, the one Apple told about first at the top; of the apps in `apps`,
    in both environments (a tester's Sandbox redemption waits beside the customers').

    Read from each purchase's `offer_code_told_at` (set as notifications are applied) through
    its partial index, in the list's order across both environments, so the list costs the same
    with a thousand purchases or millions.
    """
    # A link sent since the desk last learnt the purchase (or on its way now) has taken it: the
    # picture learns the token only when Apple next tells, and a second agent must not take it.
    taken = TokenChange.objects.filter(
        environment=OuterRef("environment"),
        original_transaction_id=OuterRef("original_transaction_id"),
    ).filter(
        Q(outcome=TokenChange.Outcome.PENDING)
        | Q(outcome=TokenChange.Outcome.SUCCEEDED, settled_at__gte=OuterRef("learnt_at"))
    )
    return (
        Purchase.objects.filter(
            apps.rows_of_both_environments(),
            app_account_token__isnull=True,
            offer_code_told_at__isnull=False,
        )
        .exclude(Exists(taken))
        .annotate(first_told_at=F("offer_code_told_at"))
        .order_by("offer_code_told_at", "pk")
    )


def remember_offer_code_news(notification: AppStoreNotification) -> bool:
    """If `notification` tells of an offer code redeemed, mark its purchase as told of then
    (the earliest such news wins); says whether it was such news."""
    transaction = notification.transaction or {}
    is_news = notification.notification_type == "OFFER_REDEEMED" or (
        notification.notification_type == "SUBSCRIBED"
        and transaction.get("offerType") == OfferType.OFFER_CODE.value
    )
    if not is_news:
        return False
    told_at = notification.signed_date or notification.received_at
    Purchase.objects.filter(
        Q(offer_code_told_at__isnull=True) | Q(offer_code_told_at__gt=told_at),
        environment=notification.environment,
        original_transaction_id=notification.original_transaction_id,
    ).update(offer_code_told_at=told_at)
    return True
