"""Apple's copies of one notification arriving at the same moment: stored once, applied once."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from lookups import tasks
from lookups.models import AppStoreNotification
from lookups.services import notifications
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so there is no race to test",
    ),
]

COPIES = 6


def queued_appliers() -> int:
    return DBTaskResult.objects.filter(task_path=tasks.apply_notifications.module_path).count()


def test_copies_arriving_at_once_are_stored_once_and_queued_once(appstore_settings, simulator):
    appstore_settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    simulator.set_notification_url(None)
    signed = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    start = threading.Barrier(COPIES)
    receipts: list[object] = [None] * COPIES

    def post_copy(n: int) -> None:
        start.wait()
        try:
            receipts[n] = notifications.receive_signed(signed.signed_payload)
        except Exception as error:  # reported by the assertion below, whatever it is
            receipts[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=post_copy, args=(n,)) for n in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(isinstance(receipt, notifications.Receipt) for receipt in receipts), receipts
    assert sum(receipt.created for receipt in receipts) == 1
    stored = AppStoreNotification.objects.get(notification_uuid=signed.notification_uuid)
    assert {receipt.notification.pk for receipt in receipts} == {stored.pk}
    assert queued_appliers() == 1


def test_a_new_notification_asks_the_queue_in_the_same_round_trip(appstore_settings, simulator):
    appstore_settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    simulator.set_notification_url(None)
    first = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    second = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    assert notifications.receive_signed(first.signed_payload).created  # queues the applier

    with CaptureQueriesContext(connection) as trips:
        receipt = notifications.receive_signed(second.signed_payload)

    assert receipt.created
    assert len(trips.captured_queries) == 1, [query["sql"][:80] for query in trips]
    assert queued_appliers() == 1


def test_the_queue_is_asked_only_once_the_new_row_is_committed(appstore_settings, simulator):
    # An applier taking the queue's task between an uncommitted insert and its commit would not
    # see the row, and nothing would wake another: the question must come after the commit.
    appstore_settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    simulator.set_notification_url(None)
    signed = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    dsn = connection.get_connection_params()
    holder = psycopg.connect(**{k: v for k, v in dsn.items() if k != "cursor_factory"})
    watcher = psycopg.connect(**{k: v for k, v in dsn.items() if k != "cursor_factory"})
    watcher.autocommit = True
    holder.execute(f"LOCK TABLE {DBTaskResult._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    receipts: list[object] = []

    def receive() -> None:
        try:
            receipts.append(notifications.receive_signed(signed.signed_payload))
        finally:
            connection.close()

    thread = threading.Thread(target=receive)
    thread.start()
    try:
        seen = False
        for _ in range(200):  # the row is committed while the queue's question still waits
            if watcher.execute(
                f"SELECT 1 FROM {AppStoreNotification._meta.db_table} WHERE notification_uuid = %s",
                [signed.notification_uuid],
            ).fetchone():
                seen = True
                break
            time.sleep(0.05)
        assert seen and thread.is_alive()
    finally:
        holder.rollback()
        holder.close()
        watcher.close()
        thread.join(timeout=30)
    assert receipts and receipts[0].created
