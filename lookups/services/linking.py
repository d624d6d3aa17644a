"""Linking a purchase to a customer account with Set App Account Token, audited around the call."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from lookups.appstore import AppStoreError
from lookups.appstore.errors import AppStoreTimeoutError
from lookups.models import CustomerAccount, Lookup, TokenChange
from lookups.services.adapty_delivery import adapty_enabled, send_to_adapty
from lookups.services.clients import app_store_client
from lookups.services.settling import follow_up, waiting_sentence


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
    an answer it stays pending: after a timeout a worker asks Apple again (`settling`), after a
    crash the sweep does; `reconcile_token_changes` remains for doing it by hand.
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
        # row stays pending until a worker reads the purchase's token from Apple.
        follow_up(change)
        return change
    except AppStoreError as error:
        change.settle(
            TokenChange.Outcome.FAILED,
            error_code=error.answered_code,
            error_message=error.describe(),
        )
    else:
        change.settle(TokenChange.Outcome.SUCCEEDED)
    if change.outcome == TokenChange.Outcome.SUCCEEDED and adapty_enabled():
        send_to_adapty(agent, change)
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
    if waiting := waiting_sentence(pending):
        return waiting
    return (
        f"{pending.agent.get_username()} is linking this purchase to "
        f"{pending.account.display_name} right now. Look the order up again in a moment."
    )


def still_current_links(changes: Iterable[TokenChange]) -> list[TokenChange]:
    """Those of these succeeded changes that are still their purchase's current link."""
    changes = list(changes)
    current = current_links(change.original_transaction_id for change in changes)
    return [
        change
        for change in changes
        if (latest := current.get(change.original_transaction_id)) and latest.pk == change.pk
    ]
