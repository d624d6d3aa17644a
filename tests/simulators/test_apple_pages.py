"""Details Apple's pages state that the simulator follows: refunds carry revocationPercentage,
Set App Account Token leaves past transactions alone, every notification history page carries a
pagination token, and a path no endpoint serves answers with a JSON error body."""

from __future__ import annotations

import uuid

import pytest

from lookups.simulators.appstore.catalog import DAY_MS
from lookups.simulators.demo_data import (
    ORDER_CONSUMABLES,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    PURCHASE_REFUNDED,
)
from tests.fixtures.appstore_api import error_of

CONSENTED = {"customerConsented": True, "sampleContentProvided": False}


def test_a_full_refund_carries_revocation_percentage_100000(simulator):
    refunded = simulator.transaction(PURCHASE_REFUNDED)
    assert refunded["revocationType"] == "REFUND_FULL"
    assert refunded["revocationPercentage"] == 100_000


def test_a_prorated_refund_gives_back_what_was_not_consumed(signed_request, simulator):
    transaction_id = simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]
    simulator.store.request_refund(transaction_id)
    simulator.store.refund_decision_seconds = 3600  # decided below, not by the timer
    body = {
        **CONSENTED,
        "deliveryStatus": "DELIVERED",
        "consumptionPercentage": 30_000,
        "refundPreference": "GRANT_PRORATED",
    }
    response = signed_request(
        "PUT", f"/inApps/v2/transactions/consumption/{transaction_id}", json=body
    )
    assert response.status_code == 202
    simulator.store.decide_refund_request(transaction_id)
    refunded = simulator.transaction(transaction_id)
    assert (refunded["revocationType"], refunded["revocationPercentage"]) == (
        "REFUND_PRORATED",
        70_000,
    )


def test_a_prorated_subscription_refund_gives_back_the_unused_part(signed_request, simulator):
    latest = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    payload = simulator.transaction(latest)
    simulator.store.request_refund(latest)
    simulator.store.refund_decision_seconds = 3600
    body = {**CONSENTED, "deliveryStatus": "DELIVERED", "refundPreference": "GRANT_PRORATED"}
    assert (
        signed_request(
            "PUT", f"/inApps/v2/transactions/consumption/{latest}", json=body
        ).status_code
        == 202
    )
    simulator.store.decide_refund_request(latest)
    refunded = simulator.transaction(latest)
    period = payload["expiresDate"] - payload["purchaseDate"]
    unused = (payload["expiresDate"] - simulator.store.now_ms()) / period
    assert refunded["revocationType"] == "REFUND_PRORATED"
    assert refunded["revocationPercentage"] == pytest.approx(unused * 100_000, abs=100)


def test_set_app_account_token_leaves_the_original_and_past_transactions_alone(
    signed_request, simulator
):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    before = {t: simulator.transaction(t).get("appAccountToken") for t in ids[:-1]}
    token = str(uuid.uuid4())
    response = signed_request(
        "PUT", f"/inApps/v1/transactions/{ids[0]}/appAccountToken", json={"appAccountToken": token}
    )
    assert response.status_code == 200
    assert simulator.transaction(ids[-1])["appAccountToken"] == token
    assert {t: simulator.transaction(t).get("appAccountToken") for t in ids[:-1]} == before
    assert simulator.transaction(ids[0]).get("appAccountToken") != token
    renewal = simulator.renew(ids[0])
    assert simulator.transaction(renewal)["appAccountToken"] == token


def test_every_notification_history_page_carries_a_pagination_token(signed_request, simulator):
    now = simulator.store.now_ms()
    body = {"startDate": now - DAY_MS, "endDate": now + 60_000}
    empty = signed_request("POST", "/inApps/v1/notifications/history", json=body).json()
    assert empty["notificationHistory"] == [] and empty["hasMore"] is False
    assert empty["paginationToken"]
    simulator.emit_notification("TEST")
    last = signed_request("POST", "/inApps/v1/notifications/history", json=body).json()
    assert len(last["notificationHistory"]) == 1 and last["hasMore"] is False
    assert last["paginationToken"]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/inApps/v1/nothing/here", (404, 4040000, "Not found.")),
        ("GET", "/inApps/v9/lookup/MK5TTTVWJH", (404, 4040000, "Not found.")),
        ("POST", f"/inApps/v1/lookup/{ORDER_CONSUMABLES}", (405, 4050000, "Method not allowed.")),
    ],
)
def test_a_path_no_endpoint_serves_answers_with_an_error_body(
    signed_request, method, path, expected
):
    response = signed_request(method, path)
    assert response.headers["Content-Type"].startswith("application/json")
    assert error_of(response) == expected
