"""A consumption answer Apple did not confirm is sent again, unchanged, until Apple does or the
deadline passes; through the simulator's faults, running the task's body."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups.models import ConsumptionAnswer, ConsumptionAnswerFollowUp, RefundRequest
from lookups.services import consumption_follow_up
from lookups.services.apple_actions import engine
from lookups.services.refund_requests import answer_refund_request, open_refund_request
from tests.services.test_refund_requests import AGENTS_ANSWER, TRANSACTION, consumption_request

pytestmark = pytest.mark.django_db

Outcome = ConsumptionAnswer.Outcome


@pytest.fixture
def quick_timeout(appstore_settings):
    """The client gives up after half a second; a slow fault answers after one and a half."""
    appstore_settings.APPSTORE_TIMEOUT_SECONDS = 0.5
    appstore_settings.APPSTORE_CALL_BUDGET_SECONDS = 1.0
    return appstore_settings


def timed_out_answer(simulator, agent) -> ConsumptionAnswer:
    case = open_refund_request(consumption_request(simulator))
    simulator.inject_fault("slow", endpoint="consumption", delay_seconds=1.5)
    sent = answer_refund_request(agent, case, AGENTS_ANSWER)
    assert sent.outcome == Outcome.PENDING
    return sent


def queued_resends() -> list[dict]:
    rows = DBTaskResult.objects.filter(task_path=engine.check_action.module_path)
    return [row.args_kwargs["kwargs"] for row in rows.order_by("enqueued_at")]


def when_due(sent: ConsumptionAnswer) -> str:
    """Time passes until the next send is due; then the task's body runs."""
    ConsumptionAnswerFollowUp.objects.filter(pk=sent.pk).update(next_check_at=timezone.now())
    return consumption_follow_up.resend(sent.pk)


def verify_log() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def test_a_timed_out_answer_is_sent_again_and_settles_when_apple_confirms(
    quick_timeout, simulator, agent_user
):
    sent = timed_out_answer(simulator, agent_user)

    follow = ConsumptionAnswerFollowUp.objects.get(answer=sent)
    assert follow.checks == 0 and follow.next_check_at > sent.created_at
    assert queued_resends() == [{"kind": "consumption_answer", "action_id": str(sent.pk)}]
    # Run early, the task leaves the turn for later.
    assert "not due" in consumption_follow_up.resend(sent.pk)

    summary = when_due(sent)

    assert "succeeded" in summary
    sent.refresh_from_db()
    assert sent.outcome == Outcome.SUCCEEDED and sent.chain_sequence == 1
    assert RefundRequest.objects.get().status == RefundRequest.Status.ANSWERED
    # The late first send lands too: Apple holds the same body twice, and keeps the latest.
    deadline = time.monotonic() + 10
    while len(simulator.store.consumption_answers.get(TRANSACTION, [])) < 2:
        assert time.monotonic() < deadline, "the slow first send never reached the simulator"
        time.sleep(0.05)
    assert simulator.store.consumption_answers[TRANSACTION] == [sent.body, sent.body]
    assert "already succeeded" in consumption_follow_up.resend(sent.pk)
    assert verify_log().startswith("Checked 1 settled ")


def test_a_resend_that_times_out_again_is_planned_later(quick_timeout, simulator, agent_user):
    sent = timed_out_answer(simulator, agent_user)
    simulator.inject_fault("slow", endpoint="consumption", delay_seconds=1.5)

    summary = when_due(sent)

    assert "left pending" in summary
    sent.refresh_from_db()
    assert sent.outcome == Outcome.PENDING
    follow = ConsumptionAnswerFollowUp.objects.get(answer=sent)
    assert follow.checks == 1 and "took too long" in follow.last_error
    assert follow.next_check_at > timezone.now()
    assert queued_resends() == [{"kind": "consumption_answer", "action_id": str(sent.pk)}] * 2


def test_an_answer_apple_never_confirms_by_the_deadline_settles_unconfirmed(
    quick_timeout, simulator, agent_user
):
    sent = timed_out_answer(simulator, agent_user)
    RefundRequest.objects.update(deadline=timezone.now())
    sends_before = len(simulator.requests)

    summary = when_due(sent)

    assert "unconfirmed" in summary
    sent.refresh_from_db()
    assert sent.outcome == Outcome.UNCONFIRMED and sent.chain_sequence == 1
    assert "deadline passed" in sent.error_message
    assert "may or may not have reached Apple" in sent.error_message
    assert len(simulator.requests) == sends_before  # nothing sent late
    assert verify_log().startswith("Checked 1 settled ")


def test_unconfirmed_after_every_resend_went_unanswered(
    quick_timeout, simulator, agent_user, settings
):
    settings.APPLE_FOLLOW_UP_ATTEMPTS = 1
    sent = timed_out_answer(simulator, agent_user)
    simulator.inject_fault("slow", endpoint="consumption", delay_seconds=1.5)
    when_due(sent)

    summary = when_due(sent)

    assert "unconfirmed" in summary
    sent.refresh_from_db()
    assert "took too long" in sent.error_message


def test_an_error_of_apples_on_a_resend_settles_it_failed(quick_timeout, simulator, agent_user):
    sent = timed_out_answer(simulator, agent_user)
    simulator.inject_fault("apple_error", endpoint="consumption", error_code=4040010)

    when_due(sent)

    sent.refresh_from_db()
    assert (sent.outcome, sent.error_code) == (Outcome.FAILED, 4040010)
    assert "4040010" in sent.error_message
    assert RefundRequest.objects.get().status == RefundRequest.Status.OPEN


def test_a_retryable_error_on_a_resend_is_sent_again_later(quick_timeout, simulator, agent_user):
    sent = timed_out_answer(simulator, agent_user)
    simulator.inject_fault("rate_limit", endpoint="consumption")

    when_due(sent)

    sent.refresh_from_db()
    assert sent.outcome == Outcome.PENDING
    assert ConsumptionAnswerFollowUp.objects.get(answer=sent).checks == 1
