"""Sending a linked purchase to Adapty's "Set transaction", each attempt recorded by its link.

Each purchase goes with its own app's Adapty key (`adapty_keys`), read when it is sent: a first
send, a worker's retry, the sweep's and the agent's "Send to Adapty again" alike.

The agent's request only queues the delivery (a "queued" row and a task in the same
transaction); a worker claims the row, calls Adapty and records the answer. A timeout or a 5xx
that outlasts the client's own quick retries is sent again later, in a new row, with backoff.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from lookups.adapty import AdaptyError, TransactionBodyError, transaction_body
from lookups.appstore.transactions import DecodingError, Transaction
from lookups.models import AdaptyDelivery, Purchase, TokenChange
from lookups.services.adapty_keys import (
    AdaptyKeyUnreadable,
    adapty_key_of,
    adapty_key_source,
    desk_sends_to_adapty,
    sends_to_adapty,
)
from lookups.services.clients import adapty_client
from lookups.services.desk_links import still_current_links
from lookups.services.looking_up import latest_shown_transaction
from lookups.services.task_queue import enqueue_at, retry_delay

logger = logging.getLogger(__name__)


def adapty_enabled_for(token_change: TokenChange) -> bool:
    """Adapty is optional: a link is sent only when its app has an Adapty key."""
    return sends_to_adapty(token_change.app)


def why_not_sent_to_adapty(token_change: TokenChange) -> str:
    """In plain words, why a link the desk sends other apps' links to Adapty for was not sent;
    "" when it was, or when the desk does not use Adapty at all (then nothing is said)."""
    if token_change.outcome != TokenChange.Outcome.SUCCEEDED or adapty_enabled_for(token_change):
        return ""
    if not desk_sends_to_adapty():
        return ""
    name = token_change.app.name if token_change.app else "This app"
    return (
        f"Adapty: not sent. {name} has no Adapty key on this desk, so its purchases are not "
        "sent to Adapty."
    )


def latest_adapty_delivery(change: TokenChange) -> AdaptyDelivery | None:
    return change.adapty_deliveries.order_by("-created_at", "-pk").first()


def adapty_call_budget() -> timedelta:
    """The longest one delivery's call to Adapty can take, its quick retries included."""
    connect = 3.05
    tries = settings.ADAPTY_MAX_ATTEMPTS
    return timedelta(seconds=(connect + settings.ADAPTY_TIMEOUT_SECONDS) * tries + 2.0 * tries)


