"""The link behind an approved transfer: a second person decides, then Apple is called once.

At Apple it is a link (`apple_actions.link`): the same audit row, call and read-back. Its own
rules: the one who asked can't decide, a transfer is decided once, and Apple's token must still
be the one the transfer was asked for. Of managers approving at once, the first to take the
purchase's lock decides; the others are told who did, with nothing sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from lookups.models import RefusedLink, TokenChange, TransferRequest
from lookups.services.apple_actions.acting_app import refuse_unless_acted_on, refuse_unless_seen
from lookups.services.linking import LinkRefused, purchase_for_link, send_link
from lookups.services.refused_links import record_refusal

Reason = RefusedLink.Reason

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def approve_transfer(approver: User, transfer: TransferRequest) -> TokenChange:
    """A second person approves a transfer: Apple is called the usual way, pending then settled.

    Refused if the approver asked for it, if it is decided already, or if Apple's token on the
    purchase is no longer the one the transfer was asked for.
    """
    # An app the approver may not see (or can't be acted on) is refused before anything else.
    refuse_unless_acted_on(transfer.app, transfer.environment, approver)
    try:
        _check_decider(approver, transfer)
        purchase = purchase_for_link(transfer.original_transaction_id, approver)
        if purchase.app_account_token != transfer.token_before:
            raise LinkRefused(
                "The purchase's token has changed since this transfer was asked for, so it was "
                "not approved. Reject it; the agent can look the order up and ask again.",
                Reason.CHANGED_SINCE,
                token_before=purchase.app_account_token,
            )

        def still_open() -> None:
            # Under the purchase's lock: of managers approving at once, the first decides.
            if not TransferRequest.objects.filter(
                pk=transfer.pk, status=TransferRequest.Status.OPEN
            ).exists():
                raise LinkRefused(_decided_message(transfer), Reason.TRANSFER_DECIDED)

        def decide(change: TokenChange) -> None:
            _close(transfer, TransferRequest.Status.APPROVED, approver, token_change=change)

        change = send_link(
            approver,
            purchase,
            account=transfer.account,
            ticket_reference=transfer.ticket_reference,
            request_id=transfer.request_id,
            lookup=None,
            on_pending=decide,
            guard=still_open,
        )
    except LinkRefused as refusal:
        _record_transfer_refusal(approver, transfer, refusal)
        raise
    transfer.refresh_from_db()
    return change


def reject_transfer(approver: User, transfer: TransferRequest) -> TransferRequest:
    """A second person rejects a transfer: nothing is sent to Apple; the decision is kept."""
    refuse_unless_seen(approver, transfer.app)
    try:
        _check_decider(approver, transfer)
        _close(transfer, TransferRequest.Status.REJECTED, approver)
    except LinkRefused as refusal:
        _record_transfer_refusal(approver, transfer, refusal)
        raise
    transfer.refresh_from_db()
    return transfer


def _close(
    transfer: TransferRequest, status: str, approver: User, token_change: TokenChange | None = None
) -> None:
    """Settle the decision into the audit chain, unless someone decided first.

    One conditional UPDATE under the chain head's lock: the decision, the people's names and its
    place in the chain are written together, so a decision never exists outside the chain.
    """
    decided = transfer.settle_decision(
        status, approver, at=timezone.now(), token_change=token_change
    )
    if not decided:
        raise LinkRefused(_decided_message(transfer), Reason.TRANSFER_DECIDED)


def _check_decider(approver: User, transfer: TransferRequest) -> None:
    if transfer.requested_by_id == approver.pk:
        raise LinkRefused(
            "You asked for this transfer, so someone else must approve or reject it.",
            Reason.OWN_TRANSFER,
            status=403,
        )
    if transfer.status != TransferRequest.Status.OPEN:
        raise LinkRefused(_decided_message(transfer), Reason.TRANSFER_DECIDED)


def _decided_message(transfer: TransferRequest) -> str:
    transfer.refresh_from_db()
    # The name the decision recorded in the chain; today's for one decided before names were.
    who = transfer.decided_by_username or (
        transfer.decided_by.get_username() if transfer.decided_by else "someone"
    )
    return f"{who} has already {transfer.status} this transfer."


def _record_transfer_refusal(
    approver: User, transfer: TransferRequest, refusal: LinkRefused
) -> None:
    record_refusal(
        approver,
        transfer.original_transaction_id,
        reason=refusal.reason,
        message=refusal.message,
        account=transfer.account,
        token_before=refusal.token_before,
        ticket_reference=transfer.ticket_reference,
        request_id=transfer.request_id,
    )
