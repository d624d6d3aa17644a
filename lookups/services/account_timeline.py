"""What happened to a customer's purchases: Apple's notifications beside the desk's own actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from lookups.models import AppStoreNotification, CustomerAccount, Purchase
from lookups.wording import notification_sentence

TIMELINE_LIMIT = 100


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # "apple", "link", "refused" or "transfer"
    original_transaction_id: str
    what: str
    by: str = ""


def purchases_of(account: CustomerAccount) -> list[Purchase]:
    """Every purchase whose current token, as the picture holds it, is this customer's."""
    return list(
        Purchase.objects.filter(
            environment=settings.APPSTORE_ENVIRONMENT, app_account_token=account.app_account_token
        ).order_by("-learnt_at")
    )


def timeline(account: CustomerAccount, purchases: list[Purchase]) -> list[Event]:
    """Newest first, at most TIMELINE_LIMIT events."""
    ids = [purchase.original_transaction_id for purchase in purchases]
    events = [
        Event(
            at=note.signed_date or note.received_at,
            kind="apple",
            original_transaction_id=note.original_transaction_id,
            what=f"Apple: {notification_sentence(note.notification_type, note.subtype)}",
        )
        for note in AppStoreNotification.objects.filter(
            environment=settings.APPSTORE_ENVIRONMENT, original_transaction_id__in=ids
        ).order_by("-signed_date")[:TIMELINE_LIMIT]
    ]
    events += [
        Event(
            at=change.created_at,
            kind="link",
            original_transaction_id=change.original_transaction_id,
            what=f"Link {change.get_outcome_display().lower()}",
            by=change.agent.get_username(),
        )
        for change in account.token_changes.select_related("agent").order_by("-created_at")[
            :TIMELINE_LIMIT
        ]
    ]
    events += [
        Event(
            at=refusal.created_at,
            kind="refused",
            original_transaction_id=refusal.original_transaction_id,
            what=f"Link refused: {refusal.get_reason_display()}",
            by=refusal.agent.get_username(),
        )
        for refusal in account.refused_links.select_related("agent").order_by("-created_at")[
            :TIMELINE_LIMIT
        ]
    ]
    events += [
        Event(
            at=transfer.created_at,
            kind="transfer",
            original_transaction_id=transfer.original_transaction_id,
            what=f"Transfer {transfer.get_status_display().lower()}",
            by=transfer.requested_by.get_username(),
        )
        for transfer in account.transfer_requests.select_related("requested_by").order_by(
            "-created_at"
        )[:TIMELINE_LIMIT]
    ]
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:TIMELINE_LIMIT]
