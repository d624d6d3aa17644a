"""The simulator's store of purchases, held to Apple's rules: Set App Account Token on the right
transaction, refused where Apple refuses, and bulk orders for benchmarks."""

from __future__ import annotations

import time
import uuid

import pytest

from lookups.simulators.demo_data import (
    DEMO_ACCOUNTS,
    ORDER_FAMILY_SHARED,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    ORDER_PAY_AS_YOU_GO,
    ORDER_UPGRADED,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.simulator_api import (
    assert_apple_error,
    history_ids,
    payloads,
    set_token,
)


def test_set_token_puts_it_on_the_current_renewal_only(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_PAY_AS_YOU_GO)
    old_token = simulator.transaction(ids[-1])["appAccountToken"]
    new_token = str(uuid.uuid4())

    response = set_token(api, ids[0], {"appAccountToken": new_token})

    assert response.status_code == 200
    assert response.content == b""
    assert simulator.transaction(ids[-1])["appAccountToken"] == new_token
    assert simulator.transaction(ids[-2])["appAccountToken"] == old_token
    assert all("appAccountToken" not in simulator.transaction(t) for t in ids[:3])
    signed = payloads(api("GET", f"/inApps/v1/lookup/{ORDER_PAY_AS_YOU_GO}"))
    assert signed[-1]["appAccountToken"] == new_token


def test_set_token_links_an_offer_code_subscription_and_later_renewals_inherit_it(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    token = DEMO_ACCOUNTS[0]["app_account_token"]
    assert set_token(api, ids[0], {"appAccountToken": token}).status_code == 200
    renewal = simulator.renew(ids[0])
    assert simulator.transaction(renewal)["appAccountToken"] == token
    assert "appAccountToken" not in simulator.transaction(ids[0])


def test_set_token_on_an_upgraded_subscription_goes_to_the_new_product(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_UPGRADED)
    token = str(uuid.uuid4())
    assert set_token(api, ids[0], {"appAccountToken": token}).status_code == 200
    assert simulator.transaction(ids[-1])["appAccountToken"] == token
    assert simulator.transaction(ids[-2])["appAccountToken"] != token


def test_set_token_replaces_the_token_of_a_one_time_purchase(simulator, api):
    lifetime = simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]
    token = str(uuid.uuid4())
    assert set_token(api, lifetime, {"appAccountToken": token.upper()}).status_code == 200
    assert simulator.transaction(lifetime)["appAccountToken"] == token


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"token": "x"}',
        b'{"appAccountToken": 42}',
        b'{"appAccountToken": null}',
    ],
)
def test_set_token_refuses_a_malformed_body(simulator, api, body):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    assert_apple_error(set_token(api, original, body), 400, 4000000)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-uuid",
        "3f2b8c1e7d4a4c9e9b6f2a1d5e8c7b40",
        "{3f2b8c1e-7d4a-4c9e-9b6f-2a1d5e8c7b40}",
    ],
)
def test_set_token_refuses_a_token_that_is_not_a_uuid(simulator, api, token):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    assert_apple_error(set_token(api, original, {"appAccountToken": token}), 400, 4000183)


def test_set_token_refuses_family_shared_purchases(simulator, api):
    original = simulator.order_transaction_ids(ORDER_FAMILY_SHARED)[0]
    assert_apple_error(
        set_token(api, original, {"appAccountToken": str(uuid.uuid4())}), 400, 4000185
    )


def test_set_token_refuses_a_renewal_id(simulator, api):
    renewal = simulator.order_transaction_ids(ORDER_OFFER_CODE)[2]
    assert_apple_error(
        set_token(api, renewal, {"appAccountToken": str(uuid.uuid4())}), 400, 4000187
    )


def test_set_token_refuses_an_app_transaction_id(simulator, api):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    app_transaction_id = simulator.transaction(original)["appTransactionId"]
    response = set_token(api, app_transaction_id, {"appAccountToken": str(uuid.uuid4())})
    assert_apple_error(response, 400, 4000048)


def test_set_token_refuses_a_non_numeric_id(api):
    assert_apple_error(
        set_token(api, ORDER_OFFER_CODE, {"appAccountToken": str(uuid.uuid4())}), 400, 4000006
    )


def test_set_token_answers_404_for_an_unknown_id(api):
    assert_apple_error(
        set_token(api, TRANSACTION_NOT_FOUND, {"appAccountToken": str(uuid.uuid4())}), 404, 4040005
    )


def test_set_token_only_answers_put(simulator, api):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    response = api("POST", f"/inApps/v1/transactions/{original}/appAccountToken", json={})
    assert response.status_code == 405


def test_add_order_creates_a_current_subscription_under_one_order(simulator, api):
    ids = simulator.add_order("MBULK00042", 30)
    assert len(ids) == len(set(ids)) == 30
    transactions = payloads(api("GET", "/inApps/v1/lookup/MBULK00042"))
    assert [t["transactionId"] for t in transactions] == ids
    assert {t["originalTransactionId"] for t in transactions} == {ids[0]}
    assert transactions[-1]["expiresDate"] > time.time() * 1000
    assert len(history_ids(api, ids[5])) == 30
    with pytest.raises(ValueError):
        simulator.add_order("MBULK00042", 1)
