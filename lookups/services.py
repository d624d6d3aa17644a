"""The support desk's use cases: the only place that calls Apple and writes lookups and links."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .adapty import AdaptyClient, AdaptyError, TransactionBodyError, transaction_body
from .apple import app_store_client, transaction_verifier
from .appstore import AppStoreError, HistoryFilters, Transaction, VerificationError
from .appstore.errors import (
    AppStoreTimeoutError,
    InvalidTransactionIdError,
    TransactionIdNotFoundError,
)
from .appstore.transactions import DecodingError
from .models import AdaptyDelivery, CustomerAccount, Lookup, TokenChange

logger = logging.getLogger(__name__)

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
    # Most purchases carry no token; building even an empty query costs more than verifying one.
    accounts = (
        {
            str(account.app_account_token): account
            for account in CustomerAccount.objects.filter(app_account_token__in=tokens)
        }
        if tokens
        else {}
    )
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
    record.error_code = apple_error_code(error)
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

    The pending row is committed before Apple is called and settled with Apple's answer. Without
    an answer (a timeout, or a crash) it stays pending for `reconcile_token_changes`.
    One submitted form is one row and at most one call: a repeat of the same `request_id` returns
    the first row. Two agents linking one purchase at once can't both call Apple: only one pending
    change per purchase may exist, and a link made since the agent looked is refused.
    With Adapty on, a successful link is then sent there too (`send_to_adapty`), recorded beside it.
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
    except AppStoreTimeoutError:
        # Apple has the request and may still carry it out: nobody knows the outcome yet, so the
        # row stays pending until `reconcile_token_changes` reads the purchase's token from Apple.
        return change
    except AppStoreError as error:
        change.settle(
            TokenChange.Outcome.FAILED,
            error_code=apple_error_code(error),
            error_message=error.describe(),
        )
    else:
        change.settle(TokenChange.Outcome.SUCCEEDED)
    if change.outcome == TokenChange.Outcome.SUCCEEDED and adapty_enabled():
        send_to_adapty(agent, change)
    return change


def apple_error_code(error: AppStoreError) -> int | None:
    """Apple's errorCode, only when Apple answered: our own rate budget refuses with none."""
    return error.error_code if error.http_status is not None else None


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


def current_links(original_transaction_ids: Iterable[str]) -> dict[str, TokenChange]:
    """The latest succeeded change of each purchase: whom the desk last linked it to."""
    succeeded = TokenChange.objects.filter(
        original_transaction_id__in=set(original_transaction_ids),
        outcome=TokenChange.Outcome.SUCCEEDED,
    ).order_by("settled_at", "pk")
    return {change.original_transaction_id: change for change in succeeded}


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


# --- Reconciling token changes a crash left pending ---------------------------------------


