"""Apple's status of each purchase: read with Get All Subscription Statuses, kept on the picture.

The read (HTTP and signature checks, no database) may run in a thread beside the lookup's own
verification; what it learnt is written to the picture afterwards, on the request's thread.
A status signed before the one the desk holds is ignored, so an older answer never undoes a newer.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from lookups.appstore import AppStoreError, RenewalInfo, Transaction, VerificationError
from lookups.models import Purchase
from lookups.services.clients import app_store_client, transaction_verifier

# Apple's subscription status numbers, as Get All Subscription Statuses and notifications send them.
APPLE_STATUSES = {
    1: Purchase.Status.ACTIVE,
    2: Purchase.Status.EXPIRED,
    3: Purchase.Status.BILLING_RETRY,
    4: Purchase.Status.GRACE_PERIOD,
    5: Purchase.Status.REVOKED,
}

# One small pool per process: the read waits on Apple, so two threads are plenty beside requests.
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="status-read")


@dataclass(frozen=True)
class SubscriptionState:
    """One subscription's status as Apple signed it, verified."""

    original_transaction_id: str
    status: str
    transaction: Transaction | None
    renewal: RenewalInfo | None


@dataclass(frozen=True)
class StatusRead:
    states: list[SubscriptionState]
    problem: str = ""


def read_statuses(any_transaction_id: str) -> StatusRead:
    """Get All Subscription Statuses for the customer of this transaction, verified.

    Touches no database, so it may run in a thread. Apple's error or a signature that fails is
    told in `problem`; what did verify is kept.
    """
    try:
        answer = app_store_client().get_all_subscription_statuses(any_transaction_id)
    except AppStoreError as error:
        return StatusRead(
            [], problem=f"Apple's subscription status could not be read: {error.describe()}"
        )
    verifier = transaction_verifier()
    try:
        verifier.check_app(bundle_id=answer.bundle_id, app_apple_id=answer.app_apple_id)
    except VerificationError as error:
        return StatusRead(
            [], problem=f"Apple's status answer was for another app ({error.detail})."
        )
    states, failed = [], 0
    for group in answer.groups:
        for last in group.last_transactions:
            try:
                txn = (
                    verifier.decode_transaction(last.signed_transaction_info)
                    if last.signed_transaction_info
                    else None
                )
                renewal = (
                    verifier.decode_renewal_info(last.signed_renewal_info)
                    if last.signed_renewal_info
                    else None
                )
            except VerificationError:
                failed += 1
                continue
            original_id = last.original_transaction_id or (
                txn.original_transaction_id if txn else None
            )
            if not original_id or last.status not in APPLE_STATUSES:
                continue
            states.append(SubscriptionState(original_id, APPLE_STATUSES[last.status], txn, renewal))
    problem = (
        f"{failed} subscription status{'es' if failed != 1 else ''} failed signature"
        " verification and are not shown."
        if failed
        else ""
    )
    return StatusRead(states, problem=problem)


def read_statuses_in_background(any_transaction_id: str) -> Future[StatusRead]:
    return _POOL.submit(read_statuses, any_transaction_id)


def learn_statuses(read: StatusRead, *, source: str = Purchase.StatusSource.STATUS_READ) -> None:
    """Write what a status read told onto the picture (the purchases must already be known)."""
    for state in read.states:
        learn_state(
            state.original_transaction_id,
            status=state.status,
            transaction=state.transaction,
            renewal=state.renewal,
            signed_at=_signed_at(state),
            source=source,
        )


def learn_state(
    original_transaction_id: str,
    *,
    status: str,
    transaction: Transaction | None,
    renewal: RenewalInfo | None,
    signed_at: datetime | None,
    source: str,
) -> bool:
    """Set one purchase's status unless the desk already holds a newer one. True if written."""
    purchase = Purchase.objects.filter(
        environment=settings.APPSTORE_ENVIRONMENT, original_transaction_id=original_transaction_id
    ).first()
    if purchase is None:
        return False
    if signed_at and purchase.status_signed_at and purchase.status_signed_at > signed_at:
        return False
    purchase.status = status
    purchase.status_signed_at = signed_at
    purchase.status_learnt_at = timezone.now()
    purchase.status_source = source
    if renewal is not None:
        purchase.renewal_info = dict(renewal.raw)
        purchase.auto_renew = renewal.will_renew if renewal.auto_renew_status is not None else None
        purchase.next_renewal_date = renewal.renewal_date
        purchase.next_renewal_product_id = renewal.auto_renew_product_id or ""
        purchase.expiration_intent = (
            int(renewal.expiration_intent) if renewal.expiration_intent is not None else None
        )
        purchase.grace_period_ends_at = renewal.grace_period_expires_date
    if transaction is not None:
        purchase.revocation_date = transaction.revocation_date
        purchase.revocation_reason = (
            int(transaction.revocation_reason)
            if transaction.revocation_reason is not None
            else None
        )
    purchase.save(
        update_fields=[
            "status",
            "status_signed_at",
            "status_learnt_at",
            "status_source",
            "renewal_info",
            "auto_renew",
            "next_renewal_date",
            "next_renewal_product_id",
            "expiration_intent",
            "grace_period_ends_at",
            "revocation_date",
            "revocation_reason",
        ]
    )
    return True


def learn_one_time_states(transactions: Iterable[Transaction]) -> None:
    """One-time purchases have no renewal: owned, or refunded once Apple revoked them."""
    for txn in transactions:
        if txn.is_subscription or not txn.original_transaction_id:
            continue
        learn_state(
            txn.original_transaction_id,
            status=Purchase.Status.REFUNDED if txn.is_revoked else Purchase.Status.OWNED,
            transaction=txn,
            renewal=None,
            signed_at=txn.signed_date,
            source=Purchase.StatusSource.TRANSACTION,
        )


def _signed_at(state: SubscriptionState) -> datetime | None:
    moments = [
        moment
        for moment in (
            state.renewal.signed_date if state.renewal else None,
            state.transaction.signed_date if state.transaction else None,
        )
        if moment is not None
    ]
    return max(moments) if moments else None
