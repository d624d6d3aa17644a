"""The finish kind against the simulator over real HTTP: the call, and a repeat of it as the
read-back (Apple has no other, and finishing twice is finishing once)."""

from __future__ import annotations

import pytest

from lookups.models import TransactionFinish
from lookups.services.apple_actions import engine
from lookups.services.apple_actions.transaction_finish import KIND
from lookups.simulators.demo_data import CREDITS_UNFINISHED, ORDER_CONSUMABLES

pytestmark = pytest.mark.django_db
Outcome = TransactionFinish.Outcome


def pending_finish(agent, transaction_id: str = CREDITS_UNFINISHED) -> TransactionFinish:
    return TransactionFinish.objects.create(
        agent=agent,
        environment="Sandbox",
        transaction_id=transaction_id,
        original_transaction_id=transaction_id,
        order_id=ORDER_CONSUMABLES,
        note="Delivered 20 credits by hand, ZD-41",
    )


def test_the_call_finishes_it_at_apple(appstore_settings, simulator, agent_user):
    assert not simulator.store.is_finished(CREDITS_UNFINISHED)
    row = pending_finish(agent_user)

    engine.perform(KIND, row)

    row.refresh_from_db()
    assert row.outcome == Outcome.SUCCEEDED and row.chain_sequence == 1
    assert simulator.store.is_finished(CREDITS_UNFINISHED)


def test_the_read_back_is_the_same_call_again(appstore_settings, simulator, agent_user):
    row = pending_finish(agent_user)

    reconciled = engine.reconcile(KIND, row)

    assert reconciled.settlement == engine.Settlement.SUCCEEDED
    assert simulator.store.is_finished(CREDITS_UNFINISHED)
    # Again, on a transaction already finished: Apple answers the same.
    again = engine.reconcile(KIND, pending_finish(agent_user))
    assert again.settlement == engine.Settlement.SUCCEEDED


def test_a_read_back_apple_cannot_answer_leaves_it_pending(
    appstore_settings, simulator, agent_user
):
    row = pending_finish(agent_user)
    simulator.inject_fault("retryable_error", endpoint="finish", times=5)

    reconciled = engine.reconcile(KIND, row)

    assert reconciled.settlement == engine.Settlement.LEFT_PENDING
    row.refresh_from_db()
    assert row.outcome == Outcome.PENDING


def test_apples_refusal_settles_it_failed(appstore_settings, simulator, agent_user):
    row = pending_finish(agent_user, transaction_id="9999999999999999")

    engine.perform(KIND, row)

    row.refresh_from_db()
    assert row.outcome == Outcome.FAILED
    assert row.error_code == 4040010
    assert "(Apple error 4040010)" in row.error_message
