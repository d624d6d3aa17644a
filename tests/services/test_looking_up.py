"""Looking an order up at Apple: every transaction verified, grouped by purchase with Apple's
status, the lookup recorded as the agent saw it, and Apple's failure recorded as one."""

from __future__ import annotations

import pytest

from lookups.models import Lookup
from lookups.services.looking_up import look_up_order, recorded_transactions
from lookups.simulators.demo_data import (
    ORDER_NOT_FOUND,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appstore_settings")]


def test_a_found_order_is_verified_grouped_by_purchase_and_recorded(agent_user, simulator):
    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    assert result.error is None and result.unverified_count == 0
    (purchase,) = result.by_purchase()
    assert purchase.original_transaction_id == PURCHASE_OFFER_CODE
    assert purchase.latest.is_latest
    assert (
        purchase.latest.transaction.transaction_id
        == (simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1])
    )
    assert purchase.picture is not None and purchase.picture.status is not None
    lookup = Lookup.objects.get()
    assert (lookup.agent, lookup.outcome) == (agent_user, Lookup.Outcome.FOUND)
    assert [t.transaction_id for t in recorded_transactions(lookup)] == [
        row.transaction.transaction_id for row in result.rows
    ]


def test_an_order_apple_does_not_know_is_recorded_as_not_found(agent_user, simulator):
    result = look_up_order(agent_user, ORDER_NOT_FOUND)

    assert result.rows == [] and result.error is None
    assert Lookup.objects.get().outcome == Lookup.Outcome.NOT_FOUND


def test_apple_out_of_reach_is_recorded_as_a_failed_lookup(agent_user, simulator):
    simulator.inject_fault("internal_error", endpoint="lookup")

    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    assert result.error is not None and result.rows == []
    lookup = Lookup.objects.get()
    assert lookup.outcome == Lookup.Outcome.FAILED
    assert lookup.error_code == result.error.error_code


def test_a_transaction_signed_by_a_stranger_is_flagged_and_the_rest_shown(agent_user, simulator):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    simulator.inject_fault("untrusted_chain", target=ids[0], endpoint="lookup")

    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    assert result.unverified_count == 1 and result.unverified_rows[0].problem
    assert len(result.rows) == len(ids)
