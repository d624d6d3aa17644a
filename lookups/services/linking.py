"""Linking a purchase to a customer account with Set App Account Token, audited around the call.

Every decision is taken on Apple's word: the purchase's current token, product and order come
from the desk's picture of it (fresh) or from Apple, never from the form. The agent chooses only
the customer, the ticket, whether to move a purchase away from its customer, and the request ID.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from lookups.appstore import AppStoreError, VerificationError
from lookups.appstore.errors import (
    InvalidOriginalTransactionIdError,
    InvalidTransactionIdError,
    TransactionIdNotFoundError,
)
from lookups.models import (
    CustomerAccount,
    Lookup,
    Purchase,
    RefusedLink,
    TokenChange,
    TokenChangeFollowUp,
    TransferRequest,
)
from lookups.services.apple_actions import ActionRefused, engine
from lookups.services.apple_actions.acting_app import acting_as, app_to_act_on
from lookups.services.apple_actions.link import KIND as LINK
from lookups.services.apple_actions.locks import locked, purchase_key
from lookups.services.desk_links import current_link, current_links, still_current_links
from lookups.services.looking_up import recorded_transactions
from lookups.services.purchase_picture import changed_outside_the_desk, current_purchase, named_app
from lookups.services.purchases import latest_transaction
from lookups.services.refused_links import record_refusal
from lookups.services.settling import waiting_sentence

Reason = RefusedLink.Reason
__all__ = ["current_links", "still_current_links"]

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class LinkRefused(ActionRefused):
    """The link was not attempted; `message` tells the agent why. Nothing was sent to Apple.

    `reason` is recorded with the refusal (`RefusedLink`).
    """

    def __init__(
        self,
        message: str,
        reason: str = Reason.CHANGED_SINCE,
        *,
        status: int = 409,
        token_before: uuid.UUID | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.reason = reason
        self.token_before = token_before


class LinkStillBeingSent(ActionRefused):
    """A repeat of a form whose call to Apple is still running: its row is `change`.

    Not a refusal of the click (the first submission goes on), so its status is 202.
    """

    def __init__(self, change: TokenChange) -> None:
        self.change = change
        super().__init__(
            "This link is still waiting for Apple's answer: the page shows it once it arrives.",
            status=202,
        )


@dataclass(frozen=True)
class AlreadyLinked:
    """The purchase already carries this customer's token: nothing was sent or written."""

    account: CustomerAccount


@dataclass(frozen=True)
class LinkRequest:
    """What the agent chose. Everything else the desk records comes from Apple."""

    original_transaction_id: str
    account: CustomerAccount
    ticket_reference: str
    request_id: uuid.UUID
    # Ticked "move this purchase away from its customer": asks for a transfer.
    confirm_move: bool = False
    # The lookup the agent came from; recorded only if it is theirs and shows this purchase.
    lookup: Lookup | None = None


def link_purchase(
    agent: User, request: LinkRequest
) -> TokenChange | TransferRequest | AlreadyLinked:
    """Link an unclaimed purchase, or ask for a transfer of a claimed one; refuse otherwise.

    An unclaimed purchase (Apple shows no token on it) is linked at once: a pending row is
    committed before Apple is called and settled with Apple's answer. A purchase that carries
    another token, whether or not it matches one of our accounts, is someone's: moving it away
    becomes a `TransferRequest` that someone else approves (`approve_transfer`).
    One submitted form is one row and at most one call: a repeat of the same `request_id` gets
    the first row (`LinkStillBeingSent` while its call is running). Every refusal is recorded.
    """
    if earlier := _earlier_answer(request.request_id):
        return earlier
    try:
        return _decide(agent, request)
    except LinkRefused as refusal:
        record_refusal(
            agent,
            request.original_transaction_id,
            reason=refusal.reason,
            message=refusal.message,
            account=request.account,
            token_before=refusal.token_before,
            ticket_reference=request.ticket_reference,
            request_id=request.request_id,
        )
        raise


