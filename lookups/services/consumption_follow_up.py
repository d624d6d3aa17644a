"""Kept for tasks queued before the engine followed every action up: `resend` hands them over.

The follow-up of consumption answers is the engine's now
(`lookups.services.apple_actions.consumption_answer`).
"""

from __future__ import annotations

from datetime import datetime

from lookups.models import ConsumptionAnswer, RefundRequest
from lookups.services.apple_actions import engine
from lookups.services.apple_actions.consumption_answer import KIND as CONSUMPTION_ANSWER
from lookups.services.apple_actions.consumption_answer import mark_answered as _mark_answered


def follow_up(answer: ConsumptionAnswer, *, first_send_at: datetime | None = None) -> None:
    engine.follow_up(CONSUMPTION_ANSWER, answer, first_check_at=first_send_at)


def mark_answered(case: RefundRequest) -> None:
    _mark_answered(case.pk)


def resend(answer_id: int) -> str:
    return engine.check(CONSUMPTION_ANSWER, answer_id).summary
