"""Recording links the desk refused before calling Apple, for the auditors."""

from __future__ import annotations

import uuid

from django.conf import settings

from lookups.models import CustomerAccount, RefusedLink


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
    return RefusedLink.objects.create(
        agent=agent,
        environment=settings.APPSTORE_ENVIRONMENT,
        original_transaction_id=original_transaction_id,
        account=account,
        token_before=token_before,
        ticket_reference=ticket_reference[:100],
        request_id=request_id,
        reason=reason,
        message=message,
    )
