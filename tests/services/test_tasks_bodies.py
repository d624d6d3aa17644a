"""The background tasks' bodies and what the pages show of them, without a worker.

The queue is the real database backend (tasks are queued, not run) unless a test asks for the
immediate one; task bodies are called directly where only what they do matters.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management import get_commands
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups import tasks
from lookups.models import (
    AdaptyDelivery,
    ConsumptionAnswer,
    Lookup,
    RefundRequest,
    TokenChange,
    TokenChangeFollowUp,
)
from lookups.services import consumption_follow_up, settling, sweeping
from lookups.services.adapty_delivery import deliver, send_to_adapty
from lookups.services.apple_actions import engine
from lookups.services.refund_requests import answer_refund_request, open_refund_request
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.rows import make_consumption_answer, make_refund_request, make_token_change
from tests.services.test_refund_requests import AGENTS_ANSWER, consumption_request

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
MAYA_ORIGINAL = "2000000815627301"
DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queued_adapty(adapty_settings):
    """Adapty on, its deliveries queued in the database for a worker, retried three times."""
    adapty_settings.TASKS = DATABASE_BACKEND
    adapty_settings.ADAPTY_DELIVERY_ATTEMPTS = 3
    return adapty_settings


@pytest.fixture
def linked(agent_client, agent_user, appstore_settings, make_account) -> TokenChange:
    assert agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    lookup = Lookup.objects.filter(order_id=ORDER_OFFER_CODE).latest("created_at")
    maya = make_account(external_id="acct-1001", display_name="Maya Patel")
    change = make_token_change(
        agent_user, maya, lookup=lookup, original_transaction_id=MAYA_ORIGINAL
    )
    change.settle(TokenChange.Outcome.SUCCEEDED)
    return change


def queued(task) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at"))


# --- Adapty through the queue ---------------------------------------------------------------------


def test_the_link_page_polls_the_delivery_until_it_settles(
    agent_client, appstore_settings, queued_adapty, adapty, make_account
):
    maya = make_account(external_id="acct-1001", display_name="Maya Patel")
    assert agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    lookup = Lookup.objects.get()
    data = {"account": maya.pk, "ticket_reference": "ZD-1", "request_id": str(uuid.uuid4())}

    response = agent_client.post(
        reverse("lookups:link", args=[MAYA_ORIGINAL]), {**data, "lookup": lookup.pk}, headers=HTMX
    )

    change = TokenChange.objects.get()
    delivery = AdaptyDelivery.objects.get()
    assert delivery.outcome == AdaptyDelivery.Outcome.QUEUED and adapty.requests == []
    (task,) = queued(tasks.deliver_to_adapty)
    assert task.args_kwargs["kwargs"] == {"delivery_id": delivery.pk}
    status_url = reverse("lookups:link_status", args=[change.pk])
    assert "Adapty: queued for customer user ID acct-1001" in response.text
    assert f'hx-get="{status_url}"' in response.text and 'hx-trigger="every 2s"' in response.text
    assert f'href="{status_url}"' in response.text

    deliver(delivery.pk)
    polled = agent_client.get(status_url, headers=HTMX)

    assert "Adapty: access granted to customer user ID <strong>acct-1001</strong>" in polled.text
    assert "hx-trigger" not in polled.text and "<html" not in polled.text
    whole = agent_client.get(status_url)
    assert "<html" in whole.text and "Adapty: access granted" in whole.text


def test_a_delivery_run_twice_is_sent_once(agent_user, queued_adapty, adapty, linked):
    delivery = send_to_adapty(agent_user, linked)

    deliver(delivery.pk)
    deliver(delivery.pk)

    assert len(adapty.requests) == 1
    assert AdaptyDelivery.objects.get().outcome == AdaptyDelivery.Outcome.SUCCEEDED


def test_an_outage_is_sent_again_later_then_left_to_the_agent(
    agent_user, agent_client, queued_adapty, adapty, linked
):
    adapty.inject_fault("server_error", http_status=503, times=9)
    first = send_to_adapty(agent_user, linked)

    deliver(first.pk)

    failed, second = linked.adapty_deliveries.order_by("pk")
    assert failed.outcome == AdaptyDelivery.Outcome.FAILED and failed.attempts == 3
    assert (second.outcome, second.attempt) == (AdaptyDelivery.Outcome.QUEUED, 2)
    assert second.not_before > timezone.now()
    (_, retry_task) = queued(tasks.deliver_to_adapty)
    assert retry_task.run_after == second.not_before
    page = agent_client.get(reverse("lookups:link_status", args=[linked.pk]), headers=HTMX)
    assert "attempt 2, not before" in page.text and 'hx-trigger="every 2s"' in page.text

    # Not due yet: a worker that runs it early sends nothing.
    deliver(second.pk)
    assert len(adapty.requests) == 3

    for attempt in (2, 3):
        row = linked.adapty_deliveries.get(attempt=attempt)
        AdaptyDelivery.objects.filter(pk=row.pk).update(not_before=timezone.now())
        deliver(row.pk)

    assert list(linked.adapty_deliveries.values_list("attempt", "outcome")) == [
        (3, "failed"),
        (2, "failed"),
        (1, "failed"),
    ]
    assert len(adapty.requests) == 9
    page = agent_client.get(reverse("lookups:link_status", args=[linked.pk]), headers=HTMX)
    assert "Send to Adapty again" in page.text and "hx-trigger" not in page.text


def test_the_retry_button_queues_a_new_first_attempt_once(
    agent_client, agent_user, queued_adapty, adapty, linked
):
    url = reverse("lookups:adapty_retry", args=[linked.pk])

    agent_client.post(url, headers=HTMX)
    again = agent_client.post(url, headers=HTMX)

    assert again.status_code == 200 and "Adapty: queued" in again.text
    assert list(linked.adapty_deliveries.values_list("outcome", "attempt")) == [("queued", 1)]


# --- Following up a change Apple did not answer ---------------------------------------------------


@pytest.fixture
def pending(agent_user, customer_account, simulator, appstore_settings) -> TokenChange:
    purchase = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    return make_token_change(agent_user, customer_account, original_transaction_id=purchase)


def test_a_follow_up_is_queued_once_for_after_the_call_budget(pending, settings):
    settling.follow_up(pending)
    settling.follow_up(pending)

    follow = TokenChangeFollowUp.objects.get()
    (task,) = queued(engine.check_action)
    budget = settings.APPSTORE_CALL_BUDGET_SECONDS + settings.TOKEN_CHECK_MARGIN_SECONDS
    assert task.run_after == follow.next_check_at
    assert follow.next_check_at - timezone.now() > timedelta(seconds=budget - 5)


def test_a_check_before_its_time_asks_apple_nothing(pending, simulator):
    settling.follow_up(pending)

    check = settling.check_token_change(pending.pk)

    assert "not due" in check.summary and simulator.requests == []
    assert TokenChangeFollowUp.objects.get().checks == 0


def test_a_due_check_settles_the_change_and_is_safe_to_run_again(pending, simulator):
    settling.follow_up(pending, first_check_at=timezone.now())

    first = settling.check_token_change(pending.pk)
    asked = len(simulator.requests)
    second = settling.check_token_change(pending.pk)

    pending.refresh_from_db()
    # Apple never carried it out: the purchase has no token.
    assert pending.outcome == TokenChange.Outcome.FAILED
    assert first.summary.endswith(": failed") and "already failed" in second.summary
    assert len(simulator.requests) == asked
    assert TokenChangeFollowUp.objects.get().checks == 1


def test_a_check_apple_cannot_answer_is_queued_again_with_backoff(pending, simulator, settings):
    simulator.inject_fault("internal_error", endpoint="history")
    settling.follow_up(pending, first_check_at=timezone.now())

    check = settling.check_token_change(pending.pk)

    follow = TokenChangeFollowUp.objects.get()
    assert not check.gave_up and follow.checks == 1
    assert follow.last_error.startswith("Apple could not be asked")
    assert follow.next_check_at - timezone.now() >= timedelta(
        seconds=settings.TASK_RETRY_DELAY_SECONDS / 2 - 1
    )
    assert [t.run_after for t in queued(engine.check_action)][-1] == follow.next_check_at


def test_an_agent_trying_the_purchase_meanwhile_is_told_how_long_apple_has_been_waited_for(
    pending,
):
    settling.follow_up(pending)
    TokenChangeFollowUp.objects.update(checks=2)

    sentence = settling.waiting_sentence(pending)

    since = timezone.localtime(pending.created_at).strftime("%H:%M")
    assert f"waiting for Apple since {since}, checked 2 times" in sentence


# --- The sweep -----------------------------------------------------------------------------------


def test_the_sweep_follows_up_a_change_whose_process_died(pending, agent_user, customer_account):
    young = make_token_change(agent_user, customer_account)
    TokenChange.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(hours=1))

    found = sweeping.sweep()

    assert found == {"pending links without a follow-up": 1}
    follow = TokenChangeFollowUp.objects.get()
    assert follow.token_change_id == pending.pk and young.pk != pending.pk
    (task,) = queued(engine.check_action)
    assert task.args_kwargs["kwargs"] == {"kind": "link", "action_id": str(pending.pk)}
    assert sweeping.sweep() == {}


def test_the_sweep_takes_over_an_overdue_check_once(pending):
    settling.follow_up(pending, first_check_at=timezone.now() - timedelta(hours=1))

    assert sweeping.sweep() == {"overdue link checks": 1}
    assert sweeping.sweep() == {}
    assert len(queued(engine.check_action)) == 2


def test_the_sweep_sends_again_a_delivery_cut_off_mid_call(agent_user, queued_adapty, linked):
    delivery = send_to_adapty(agent_user, linked)
    long_ago = timezone.now() - timedelta(hours=1)
    AdaptyDelivery.objects.filter(pk=delivery.pk).update(outcome="sent", sent_at=long_ago)

    assert sweeping.sweep() == {"Adapty deliveries cut off": 1}

    cut_off, resent = linked.adapty_deliveries.order_by("pk")
    assert cut_off.outcome == "failed" and cut_off.settled_at is not None
    assert (resent.outcome, resent.attempt) == ("queued", 2)
    assert sweeping.sweep() == {}


def test_the_sweep_marks_a_refund_request_past_its_deadline_missed(
    appstore_settings, simulator, agent_user
):
    late = open_refund_request(consumption_request(simulator, signed_ago=timedelta(hours=13)))
    on_time = open_refund_request(consumption_request(simulator))
    answered = open_refund_request(consumption_request(simulator))
    answer_refund_request(agent_user, answered, AGENTS_ANSWER)
    waiting_for_apple = make_refund_request(deadline=timezone.now() - timedelta(minutes=1))
    make_consumption_answer(agent_user, waiting_for_apple)

    found = sweeping.sweep()

    assert found["refund requests missed"] == 1
    statuses = dict(RefundRequest.objects.values_list("pk", "status"))
    assert statuses == {
        late.pk: RefundRequest.Status.MISSED,
        on_time.pk: RefundRequest.Status.OPEN,
        answered.pk: RefundRequest.Status.ANSWERED,
        # Its answer's follow-up settles it first.
        waiting_for_apple.pk: RefundRequest.Status.OPEN,
    }
    assert "refund requests missed" not in sweeping.sweep()


def test_the_sweep_follows_up_a_consumption_answer_whose_process_died(agent_user):
    died = make_consumption_answer(agent_user)
    ConsumptionAnswer.objects.filter(pk=died.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    make_consumption_answer(agent_user)  # still within its call

    assert sweeping.sweep() == {"pending consumption answers without a follow-up": 1}
    (task,) = queued(engine.check_action)
    assert task.args_kwargs["kwargs"] == {"kind": "consumption_answer", "action_id": str(died.pk)}
    assert sweeping.sweep() == {}


def test_the_sweep_takes_over_an_overdue_resend_once(agent_user):
    answer = make_consumption_answer(agent_user)
    consumption_follow_up.follow_up(answer, first_send_at=timezone.now() - timedelta(hours=1))

    assert sweeping.sweep() == {"overdue consumption answer checks": 1}
    assert sweeping.sweep() == {}
    assert len(queued(engine.check_action)) == 2


def test_one_sweep_waits_in_the_queue_however_often_it_is_scheduled(settings):
    settings.TASKS = DATABASE_BACKEND

    assert sweeping.schedule_sweep() is True
    assert sweeping.schedule_sweep() is False

    (task,) = queued(tasks.sweep)
    assert task.status == TaskResultStatus.READY and task.run_after > timezone.now()


def test_manage_py_db_worker_is_the_one_that_schedules_the_sweep():
    assert get_commands()["db_worker"] == "lookups"


# --- What managers and superusers see -------------------------------------------------------------


def test_the_reports_page_counts_waiting_work_and_turns_red_when_it_waits_too_long(
    manager_client, pending, settings
):
    settling.follow_up(pending, first_check_at=timezone.now() - timedelta(minutes=2))
    tasks.deliver_to_adapty.enqueue(delivery_id=0)

    calm = manager_client.get(reverse("lookups:reports"))
    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(minutes=30))
    late = manager_client.get(reverse("lookups:reports"))

    assert "Background work: 2 waiting, oldest 2 minutes." in calm.text
    assert 'class="background-work"' in calm.text
    assert "Background work: 2 waiting, oldest 30 minutes" in late.text
    assert 'class="background-work notice error" role="alert"' in late.text


def test_superusers_see_the_queue_with_attempts_and_run_after(superuser_client, pending):
    settling.follow_up(pending)

    page = superuser_client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))

    assert page.status_code == 200
    assert "check_action" in page.text and f"token change {pending.pk}" in page.text
    assert "0 of 10 checks" in page.text and "Run after" in page.text
