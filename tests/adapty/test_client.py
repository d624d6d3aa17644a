"""The Adapty client against the Adapty simulator over real HTTP: requests, errors, retries."""

from __future__ import annotations

import json
import socket
from datetime import datetime

import pytest
import requests

from lookups.adapty import AdaptyClient, AdaptyError, transaction_body
from lookups.simulators.adapty import SET_TRANSACTION_PATH
from lookups.simulators.demo_data import (
    CREDITS_UNFINISHED,
    JAMES,
    LUKAS,
    MAYA,
    OFFER_CODE_LATEST,
    PURCHASE_LIFETIME,
    PURCHASE_OFFER_CODE,
    PURCHASE_REFUNDED,
    PURCHASE_SEASON_PASS,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.adapty_simulator import ADAPTY_TEST_KEY
from tests.fixtures.appstore_simulator import demo_transaction


@pytest.fixture
def client() -> AdaptyClient:
    return AdaptyClient(ADAPTY_TEST_KEY, "http://unused.invalid")


# --- The client against the simulator ------------------------------------------------------------


@pytest.mark.parametrize(
    "transaction_id",
    [
        PURCHASE_OFFER_CODE,
        OFFER_CODE_LATEST,
        PURCHASE_LIFETIME,
        PURCHASE_SEASON_PASS,
        CREDITS_UNFINISHED,
        PURCHASE_REFUNDED,
    ],
)
def test_adapty_accepts_the_body_of_each_kind_of_purchase(
    simulator, adapty, adapty_client, transaction_id
):
    body = transaction_body(demo_transaction(simulator, transaction_id))

    result = adapty_client.set_transaction(MAYA, body)

    assert result.http_status == 200 and result.attempts == 1
    assert result.profile["customer_user_id"] == MAYA
    assert set(result.profile) >= {
        "app_id",
        "profile_id",
        "total_revenue_usd",
        "segment_hash",
        "timestamp",
        "custom_attributes",
        "access_levels",
        "subscriptions",
        "non_subscriptions",
    }


def test_the_request_carries_the_key_the_customer_and_a_json_number(
    simulator, adapty, adapty_client
):
    body = transaction_body(demo_transaction(simulator, PURCHASE_LIFETIME))

    result = adapty_client.set_transaction(LUKAS, body)

    (request,) = adapty.requests
    assert (request.method, request.path) == ("POST", SET_TRANSACTION_PATH)
    assert request.headers["authorization"] == f"Api-Key {ADAPTY_TEST_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.customer_user_id == LUKAS
    assert request.body["price"]["value"] == 149.99
    assert len(result.request_id) == 32
    assert result.access_level_ids == ("premium",)
    (purchase,) = result.profile["non_subscriptions"]
    assert purchase["store_transaction_id"] == PURCHASE_LIFETIME
    assert purchase["is_refund"] is False and purchase["is_consumable"] is False


def test_a_refund_and_a_consumable_grant_no_access_level(simulator, adapty, adapty_client):
    for transaction_id in (PURCHASE_REFUNDED, CREDITS_UNFINISHED):
        body = transaction_body(demo_transaction(simulator, transaction_id))
        result = adapty_client.set_transaction(JAMES, body)

    assert result.access_level_ids == ()
    refund, credits = result.profile["non_subscriptions"]
    assert refund["is_refund"] is True and credits["is_consumable"] is True


def test_a_current_subscription_grants_premium_until_it_expires(simulator, adapty, adapty_client):
    txn = demo_transaction(simulator, OFFER_CODE_LATEST)

    result = adapty_client.set_transaction(MAYA, transaction_body(txn))

    (level,) = result.profile["access_levels"]
    assert level["access_level_id"] == "premium"
    assert level["store_original_transaction_id"] == PURCHASE_OFFER_CODE
    assert datetime.fromisoformat(level["expires_at"]) == txn.expires_date


def test_sending_the_same_transaction_again_updates_it(simulator, adapty, adapty_client):
    body = transaction_body(demo_transaction(simulator, PURCHASE_LIFETIME))

    adapty_client.set_transaction(LUKAS, body)
    again = adapty_client.set_transaction(LUKAS, body)

    assert len(again.profile["non_subscriptions"]) == 1
    assert again.profile["total_revenue_usd"] == pytest.approx(149.99 * 1.08, abs=0.01)


# --- Errors ------------------------------------------------------------------------------------


def lifetime_body(simulator) -> dict:
    return transaction_body(demo_transaction(simulator, PURCHASE_LIFETIME))


def test_a_wrong_key_is_not_authenticated_and_not_retried(simulator, adapty, sleeps):
    client = AdaptyClient("secret_wrong", adapty.url, sleep=sleeps.append)

    with pytest.raises(AdaptyError) as caught:
        client.set_transaction(LUKAS, lifetime_body(simulator))

    error = caught.value
    assert (error.http_status, error.error_code) == (401, "not_authenticated")
    assert error.messages == ("authorization: Invalid or missing API key.",)
    assert "ADAPTY_SECRET_KEY" in error.agent_message
    assert len(error.request_id) == 32
    assert not error.retryable and error.attempts == 1
    assert len(adapty.requests) == 1 and sleeps == []


def test_a_refused_key_is_named_by_where_it_came_from(simulator, adapty):
    client = AdaptyClient("secret_wrong", adapty.url, key_name="Coach's key (COACH_ADAPTY_KEY)")

    with pytest.raises(AdaptyError) as caught:
        client.set_transaction(LUKAS, lifetime_body(simulator))

    assert caught.value.agent_message == (
        "Adapty refused Supportdesk's API key. Ask an administrator to check "
        "Coach's key (COACH_ADAPTY_KEY)."
    )


def test_validation_errors_come_as_objects_with_a_source(simulator, adapty, adapty_client):
    body = lifetime_body(simulator)
    del body["price"]
    body["purchase_type"] = "subscription"

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, body)

    error = caught.value
    assert (error.http_status, error.error_code) == (400, "validation_error")
    assert "price: This field is required and must be an object." in error.messages
    assert "renew_status: This field is required and must be a boolean." in error.messages
    assert error.describe().startswith("Adapty refused the purchase (HTTP 400). (Adapty: ")
    assert len(adapty.requests) == 1


