"""The former names of a consumption answer's follow-up, handed to the engine."""

from __future__ import annotations

import pytest
from django.utils import timezone

from lookups.models import ConsumptionAnswerFollowUp, RefundRequest
from lookups.services import consumption_follow_up
from lookups.services.apple_actions import engine
from tests.fixtures.background_work import queued
from tests.fixtures.rows import make_consumption_answer, make_refund_request

pytestmark = pytest.mark.django_db


def test_a_follow_up_is_the_engines_and_queued_once(agent_user):
    answer = make_consumption_answer(agent_user)

    consumption_follow_up.follow_up(answer)
    consumption_follow_up.follow_up(answer)

    follow = ConsumptionAnswerFollowUp.objects.get()
    (task,) = queued(engine.check_action)
    assert task.args_kwargs["kwargs"] == {"kind": "consumption_answer", "action_id": str(answer.pk)}
    assert task.run_after == follow.next_check_at


def test_a_resend_before_its_time_sends_nothing(agent_user, simulator):
    answer = make_consumption_answer(agent_user)
    consumption_follow_up.follow_up(answer)

    assert "is not due until" in consumption_follow_up.resend(answer.pk)
    assert simulator.requests == []


def test_a_case_past_its_deadline_settles_its_answer_as_unconfirmed(agent_user, simulator):
    case = make_refund_request()
    answer = make_consumption_answer(agent_user, case)
    consumption_follow_up.follow_up(answer, first_send_at=timezone.now())
    RefundRequest.objects.filter(pk=case.pk).update(deadline=timezone.now())

    summary = consumption_follow_up.resend(answer.pk)

    assert summary.startswith(f"consumption answer {answer.pk}: unconfirmed")
    assert simulator.requests == []


def test_marking_answered_closes_only_an_open_case():
    open_case = make_refund_request()
    missed = make_refund_request(status=RefundRequest.Status.MISSED)

    consumption_follow_up.mark_answered(open_case)
    consumption_follow_up.mark_answered(missed)

    statuses = dict(RefundRequest.objects.values_list("pk", "status"))
    assert statuses == {
        open_case.pk: RefundRequest.Status.ANSWERED,
        missed.pk: RefundRequest.Status.MISSED,
    }
