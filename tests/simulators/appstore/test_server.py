"""The App Store simulator, over real HTTP, held to what Apple's API does."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lookups.simulators.appstore.certificates import (
    INTERMEDIATE_MARKER_OID,
    LEAF_MARKER_OID,
)
from lookups.simulators.demo_data import (
    DEMO_ACCOUNTS,
    DEMO_ORDERS,
    OFFER_CODE_TRANSACTIONS,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_LINKED_IN_APP,
    ORDER_NON_CONSUMABLE,
    ORDER_NOT_FOUND,
    ORDER_OFFER_CODE,
    ORDER_REFUNDED,
    ORDER_UPGRADED,
)
from tests.fixtures.simulator_api import (
    TIMEOUT,
    decode,
    payloads,
    set_token,
    verify_with_leaf,
)

# --- bearer authentication -----------------------------------------------------------------------


# --- Look Up Order ID ----------------------------------------------------------------------------


def test_lookup_of_a_known_order_answers_status_0_with_its_transactions(simulator, api):
    before = int(time.time() * 1000)
    response = api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}")
    after = int(time.time() * 1000)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert set(response.json()) == {"status", "signedTransactions"}
    assert response.json()["status"] == 0
    transactions = payloads(response)
    assert [t["transactionId"] for t in transactions] == list(OFFER_CODE_TRANSACTIONS)
    original = transactions[0]
    assert original["offerType"] == 3
    assert original["offerDiscountType"] == "FREE_TRIAL"
    assert original["offerIdentifier"]
    assert original["transactionReason"] == "PURCHASE"
    assert len({t["webOrderLineItemId"] for t in transactions}) == len(OFFER_CODE_TRANSACTIONS)
    for transaction in transactions:
        assert transaction["originalTransactionId"] == original["transactionId"]
        assert "appAccountToken" not in transaction
        assert transaction["bundleId"] == simulator.bundle_id
        assert transaction["environment"] == "Production"
        assert transaction["type"] == "Auto-Renewable Subscription"
        assert transaction["inAppOwnershipType"] == "PURCHASED"
        assert transaction["appTransactionId"] == original["appTransactionId"]
        assert before <= transaction["signedDate"] <= after
        assert transaction["transactionId"].isdigit()
    assert [t["transactionReason"] for t in transactions[1:]] == ["RENEWAL"] * 3
    assert transactions[-1]["expiresDate"] > after, "the latest renewal is current"
    assert transactions[-1]["price"] == 9990 and transactions[-1]["currency"] == "USD"


def test_lookup_of_an_unknown_order_answers_status_1_without_transactions(api):
    for order_id in (ORDER_NOT_FOUND, "mk5tttvwjh", "NOT-AN-ORDER"):
        response = api("GET", f"/inApps/v1/lookup/{order_id}")
        assert response.status_code == 200
        assert response.json() == {"status": 1}


def test_signed_transactions_carry_a_three_certificate_chain_and_verify_with_the_leaf(
    simulator, api
):
    response = api("GET", f"/inApps/v1/lookup/{ORDER_CONSUMABLES}")
    for jws in response.json()["signedTransactions"]:
        header, _ = decode(jws)
        assert header == {"alg": "ES256", "x5c": header["x5c"]}
        assert len(header["x5c"]) == 3
        leaf = verify_with_leaf(jws)
        intermediate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][1]))
        root = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][2]))
        leaf.verify_directly_issued_by(intermediate)
        intermediate.verify_directly_issued_by(root)
        assert root.public_bytes(serialization.Encoding.PEM) == simulator.root_pem
        assert leaf.extensions.get_extension_for_oid(LEAF_MARKER_OID).critical is False
        assert intermediate.extensions.get_extension_for_oid(INTERMEDIATE_MARKER_OID)


def test_apples_own_library_verifies_the_simulators_transactions(simulator, api):
    verifier_module = pytest.importorskip("appstoreserverlibrary.signed_data_verifier")
    from appstoreserverlibrary.models.Environment import Environment

    verifier = verifier_module.SignedDataVerifier(
        [simulator.chain.root.public_bytes(serialization.Encoding.DER)],
        False,
        Environment.PRODUCTION,
        simulator.bundle_id,
        simulator.app_apple_id,
    )
    response = api("GET", f"/inApps/v1/lookup/{ORDER_UPGRADED}")
    decoded = [
        verifier.verify_and_decode_signed_transaction(t)
        for t in response.json()["signedTransactions"]
    ]
    assert [t.isUpgraded for t in decoded] == [None, None, True, None]
    assert decoded[-1].productId.endswith(".pro.yearly")
    assert len({t.originalTransactionId for t in decoded}) == 1
    assert len({t.subscriptionGroupIdentifier for t in decoded}) == 1


def test_every_demo_order_answers_as_described(simulator, api):
    for order_id in DEMO_ORDERS:
        response = api("GET", f"/inApps/v1/lookup/{order_id}")
        assert response.status_code == 200
        assert response.json()["status"] == (1 if order_id == ORDER_NOT_FOUND else 0)

    family = payloads(api("GET", f"/inApps/v1/lookup/{ORDER_FAMILY_SHARED}"))
    assert {t["inAppOwnershipType"] for t in family} == {"FAMILY_SHARED"}
    refunded = payloads(api("GET", f"/inApps/v1/lookup/{ORDER_REFUNDED}"))[0]
    assert refunded["revocationType"] == "REFUND_FULL"
    assert refunded["revocationDate"] > refunded["purchaseDate"]
    assert refunded["revocationReason"] in (0, 1)
    linked = payloads(api("GET", f"/inApps/v1/lookup/{ORDER_LINKED_IN_APP}"))
    tokens = {a["app_account_token"] for a in DEMO_ACCOUNTS}
    assert all(t["appAccountToken"] in tokens for t in linked)
    non_consumable = payloads(api("GET", f"/inApps/v1/lookup/{ORDER_NON_CONSUMABLE}"))[0]
    assert non_consumable["type"] == "Non-Consumable"
    assert "expiresDate" not in non_consumable


# --- Get Transaction History ---------------------------------------------------------------------


# --- Set App Account Token -----------------------------------------------------------------------


# --- faults ---------------------------------------------------------------------------------------


def test_faults_and_reset_over_the_control_endpoint(simulator, api):
    control = f"{simulator.url}/simulator"
    created = requests.post(
        f"{control}/faults",
        json={"kind": "rate_limit", "endpoint": "lookup", "times": 2, "retry_after_ms": 5000},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201
    assert created.json()["fault"]["times"] == 2
    assert (
        requests.post(f"{control}/faults", json={"kind": "meteor"}, timeout=TIMEOUT).status_code
        == 400
    )
    assert requests.post(f"{control}/faults", data=b"{", timeout=TIMEOUT).status_code == 400
    assert (
        requests.get(f"{control}/faults", timeout=TIMEOUT).json()["faults"][0]["kind"]
        == "rate_limit"
    )
    assert api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code == 429

    set_token(
        api,
        simulator.order_transaction_ids(ORDER_OFFER_CODE)[0],
        {"appAccountToken": str(uuid.uuid4())},
    )
    assert requests.post(f"{control}/reset", timeout=TIMEOUT).status_code == 200
    assert simulator.requests == []
    assert api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code == 200
    assert all(
        "appAccountToken" not in t
        for t in payloads(api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"))
    )


def test_reset_restores_demo_data_and_clears_faults_and_the_log(simulator, api):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    set_token(api, original, {"appAccountToken": str(uuid.uuid4())})
    simulator.add_order("MBENCH0001", 3)
    simulator.inject_fault("internal_error", times=5)
    simulator.reset()
    assert simulator.requests == []
    assert all(
        "appAccountToken" not in simulator.transaction(t)
        for t in simulator.order_transaction_ids(ORDER_OFFER_CODE)
    )
    assert api("GET", "/inApps/v1/lookup/MBENCH0001").json() == {"status": 1}


def test_unknown_api_paths_answer_404(api):
    assert api("GET", "/inApps/v1/messaging/message/list").status_code == 404


# --- bulk data for benchmarks --------------------------------------------------------------------


# --- chains, signing and the local set-up ---------------------------------------------------------


def test_appstore_settings_point_django_at_the_simulator(
    appstore_settings, simulator, simulator_root_path
):
    assert simulator.url == appstore_settings.APPSTORE_BASE_URL
    assert appstore_settings.APPSTORE_PRIVATE_KEY.startswith("-----BEGIN PRIVATE KEY-----")
    assert appstore_settings.APPSTORE_PRIVATE_KEY_PATH == ""
    root_file = Path(appstore_settings.APPSTORE_ROOT_CERTIFICATES[0])
    assert root_file.read_bytes() == simulator.root_pem
    assert simulator_root_path.exists()
