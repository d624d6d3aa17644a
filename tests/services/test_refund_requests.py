"""Refund requests: opened by CONSUMPTION_REQUEST, answered through the simulator, closed by
Apple's decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from lookups import tasks
from lookups.models import ConsumptionAnswer, RefundRequest
from lookups.services import refund_requests
from lookups.services.refund_requests import (
    Answer,
    AnswerRefused,
    answer_refund_request,
    close_refund_request,
    open_refund_request,
)
from lookups.services.task_queue import tasks_of
from lookups.simulators.demo_data import PURCHASE_LIFETIME

pytestmark = pytest.mark.django_db

Status = RefundRequest.Status
# A one-time purchase: Apple refuses a consumed share for an auto-renewable subscription.
TRANSACTION = PURCHASE_LIFETIME
POLICY = {
    "customer_consented": True,
    "delivery_status": "DELIVERED",
    "sample_content_provided": False,
    "refund_preference": "DECLINE",
}


@dataclass
class Stored:
    payload: dict[str, Any]


def notification(simulator, kind: str, *, signed_ago: timedelta = timedelta(0), **data) -> Stored:
    signed = timezone.now() - signed_ago
    return Stored(
        {
            "notificationType": kind,
            "notificationUUID": str(uuid.uuid4()),
            "signedDate": int(signed.timestamp() * 1000),
            "data": {"transaction": dict(simulator.transaction(TRANSACTION)), **data},
        }
    )


def consumption_request(simulator, **kwargs) -> Stored:
    simulator.store.request_refund(TRANSACTION)
    return notification(
        simulator, "CONSUMPTION_REQUEST", consumptionRequestReason="UNINTENDED_PURCHASE", **kwargs
    )


AGENTS_ANSWER = Answer(
    customer_consented=True,
    delivery_status="DELIVERED",
    sample_content_provided=True,
    consumption_percentage=40_000,
    refund_preference="GRANT_PRORATED",
)


def three_cases(simulator, agent, settings) -> tuple[RefundRequest, RefundRequest, RefundRequest]:
    """One answered by `agent` and refunded, one answered by the policy, one missed."""
    answered = open_refund_request(consumption_request(simulator))
    answer_refund_request(agent, answered, AGENTS_ANSWER)
    close_refund_request(notification(simulator, "REFUND"))
    settings.REFUND_POLICY = POLICY
    by_policy = open_refund_request(
        consumption_request(simulator, signed_ago=timedelta(hours=11, minutes=50))
    )
    refund_requests.answer_by_policy(by_policy.pk)
    settings.REFUND_POLICY = None
    missed = open_refund_request(consumption_request(simulator, signed_ago=timedelta(hours=13)))
    refund_requests.mark_missed()
    return answered, by_policy, missed


def test_a_consumption_request_opens_one_case_due_in_twelve_hours(appstore_settings, simulator):
    stored = consumption_request(simulator)

    case = open_refund_request(stored)
    again = open_refund_request(stored)

    assert again.pk == case.pk and RefundRequest.objects.count() == 1
    assert case.reason == "UNINTENDED_PURCHASE"
    assert case.deadline - case.requested_at == timedelta(hours=12)
    assert case.transaction_id == TRANSACTION
    assert case.status == Status.OPEN


def test_an_agent_answers_and_it_is_audited(appstore_settings, simulator, agent_user):
    case = open_refund_request(consumption_request(simulator))

    sent = answer_refund_request(agent_user, case, AGENTS_ANSWER)

    assert sent.outcome == ConsumptionAnswer.Outcome.SUCCEEDED and sent.settled_at
    assert sent.answered_by == agent_user and not sent.by_policy
    case.refresh_from_db()
    assert case.status == Status.ANSWERED
    [body] = simulator.store.consumption_answers[TRANSACTION]
    assert body["refundPreference"] == "GRANT_PRORATED"
    assert body["consumptionPercentage"] == 40_000
    with pytest.raises(AnswerRefused):
        answer_refund_request(agent_user, case, AGENTS_ANSWER)


def test_without_consent_nothing_is_sent(appstore_settings, simulator, agent_user):
    case = open_refund_request(consumption_request(simulator))

    with pytest.raises(AnswerRefused) as refused:
        answer_refund_request(
            agent_user,
            case,
            Answer(
                customer_consented=False, delivery_status="DELIVERED", sample_content_provided=False
            ),
        )

    assert "consent" in refused.value.message.lower()
    assert not ConsumptionAnswer.objects.exists()
    assert TRANSACTION not in simulator.store.consumption_answers


def test_the_policy_answers_before_the_deadline_when_nobody_has(
    appstore_settings, simulator, settings
):
    settings.REFUND_POLICY = POLICY
    settings.REFUND_POLICY_MARGIN_MINUTES = 30
    # Signed 11 h 45 min ago: the policy's turn (deadline - 30 min) has come.
    case = open_refund_request(
        consumption_request(simulator, signed_ago=timedelta(hours=11, minutes=45))
    )
    [queued] = tasks_of(tasks.answer_refund_request_by_policy)
    assert queued.args_kwargs["kwargs"] == {"refund_request_id": case.pk}

    summary = refund_requests.answer_by_policy(case.pk)

    assert "answered by the policy" in summary
    sent = ConsumptionAnswer.objects.get()
    assert sent.by_policy and sent.answered_by is None
    assert sent.outcome == ConsumptionAnswer.Outcome.SUCCEEDED
    [body] = simulator.store.consumption_answers[TRANSACTION]
    assert body["refundPreference"] == "DECLINE"


def test_the_policy_leaves_a_case_an_agent_can_still_answer(appstore_settings, simulator, settings):
    settings.REFUND_POLICY = POLICY
    case = open_refund_request(consumption_request(simulator))

    assert "not due" in refund_requests.answer_by_policy(case.pk)
    assert not ConsumptionAnswer.objects.exists()


def test_a_late_case_is_marked_missed(appstore_settings, simulator, agent_user):
    case = open_refund_request(consumption_request(simulator, signed_ago=timedelta(hours=13)))

    assert refund_requests.open_cases() == []
    case.refresh_from_db()
    assert case.status == Status.MISSED
    with pytest.raises(AnswerRefused):
        answer_refund_request(agent_user, case, AGENTS_ANSWER)


@pytest.mark.parametrize(
    ("kind", "decision"),
    [
        ("REFUND", RefundRequest.Decision.REFUNDED),
        ("REFUND_DECLINED", RefundRequest.Decision.DECLINED),
        ("REFUND_REVERSED", RefundRequest.Decision.REVERSED),
    ],
)
def test_apples_decision_closes_the_case(appstore_settings, simulator, agent_user, kind, decision):
    case = open_refund_request(consumption_request(simulator))
    answer_refund_request(agent_user, case, AGENTS_ANSWER)

    closed = close_refund_request(notification(simulator, kind))

    assert closed.pk == case.pk
    assert closed.decision == decision and closed.decided_at is not None
    assert closed.status == Status.ANSWERED
    assert refund_requests.open_cases() == []
