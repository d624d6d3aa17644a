"""Following up a link Apple did not answer: one check queued for after the call budget, asked of
Apple when due, again with backoff, and the sentence an agent reads meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lookups.models import (
    TokenChange,
    TokenChangeFollowUp,
)
from lookups.services import settling
from lookups.services.apple_actions import engine
from tests.fixtures.background_work import queued

pytestmark = pytest.mark.django_db


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
