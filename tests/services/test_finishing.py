"""Finishing a consumable delivered by hand, through the desk's service, against the simulator."""

from __future__ import annotations

import uuid

import pytest

from lookups.models import TransactionFinish
from lookups.services.finishing import FinishRefused, FinishRequest, finish_transaction
from lookups.simulators.demo_data import (
    CREDITS_UNFINISHED,
    ORDER_CONSUMABLES,
    ORDER_OFFER_CODE,
)

pytestmark = pytest.mark.django_db
Outcome = TransactionFinish.Outcome


def ask(transaction_id: str = CREDITS_UNFINISHED, **options) -> FinishRequest:
    return FinishRequest(
        transaction_id=transaction_id,
        note=options.get("note", "Delivered 20 credits by hand (ZD-41)"),
        request_id=options.get("request_id") or uuid.uuid4(),
        order_id=ORDER_CONSUMABLES,
    )


def test_an_agent_finishes_a_consumable_delivered_by_hand(appstore_settings, simulator, agent_user):
    row = finish_transaction(agent_user, ask())

    assert row.outcome == Outcome.SUCCEEDED and row.chain_sequence == 1
    assert row.order_id == ORDER_CONSUMABLES
    assert simulator.store.is_finished(CREDITS_UNFINISHED)


def test_a_double_click_is_one_call(appstore_settings, simulator, agent_user):
    request = ask()
    first = finish_transaction(agent_user, request)
    again = finish_transaction(agent_user, request)

    assert again.pk == first.pk
    calls = [path for _, path in simulator.requests if path.endswith("/finish")]
    assert len(calls) == 1


def test_finishing_again_is_refused_with_who_did_it(appstore_settings, simulator, agent_user):
    finish_transaction(agent_user, ask())

    with pytest.raises(FinishRefused, match="agent already marked"):
        finish_transaction(agent_user, ask())
    assert TransactionFinish.objects.count() == 1


def test_only_consumables_are_finished_by_hand(appstore_settings, simulator, agent_user):
    subscription = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]

    with pytest.raises(FinishRefused, match="Only consumables"):
        finish_transaction(agent_user, ask(subscription))
    assert not TransactionFinish.objects.exists()


def test_a_note_is_required(appstore_settings, simulator, agent_user):
    with pytest.raises(FinishRefused, match="what you delivered"):
        finish_transaction(agent_user, ask(note=" "))
    assert not TransactionFinish.objects.exists()


def test_apple_unreachable_sends_nothing_and_says_so(appstore_settings, simulator, agent_user):
    simulator.inject_fault("internal_error", times=10)

    with pytest.raises(FinishRefused, match="Apple could not be read"):
        finish_transaction(agent_user, ask())
    assert not TransactionFinish.objects.exists()
