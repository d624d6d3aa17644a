"""Offer-code purchases Apple told the desk about that no customer is linked to yet."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery

from lookups.appstore.transactions import OfferType
from lookups.models import AppStoreNotification, Purchase, TokenChange

# OFFER_REDEEMED is sent for an offer code redeemed on an existing purchase.
_OFFER_CODE_NEWS = Q(notification_type="OFFER_REDEEMED") | Q(
    notification_type="SUBSCRIBED", transaction__offerType=OfferType.OFFER_CODE.value
)


def unlinked_offer_code_purchases() -> QuerySet[Purchase]:
    """Carrying no token yet, the one Apple told about first at the top."""
    news = AppStoreNotification.objects.filter(
        _OFFER_CODE_NEWS,
        environment=OuterRef("environment"),
        original_transaction_id=OuterRef("original_transaction_id"),
    )
    first_told = (
        news.order_by()
        .values("original_transaction_id")
        .annotate(first=Min("signed_date"))
        .values("first")
    )
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
            environment=settings.APPSTORE_ENVIRONMENT, app_account_token__isnull=True
        )
        .filter(Exists(news))
        .exclude(Exists(taken))
        .annotate(first_told_at=Subquery(first_told))
        .order_by("first_told_at", "pk")
    )
