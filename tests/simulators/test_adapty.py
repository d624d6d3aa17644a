"""The local Adapty: reset, faults over HTTP, a fixed set of known customers."""

from __future__ import annotations

import requests

from lookups.adapty import transaction_body
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
