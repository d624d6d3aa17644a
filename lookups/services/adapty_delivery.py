"""Sending a linked purchase to Adapty's "Set transaction", each attempt recorded by its link."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from lookups.adapty import AdaptyError, TransactionBodyError, transaction_body
from lookups.appstore.transactions import DecodingError
from lookups.models import AdaptyDelivery, TokenChange
from lookups.services.clients import adapty_client
from lookups.services.looking_up import latest_shown_transaction

logger = logging.getLogger(__name__)


def adapty_enabled() -> bool:
    """Adapty is optional: the step runs only when a secret key is configured."""
    return bool(settings.ADAPTY_SECRET_KEY)


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
        with adapty_client() as client:
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
    try:
        txn = latest_shown_transaction(token_change.lookup, token_change.original_transaction_id)
    except DecodingError as problem:
        raise TransactionBodyError(
            f"The recorded App Store transaction could not be read ({problem})."
        ) from problem
    if txn is None:
        raise TransactionBodyError(
            "No verified App Store transaction of this purchase was recorded with the lookup "
            "behind this link. Look the order up and link it again."
        )
    return transaction_body(txn)


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
