"""Background work through the real queue: `db_worker` subprocesses against the test database.

PostgreSQL only (SQLite's test database lives in this process's memory). Each test starts its
workers, lets them run, and checks what the database and the simulators show afterwards.
"""

from __future__ import annotations

import json
import signal
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups import tasks
from lookups.appstore import HistoryFilters
from lookups.models import (
    AdaptyDelivery,
    ConsumptionAnswer,
    CustomerAccount,
    Lookup,
    RefundRequest,
    TokenChange,
    TokenChangeFollowUp,
)
from lookups.services import settling
from lookups.services.adapty_delivery import send_to_adapty
from lookups.services.apple_actions import engine
from lookups.services.looking_up import history_in_apps
from lookups.services.refund_requests import answer_refund_request, open_refund_request
from lookups.simulators.demo_apps import SANDBOX_TESTER_PURCHASE
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.rows import make_token_change
from tests.fixtures.worker_process import (
    needs_a_shared_database,
    settled,
    start_worker,
    stop,
    wait_for,
    worker_until,
)
from tests.services.apple_actions.test_acting_app import link
from tests.services.test_refund_requests import AGENTS_ANSWER, POLICY, consumption_request

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}
MAYA_ORIGINAL = "2000000815627301"


@pytest.fixture(autouse=True)
def shared_database() -> None:
    needs_a_shared_database()


@pytest.fixture
def quick_tasks(settings):
    """Short call budgets and backoffs, so a test's background work takes seconds."""
    settings.APPSTORE_TIMEOUT_SECONDS = 0.5
    settings.APPSTORE_CALL_BUDGET_SECONDS = 1.0
    settings.TOKEN_CHECK_MARGIN_SECONDS = 1.0
    settings.TASK_RETRY_DELAY_SECONDS = 0.4
    settings.TASK_RETRY_CAP_SECONDS = 1.0
    settings.SWEEP_INTERVAL_SECONDS = 0.5
    settings.SWEEP_OVERDUE_SECONDS = 0.0
    settings.TASKS_ABANDONED_AFTER_SECONDS = 1.0
    return settings


def look_up_and_link(client, account) -> TokenChange:
    assert client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}).status_code == 200
    lookup = Lookup.objects.filter(order_id=ORDER_OFFER_CODE).latest("created_at")
    data = {
        "account": account.pk,
        "ticket_reference": "ZD-4242",
        "request_id": str(uuid.uuid4()),
        "lookup": lookup.pk,
    }
    response = client.post(reverse("lookups:link", args=[MAYA_ORIGINAL]), data, headers=HTMX)
    assert response.status_code == 200
    return TokenChange.objects.get(request_id=data["request_id"])


def test_a_timed_out_link_is_settled_by_the_worker_with_no_command_run(
    agent_client, appstore_settings, quick_tasks, simulator, customer_account, tmp_path
):
    log = tmp_path / "worker.log"
    # Apple holds the call past the client's timeout, then carries it out.
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=1.5)

    change = look_up_and_link(agent_client, customer_account)

    assert change.outcome == TokenChange.Outcome.PENDING
    follow = TokenChangeFollowUp.objects.get(token_change=change)
    assert follow.checks == 0 and follow.next_check_at > change.created_at
    queued = DBTaskResult.objects.get(task_path=engine.check_action.module_path)
    assert queued.args_kwargs["kwargs"] == {"kind": "link", "action_id": str(change.pk)}
    assert queued.run_after == follow.next_check_at
    outcome_url = reverse("lookups:link_status", args=[change.pk])
    waiting = agent_client.get(outcome_url, headers=HTMX)
    assert "Waiting for Apple since" in waiting.text and 'hx-trigger="every 2s"' in waiting.text

    worker_until(log, settled(change), what="the worker to settle the change")

    change.refresh_from_db()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert change.error_message == (
        f"reconciled: Apple shows token {customer_account.app_account_token}"
    )
    follow.refresh_from_db()
    assert follow.checks == 1 and follow.next_check_at is None
    outcome = agent_client.get(outcome_url, headers=HTMX)
    assert "Linked to <strong>" in outcome.text and "asked it again" in outcome.text
    assert "hx-trigger" not in outcome.text
    verified = StringIO()
    call_command("verify_audit_log", stdout=verified)
    assert verified.getvalue().startswith("Checked 1 settled token changes: OK")