def test_a_transaction_id_over_50_characters_is_refused(simulator, adapty, adapty_client):
    body = lifetime_body(simulator)
    body["store_transaction_id"] = body["store_original_transaction_id"] = "9" * 51

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, body)

    assert caught.value.error_code == "store_transaction_id_error"


def test_a_one_time_purchase_whose_ids_differ_is_refused(simulator, adapty, adapty_client):
    body = lifetime_body(simulator) | {"store_transaction_id": TRANSACTION_NOT_FOUND}

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, body)

    assert caught.value.error_code == "store_transaction_id_error"


def test_an_unknown_customer_has_no_profile(simulator, adapty, adapty_client):
    adapty.known_customers = {MAYA}

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    error = caught.value
    assert (error.http_status, error.error_code) == (404, "profile_does_not_exist")
    assert error.messages == ("Profile not found.",)
    assert f"no profile for customer user ID {LUKAS}" in error.agent_message
    assert adapty.profile(LUKAS) is None
    assert len(adapty.requests) == 1


def test_errors_given_as_plain_strings_are_read(simulator, adapty, adapty_client):
    adapty.inject_fault(
        "error",
        http_status=400,
        error_code="profile_does_not_exist",
        messages=["No profile."],
        plain=True,
    )

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    assert caught.value.messages == ("No profile.",)
    assert caught.value.error_code == "profile_does_not_exist"