@dataclass(frozen=True)
class Reconciliation:
    """What reconciling one pending token change found, and what became of the row."""

    change: TokenChange
    # "succeeded" or "failed": settled now; "settled elsewhere"; "pending": left for a later run.
    result: str
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
            TokenChange.Outcome.PENDING,
            f"written against {change.environment}, and this server asks "
            f"{settings.APPSTORE_ENVIRONMENT}",
        )
    error_code = None
    try:
        latest = latest_transaction_of(change.original_transaction_id)
    except (InvalidTransactionIdError, TransactionIdNotFoundError) as error:
        outcome = TokenChange.Outcome.FAILED
        error_code = error.error_code
        message = f"reconciled: Apple has no such purchase. {error.describe()}"
    except AppStoreError as error:
        return Reconciliation(
            change, TokenChange.Outcome.PENDING, f"Apple could not be asked: {error.describe()}"
        )
    except VerificationError as error:
        return Reconciliation(
            change, TokenChange.Outcome.PENDING, f"Apple's answer could not be verified ({error})"
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
        return Reconciliation(change, outcome, message)
    return Reconciliation(change, "settled elsewhere", f"already {change.outcome}")


def latest_transaction_of(original_transaction_id: str) -> Transaction | None:
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
        ours = [
            decoded
            for decoded in map(verifier.decode_transaction, page.signed_transactions)
            if decoded.original_transaction_id == original_transaction_id
        ]
        if ours:
            return max(ours, key=lambda txn: purchase_recency(txn.raw))
    return None


def purchase_recency(payload: Mapping[str, Any]) -> tuple[int, int]:
    """Sort key for "the latest transaction of a purchase": purchase date, then transaction ID.

    Every field of a transaction is optional, so missing or odd values sort first.
    """
    purchased = payload.get("purchaseDate")
    digits = str(payload.get("transactionId") or "")
    return (
        purchased if isinstance(purchased, int) and not isinstance(purchased, bool) else 0,
        int(digits) if digits.isascii() and digits.isdigit() else 0,
    )


# --- Granting access in Adapty ------------------------------------------------------------


def adapty_enabled() -> bool:
    """Adapty is optional: the step runs only when a secret key is configured."""
    return bool(settings.ADAPTY_SECRET_KEY)


def latest_verified_payload(
    lookup: Lookup | None, original_transaction_id: str
) -> dict[str, Any] | None:
    """The latest verified transaction of this purchase among those the agent was shown."""
    if lookup is None:
        return None
    matching = [
        record["payload"]
        for record in lookup.transactions
        if record.get("verified")
        and record["payload"].get("originalTransactionId") == original_transaction_id
    ]
    return max(matching, key=purchase_recency, default=None)


def latest_adapty_delivery(change: TokenChange) -> AdaptyDelivery | None:
    return change.adapty_deliveries.order_by("-created_at", "-pk").first()


def send_to_adapty(agent, token_change: TokenChange) -> AdaptyDelivery:
    """Send a linked purchase to Adapty's "Set transaction", recording the attempt around the call.

    The body is built from the verified Apple transaction the agent saw: the latest one of the
    purchase in `token_change.lookup`. The delivery is committed as "sent" before Adapty is
    called and settled with its answer afterwards. Failures are recorded, never raised: the App
    Store link stands whatever Adapty says. Every call is a new row, so a retry keeps the failed
    attempt in the log. Call it outside any database transaction: the row must be visible while
    Adapty is being called, and nothing should be held locked meanwhile.
    """
    delivery = AdaptyDelivery(
        token_change=token_change,
        agent=agent,
        customer_user_id=token_change.account.adapty_user_id,
    )
    try:
        body = _adapty_body(token_change)
    except TransactionBodyError as problem:
        delivery.outcome = AdaptyDelivery.Outcome.FAILED
        delivery.error_message = f"Nothing was sent to Adapty. {problem}"
        delivery.settled_at = timezone.now()
        delivery.save()
        return delivery

    delivery.save()
    try:
        with _adapty_client() as client:
            result = client.set_transaction(delivery.customer_user_id, body)
    except AdaptyError as error:
        _settle_delivery(
            delivery,
            AdaptyDelivery.Outcome.FAILED,
            attempts=error.attempts,
            http_status=error.http_status,
            error_code=error.error_code,
            error_message=error.describe(),
            request_id=error.request_id,
        )
    except Exception as error:
        # Still not the agent's problem to see as a crash: the link itself succeeded.
        logger.exception("Sending token change %s to Adapty failed", token_change.pk)
        _settle_delivery(
            delivery,
            AdaptyDelivery.Outcome.FAILED,
            error_message=f"Unexpected failure: {type(error).__name__}",
        )
    else:
        _settle_delivery(
            delivery,
            AdaptyDelivery.Outcome.SUCCEEDED,
            attempts=result.attempts,
            http_status=result.http_status,
            request_id=result.request_id,
        )
    return delivery


def _adapty_body(token_change: TokenChange) -> dict[str, Any]:
    payload = latest_verified_payload(token_change.lookup, token_change.original_transaction_id)
    if payload is None:
        raise TransactionBodyError(
            "No verified App Store transaction of this purchase was recorded with the lookup "
            "behind this link. Look the order up and link it again."
        )
    try:
        return transaction_body(Transaction.from_payload(payload))
    except DecodingError as problem:
        raise TransactionBodyError(
            f"The recorded App Store transaction could not be read ({problem})."
        ) from problem


def _adapty_client() -> AdaptyClient:
    return AdaptyClient(
        settings.ADAPTY_SECRET_KEY,
        settings.ADAPTY_BASE_URL,
        timeout=settings.ADAPTY_TIMEOUT_SECONDS,
        max_attempts=settings.ADAPTY_MAX_ATTEMPTS,
    )


def _settle_delivery(
    delivery: AdaptyDelivery,
    outcome: str,
    *,
    attempts: int = 0,
    http_status: int | None = None,
    error_code: str = "",
    error_message: str = "",
    request_id: str = "",
) -> None:
    delivery.outcome = outcome
    delivery.attempts = attempts
    delivery.http_status = http_status
    delivery.error_code = error_code[:100]
    delivery.error_message = error_message
    delivery.request_id = request_id[:100]
    delivery.settled_at = timezone.now()
    delivery.save(
        update_fields=[
            "outcome",
            "attempts",
            "http_status",
            "error_code",
            "error_message",
            "request_id",
            "settled_at",
        ]
    )
