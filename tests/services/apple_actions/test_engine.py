"""The engine's steps on a real kind (the link) against the simulator: the call, settling once,
the follow-up after a timeout, giving up, the rescue of a row nobody follows, reconciling."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from lookups.models import TokenChange, TokenChangeFollowUp
from lookups.services.apple_actions import engine
from lookups.services.apple_actions.extension import KIND as EXTENSION
from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, Settled
from lookups.services.apple_actions.link import KIND as LINK
from tests.fixtures.background_work import queued
from tests.fixtures.rows import make_extension, make_token_change

pytestmark = pytest.mark.django_db


def test_every_kind_is_found_by_the_name_its_queued_tasks_carry():
    for kind in engine.KINDS:
        assert engine.kind_named(kind.name) is kind
    with pytest.raises(LookupError, match="'unheard_of'"):
        engine.kind_named("unheard_of")


def test_a_resubmitted_form_finds_the_row_its_first_submission_made(agent_user):
    first = make_extension(agent_user)
    assert engine.first_submission(EXTENSION, first.pk) == first
    assert engine.first_submission(EXTENSION, uuid.uuid4()) is None
    assert engine.first_submission(EXTENSION, None) is None


def test_apples_answer_settles_the_row_once_into_the_chain(pending, simulator):
    engine.perform(LINK, pending)

    pending.refresh_from_db()
    assert pending.outcome == SUCCEEDED and pending.chain_sequence == 1
    assert not engine.settle(LINK, pending, Settled(FAILED, None, "too late"))
    assert TokenChange.objects.get().outcome == SUCCEEDED


def test_apples_refusal_settles_the_row_as_failed_with_its_code(pending, simulator):
    simulator.inject_fault("apple_error", endpoint="set_token", error_code=4000006)

    engine.perform(LINK, pending)

    pending.refresh_from_db()
    assert (pending.outcome, pending.error_code) == (FAILED, 4000006)
    assert not TokenChangeFollowUp.objects.exists()


def test_a_call_that_times_out_stays_pending_and_is_followed_up_once(pending, simulator, settings):
    settings.APPSTORE_TIMEOUT_SECONDS = 0.3
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=1.0)

    engine.perform(LINK, pending)

    pending.refresh_from_db()
    assert pending.outcome == "pending"
    follow = TokenChangeFollowUp.objects.get(pk=pending.pk)
    (task,) = queued(engine.check_action)
    assert task.args_kwargs["kwargs"] == {"kind": "link", "action_id": str(pending.pk)}
    assert task.run_after == follow.next_check_at > timezone.now() + engine.answer_wait() / 2


def test_after_its_last_ask_a_link_is_left_for_a_person_and_the_task_says_so(
    pending, simulator, settings
):
    settings.APPLE_FOLLOW_UP_ATTEMPTS = 1
    engine.follow_up(LINK, pending, first_check_at=timezone.now())
    TokenChangeFollowUp.objects.filter(pk=pending.pk).update(checks=1)

    with pytest.raises(engine.GaveUp, match="after 1 checks"):
        engine.check_action.call(kind="link", action_id=str(pending.pk))

    follow = TokenChangeFollowUp.objects.get(pk=pending.pk)
    assert follow.gave_up_at is not None and follow.next_check_at is None
    assert TokenChange.objects.get(pk=pending.pk).outcome == "pending"
    assert simulator.requests == []
    assert "gave up" in engine.check(LINK, pending.pk).summary


def test_the_rescue_follows_up_an_old_row_nobody_watches_and_leaves_a_young_one(
    pending, agent_user, customer_account
):
    young = make_token_change(agent_user, customer_account)
    now = timezone.now()
    TokenChange.objects.filter(pk=pending.pk).update(created_at=now - timedelta(hours=1))

    found = engine.rescue_pending(now, overdue=now - timedelta(minutes=5))

    assert found == {"pending links without a follow-up": 1}
    assert list(TokenChangeFollowUp.objects.values_list("pk", flat=True)) == [pending.pk]
    assert not TokenChangeFollowUp.objects.filter(pk=young.pk).exists()


def test_stranded_rows_come_oldest_first_with_their_kind(pending, agent_user, customer_account):
    older = make_token_change(agent_user, customer_account)
    TokenChange.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=2))
    TokenChange.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(hours=1))
    make_token_change(agent_user, customer_account)  # too young

    found = [(kind, row.pk) for kind, row in engine.stranded(timedelta(minutes=30))]

    assert found == [(LINK, older.pk), (LINK, pending.pk)]


def test_reconciling_settles_from_what_apple_shows_and_a_second_run_changes_nothing(
    pending, simulator
):
    # Apple never carried the link out: the purchase shows no token.
    first = engine.reconcile(LINK, pending)
    second = engine.reconcile(LINK, TokenChange.objects.get(pk=pending.pk))

    assert first.settlement == engine.Settlement.FAILED
    assert first.detail.startswith("reconciled: Apple shows token")
    assert second.settlement == engine.Settlement.SETTLED_ELSEWHERE
