"""The desk's picture of each purchase as Apple last told it, fed only by verified transactions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from lookups.appstore import Transaction
from lookups.models import Purchase, TokenChange
from lookups.services.purchases import is_uuid, latest_by_purchase, recency
from lookups.services.reconciling import latest_transaction_at_apple

# What a lookup knows that a history page doesn't: the order the purchase came from.
_ALWAYS_UPDATED = ["latest_transaction", "product_id", "app_account_token", "learnt_at"]


def learn_purchases(
    transactions: Iterable[Transaction], *, source: str, order_id: str = ""
) -> dict[str, Purchase]:
    """Update the picture of every purchase among these verified transactions.

    A purchase's picture moves only forward: an older page of history read later does not
    replace a newer transaction already known. Two queries, whatever the number of purchases.
    """
    latest = latest_by_purchase(transactions)
    if not latest:
        return {}
    environment = settings.APPSTORE_ENVIRONMENT
    known = {
        purchase.original_transaction_id: purchase
        for purchase in Purchase.objects.filter(
            environment=environment, original_transaction_id__in=list(latest)
        )
    }
    now = timezone.now()
    learnt = []
    for original_id, txn in latest.items():
        stored = known.get(original_id)
        if stored and recency(Transaction.from_payload(stored.latest_transaction)) > recency(txn):
            # Written back as it is: one statement for the page, whichever purchases it updates.
            learnt.append(stored)
            continue
        learnt.append(
            Purchase(
                environment=environment,
                original_transaction_id=original_id,
                latest_transaction=dict(txn.raw),
                product_id=txn.product_id or "",
                app_account_token=_token(txn.app_account_token),
                order_id=order_id or (stored.order_id if stored else ""),
                learnt_at=now,
                learnt_from=source,
            )
        )
    fields = [*_ALWAYS_UPDATED, "learnt_from", *(["order_id"] if order_id else [])]
    Purchase.objects.bulk_create(
        learnt,
        update_conflicts=True,
        unique_fields=["environment", "original_transaction_id"],
        update_fields=fields,
    )
    return {purchase.original_transaction_id: purchase for purchase in learnt}


def stored_purchase(original_transaction_id: str) -> Purchase | None:
    """The picture as it stands, however old: for showing, not for deciding."""
    return Purchase.objects.filter(
        environment=settings.APPSTORE_ENVIRONMENT, original_transaction_id=original_transaction_id
    ).first()


def current_purchase(original_transaction_id: str) -> Purchase | None:
    """The purchase as Apple shows it now: the picture if fresh, else read from Apple again.

    None when Apple lists no purchase with this original transaction ID. Raises the client's
    `AppStoreError`, or `VerificationError` when Apple's answer can't be trusted.
    """
    purchase = stored_purchase(original_transaction_id)
    if purchase is not None and is_fresh(purchase):
        return purchase
    latest = latest_transaction_at_apple(original_transaction_id)
    if latest is None:
        return None
    learnt = learn_purchases([latest], source=Purchase.Source.APPLE_READ)
    return learnt.get(original_transaction_id) or stored_purchase(original_transaction_id)


def is_fresh(purchase: Purchase) -> bool:
    """Learnt recently, and no token change sent to Apple since (it may have moved the token)."""
    if purchase.learnt_at < timezone.now() - timedelta(seconds=settings.PURCHASE_FRESH_SECONDS):
        return False
    return not TokenChange.objects.filter(
        environment=purchase.environment,
        original_transaction_id=purchase.original_transaction_id,
        created_at__gte=purchase.learnt_at,
    ).exists()


def changed_outside_the_desk(purchase: Purchase) -> bool:
    """Whether Apple's token differs from the one the desk last set on this purchase.

    Someone set it in the app or another tool, or a call the desk recorded as failed (a
    reconcile that ran while it was still in flight) was carried out after all.
    """
    last = (
        TokenChange.objects.filter(
            environment=purchase.environment,
            original_transaction_id=purchase.original_transaction_id,
            outcome=TokenChange.Outcome.SUCCEEDED,
        )
        .order_by("-settled_at", "-pk")
        .values_list("token_after", flat=True)
        .first()
    )
    return last is not None and last != purchase.app_account_token


def _token(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if is_uuid(value) else None
