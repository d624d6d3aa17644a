"""The support desk's use cases: the only place that calls Apple and writes lookups and links."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from .apple import app_store_client, transaction_verifier
from .appstore import AppStoreError, HistoryFilters, Transaction, VerificationError
from .models import CustomerAccount, Lookup, TokenChange

# --- Looking up ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Purchase:
    """One signed transaction as the agent sees it: verified and decoded, or flagged."""

    transaction: Transaction | None
    problem: str = ""
    account: CustomerAccount | None = None

    @property
    def verified(self) -> bool:
        return self.transaction is not None

    def as_record(self) -> dict[str, Any]:
        if self.transaction is None:
            return {"verified": False, "problem": self.problem}
        return {"verified": True, "payload": dict(self.transaction.raw)}


@dataclass(frozen=True)
class LookupResult:
    lookup: Lookup
    purchases: list[Purchase] = field(default_factory=list)
    error: AppStoreError | None = None
    revision: str = ""
    has_more: bool = False

    @property
    def unverified_count(self) -> int:
        return sum(1 for purchase in self.purchases if not purchase.verified)


def look_up_order(agent, order_id: str) -> LookupResult:
    """Look Up Order ID at Apple, verify every transaction, and record the lookup."""
    started = time.monotonic()
    record = Lookup(
        agent=agent,
        kind=Lookup.Kind.ORDER,
        order_id=order_id,
        environment=settings.APPSTORE_ENVIRONMENT,
    )
    try:
        answer = app_store_client().look_up_order(order_id)
    except AppStoreError as error:
        return _record_failure(record, error, started)

    purchases = _verify_and_annotate(answer.signed_transactions)
    record.outcome = Lookup.Outcome.FOUND if answer.found else Lookup.Outcome.NOT_FOUND
    _save(record, purchases, started)
    return LookupResult(lookup=record, purchases=purchases)


def transaction_history(
    agent,
    transaction_id: str,
    *,
    filters: HistoryFilters,
    revision: str | None = None,
    version: int = 2,
) -> LookupResult:
    """One page of Get Transaction History, verified, recorded like a lookup."""
    started = time.monotonic()
    record = Lookup(
        agent=agent,
        kind=Lookup.Kind.HISTORY,
        transaction_id=transaction_id,
        history_version=version,
        environment=settings.APPSTORE_ENVIRONMENT,
    )
    try:
        page = app_store_client().transaction_history(
            transaction_id, revision=revision, filters=filters, version=version
        )
        transaction_verifier().check_app(bundle_id=page.bundle_id, app_apple_id=page.app_apple_id)
    except AppStoreError as error:
        return _record_failure(record, error, started)
    except VerificationError as error:
        record.outcome = Lookup.Outcome.FAILED
        record.error_message = f"The App Store's answer was for another app ({error.detail})."
        _save(record, [], started)
        return LookupResult(lookup=record)

    purchases = _verify_and_annotate(page.signed_transactions)
    record.outcome = Lookup.Outcome.FOUND
    _save(record, purchases, started)
    return LookupResult(
        lookup=record, purchases=purchases, revision=page.revision, has_more=page.has_more
    )


def _verify_and_annotate(signed_transactions: Iterable[str]) -> list[Purchase]:
    verifier = transaction_verifier()
    decoded: list[Transaction | VerificationError] = []
    for signed in signed_transactions:
        try:
            decoded.append(verifier.decode_transaction(signed))
        except VerificationError as error:
            decoded.append(error)

    tokens = {
        item.app_account_token
        for item in decoded
        if isinstance(item, Transaction) and is_uuid(item.app_account_token)
    }
    accounts = {
        str(account.app_account_token): account
        for account in CustomerAccount.objects.filter(app_account_token__in=tokens)
    }
    purchases = []
    for item in decoded:
        if isinstance(item, VerificationError):
            purchases.append(Purchase(transaction=None, problem=_verification_message(item)))
        else:
            token = (item.app_account_token or "").lower()
            purchases.append(Purchase(transaction=item, account=accounts.get(token)))
    return purchases


def _verification_message(error: VerificationError) -> str:
    return (
        "This transaction's signature could not be verified, so it is not shown. "
        f"Do not act on it; report it to an administrator (check failed: {error.check})."
    )


def _record_failure(record: Lookup, error: AppStoreError, started: float) -> LookupResult:
    record.outcome = Lookup.Outcome.FAILED
    record.error_code = error.error_code
    record.error_message = error.describe()
    _save(record, [], started)
    return LookupResult(lookup=record, error=error)


def _save(record: Lookup, purchases: list[Purchase], started: float) -> None:
    record.duration_ms = round((time.monotonic() - started) * 1000)
    record.transactions = [purchase.as_record() for purchase in purchases]
    record.save()


def is_uuid(value: str | None) -> bool:
    if not value:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- Linking a purchase to a customer account ---------------------------------------------


class LinkRefused(Exception):
    """The link was not attempted; `message` tells the agent why. Nothing was sent to Apple."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class LinkRequest:
    original_transaction_id: str
    account: CustomerAccount
    # The token the agent saw on the purchase (None: not linked); refuse if it changed since.
    expected_token: uuid.UUID | None
    ticket_reference: str
    request_id: uuid.UUID
    lookup: Lookup | None = None
    product_id: str = ""
    order_id: str = ""


