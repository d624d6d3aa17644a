"""Settling token changes left pending (a timeout, a crash) from the token Apple shows now."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from django.conf import settings

from lookups.appstore import AppStoreError, HistoryFilters, Transaction, VerificationError
from lookups.appstore.errors import InvalidTransactionIdError, TransactionIdNotFoundError
from lookups.models import TokenChange
from lookups.services.clients import app_store_client, transaction_verifier
from lookups.services.purchases import is_uuid, latest_transaction


class Settlement(enum.StrEnum):
    """What reconciling did to the row."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Someone else settled it meanwhile; this run changed nothing.
    SETTLED_ELSEWHERE = "settled elsewhere"
    # Apple could not be asked, or its answer not trusted: a later run tries again.
    LEFT_PENDING = "left pending"


@dataclass(frozen=True)
class Reconciliation:
    """What reconciling one pending token change found, and what became of the row."""

    change: TokenChange
    settlement: Settlement
    detail: str


def reconcile_token_change(change: TokenChange) -> Reconciliation:
    """Settle a change a crash left pending, from the token Apple shows on the purchase now.

    The process that wrote the row died before recording Apple's answer, so Set App Account
    Token may or may not have been carried out. The purchase's latest transaction tells which: the
    change succeeded if that transaction carries the row's token. When Apple can't be asked, or
    its answer can't be trusted, the row stays pending for the next run.
    """
    if change.environment != settings.APPSTORE_ENVIRONMENT:
        return Reconciliation(
            change,
            Settlement.LEFT_PENDING,
            f"written against {change.environment}, and this server asks "
            f"{settings.APPSTORE_ENVIRONMENT}",
        )
    error_code = None
    try:
        latest = latest_transaction_at_apple(change.original_transaction_id)
    except (InvalidTransactionIdError, TransactionIdNotFoundError) as error:
        outcome = TokenChange.Outcome.FAILED
        error_code = error.error_code
        message = f"reconciled: Apple has no such purchase. {error.describe()}"
    except AppStoreError as error:
        return Reconciliation(
            change, Settlement.LEFT_PENDING, f"Apple could not be asked: {error.describe()}"
        )
    except VerificationError as error:
        return Reconciliation(
            change, Settlement.LEFT_PENDING, f"Apple's answer could not be verified ({error})"
        )
    else:
        token = latest.app_account_token if latest is not None else None
        linked = is_uuid(token) and uuid.UUID(token) == change.token_after
        outcome = TokenChange.Outcome.SUCCEEDED if linked else TokenChange.Outcome.FAILED
        if latest is None:
            message = "reconciled: Apple lists no transaction of this purchase"
        else:
            message = f"reconciled: Apple shows token {token or 'none'}"

    if change.settle(outcome, error_code=error_code, error_message=message):
        return Reconciliation(change, Settlement(outcome), message)
    return Reconciliation(change, Settlement.SETTLED_ELSEWHERE, f"already {change.outcome}")


def latest_transaction_at_apple(original_transaction_id: str) -> Transaction | None:
    """The purchase's newest transaction as Apple lists it now, verified; None if none is listed.

    Get Transaction History lists the most recently modified first, so the first page that
    mentions the purchase holds its newest transaction, the one that carries its current token.
    """
    verifier = transaction_verifier()
    pages = app_store_client().iter_transaction_history(
        original_transaction_id, filters=HistoryFilters(sort="DESCENDING")
    )
    for page in pages:
        verifier.check_app(bundle_id=page.bundle_id, app_apple_id=page.app_apple_id)
        found = latest_transaction(
            map(verifier.decode_transaction, page.signed_transactions), original_transaction_id
        )
        if found is not None:
            return found
    return None