def test_a_timed_out_link_of_a_coach_sandbox_purchase_is_read_back_there_by_the_worker(
    agent_user, appstore_settings, quick_tasks, simulator, three_apps, maya, tmp_path
):
    """The worker, a process of its own, asks Coach's Sandbox with Coach's key (from the
    environment variable the app names), never the desk's own app."""
    log = tmp_path / "worker.log"
    history_in_apps(agent_user, SANDBOX_TESTER_PURCHASE, filters=HistoryFilters())
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=1.5)

    change = link(agent_user, SANDBOX_TESTER_PURCHASE, maya)

    assert (change.outcome, change.app, change.environment) == (
        TokenChange.Outcome.PENDING,
        three_apps.coach,
        "Sandbox",
    )
    worker_until(log, settled(change), what="the worker to settle the Coach link")
    change.refresh_from_db()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert change.error_message == f"reconciled: Apple shows token {maya.app_account_token}"
    read_back = [
        path
        for _, path in simulator.requests
        if path.startswith(f"/sandbox/inApps/v2/history/{SANDBOX_TESTER_PURCHASE}")
    ]
    assert read_back, simulator.requests


def test_a_worker_killed_mid_delivery_leaves_it_to_the_sweep(
    agent_user, quick_tasks, adapty_settings, adapty, appstore_settings, agent_client, tmp_path
):
    log = tmp_path / "workers.log"
    quick_tasks.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    quick_tasks.ADAPTY_DELIVERY_ATTEMPTS = 3
    change = look_up_and_link_without_adapty(agent_client, agent_user)
    adapty.inject_fault("slow", delay_seconds=60)

    delivery = send_to_adapty(agent_user, change)
    assert delivery.outcome == AdaptyDelivery.Outcome.QUEUED

    # This worker is still waiting for Adapty when it is killed.
    first = start_worker(log, ADAPTY_TIMEOUT_SECONDS="120")
    try:
        wait_for(lambda: adapty.requests, seconds=60, what="the send to reach Adapty", log=log)
    finally:
        first.kill()
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    delivery.refresh_from_db()
    assert delivery.outcome == AdaptyDelivery.Outcome.SENT and delivery.settled_at is None
    killed = DBTaskResult.objects.get(task_path=tasks.deliver_to_adapty.module_path)
    assert killed.status == TaskResultStatus.RUNNING

    worker_until(
        log,
        lambda: change.adapty_deliveries.filter(outcome="succeeded").exists(),
        what="the sweep to send it again",
        seconds=90,
        ADAPTY_TIMEOUT_SECONDS="0.5",
        ADAPTY_MAX_ATTEMPTS="1",
    )

    cut_off, resent = change.adapty_deliveries.order_by("pk")
    assert cut_off.pk == delivery.pk and cut_off.outcome == AdaptyDelivery.Outcome.FAILED
    assert "worker stopped while Adapty was being called" in cut_off.error_message
    assert (resent.outcome, resent.attempt) == (AdaptyDelivery.Outcome.SUCCEEDED, 2)
    assert len(adapty.requests) == 2
    killed.refresh_from_db()
    assert killed.status == TaskResultStatus.FAILED
    assert killed.exception_class_path == "lookups.services.sweeping.WorkerLost"


def look_up_and_link_without_adapty(client, agent) -> TokenChange:
    """A succeeded link with the lookup behind it, made without the queue."""
    assert client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}).status_code == 200
    lookup = Lookup.objects.filter(order_id=ORDER_OFFER_CODE).latest("created_at")
    account = CustomerAccount.objects.create(
        external_id="acct-1001", email="maya@example.com", display_name="Maya Patel"
    )
    change = make_token_change(agent, account, lookup=lookup, original_transaction_id=MAYA_ORIGINAL)
    change.settle(TokenChange.Outcome.SUCCEEDED)
    return change


