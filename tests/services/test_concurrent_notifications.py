"""Apple's copies of one notification arriving at the same moment: stored once, applied once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
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
    queued = DBTaskResult.objects.filter(task_path=tasks.apply_notifications.module_path)
    assert queued.count() == 1