def _decide(agent: User, request: LinkRequest) -> TokenChange | TransferRequest | AlreadyLinked:
    purchase = purchase_for_link(request.original_transaction_id, agent)
    current = purchase.app_account_token
    if purchase.is_family_shared:
        raise LinkRefused(
            "This purchase is shared through Family Sharing: only the family organiser's own "
            "purchase can be linked, so nothing was sent to Apple.",
            Reason.FAMILY_SHARED,
            token_before=current,
        )
    if current == request.account.app_account_token:
        return AlreadyLinked(request.account)
    lookup = _own_lookup(agent, request.lookup, request.original_transaction_id)
    if current is None:
        return send_link(
            agent,
            purchase,
            account=request.account,
            ticket_reference=request.ticket_reference,
            request_id=request.request_id,
            lookup=lookup,
        )
    if not request.confirm_move:
        raise LinkRefused(
            f"{claimed_by_message(purchase)} Moving it to {request.account.display_name} needs "
            "a second person's approval: tick the box to ask for the transfer.",
            Reason.NEEDS_CONFIRMATION,
            status=422,
            token_before=current,
        )
    return _request_transfer(agent, request, purchase, lookup)


def purchase_for_link(original_transaction_id: str, user=None) -> Purchase:
    """The purchase as Apple shows it now, read as its own app, or a refusal saying why not.

    Its app and environment are its picture's (`acting_app.app_to_act_on`); a purchase `user`
    may not act on is refused (`ActionRefused`, not recorded) before Apple is read.
    """
    where = app_to_act_on(original_transaction_id, user)
    try:
        with acting_as(where):
            purchase = current_purchase(original_transaction_id)
    except (
        InvalidTransactionIdError,
        InvalidOriginalTransactionIdError,
        TransactionIdNotFoundError,
    ) as error:
        raise LinkRefused(
            f"The App Store has no such purchase: {error.describe()}", Reason.UNKNOWN_PURCHASE
        ) from None
    except AppStoreError as error:
        raise LinkRefused(
            f"The App Store could not be asked for this purchase's current token, so nothing "
            f"was changed: {error.describe()}",
            Reason.APPLE_UNREADABLE,
            status=502,
        ) from None
    except VerificationError as error:
        raise LinkRefused(
            f"The App Store's answer about this purchase could not be verified ({error}), so "
            "nothing was changed. Report it to an administrator.",
            Reason.APPLE_UNREADABLE,
            status=502,
        ) from None
    if purchase is None:
        raise LinkRefused(
            f"The App Store lists no purchase with original transaction ID "
            f"{original_transaction_id}. Link the purchase from its original transaction.",
            Reason.UNKNOWN_PURCHASE,
        )
    return named_app(purchase, where)


def claimed_by_message(purchase: Purchase) -> str:
    """Whom the purchase is linked to now, and how it came to be, in the agent's words."""
    owner = CustomerAccount.objects.owner_of(purchase.app_account_token)
    whom = owner.display_name if owner else f"the unknown token {purchase.app_account_token}"
    if changed_outside_the_desk(purchase):
        return f"This purchase's token was changed outside the desk: it is linked to {whom} now."
    last = current_link(purchase.environment, purchase.original_transaction_id)
    if last is not None and last.settled_at is not None:
        return (
            f"{last.agent.get_username()} linked this purchase to {whom} at "
            f"{last.settled_at:%Y-%m-%d %H:%M UTC}."
        )
    return f"This purchase is linked to {whom} now."


def send_link(
    agent: User,
    purchase: Purchase,
    *,
    account: CustomerAccount,
    ticket_reference: str,
    request_id: uuid.UUID,
    lookup: Lookup | None,
    on_pending: Callable[[TokenChange], None] | None = None,
    guard: Callable[[], None] | None = None,
) -> TokenChange:
    """Set the purchase's appAccountToken to the account's, through the audited-action engine.

    The pending row is written under the purchase's lock and committed before Apple is called,
    then settled with Apple's answer (`apple_actions.engine`). Without an answer it stays
    pending: after a timeout a worker asks Apple again, after a crash the sweep does;
    `reconcile_actions` remains for doing it by hand.
    Two agents linking one purchase at once can't both call Apple: only one pending change per
    purchase may exist, and a change that settled since Apple was read is refused.
    `guard` runs under the lock before the row is written, and may refuse (a transfer decided
    meanwhile); `on_pending` runs in the transaction that writes it (a transfer's approval).
    With Adapty on, a successful link is then sent there too (`send_to_adapty`), recorded beside it.
    """
    try:
        with locked(purchase_key(purchase.environment, purchase.original_transaction_id)):
            if guard is not None:
                guard()
            change = _write_pending_change(
                agent, purchase, account, ticket_reference, request_id, lookup, on_pending
            )
    except IntegrityError:
        if isinstance(earlier := _earlier_answer(request_id), TokenChange):
            return earlier
        raise LinkRefused(
            _in_progress_message(purchase.original_transaction_id),
            Reason.IN_PROGRESS,
            token_before=purchase.app_account_token,
        ) from None
    return engine.perform(LINK, change)


