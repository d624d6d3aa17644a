"""Apple's status of each purchase: read with Get All Subscription Statuses, kept on the picture.

The read (HTTP and signature checks, no database) may run in a thread beside the lookup's own
verification; what it learnt is written to the picture afterwards, on the request's thread, by
`purchase_picture.learn_purchases`, which ignores a status older than the one the desk holds.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from lookups.appstore import AppStoreError, RenewalInfo, Transaction, VerificationError
from lookups.models import Purchase
from lookups.services.clients import app_store_client, transaction_verifier
from lookups.services.purchase_picture import AppleStatus

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
class StatusRead:
    # Each subscription's status as Apple signed it, verified.
    states: list[AppleStatus]
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
            states.append(
                AppleStatus(
                    original_id,
                    APPLE_STATUSES[last.status],
                    signed_at=_signed_at(txn, renewal),
                    source=Purchase.StatusSource.STATUS_READ,
                    transaction=txn,
                    renewal=renewal,
                )
            )
    problem = (
        f"{failed} subscription status{'es' if failed != 1 else ''} failed signature"
        " verification and are not shown."
        if failed
        else ""
    )
    return StatusRead(states, problem=problem)


def read_statuses_in_background(any_transaction_id: str) -> Future[StatusRead]:
    # In the caller's context, so the read asks the app the caller is serving.
    return _POOL.submit(contextvars.copy_context().run, read_statuses, any_transaction_id)


def one_time_statuses(transactions: Iterable[Transaction]) -> list[AppleStatus]:
    """One-time purchases have no renewal: owned, or refunded once Apple revoked them."""
    return [
        AppleStatus(
            txn.original_transaction_id,
            Purchase.Status.REFUNDED if txn.is_revoked else Purchase.Status.OWNED,
            signed_at=txn.signed_date,
            source=Purchase.StatusSource.TRANSACTION,
            transaction=txn,
        )
        for txn in transactions
        if not txn.is_subscription and txn.original_transaction_id
    ]


def _signed_at(transaction: Transaction | None, renewal: RenewalInfo | None) -> datetime | None:
    moments = [
        moment
        for moment in (
            renewal.signed_date if renewal else None,
            transaction.signed_date if transaction else None,
        )
        if moment is not None
    ]
    return max(moments) if moments else None