def link_purchase(agent, request: LinkRequest) -> TokenChange:
    """Set the purchase's appAccountToken to the account's, writing the audit row around the call.

    The pending row is committed before Apple is called and settled afterwards, whatever happens.
    One submitted form is one row and at most one call: a repeat of the same `request_id` returns
    the first row. Two agents linking one purchase at once can't both call Apple: only one pending
    change per purchase may exist, and a link made since the agent looked is refused.
    """
    try:
        change = _write_pending_change(agent, request)
    except IntegrityError:
        earlier = TokenChange.objects.select_related("account", "agent").filter(
            request_id=request.request_id
        )
        if existing := earlier.first():
            return existing
        raise LinkRefused(_in_progress_message(request.original_transaction_id)) from None

    try:
        app_store_client().set_app_account_token(
            request.original_transaction_id, request.account.app_account_token
        )
    except AppStoreError as error:
        change.settle(
            TokenChange.Outcome.FAILED,
            error_code=error.error_code,
            error_message=error.describe(),
        )
    except Exception as error:
        change.settle(
            TokenChange.Outcome.FAILED, error_message=f"Unexpected failure: {type(error).__name__}"
        )
        raise
    else:
        change.settle(TokenChange.Outcome.SUCCEEDED)
    return change


def _write_pending_change(agent, request: LinkRequest) -> TokenChange:
    with transaction.atomic():
        change = TokenChange.objects.create(
            request_id=request.request_id,
            agent=agent,
            account=request.account,
            original_transaction_id=request.original_transaction_id,
            product_id=request.product_id,
            environment=settings.APPSTORE_ENVIRONMENT,
            order_id=request.order_id,
            token_before=request.expected_token,
            token_after=request.account.app_account_token,
            ticket_reference=request.ticket_reference,
            lookup=request.lookup,
        )
        # Checked after the insert: the one-pending-per-purchase constraint means any change
        # that could have raced with ours is settled and visible by now.
        latest = (
            TokenChange.objects.filter(
                original_transaction_id=request.original_transaction_id,
                outcome=TokenChange.Outcome.SUCCEEDED,
            )
            .exclude(pk=change.pk)
            .select_related("account", "agent")
            .order_by("-settled_at")
            .first()
        )
        if latest is not None and latest.token_after != request.expected_token:
            # Rolls the pending row back: this click never reached Apple.
            raise LinkRefused(_changed_since_message(latest))
    return change


def _changed_since_message(latest: TokenChange) -> str:
    when = latest.settled_at.strftime("%Y-%m-%d %H:%M UTC") if latest.settled_at else "just now"
    return (
        f"{latest.agent.get_username()} linked this purchase to {latest.account.display_name} "
        f"at {when}, after you looked it up. Look the order up again before changing it."
    )


def _in_progress_message(original_transaction_id: str) -> str:
    pending = (
        TokenChange.objects.filter(
            original_transaction_id=original_transaction_id,
            outcome=TokenChange.Outcome.PENDING,
        )
        .select_related("account", "agent")
        .first()
    )
    if pending is None:
        return "Another change to this purchase was saved at the same moment. Look it up again."
    return (
        f"{pending.agent.get_username()} is linking this purchase to "
        f"{pending.account.display_name} right now. Look the order up again in a moment."
    )