def test_two_workers_never_send_the_same_delivery_twice(
    agent_user, adapty_settings, adapty, appstore_settings, agent_client, tmp_path
):
    log = tmp_path / "workers.log"
    adapty_settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    adapty_settings.SWEEP_INTERVAL_SECONDS = 600
    change = look_up_and_link_without_adapty(agent_client, agent_user)
    workers = [start_worker(log) for _ in range(2)]
    try:
        # Both polling the queue before there is anything in it, so both get their share.
        wait_for(
            lambda: log.read_text().count("Starting worker") >= 2,
            seconds=60,
            what="both workers to start",
            log=log,
        )
        with transaction.atomic():
            deliveries = [send_to_adapty(agent_user, change) for _ in range(30)]
            # Each queued a second time, as a sweep or a retry racing the first might.
            for delivery in deliveries:
                tasks.deliver_to_adapty.enqueue(delivery_id=delivery.pk)
        wait_for(
            lambda: DBTaskResult.objects.finished().count() == 60,
            seconds=120,
            what="the workers to run all 60 tasks",
            log=log,
        )
    finally:
        for worker in workers:
            stop(worker)

    assert len(adapty.requests) == 30
    assert set(change.adapty_deliveries.values_list("outcome", flat=True)) == {"succeeded"}
    finished = DBTaskResult.objects.filter(task_path=tasks.deliver_to_adapty.module_path)
    assert set(finished.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    # Both workers took tasks: the race was run, not avoided.
    assert (
        len({worker for ids in finished.values_list("worker_ids", flat=True) for worker in ids})
        == 2
    )


def test_a_check_that_keeps_failing_stops_after_its_attempts_and_shows(
    agent_user,
    appstore_settings,
    quick_tasks,
    simulator,
    customer_account,
    superuser_client,
    agent_client,
    tmp_path,
):
    log = tmp_path / "worker.log"
    quick_tasks.APPLE_FOLLOW_UP_ATTEMPTS = 3
    # Each check is counted below: the sweep must not take over one that is merely late, as it
    # would on a busy machine with no grace at all.
    quick_tasks.SWEEP_OVERDUE_SECONDS = 60.0
    purchase = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    change = make_token_change(agent_user, customer_account, original_transaction_id=purchase)
    settling.follow_up(change, first_check_at=timezone.now())
    simulator.inject_fault("internal_error", endpoint="history", times=100)

    worker_until(
        log,
        lambda: DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists(),
        what="the last check to fail",
    )

    follow = TokenChangeFollowUp.objects.get(token_change=change)
    assert follow.checks == 3 and follow.gave_up_at is not None
    assert follow.last_error.startswith("Apple could not be asked")
    change.refresh_from_db()
    assert change.outcome == TokenChange.Outcome.PENDING
    checks = DBTaskResult.objects.filter(task_path=engine.check_action.module_path)
    assert sorted(checks.values_list("status", flat=True)) == [
        TaskResultStatus.FAILED,
        TaskResultStatus.SUCCESSFUL,
        TaskResultStatus.SUCCESSFUL,
    ]
    failed = checks.get(status=TaskResultStatus.FAILED)
    assert failed.exception_class_path == "lookups.services.apple_actions.engine.GaveUp"

    queue = superuser_client.get(
        reverse("admin:django_tasks_database_dbtaskresult_changelist"), {"status": "FAILED"}
    )
    assert queue.status_code == 200
    assert "GaveUp: gave up on token change" in queue.text and "3 of 3 checks" in queue.text
    page = agent_client.get(reverse("lookups:link_status", args=[change.pk]), headers=HTMX)
    assert "the desk could not ask it again" in page.text and "checked 3 times" in page.text
    assert "hx-trigger" not in page.text


def test_a_timed_out_consumption_answer_is_sent_again_by_the_worker(
    agent_user, appstore_settings, quick_tasks, simulator, tmp_path
):
    log = tmp_path / "worker.log"
    case = open_refund_request(consumption_request(simulator))
    simulator.inject_fault("slow", endpoint="consumption", delay_seconds=1.5)

    sent = answer_refund_request(agent_user, case, AGENTS_ANSWER)
    assert sent.outcome == ConsumptionAnswer.Outcome.PENDING

    worker_until(log, settled(sent), what="the worker to send the answer again")

    sent.refresh_from_db()
    assert sent.outcome == ConsumptionAnswer.Outcome.SUCCEEDED
    assert sent.follow_up.checks == 1
    assert RefundRequest.objects.get(pk=case.pk).status == RefundRequest.Status.ANSWERED
    verified = StringIO()
    call_command("verify_audit_log", stdout=verified)
    assert verified.getvalue().startswith("Checked 1 settled ")


def test_the_policy_answers_a_case_nobody_answered_before_its_deadline_in_the_worker(
    appstore_settings, quick_tasks, simulator, tmp_path
):
    log = tmp_path / "worker.log"
    quick_tasks.REFUND_POLICY = POLICY
    quick_tasks.REFUND_POLICY_MARGIN_MINUTES = 30
    # Signed 11 h 45 min ago: the policy's turn, 30 minutes before the deadline, has come.
    case = open_refund_request(
        consumption_request(simulator, signed_ago=timedelta(hours=11, minutes=45))
    )

    worker_until(
        log,
        lambda: (
            ConsumptionAnswer.objects.filter(refund_request=case).exists()
            and ConsumptionAnswer.objects.get(refund_request=case).is_settled
        ),
        what="the worker to answer with the policy",
        REFUND_POLICY=json.dumps(POLICY),
    )

    sent = ConsumptionAnswer.objects.get(refund_request=case)
    assert (sent.outcome, sent.by_policy, sent.answered_by) == ("succeeded", True, None)
    assert sent.settled_at < case.deadline
    assert RefundRequest.objects.get(pk=case.pk).status == RefundRequest.Status.ANSWERED
    [body] = simulator.store.consumption_answers[case.transaction_id]
    assert body["refundPreference"] == "DECLINE"
