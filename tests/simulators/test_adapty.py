"""The local Adapty: reset, faults over HTTP, a fixed set of known customers."""

from __future__ import annotations

import pytest
import requests

from lookups.adapty import AdaptyClient, AdaptyError, transaction_body
from lookups.simulators.adapty import AdaptySimulator
from lookups.simulators.demo_data import (
    LUKAS,
    PURCHASE_LIFETIME,
)
from tests.fixtures.appstore_simulator import demo_transaction


def test_reset_forgets_profiles_faults_and_requests(simulator, adapty, adapty_client):
    adapty_client.set_transaction(
        LUKAS, transaction_body(demo_transaction(simulator, PURCHASE_LIFETIME))
    )
    adapty.inject_fault("server_error")
    adapty.known_customers = set()

    adapty.reset()

    assert adapty.profile(LUKAS) is None
    assert adapty.requests == [] and adapty.pending_faults() == []
    assert adapty.known_customers is None


def test_faults_can_be_injected_over_http(adapty):
    response = requests.post(
        adapty.url + "/simulator/faults", json={"kind": "server_error", "times": 2}, timeout=5
    )
    assert response.status_code == 201
    assert [fault.times for fault in adapty.pending_faults()] == [2]

    refused = requests.post(adapty.url + "/simulator/faults", json={"kind": "meteor"}, timeout=5)
    assert refused.status_code == 400

    requests.post(adapty.url + "/simulator/reset", timeout=5)
    assert adapty.pending_faults() == []


def test_a_configured_set_of_customers_is_kept_across_resets():
    with AdaptySimulator(known_customers={"acct-1"}) as simulator:
        simulator.known_customers.add("acct-2")
        simulator.reset()
        assert simulator.known_customers == {"acct-1"}


def test_each_apps_key_sees_only_its_own_profiles(simulator, adapty, adapty_client):
    coach_key = "secret_test_coach"
    coach_app_id = adapty.add_app(coach_key)
    body = transaction_body(demo_transaction(simulator, PURCHASE_LIFETIME))

    with AdaptyClient(coach_key, adapty.url, timeout=0.3) as coach_client:
        in_coach = coach_client.set_transaction(LUKAS, body)

    assert in_coach.profile["app_id"] == coach_app_id != adapty.app_id
    assert adapty.profile(LUKAS) is None
    assert adapty.profile(LUKAS, coach_key)["non_subscriptions"][0]["store_transaction_id"] == (
        PURCHASE_LIFETIME
    )
    in_first = adapty_client.set_transaction(LUKAS, body)
    assert in_first.profile["profile_id"] != in_coach.profile["profile_id"]
    assert [r.secret_key for r in adapty.requests] == [coach_key, adapty.secret_key]


def test_an_unknown_key_is_refused_and_reset_forgets_added_apps(adapty):
    adapty.add_app("secret_test_coach")
    adapty.reset()

    client = AdaptyClient("secret_test_coach", adapty.url, timeout=0.3)
    with client, pytest.raises(AdaptyError) as refused:
        client.set_transaction(LUKAS, {})

    assert (refused.value.http_status, refused.value.error_code) == (401, "not_authenticated")


def test_the_apps_it_starts_with_are_kept_across_resets(simulator):
    body = transaction_body(demo_transaction(simulator, PURCHASE_LIFETIME))
    with AdaptySimulator(other_app_keys=["secret_test_coach"]) as local:
        first = AdaptyClient("secret_test_coach", local.url).set_transaction(LUKAS, body)
        local.reset()
        again = AdaptyClient("secret_test_coach", local.url).set_transaction(LUKAS, body)

    assert first.profile["app_id"] == again.profile["app_id"] != local.app_id
