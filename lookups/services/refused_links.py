"""Recording links the desk refused before calling Apple, for the auditors."""

from __future__ import annotations

import uuid

from django.conf import settings

from lookups.models import CustomerAccount, Purchase, RefusedLink


def record_refusal(
    agent,
    original_transaction_id: str,
    *,
    reason: str,
    message: str,
    account: CustomerAccount | None = None,
    token_before: uuid.UUID | None = None,
    ticket_reference: str = "",
    request_id: uuid.UUID | None = None,
) -> RefusedLink:
    """Record the refusal, naming the purchase's app and environment as its picture does."""
    picture = (
        Purchase.objects.filter(original_transaction_id=original_transaction_id)
        .order_by("-learnt_at", "-pk")
        .values("app_id", "environment")
        .first()
    )
    return RefusedLink.objects.create(
        agent=agent,
        app_id=picture["app_id"] if picture else None,
        environment=picture["environment"] if picture else settings.APPSTORE_ENVIRONMENT,
        original_transaction_id=original_transaction_id,
        account=account,
        token_before=token_before,
        ticket_reference=ticket_reference[:100],
        request_id=request_id,
        reason=reason,
        message=message,
    )
