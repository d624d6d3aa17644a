"""The sweep: what it finds cut off (links, consumption answers, Adapty deliveries, refund requests
past their deadline), handled once, and one sweep waiting in the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import get_commands
from django.tasks import TaskResultStatus
from django.utils import timezone

from lookups import tasks
from lookups.models import (
    AdaptyDelivery,
    ConsumptionAnswer,
    RefundRequest,
    TokenChange,
    TokenChangeFollowUp,
)
from lookups.services import consumption_follow_up, settling, sweeping
from lookups.services.adapty_delivery import deliver, send_to_adapty
from lookups.services.apple_actions import engine
from lookups.services.refund_requests import answer_refund_request, open_refund_request
from tests.fixtures.adapty_simulator import COACH_ADAPTY_KEY
from tests.fixtures.background_work import DATABASE_BACKEND, queued
from tests.fixtures.rows import make_consumption_answer, make_refund_request, make_token_change
from tests.services.test_adapty_delivery import coach_sandbox_link
from tests.services.test_refund_requests import AGENTS_ANSWER, consumption_request

pytestmark = pytest.mark.django_db


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


def test_the_sweeps_next_attempt_goes_with_the_rows_apps_adapty_key(
    agent_user, appstore_settings, queued_adapty, adapty, maya, coach_on_adapty
):
    change = coach_sandbox_link(agent_user, maya, coach_on_adapty.coach)
    delivery = send_to_adapty(agent_user, change)
    long_ago = timezone.now() - timedelta(hours=1)
    AdaptyDelivery.objects.filter(pk=delivery.pk).update(outcome="sent", sent_at=long_ago)

    sweeping.sweep()
    deliver(change.adapty_deliveries.get(attempt=2).pk)

    assert change.adapty_deliveries.get(attempt=2).outcome == "succeeded"
    assert [request.secret_key for request in adapty.requests] == [COACH_ADAPTY_KEY]


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
