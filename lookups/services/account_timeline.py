"""What happened to a customer's purchases: Apple's notifications beside the desk's own actions
(lookups, links, extensions, refund answers, transfers, notes), told in plain words.

Each kind of event is one query, whatever the number of purchases, so the customer's page costs
the same for one purchase or a hundred."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from lookups.models import (
    AppStoreNotification,
    ConsumptionAnswer,
    CustomerAccount,
    CustomerNote,
    Lookup,
    Purchase,
    RefundRequest,
    SubscriptionExtension,
    TokenChange,
)
from lookups.services.app_scope import BOTH_ENVIRONMENTS, EVERY_APP, AppScope
from lookups.wording import notification_sentence

TIMELINE_LIMIT = 100


@dataclass(frozen=True)
class Event:
    at: datetime
    # "apple", "link", "refused", "transfer", "lookup", "extension", "refund", "answer", "note"
    kind: str
    original_transaction_id: str
    what: str
    by: str = ""
    # Apple's own name for a notification, shown small beside the plain words.
    code: str = ""


# Apple's notification types and subtypes in plain words; anything else shows Apple's name.


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def purchases_of(account: CustomerAccount, apps: AppScope = EVERY_APP) -> list[Purchase]:
    """Every purchase whose current token, as the picture holds it, is this customer's, in the
    apps of `apps` (those the agent may see), each with its app."""
    # A tester's Sandbox purchase is listed beside the real ones, labelled (the index on
    # environment and token takes both).
    return list(
        Purchase.objects.filter(
            apps.rows(),
            environment__in=BOTH_ENVIRONMENTS,
            app_account_token=account.app_account_token,
        )
        .select_related("app")
        .order_by("-learnt_at")
    )


def refund_requests_of(
    account: CustomerAccount, purchases: list[Purchase], apps: AppScope = EVERY_APP
) -> list[RefundRequest]:
    """Apple's refund requests for the customer's purchases, newest first."""
    ids = [purchase.original_transaction_id for purchase in purchases]
    return list(
        RefundRequest.objects.filter(
            Q(original_transaction_id__in=ids) | Q(account=account),
            apps.rows(),
            environment__in=BOTH_ENVIRONMENTS,
        ).order_by("-requested_at")[:TIMELINE_LIMIT]
    )


def timeline(
    account: CustomerAccount,
    purchases: list[Purchase],
    *,
    refund_requests: list[RefundRequest] | None = None,
    notes: list[CustomerNote] | None = None,
    changes: list[TokenChange] | None = None,
    apps: AppScope = EVERY_APP,
) -> list[Event]:
    """Newest first, at most TIMELINE_LIMIT events, of the apps in `apps` (notes are the
    customer's, of no app). A page that has read the customer's token changes (newest first,
    with their agents) or notes already passes them in: each is read once."""
    ids = [purchase.original_transaction_id for purchase in purchases]
    if refund_requests is None:
        refund_requests = refund_requests_of(account, purchases, apps)
    events = _apple_events(ids, apps)
    events += _lookups(purchases, apps)
    if changes is None:
        changes = list(
            account.token_changes.filter(apps.rows())
            .select_related("agent")
            .order_by("-created_at")[:TIMELINE_LIMIT]
        )
    events += _links(changes[:TIMELINE_LIMIT])
    events += _refusals_transfers(account, apps)
    events += _extensions(account, ids, apps)
    events += _refunds(refund_requests)
    events += _notes(account if notes is None else notes)
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:TIMELINE_LIMIT]


def _apple_events(ids: list[str], apps: AppScope) -> list[Event]:
    return [
        Event(
            at=note.signed_date or note.received_at,
            kind="apple",
            original_transaction_id=note.original_transaction_id,
            what=f"Apple: {notification_sentence(note.notification_type, note.subtype)}",
            code=note.notification_type + (f" ({note.subtype})" if note.subtype else ""),
        )
        for note in AppStoreNotification.objects.filter(
            apps.rows(), environment__in=BOTH_ENVIRONMENTS, original_transaction_id__in=ids
        ).order_by("-signed_date")[:TIMELINE_LIMIT]
    ]


def _lookups(purchases: list[Purchase], apps: AppScope) -> list[Event]:
    orders = {p.order_id for p in purchases if p.order_id}
    ids = [p.original_transaction_id for p in purchases]
    found = (
        Lookup.objects.filter(
            Q(kind=Lookup.Kind.ORDER, order_id__in=orders)
            | Q(kind=Lookup.Kind.HISTORY, transaction_id__in=ids),
            apps.rows(),
            environment__in=BOTH_ENVIRONMENTS,
        )
        .select_related("agent")
        .order_by("-created_at")[:TIMELINE_LIMIT]
    )
    return [
        Event(
            at=lookup.created_at,
            kind="lookup",
            original_transaction_id=""
            if lookup.kind == Lookup.Kind.ORDER
            else lookup.transaction_id,
            what=(
                f"Looked up order {lookup.order_id}"
                if lookup.kind == Lookup.Kind.ORDER
                else "Opened the transaction history"
            )
            + f": {_lower_first(lookup.get_outcome_display())}",
            by=lookup.agent.get_username(),
        )
        for lookup in found
    ]


def _links(changes: list[TokenChange]) -> list[Event]:
    return [
        Event(
            at=change.created_at,
            kind="link",
            original_transaction_id=change.original_transaction_id,
            what=f"Link {change.get_outcome_display().lower()}",
            by=change.agent.get_username(),
        )
        for change in changes
    ]


def _refusals_transfers(account: CustomerAccount, apps: AppScope) -> list[Event]:
    events = [
        Event(
            at=refusal.created_at,
            kind="refused",
            original_transaction_id=refusal.original_transaction_id,
            what=f"Link refused: {refusal.get_reason_display()}",
            by=refusal.agent.get_username(),
        )
        for refusal in account.refused_links.filter(apps.rows())
        .select_related("agent")
        .order_by("-created_at")[:TIMELINE_LIMIT]
    ]
    events += [
        Event(
            at=transfer.created_at,
            kind="transfer",
            original_transaction_id=transfer.original_transaction_id,
            what=f"Transfer to this customer: {_lower_first(transfer.get_status_display())}",
            by=transfer.requested_by.get_username(),
        )
        for transfer in account.transfer_requests.filter(apps.rows())
        .select_related("requested_by")
        .order_by("-created_at")[:TIMELINE_LIMIT]
    ]
    return events


def _extensions(account: CustomerAccount, ids: list[str], apps: AppScope) -> list[Event]:
    found = (
        SubscriptionExtension.objects.filter(
            Q(original_transaction_id__in=ids) | Q(account=account),
            apps.rows(),
            environment__in=BOTH_ENVIRONMENTS,
        )
        .select_related("agent")
        .order_by("-created_at")[:TIMELINE_LIMIT]
    )
    return [
        Event(
            at=extension.created_at,
            kind="extension",
            original_transaction_id=extension.original_transaction_id,
            what=f"Extension by {extension.extend_by_days} days: "
            + _lower_first(extension.get_outcome_display()),
            by=extension.agent.get_username(),
        )
        for extension in found
    ]


def _refunds(cases: list[RefundRequest]) -> list[Event]:
    events = []
    for case in cases:
        reason = f" ({case.reason.replace('_', ' ').lower()})" if case.reason else ""
        events.append(
            Event(
                at=case.requested_at,
                kind="refund",
                original_transaction_id=case.original_transaction_id,
                what=f"Apple asked about a refund{reason}",
            )
        )
        if case.decided_at and case.decision:
            events.append(
                Event(
                    at=case.decided_at,
                    kind="refund",
                    original_transaction_id=case.original_transaction_id,
                    what=f"Apple: {_lower_first(case.get_decision_display())}",
                )
            )
    answers = (
        ConsumptionAnswer.objects.filter(refund_request__in=[case.pk for case in cases])
        .select_related("answered_by", "refund_request")
        .order_by("-created_at")[:TIMELINE_LIMIT]
        if cases
        else []
    )
    events += [
        Event(
            at=answer.created_at,
            kind="answer",
            original_transaction_id=answer.refund_request.original_transaction_id,
            what=f"Answered Apple's refund request: {_lower_first(answer.get_outcome_display())}",
            by=answer.answered_by.get_username() if answer.answered_by else "the desk's policy",
        )
        for answer in answers
    ]
    return events


def _notes(notes: CustomerAccount | list[CustomerNote]) -> list[Event]:
    if isinstance(notes, CustomerAccount):
        notes = list(notes.notes.select_related("author").order_by("-created_at")[:TIMELINE_LIMIT])
    return [
        Event(
            at=note.created_at,
            kind="note",
            original_transaction_id="",
            what="Note added" + (f" for {note.ticket_reference}" if note.ticket_reference else ""),
            by=note.author.get_username(),
        )
        for note in notes
    ]