def _write_pending_change(
    agent,
    purchase: Purchase,
    account: CustomerAccount,
    ticket_reference: str,
    request_id: uuid.UUID,
    lookup: Lookup | None,
    on_pending: Callable[[TokenChange], None] | None,
) -> TokenChange:
    with transaction.atomic():
        change = TokenChange.objects.create(
            request_id=request_id,
            agent=agent,
            account=account,
            original_transaction_id=purchase.original_transaction_id,
            product_id=purchase.product_id,
            app=purchase.app,
            environment=purchase.environment,
            order_id=purchase.order_id,
            token_before=purchase.app_account_token,
            token_after=account.app_account_token,
            ticket_reference=ticket_reference,
            lookup=lookup,
        )
        # Checked after the insert: the one-pending-per-purchase constraint means any change
        # that could have raced with ours is settled and visible by now. One that settled after
        # Apple was read may have moved the token the decision was taken on.
        since = (
            TokenChange.objects.filter(
                environment=purchase.environment,
                original_transaction_id=purchase.original_transaction_id,
                outcome=TokenChange.Outcome.SUCCEEDED,
                settled_at__gte=purchase.learnt_at,
            )
            .exclude(pk=change.pk)
            .select_related("account", "agent")
            .order_by("-settled_at")
            .first()
        )
        if since is not None:
            # Rolls the pending row back: this click never reached Apple.
            raise LinkRefused(
                _changed_since_message(since),
                Reason.CHANGED_SINCE,
                token_before=purchase.app_account_token,
            )
        if on_pending is not None:
            on_pending(change)
    return change


def _request_transfer(
    agent: User, request: LinkRequest, purchase: Purchase, lookup: Lookup | None
) -> TransferRequest:
    try:
        with transaction.atomic():
            return TransferRequest.objects.create(
                request_id=request.request_id,
                requested_by=agent,
                app=purchase.app,
                environment=purchase.environment,
                original_transaction_id=purchase.original_transaction_id,
                product_id=purchase.product_id,
                order_id=purchase.order_id,
                token_before=purchase.app_account_token,
                account=request.account,
                ticket_reference=request.ticket_reference,
                lookup=lookup,
            )
    except IntegrityError:
        if isinstance(earlier := _earlier_answer(request.request_id), TransferRequest):
            return earlier
        waiting = (
            TransferRequest.objects.filter(
                environment=purchase.environment,
                original_transaction_id=purchase.original_transaction_id,
                status=TransferRequest.Status.OPEN,
            )
            .select_related("requested_by", "account")
            .first()
        )
        who = (
            f" ({waiting.requested_by.get_username()} asked to move it to "
            f"{waiting.account.display_name})"
            if waiting
            else ""
        )
        raise LinkRefused(
            f"A transfer of this purchase is already waiting for approval{who}. It must be "
            "approved or rejected before another is asked for.",
            Reason.IN_PROGRESS,
            token_before=purchase.app_account_token,
        ) from None


def _earlier_answer(request_id: uuid.UUID) -> TokenChange | TransferRequest | None:
    """What the first submission of this form became, if it was submitted before."""
    change = (
        TokenChange.objects.select_related("account", "agent").filter(request_id=request_id).first()
    )
    if change is not None:
        if change.outcome == TokenChange.Outcome.PENDING and is_still_being_sent(change):
            raise LinkStillBeingSent(change)
        return change
    return TransferRequest.objects.select_related("account").filter(request_id=request_id).first()


def is_still_being_sent(change: TokenChange) -> bool:
    """Whether a pending change's call to Apple may still be running (within its time budget).

    A call that timed out left a follow-up for the worker: it is no longer being sent.
    """
    budget = settings.APPSTORE_CALL_BUDGET_SECONDS
    age = (timezone.now() - change.created_at).total_seconds()
    return (
        change.outcome == TokenChange.Outcome.PENDING
        and age <= budget
        and not TokenChangeFollowUp.objects.filter(token_change=change).exists()
    )


def _own_lookup(agent: User, lookup: Lookup | None, original_transaction_id: str) -> Lookup | None:
    """The agent's own lookup that showed this purchase, else None (a link's back-link hint)."""
    if lookup is None or lookup.agent_id != agent.pk:
        return None
    if latest_transaction(recorded_transactions(lookup), original_transaction_id) is None:
        return None
    return lookup


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
    if waiting := waiting_sentence(pending):
        return waiting
    return (
        f"{pending.agent.get_username()} is linking this purchase to "
        f"{pending.account.display_name} right now. Look the order up again in a moment."
    )
