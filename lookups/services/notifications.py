"""App Store Server Notifications V2: verified and stored on arrival, applied afterwards.

Storing is all the endpoint does, so Apple gets its 200 quickly; applying (the purchase picture,
refund requests) runs in a task. A notification is kept once per `notification_uuid`: Apple's
retries and Get Notification History's copies of the same one store nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.tasks import task
from django.utils import timezone

from lookups.appstore import RenewalInfo, Transaction, VerificationError
from lookups.appstore.notification_history import NotificationHistoryQuery
from lookups.appstore.notifications import Notification
from lookups.models import AppStoreNotification, Purchase
from lookups.services import notification_door, outage_compensation, refund_requests
from lookups.services.clients import (
    app_store_client,
    current_app,
    transaction_verifier,
    using_app,
)
from lookups.services.purchase_picture import AppleStatus, learn_purchases
from lookups.services.subscription_status import APPLE_STATUSES
from lookups.services.task_queue import is_waiting, waiting_query
from lookups.services.unlinked import remember_offer_code_news

REFUND_DECIDED = {"REFUND", "REFUND_DECLINED", "REFUND_REVERSED"}
# Outage compensation's progress and end (a SUMMARY carries no transaction).
APPLIED_WITHOUT_TRANSACTION = {*REFUND_DECIDED, "RENEWAL_EXTENSION"}


@dataclass(frozen=True)
class Receipt:
    """What the endpoint answers: stored (new or again), or refused and why."""

    notification: AppStoreNotification | None
    created: bool = False
    refused: str = ""


def receive(
    body: bytes, *, source: str = AppStoreNotification.Source.ENDPOINT, address: str = ""
) -> Receipt:
    """Verify a posted `{"signedPayload": ...}` and store it; quarantine it if it fails.

    `address` is where the body came from, which refusals are counted against.
    """
    problem = notification_door.shape_problem(body)
    if problem:
        return _quarantine(body, problem, address)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _quarantine(body, "The body is not JSON.", address)
    signed = document.get("signedPayload") if isinstance(document, dict) else None
    if not isinstance(signed, str) or not signed:
        return _quarantine(body, "The body has no signedPayload.", address)
    return receive_signed(signed, source=source, body=body, address=address)


def receive_signed(
    signed_payload: str,
    *,
    source: str = AppStoreNotification.Source.ENDPOINT,
    body: bytes = b"",
    address: str = "",
) -> Receipt:
    try:
        notification = transaction_verifier().decode_notification(signed_payload)
    except VerificationError as error:
        return _quarantine(
            body or signed_payload.encode(),
            f"Verification failed ({error.check}): {error.detail}",
            address or source,
        )
    return _store(notification, source)


def _store(notification: Notification, source: str) -> Receipt:
    txn, renewal = notification.transaction, notification.renewal_info
    original_id = (txn.original_transaction_id if txn else None) or (
        renewal.original_transaction_id if renewal else None
    )
    row = AppStoreNotification(
        notification_uuid=notification.notification_uuid,
        app=current_app()[0],
        environment=current_app()[1],
        notification_type=str(notification.notification_type),
        subtype=str(notification.subtype) if notification.subtype else "",
        signed_date=notification.signed_date,
        original_transaction_id=original_id or "",
        payload=dict(notification.raw),
        transaction=dict(txn.raw) if txn else None,
        renewal_info=dict(renewal.raw) if renewal else None,
        received_from=source,
    )
    # One statement, committed on its own; then a worker is woken (see `wake_applier`).
    created, applier_waiting = _insert_once(row, payload_text=notification.text)
    if created:
        wake_applier(applier_waiting)
    if not created:
        # A retry, a history copy, or the same notification arriving twice at once.
        return Receipt(
            AppStoreNotification.objects.get(notification_uuid=notification.notification_uuid)
        )
    return Receipt(row, created=True)


def _insert_once(row: AppStoreNotification, payload_text: str = "") -> tuple[bool, bool | None]:
    """Store `row` unless its notification_uuid is kept already; says whether it stored it, and
    whether an applier was waiting once it was committed (None: not asked).

    `payload_text`: the JSON text `row.payload` was read from, stored as it stands: encoding the
    payload again (the nested tokens make it kilobytes) cost some 30 µs of CPU a notification.

    One INSERT ... ON CONFLICT DO NOTHING, so a retry costs no lookup first and two copies
    arriving at once can't both be stored. Sets `row.pk` when it stored it. On PostgreSQL outside
    a transaction, the queue is asked in the same round trip, after a COMMIT of the insert's own:
    the question must come after the commit (see `wake_applier`), and asking it in a second
    round trip cost a fifth of the endpoint's time.
    """
    meta = AppStoreNotification._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    unique = quote(meta.get_field("notification_uuid").column)
    # Only the model's own table and column names are spliced in; the values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
        f" ON CONFLICT ({unique}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    values = [
        payload_text
        if payload_text and field.name == "payload"
        else field.get_db_prep_save(field.pre_save(row, True), connection)
        for field in fields
    ]
    ask_in_same_trip = _may_commit_in_statement()
    if ask_in_same_trip:
        # Several statements in one query need the values bound on the client, as Django's
        # default PostgreSQL cursor does; psycopg quotes them.
        waiting_sql, waiting_params = waiting_query(apply_notifications)
        sql = f"{sql}; COMMIT; {waiting_sql}"
        values += waiting_params
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        stored = cursor.fetchone()
        applier_waiting = None
        if ask_in_same_trip:
            cursor.nextset()  # the COMMIT
            cursor.nextset()
            applier_waiting = cursor.fetchone() is not None
    if stored is None:
        return False, applier_waiting
    row.pk = stored[0]
    row._state.adding = False
    row._state.db = connection.alias
    return True, applier_waiting


def _may_commit_in_statement() -> bool:
    """Whether a COMMIT inside the insert's query commits the insert alone: PostgreSQL with
    client-side binding, in autocommit, inside no transaction of the caller's."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        return False
    return connection.get_autocommit()