def send_to_adapty(
    agent, token_change: TokenChange, *, attempt: int = 1, not_before: datetime | None = None
) -> AdaptyDelivery:
    """Queue a linked purchase for Adapty's "Set transaction"; a worker sends it (`deliver`).

    The queued row and its task commit together. Returns the row as it stands afterwards:
    queued, or already settled where tasks run at once (the immediate backend).
    """
    with transaction.atomic():
        delivery = AdaptyDelivery.objects.create(
            token_change=token_change,
            agent=agent,
            customer_user_id=token_change.account.adapty_user_id,
            outcome=AdaptyDelivery.Outcome.QUEUED,
            attempt=attempt,
            not_before=not_before or timezone.now(),
        )
        enqueue_at(deliver_to_adapty, not_before, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def deliver_again(agent, token_change: TokenChange) -> AdaptyDelivery:
    """The agent's retry: a new first attempt, unless a delivery is still on its way."""
    latest = latest_adapty_delivery(token_change)
    if latest is not None and latest.outcome in (
        AdaptyDelivery.Outcome.QUEUED,
        AdaptyDelivery.Outcome.SENT,
    ):
        return latest
    return send_to_adapty(agent, token_change)


@task()
def deliver_to_adapty(delivery_id: int) -> str:
    """The task: send one queued delivery to Adapty's "Set transaction"."""
    delivery = deliver(delivery_id)
    if delivery is None:
        return f"no Adapty delivery {delivery_id}"
    return f"Adapty delivery {delivery_id}: {delivery.outcome}"


def deliver(delivery_id: int) -> AdaptyDelivery | None:
    """Send one queued delivery to Adapty, recording the attempt around the call.

    Claimed first, queued to sent in one conditional UPDATE: of two workers (or two tasks) for
    the same row exactly one calls Adapty. Failures are recorded, never raised: the App Store
    link stands whatever Adapty says. A timeout or 5xx is queued again as the next attempt.
    """
    now = timezone.now()
    claimed = (
        AdaptyDelivery.objects.filter(pk=delivery_id, outcome=AdaptyDelivery.Outcome.QUEUED)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(outcome=AdaptyDelivery.Outcome.SENT, sent_at=now)
    )
    delivery = (
        AdaptyDelivery.objects.select_related(
            "token_change__account", "token_change__lookup", "token_change__app"
        )
        .filter(pk=delivery_id)
        .first()
    )
    if not claimed or delivery is None:
        return delivery
    retryable = _send(delivery)
    if retryable and may_send_again(delivery):
        send_to_adapty(
            delivery.agent,
            delivery.token_change,
            attempt=delivery.attempt + 1,
            not_before=timezone.now() + retry_delay(delivery.attempt),
        )
    return delivery


def may_send_again(delivery: AdaptyDelivery) -> bool:
    """Whether a failed attempt that may pass with time gets a next one from the worker."""

    # Granting access again to a customer the purchase was moved away from would be wrong.
    return delivery.attempt < settings.ADAPTY_DELIVERY_ATTEMPTS and bool(
        still_current_links([delivery.token_change])
    )


def _send(delivery: AdaptyDelivery) -> bool:
    """Call Adapty for a claimed row and settle it; True if the failure may pass with time."""
    token_change = delivery.token_change
    app = token_change.app
    try:
        body = _adapty_body(token_change)
        secret_key = adapty_key_of(app)
    except (TransactionBodyError, AdaptyKeyUnreadable) as problem:
        # Neither passes with time: the agent (or an administrator, for a key) acts first.
        _settle_delivery(
            delivery,
            AdaptyDelivery.Outcome.FAILED,
            error_message=f"Nothing was sent to Adapty. {problem}",
        )
        return False

    key_name = f"{app.name}'s Adapty key ({adapty_key_source(app)})" if app else "ADAPTY_SECRET_KEY"
    try:
        with adapty_client(secret_key, key_name) as client:
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
        return error.retryable
    except Exception as error:
        # Still not the agent's problem to see as a crash: the link itself succeeded.
        logger.exception("Sending token change %s to Adapty failed", token_change.pk)
        _settle_delivery(
            delivery,
            AdaptyDelivery.Outcome.FAILED,
            error_message=f"Unexpected failure: {type(error).__name__}",
        )
        return False
    _settle_delivery(
        delivery,
        AdaptyDelivery.Outcome.SUCCEEDED,
        attempts=result.attempts,
        http_status=result.http_status,
        request_id=result.request_id,
    )
    return False


def deliver_unless_granted(agent, original_transaction_id: str, account) -> AdaptyDelivery | None:
    """A purchase linked again to the customer Apple already has it on: if the desk's link to
    them never reached Adapty, it is sent now, or the customer would never get access."""
    change = (
        TokenChange.objects.select_related("app")
        .filter(
            original_transaction_id=original_transaction_id,
            account=account,
            outcome=TokenChange.Outcome.SUCCEEDED,
        )
        .order_by("-settled_at", "-pk")
        .first()
    )
    if change is None:
        # Linked outside the desk (by the app itself), which tells Adapty on its own.
        return None
    if not adapty_enabled_for(change):
        return None
    latest = latest_adapty_delivery(change)
    if latest is not None and latest.outcome == AdaptyDelivery.Outcome.SUCCEEDED:
        return latest
    return deliver_again(agent, change)


def _adapty_body(token_change: TokenChange) -> dict[str, Any]:
    original_transaction_id = token_change.original_transaction_id
    try:
        # What the agent was shown; a link made without a lookup (from the unlinked offer
        # codes) has the desk's verified picture of the purchase instead.
        txn = latest_shown_transaction(
            token_change.lookup, original_transaction_id
        ) or _pictured_transaction(token_change.environment, original_transaction_id)
    except DecodingError as problem:
        raise TransactionBodyError(
            f"The recorded App Store transaction could not be read ({problem})."
        ) from problem
    if txn is None:
        raise TransactionBodyError(
            "No verified App Store transaction of this purchase is held by the desk. Look the "
            "order up and send it to Adapty again."
        )
    return transaction_body(txn)


def _pictured_transaction(environment: str, original_transaction_id: str) -> Transaction | None:
    """The picture of the purchase in the environment it was linked in (any app's)."""
    purchase = Purchase.objects.filter(
        environment=environment, original_transaction_id=original_transaction_id
    ).first()
    return Transaction.from_payload(purchase.latest_transaction) if purchase else None


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