def test_a_request_without_a_profile_header_is_refused(simulator, adapty):
    response = requests.post(
        adapty.url + SET_TRANSACTION_PATH,
        json=lifetime_body(simulator) | {"price": {"country": "DE", "currency": "EUR", "value": 1}},
        headers={"Authorization": f"Api-Key {ADAPTY_TEST_KEY}"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "profile_does_not_exist"
    assert isinstance(response.json()["errors"][0], str)
    assert response.headers["Request-Id"]


def test_a_profile_can_be_named_by_its_adapty_id(simulator, adapty, adapty_client):
    body = lifetime_body(simulator)
    profile_id = adapty_client.set_transaction(LUKAS, body).profile["profile_id"]
    body = {**body, "price": {**body["price"], "value": 1}}

    response = requests.post(
        adapty.url + SET_TRANSACTION_PATH,
        data=json.dumps(body, default=float),
        headers={"Authorization": f"Api-Key {ADAPTY_TEST_KEY}", "adapty-profile-id": profile_id},
        timeout=5,
    )

    assert response.status_code == 200
    assert response.json()["data"]["customer_user_id"] == LUKAS


# --- Retries -----------------------------------------------------------------------------------


def test_a_5xx_is_retried_with_backoff_until_it_succeeds(simulator, adapty, adapty_client, sleeps):
    adapty.inject_fault("server_error", http_status=503, times=2)

    result = adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    assert result.attempts == 3
    assert len(adapty.requests) == 3
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.25 and 0 <= sleeps[1] <= 0.5


def test_a_5xx_that_lasts_fails_after_the_last_attempt(simulator, adapty, adapty_client, sleeps):
    adapty.inject_fault("server_error", times=5)

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    error = caught.value
    assert (error.http_status, error.error_code, error.attempts) == (
        500,
        "internal_server_error",
        3,
    )
    assert error.retryable and "3 attempts" in error.agent_message
    assert len(adapty.requests) == 3 and len(sleeps) == 2


def test_a_proxy_page_is_retried_and_reported_without_adapty_details(
    simulator, adapty, adapty_client
):
    adapty.inject_fault("not_json", times=3)

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    assert (caught.value.http_status, caught.value.error_code) == (502, "")
    assert caught.value.messages == ()
    assert len(adapty.requests) == 3


def test_a_4xx_is_never_retried(simulator, adapty, adapty_client, sleeps):
    adapty.inject_fault("error", http_status=429, error_code="throttled", times=3)

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    assert caught.value.http_status == 429 and not caught.value.retryable
    assert len(adapty.requests) == 1 and sleeps == []


def test_a_timeout_is_retried(simulator, adapty, adapty_client):
    adapty.inject_fault("slow", delay_seconds=1.0)

    result = adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    assert result.attempts == 2
    assert len(adapty.requests) == 2


def test_a_dropped_connection_is_retried(simulator, adapty, adapty_client):
    adapty.inject_fault("drop")

    result = adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    assert result.attempts == 2


def test_nobody_listening_fails_after_every_attempt(simulator, sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AdaptyClient(ADAPTY_TEST_KEY, f"http://127.0.0.1:{port}", sleep=sleeps.append)

    with pytest.raises(AdaptyError) as caught:
        client.set_transaction(LUKAS, lifetime_body(simulator))

    assert caught.value.http_status is None and caught.value.attempts == 3
    assert "could not reach Adapty" in caught.value.agent_message
    assert len(sleeps) == 2


def test_an_unreadable_success_is_an_error(simulator, adapty, adapty_client):
    adapty.inject_fault("error", http_status=200, error_code="odd")

    with pytest.raises(AdaptyError) as caught:
        adapty_client.set_transaction(LUKAS, lifetime_body(simulator))

    assert caught.value.http_status == 200
    assert "could not be read" in caught.value.agent_message


def test_the_client_needs_a_key_and_a_customer(client):
    with pytest.raises(ValueError):
        AdaptyClient("", "http://127.0.0.1")
    with pytest.raises(ValueError):
        client.set_transaction("", {})