def wake_applier(waiting: bool | None = None) -> bool:
    """Queue the task that applies stored notifications, unless one is waiting for a worker.

    Called once a new row is committed: an applier still waiting then starts after the row is
    there, so it can't miss it. One task applies every stored notification, so a burst queues
    one task, not one each. A crash between the commit and this call leaves the row to the sweep.
    `waiting` is the queue's answer when it was asked after the commit already. Says whether it
    queued one.
    """
    if waiting is None:
        waiting = is_waiting(apply_notifications)
    if waiting:
        return False
    apply_notifications.enqueue()
    return True


@task()
def apply_notifications() -> str:
    """The task: apply every stored notification not applied yet to the purchase picture."""
    return f"{apply_waiting()} notifications applied"


def apply_waiting(batch: int = 100) -> int:
    """Apply every stored notification not applied yet, in Apple's order; says how many.

    Two workers may run this at once: each row is claimed on its own, and one a worker holds is
    left to it. A row that could not be claimed is not tried again in this run.
    """
    applied, tried = 0, set()
    while True:
        waiting = (
            AppStoreNotification.objects.filter(state=AppStoreNotification.State.RECEIVED)
            .exclude(pk__in=tried)
            .order_by("signed_date", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        ids = list(waiting)
        if not ids:
            return applied
        for notification_id in ids:
            tried.add(notification_id)
            if apply_one(notification_id) is not None:
                applied += 1


def _quarantine(body: bytes, reason: str, address: str) -> Receipt:
    notification_door.record_refusal(address, reason, body)
    return Receipt(None, refused=reason)


def apply_one(notification_id: int) -> AppStoreNotification | None:
    """Apply one stored notification to the purchase picture; a second run does nothing.

    Older news never undoes newer: the picture keeps the most recent transaction, and a status
    signed before the one it holds is ignored, whatever order notifications arrive in.
    """
    with transaction.atomic():
        row = (
            AppStoreNotification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("app")
            .filter(pk=notification_id, state=AppStoreNotification.State.RECEIVED)
            .first()
        )
        if row is None:
            return None
        if row.app is not None:
            # Applied as the app and environment whose URL it came to.
            with using_app(row.app, row.environment):
                row.outcome = _apply(row)
        else:
            row.outcome = _apply(row)
        row.state = (
            AppStoreNotification.State.PROCESSED
            if row.transaction or row.notification_type in APPLIED_WITHOUT_TRANSACTION
            else AppStoreNotification.State.IGNORED
        )
        row.processed_at = timezone.now()
        row.save(update_fields=["outcome", "state", "processed_at"])
    return row


def _apply(row: AppStoreNotification) -> str:
    done = []
    txn = Transaction.from_payload(row.transaction) if row.transaction else None
    renewal = RenewalInfo.from_payload(row.renewal_info) if row.renewal_info else None
    if txn is not None and txn.original_transaction_id:
        status = _status_of(row, txn)
        learnt = learn_purchases(
            [txn],
            source=Purchase.Source.NOTIFICATION,
            statuses=[
                AppleStatus(
                    txn.original_transaction_id,
                    status,
                    signed_at=row.signed_date,
                    source=Purchase.StatusSource.NOTIFICATION,
                    transaction=txn,
                    renewal=renewal,
                )
            ]
            if status
            else [],
        )
        if txn.original_transaction_id in learnt.statuses_written:
            done.append(f"status {status}")
        else:
            done.append("status older than the desk's, kept")
    remember_offer_code_news(row)
    if row.notification_type == "CONSUMPTION_REQUEST":
        refund_requests.open_refund_request(row)
        done.append("refund request opened")
    elif row.notification_type in REFUND_DECIDED:
        if refund_requests.close_refund_request(row) is not None:
            done.append("refund request closed")
        else:
            done.append("no refund request to close: Apple decided without asking the desk")
    if followed := outage_compensation.follow_notification(row):
        done.append(followed)
    return "; ".join(done) or "nothing to apply"


def _status_of(row: AppStoreNotification, txn: Transaction) -> str:
    if not txn.is_subscription:
        return Purchase.Status.REFUNDED if txn.is_revoked else Purchase.Status.OWNED
    number = (row.payload.get("data") or {}).get("status")
    return APPLE_STATUSES.get(number, "") if isinstance(number, int) else ""


@dataclass(frozen=True)
class Sync:
    stored: int = 0
    known: int = 0
    refused: int = 0


def sync_from_history(start: datetime, end: datetime) -> Sync:
    """Get Notification History over [start, end), every page, storing what the desk missed.

    Each notification goes through the same checks and storage as one posted to the endpoint,
    so one the desk already has is left as it is. Raises the client's AppStoreError.
    """
    stored = known = refused = 0
    query = NotificationHistoryQuery(start_date=start, end_date=end)
    for page in app_store_client().iter_notification_history(query):
        for sent in page.notifications:
            receipt = receive_signed(
                sent.signed_payload, source=AppStoreNotification.Source.HISTORY
            )
            if receipt.refused:
                refused += 1
            elif receipt.created:
                stored += 1
            else:
                known += 1
    return Sync(stored, known, refused)
