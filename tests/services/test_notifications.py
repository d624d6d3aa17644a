"""Applying stored notifications: through the real task queue, in Apple's order, after a crash."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from unittest import mock

import pytest
from django_tasks_db.models import DBTaskResult

from lookups import tasks
from lookups.models import AppStoreNotification, Purchase
from lookups.services import notifications, refund_requests, sweeping
from lookups.simulators.demo_data import PURCHASE_LIFETIME, PURCHASE_OFFER_CODE

pytestmark = pytest.mark.django_db

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _signed(simulator, *args, **kwargs) -> str:
    simulator.set_notification_url(None)
    return simulator.emit_notification(*args, **kwargs).signed_payload


def queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=tasks.apply_notifications.module_path))


def test_storing_queues_the_task_and_applies_nothing_yet(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    receipt = notifications.receive_signed(
        _signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    )
    assert receipt.created and receipt.notification.state == AppStoreNotification.State.RECEIVED
    assert len(queued()) == 1
    assert not Purchase.objects.filter(original_transaction_id=PURCHASE_OFFER_CODE).exists()

    tasks.apply_notifications.call()
    receipt.notification.refresh_from_db()
    assert receipt.notification.state == AppStoreNotification.State.PROCESSED
    assert Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE).status


def test_the_stored_payload_is_the_one_apple_signed(appstore_settings, simulator):
    signed = _signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    sent = json.loads(base64.urlsafe_b64decode(signed.split(".")[1] + "=="))

    receipt = notifications.receive_signed(signed)

    stored = AppStoreNotification.objects.get(pk=receipt.notification.pk)
    assert stored.payload == sent == receipt.notification.payload
    assert stored.transaction["originalTransactionId"] == PURCHASE_OFFER_CODE
    assert stored.original_transaction_id == PURCHASE_OFFER_CODE


def test_a_notification_stored_again_is_kept_once_and_queued_once(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    signed = _signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    first = notifications.receive_signed(signed)
    again = notifications.receive_signed(signed, source=AppStoreNotification.Source.HISTORY)
    assert first.created and not again.created
    assert again.notification.pk == first.notification.pk
    assert again.notification.received_from == AppStoreNotification.Source.ENDPOINT
    assert AppStoreNotification.objects.count() == 1
    assert len(queued()) == 1


def test_a_burst_queues_one_applier_which_applies_them_all_in_apples_order(
    appstore_settings, simulator
):
    appstore_settings.TASKS = DATABASE_BACKEND
    # Sent in one order, signed in another: the applier goes by Apple's signedDate.
    renewal = _signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    purchase = _signed(simulator, "ONE_TIME_CHARGE", transaction_id=PURCHASE_LIFETIME)
    stored = [notifications.receive_signed(signed).notification for signed in (purchase, renewal)]
    AppStoreNotification.objects.filter(pk=stored[0].pk).update(
        signed_date=stored[1].signed_date + timedelta(seconds=1)
    )
    assert len(queued()) == 1

    assert tasks.apply_notifications.call() == "2 notifications applied"
    applied = AppStoreNotification.objects.order_by("processed_at", "pk")
    assert [row.pk for row in applied] == [stored[1].pk, stored[0].pk]
    assert tasks.apply_notifications.call() == "0 notifications applied"


def test_a_row_stored_while_the_applier_runs_queues_another(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    notifications.receive_signed(_signed(simulator, "DID_RENEW", transaction_id=PURCHASE_LIFETIME))
    [first] = queued()
    notifications.receive_signed(
        _signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    )
    assert len(queued()) == 1, "an applier was waiting: the second row queued nothing"
    # A worker has taken the applier, which may have looked for rows before the next one came.
    DBTaskResult.objects.filter(pk=first.pk).update(status="RUNNING")
    notifications.receive_signed(
        _signed(simulator, "DID_CHANGE_RENEWAL_STATUS", transaction_id=PURCHASE_OFFER_CODE)
    )
    waiting = [task for task in queued() if task.status == "READY"]
    assert len(waiting) == 1 and waiting[0].pk != first.pk


def test_processing_twice_does_nothing_the_second_time(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    receipt = notifications.receive_signed(
        _signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    )
    assert notifications.apply_one(receipt.notification.pk) is not None
    assert notifications.apply_one(receipt.notification.pk) is None


def test_the_sweep_applies_what_a_crash_left_stored(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    receipt = notifications.receive_signed(
        _signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    )
    # The worker died: its task is gone, the row is still waiting, long enough to be overdue.
    DBTaskResult.objects.all().delete()
    AppStoreNotification.objects.filter(pk=receipt.notification.pk).update(
        received_at=receipt.notification.received_at - timedelta(hours=1)
    )
    found = sweeping.sweep()
    assert found["notifications not applied"] == 1
    assert len(queued()) == 1


def test_a_one_time_purchase_refunded_is_marked_refunded(appstore_settings, simulator):
    appstore_settings.TASKS = IMMEDIATE
    simulator.revoke(PURCHASE_LIFETIME)
    with mock.patch.object(refund_requests, "close_refund_request") as close:
        receipt = notifications.receive_signed(
            _signed(simulator, "REFUND", transaction_id=PURCHASE_LIFETIME)
        )
    close.assert_called_once()
    assert close.call_args.args[0].pk == receipt.notification.pk
    purchase = Purchase.objects.get(original_transaction_id=PURCHASE_LIFETIME)
    assert purchase.status == Purchase.Status.REFUNDED and purchase.revocation_date


def test_a_consumption_request_opens_a_refund_request(appstore_settings, simulator):
    appstore_settings.TASKS = IMMEDIATE
    with mock.patch.object(refund_requests, "open_refund_request") as opened:
        notifications.receive_signed(
            _signed(
                simulator,
                "CONSUMPTION_REQUEST",
                transaction_id=PURCHASE_LIFETIME,
                data={"consumptionRequestReason": "UNINTENDED_PURCHASE"},
            )
        )
    opened.assert_called_once()


def test_a_test_notification_is_stored_with_nothing_to_apply(appstore_settings, simulator):
    appstore_settings.TASKS = IMMEDIATE
    receipt = notifications.receive_signed(_signed(simulator, "TEST"))
    receipt.notification.refresh_from_db()
    assert receipt.notification.notification_type == "TEST"
    assert receipt.notification.state == AppStoreNotification.State.IGNORED


def test_a_consumption_request_arriving_after_the_refund_it_preceded_opens_no_case(
    appstore_settings, simulator, agent_user
):
    from lookups.models import ConsumptionAnswer, RefundRequest
    from lookups.services.apple_actions import ActionRefused
    from lookups.simulators.demo_data import OFFER_CODE_TRANSACTIONS
    from tests.services.test_refund_requests import AGENTS_ANSWER

    appstore_settings.TASKS = DATABASE_BACKEND
    refunded = OFFER_CODE_TRANSACTIONS[-1]
    # Apple asked first and decided later; the desk hears of the decision first.
    asked = _signed(
        simulator,
        "CONSUMPTION_REQUEST",
        transaction_id=refunded,
        data={"consumptionRequestReason": "UNINTENDED_PURCHASE"},
    )
    time.sleep(0.01)  # signed a moment apart
    decided = _signed(simulator, "REFUND", transaction_id=refunded)
    refund = notifications.receive_signed(decided).notification
    notifications.apply_waiting()
    refund.refresh_from_db()
    assert "no refund request to close" in refund.outcome
    notifications.receive_signed(asked)
    notifications.apply_waiting()

    [case] = RefundRequest.objects.all()
    assert case.decision == RefundRequest.Decision.REFUNDED
    assert case not in refund_requests.open_cases()
    sends = len(simulator.requests)
    with pytest.raises(ActionRefused):
        refund_requests.answer_refund_request(agent_user, case, AGENTS_ANSWER)
    assert len(simulator.requests) == sends and not ConsumptionAnswer.objects.exists()
