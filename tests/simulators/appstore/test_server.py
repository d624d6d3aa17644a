"""The App Store simulator, over real HTTP, held to what Apple's API does."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from lookups.simulators.appstore import AppStoreSimulator, make_signing_chain, sign_jws
from lookups.simulators.appstore.certificates import (
    INTERMEDIATE_MARKER_OID,
    LEAF_MARKER_OID,
    load_signing_chain,
)
from lookups.simulators.appstore.local import (
    CHAIN_FILE_NAME,
    ensure_private_key,
    local_simulator,
)
from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    DEMO_ACCOUNTS,
    DEMO_ORDERS,
    LONG_HISTORY_CREDIT_PACKS,
    LONG_HISTORY_FINISHED_CREDIT_PACKS,
    LONG_HISTORY_RENEWALS,
    LUKAS,
    LUKAS_FINISHED_CONSUMABLES,
    LUKAS_TRANSACTIONS,
    OFFER_CODE_TRANSACTIONS,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_LINKED_IN_APP,
    ORDER_LONG_HISTORY,
    ORDER_NON_CONSUMABLE,
    ORDER_NOT_FOUND,
    ORDER_OFFER_CODE,
    ORDER_PAY_AS_YOU_GO,
    ORDER_REFUNDED,
    ORDER_UPGRADED,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.appstore_simulator import AppStoreCredentials

TIMEOUT = 10


# --- helpers -----------------------------------------------------------------------------------


def make_token(
    credentials: AppStoreCredentials,
    *,
    key: Any = None,
    headers: dict[str, Any] | None = None,
    lifetime: int = 1800,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": credentials.issuer_id,
        "iat": now,
        "exp": now + lifetime,
        "aud": "appstoreconnect-v1",
        "bid": credentials.bundle_id,
    }
    for name, value in claims.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    signing_key = key or serialization.load_pem_private_key(
        credentials.private_key_pem.encode(), password=None
    )
    return jwt.encode(
        payload,
        signing_key,
        algorithm="ES256",
        headers={"kid": credentials.key_id, **(headers or {})},
    )


@pytest.fixture
def api(simulator: AppStoreSimulator, appstore_credentials: AppStoreCredentials):
    """Call the simulator with a valid bearer token: api("GET", path, params=..., json=...)."""
    token = make_token(appstore_credentials)

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return requests.request(
            method, simulator.url + path, headers=headers, timeout=TIMEOUT, **kwargs
        )

    return call


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode(jws: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = jws.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def verify_with_leaf(jws: str) -> x509.Certificate:
    """Check the ES256 signature with the x5c leaf's key; return the leaf."""
    header, _ = decode(jws)
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    signing_input, _, signature = jws.rpartition(".")
    raw = b64url_decode(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key = leaf.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    return leaf


def payloads(response: requests.Response) -> list[dict[str, Any]]:
    return [decode(t)[1] for t in response.json()["signedTransactions"]]


def history_ids(api, any_id: str, version: int = 2, **params: Any) -> list[str]:
    """Every page of a history, following revisions, as transaction IDs in order."""
    ids: list[str] = []
    revision = None
    while True:
        query = dict(params, **({"revision": revision} if revision else {}))
        response = api("GET", f"/inApps/v{version}/history/{any_id}", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [p["transactionId"] for p in payloads(response)]
        revision = body["revision"]
        if not body["hasMore"]:
            return ids


def assert_apple_error(response: requests.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["errorCode"] == code
    assert isinstance(body["errorMessage"], str) and body["errorMessage"]


def first_transaction_of(simulator: AppStoreSimulator, order_id: str) -> str:
    return simulator.order_transaction_ids(order_id)[0]


# --- bearer authentication -----------------------------------------------------------------------


def test_it_rejects_a_request_without_a_token(simulator):
    response = requests.get(f"{simulator.url}/inApps/v1/lookup/{ORDER_OFFER_CODE}", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.content == b""


@pytest.mark.parametrize(
    "make_bad_token",
    [
        pytest.param(
            lambda c: make_token(c, key=ec.generate_private_key(ec.SECP256R1())), id="other-key"
        ),
        pytest.param(
            lambda c: make_token(c, iat=int(time.time()) - 1900, exp=int(time.time()) - 100),
            id="expired",
        ),
        pytest.param(lambda c: make_token(c, aud="appstoreconnect-v2"), id="wrong-aud"),
        pytest.param(lambda c: make_token(c, bid="com.example.other"), id="wrong-bid"),
        pytest.param(lambda c: make_token(c, iss="someone-else"), id="wrong-iss"),
        pytest.param(lambda c: make_token(c, headers={"kid": "OTHERKEY00"}), id="wrong-kid"),
        pytest.param(lambda c: make_token(c, lifetime=3601), id="over-an-hour"),
        pytest.param(lambda c: make_token(c, exp=None), id="no-exp"),
        pytest.param(
            lambda c: make_token(c, iat=None, exp=int(time.time()) + 3600 + 300),
            id="no-iat-expiring-over-an-hour-from-now",
        ),
        pytest.param(lambda c: make_token(c, bid=None), id="no-bid"),
        pytest.param(
            lambda c: make_token(c, iat=int(time.time()) + 600, exp=int(time.time()) + 1200),
            id="issued-in-the-future",
        ),
        pytest.param(
            lambda c: jwt.encode(
                {"iss": c.issuer_id, "aud": "appstoreconnect-v1", "bid": c.bundle_id},
                "a-shared-secret-long-enough-for-hs256-0123",
                algorithm="HS256",
                headers={"kid": c.key_id},
            ),
            id="hs256",
        ),
        pytest.param(lambda c: "not-a-jwt", id="garbage"),
    ],
)
def test_it_rejects_a_bad_token_with_an_empty_401(simulator, appstore_credentials, make_bad_token):
    token = make_bad_token(appstore_credentials)
    original = first_transaction_of(simulator, ORDER_OFFER_CODE)
    for method, path in [
        ("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"),
        ("GET", f"/inApps/v2/history/{original}"),
        ("PUT", f"/inApps/v1/transactions/{original}/appAccountToken"),
    ]:
        response = requests.request(
            method,
            simulator.url + path,
            headers={"Authorization": f"Bearer {token}"},
            json={"appAccountToken": str(uuid.uuid4())},
            timeout=TIMEOUT,
        )
        assert response.status_code == 401, (method, path)
        assert response.content == b""


def test_it_rejects_a_token_without_the_bearer_scheme(simulator, appstore_credentials):
    response = requests.get(
        f"{simulator.url}/inApps/v1/lookup/{ORDER_OFFER_CODE}",
        headers={"Authorization": make_token(appstore_credentials)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 401


def test_it_accepts_one_token_for_many_requests(api):
    for _ in range(3):
        assert api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code == 200


def test_it_logs_every_api_request_including_refused_ones(simulator, api):
    api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}")
    requests.get(f"{simulator.url}/inApps/v1/lookup/{ORDER_REFUNDED}", timeout=TIMEOUT)
    api(
        "GET",
        f"/inApps/v2/history/{first_transaction_of(simulator, ORDER_REFUNDED)}",
        params={"sort": "DESCENDING"},
    )
    assert simulator.requests == [
        ("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"),
        ("GET", f"/inApps/v1/lookup/{ORDER_REFUNDED}"),
        ("GET", f"/inApps/v2/history/{first_transaction_of(simulator, ORDER_REFUNDED)}"),
    ]


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


def lukas_any_id() -> str:
    return APP_TRANSACTION_IDS[LUKAS]


def test_history_v1_leaves_out_finished_consumables_and_v2_keeps_them(simulator, api):
    v1 = history_ids(api, lukas_any_id(), version=1)
    v2 = history_ids(api, lukas_any_id(), version=2)
    finished_credit, unfinished_credit = simulator.order_transaction_ids(ORDER_CONSUMABLES)
    assert finished_credit in v2 and finished_credit not in v1
    assert unfinished_credit in v1 and unfinished_credit in v2
    assert set(v2) == set(LUKAS_TRANSACTIONS) and len(v2) == len(LUKAS_TRANSACTIONS)
    assert set(v1) == set(LUKAS_TRANSACTIONS) - set(LUKAS_FINISHED_CONSUMABLES)


def test_history_v1_keeps_a_finished_consumable_once_it_is_refunded(simulator, api):
    finished_credit = simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]
    simulator.revoke(finished_credit)
    assert finished_credit in history_ids(api, lukas_any_id(), version=1)


def test_history_answers_for_any_id_of_the_customer(simulator, api):
    renewal = simulator.order_transaction_ids(ORDER_OFFER_CODE)[2]
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    app_transaction_id = simulator.transaction(original)["appTransactionId"]
    by_renewal = history_ids(api, renewal)
    assert by_renewal == history_ids(api, original) == history_ids(api, app_transaction_id)
    assert by_renewal == simulator.order_transaction_ids(ORDER_OFFER_CODE)


def test_history_response_has_apples_fields(simulator, api):
    response = api("GET", f"/inApps/v2/history/{lukas_any_id()}")
    body = response.json()
    assert list(body) == [
        "revision",
        "hasMore",
        "bundleId",
        "appAppleId",
        "environment",
        "signedTransactions",
    ]
    assert body["bundleId"] == simulator.bundle_id
    assert body["appAppleId"] == simulator.app_apple_id
    assert body["environment"] == "Production"
    assert body["hasMore"] is False
    assert isinstance(body["revision"], str) and body["revision"]


def test_history_of_an_unknown_transaction_is_404(api):
    assert_apple_error(api("GET", f"/inApps/v2/history/{TRANSACTION_NOT_FOUND}"), 404, 4040010)


@pytest.mark.parametrize("bad_id", ["abc", "2000000-1", "%20"])
def test_history_of_a_non_numeric_id_is_400(api, bad_id):
    assert_apple_error(api("GET", f"/inApps/v1/history/{bad_id}"), 400, 4000006)


def test_history_filters_by_purchase_date_start_inclusive_end_exclusive(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    dates = [simulator.transaction(t)["purchaseDate"] for t in ids]
    assert history_ids(api, ids[0], startDate=dates[1]) == ids[1:]
    assert history_ids(api, ids[0], endDate=dates[2]) == ids[:2]
    assert history_ids(api, ids[0], startDate=dates[1], endDate=dates[3]) == ids[1:3]
    assert history_ids(api, ids[0], endDate=dates[-1] + 10**12) == ids


def test_history_filters_by_product_id_and_type_matching_any_value(simulator, api):
    def types(**params: Any) -> set[str]:
        return {
            simulator.transaction(t)["type"] for t in history_ids(api, lukas_any_id(), **params)
        }

    assert types(productType="CONSUMABLE") == {"Consumable"}
    assert types(productType=["NON_CONSUMABLE", "NON_RENEWABLE"]) == {
        "Non-Consumable",
        "Non-Renewing Subscription",
    }
    lifetime = simulator.transaction(simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0])
    assert history_ids(api, lukas_any_id(), productId=lifetime["productId"]) == [
        lifetime["transactionId"]
    ]
    credits = {
        simulator.transaction(t)["productId"]
        for t in simulator.order_transaction_ids(ORDER_CONSUMABLES)
    }
    assert len(history_ids(api, lukas_any_id(), productId=sorted(credits))) == 6
    assert history_ids(api, lukas_any_id(), productId="com.example.nothing") == []


def test_history_filters_by_subscription_group(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_UPGRADED)
    group = simulator.transaction(ids[0])["subscriptionGroupIdentifier"]
    assert history_ids(api, ids[0], subscriptionGroupIdentifier=group) == ids
    assert history_ids(api, ids[0], subscriptionGroupIdentifier=["999", group]) == ids
    assert history_ids(api, ids[0], subscriptionGroupIdentifier="999") == []
    assert history_ids(api, lukas_any_id(), subscriptionGroupIdentifier=group) == []


def test_history_filters_by_ownership_type(simulator, api):
    family = simulator.order_transaction_ids(ORDER_FAMILY_SHARED)
    assert history_ids(api, family[0], inAppOwnershipType="FAMILY_SHARED") == family
    assert history_ids(api, family[0], inAppOwnershipType="PURCHASED") == []
    assert len(history_ids(api, lukas_any_id(), inAppOwnershipType="PURCHASED")) == 8


def test_history_filters_by_revoked(simulator, api):
    lifetime = simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]
    simulator.revoke(lifetime, reason=0)
    assert history_ids(api, lukas_any_id(), revoked="true") == [lifetime]
    assert lifetime not in history_ids(api, lukas_any_id(), revoked="false")
    assert len(history_ids(api, lukas_any_id(), revoked="false")) == 7
    # Apple's Python library sends str(True); the deprecated excludeRevoked still works.
    assert history_ids(api, lukas_any_id(), revoked="True") == [lifetime]
    assert lifetime not in history_ids(api, lukas_any_id(), excludeRevoked="true")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"startDate": "yesterday"}, 4000015),
        ({"startDate": ""}, 4000015),
        ({"startDate": "-5"}, 4000015),
        ({"endDate": "1.5"}, 4000016),
        ({"endDate": ""}, 4000016),
        ({"startDate": "2000", "endDate": "1000"}, 4000013),
        ({"startDate": "1000", "endDate": "1000"}, 4000013),
        ({"sort": "NEWEST"}, 4000021),
        ({"sort": "ascending"}, 4000021),
        ({"sort": ["ASCENDING", "DESCENDING"]}, 4000021),
        ({"productType": "SUBSCRIPTION"}, 4000022),
        ({"productType": ["CONSUMABLE", "consumable"]}, 4000022),
        ({"productId": ""}, 4000023),
        ({"subscriptionGroupIdentifier": ""}, 4000024),
        ({"excludeRevoked": "yes"}, 4000025),
        ({"inAppOwnershipType": "SHARED"}, 4000026),
        ({"revoked": "1"}, 4000030),
        ({"revision": "not-a-revision"}, 4000005),
        ({"revision": ""}, 4000005),
    ],
)
def test_history_refuses_bad_parameters_with_apples_codes(api, params, code):
    assert_apple_error(api("GET", f"/inApps/v2/history/{lukas_any_id()}", params=params), 400, code)


def test_history_sorts_by_recently_modified_date(simulator, api):
    ascending = history_ids(api, lukas_any_id())
    purchase_dates = [simulator.transaction(t)["purchaseDate"] for t in ascending]
    assert purchase_dates == sorted(purchase_dates)
    assert history_ids(api, lukas_any_id(), sort="DESCENDING") == ascending[::-1]

    # A refund makes the oldest purchase the most recently modified one.
    simulator.revoke(ascending[0])
    assert history_ids(api, lukas_any_id())[-1] == ascending[0]
    assert history_ids(api, lukas_any_id(), sort="DESCENDING")[0] == ascending[0]


def test_history_sorts_an_upgraded_subscription_by_its_upgrade(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_UPGRADED)
    upgraded, yearly = ids[2], ids[3]
    assert simulator.transaction(upgraded)["isUpgraded"] is True
    # The upgrade moved the monthly transaction to the yearly purchase's moment.
    assert history_ids(api, ids[0]) == [ids[0], ids[1], upgraded, yearly]
    assert history_ids(api, ids[0], startDate=simulator.transaction(yearly)["purchaseDate"]) == [
        yearly
    ]


def test_history_pages_by_20_with_revision_and_has_more(simulator, api):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]
    first = api("GET", f"/inApps/v2/history/{any_id}").json()
    assert first["hasMore"] is True
    assert len(first["signedTransactions"]) == 20
    second = api(
        "GET", f"/inApps/v2/history/{any_id}", params={"revision": first["revision"]}
    ).json()
    assert second["hasMore"] is False
    everything = LONG_HISTORY_RENEWALS + LONG_HISTORY_CREDIT_PACKS
    assert len(second["signedTransactions"]) == everything - 20
    seen = [
        decode(t)[1]["transactionId"]
        for t in first["signedTransactions"] + second["signedTransactions"]
    ]
    assert len(set(seen)) == everything

    v1 = history_ids(api, any_id, version=1)
    finished = LONG_HISTORY_FINISHED_CREDIT_PACKS
    assert len(v1) == len(set(v1)) == everything - finished
    descending = history_ids(api, any_id, sort="DESCENDING")
    assert descending == history_ids(api, any_id)[::-1]


def test_history_revision_must_come_with_the_same_filters(simulator, api):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]
    first = api(
        "GET", f"/inApps/v2/history/{any_id}", params={"productType": "AUTO_RENEWABLE"}
    ).json()
    assert first["hasMore"] is True
    path = f"/inApps/v2/history/{any_id}"
    revision = first["revision"]
    assert_apple_error(api("GET", path, params={"revision": revision}), 400, 4000005)
    assert_apple_error(
        api(
            "GET",
            path,
            params={"revision": revision, "productType": "AUTO_RENEWABLE", "sort": "DESCENDING"},
        ),
        400,
        4000005,
    )
    assert_apple_error(
        api(
            "GET",
            f"/inApps/v2/history/{lukas_any_id()}",
            params={"revision": revision, "productType": "AUTO_RENEWABLE"},
        ),
        400,
        4000005,
    )
    assert_apple_error(
        api(
            "GET",
            f"/inApps/v1/history/{any_id}",
            params={"revision": revision, "productType": "AUTO_RENEWABLE"},
        ),
        400,
        4000005,
    )
    tampered = revision[:-4] + ("AAAA" if not revision.endswith("AAAA") else "BBBB")
    assert_apple_error(
        api("GET", path, params={"revision": tampered, "productType": "AUTO_RENEWABLE"}),
        400,
        4000005,
    )
    follow_up = api("GET", path, params={"revision": revision, "productType": "AUTO_RENEWABLE"})
    assert follow_up.status_code == 200
    assert len(follow_up.json()["signedTransactions"]) == 4


def test_history_in_ascending_order_brings_back_a_transaction_modified_while_paging(simulator, api):
    any_id = simulator.order_transaction_ids(ORDER_LONG_HISTORY)[0]
    first = api("GET", f"/inApps/v2/history/{any_id}").json()
    already_seen = decode(first["signedTransactions"][3])[1]["transactionId"]
    simulator.revoke(already_seen)
    rest = payloads(
        api("GET", f"/inApps/v2/history/{any_id}", params={"revision": first["revision"]})
    )
    assert rest[-1]["transactionId"] == already_seen
    assert "revocationDate" in rest[-1]


def test_history_revision_of_the_last_page_later_brings_only_new_transactions(simulator, api):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    path = f"/inApps/v2/history/{original}"
    last = api("GET", path).json()
    assert last["hasMore"] is False
    nothing_new = api("GET", path, params={"revision": last["revision"]}).json()
    assert nothing_new["signedTransactions"] == [] and nothing_new["hasMore"] is False
    renewal = simulator.renew(original)
    later = payloads(api("GET", path, params={"revision": last["revision"]}))
    assert [t["transactionId"] for t in later] == [renewal]


# --- Set App Account Token -----------------------------------------------------------------------


def set_token(api, original_transaction_id: str, body: Any, **kwargs: Any) -> requests.Response:
    path = f"/inApps/v1/transactions/{original_transaction_id}/appAccountToken"
    if isinstance(body, bytes):
        return api("PUT", path, data=body, headers={"Content-Type": "application/json"}, **kwargs)
    return api("PUT", path, json=body, **kwargs)


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


# --- faults ---------------------------------------------------------------------------------------


def test_rate_limit_fault_answers_429_with_retry_after_in_epoch_milliseconds(simulator, api):
    simulator.inject_fault("rate_limit")
    before = int(time.time() * 1000)
    response = api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}")
    assert response.status_code == 429
    assert response.json() == {"errorCode": 4290000, "errorMessage": "Rate limit exceeded."}
    retry_at = int(response.headers["Retry-After"])
    assert before + 1000 <= retry_at <= int(time.time() * 1000) + 1000

    simulator.inject_fault("rate_limit", retry_after_ms=30_000)
    retry_at = int(api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").headers["Retry-After"])
    assert retry_at >= before + 30_000
    assert api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code == 200


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("retryable_error", 500, 5000001), ("internal_error", 500, 5000000)],
)
def test_server_error_faults_answer_apples_500s(simulator, api, kind, status, code):
    simulator.inject_fault(kind)
    assert_apple_error(api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"), status, code)


def test_a_fault_clears_after_the_given_number_of_requests(simulator, api):
    simulator.inject_fault("retryable_error", times=2)
    statuses = [api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert len(simulator.requests) == 3


def test_not_json_fault_answers_a_proxy_page(simulator, api):
    simulator.inject_fault("not_json", endpoint="history")
    response = api("GET", f"/inApps/v2/history/{lukas_any_id()}")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_not_found_retryable_fault_only_hits_set_token(simulator, api):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    simulator.inject_fault("not_found_retryable")
    assert api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code == 200
    assert_apple_error(
        set_token(api, original, {"appAccountToken": str(uuid.uuid4())}), 404, 4040006
    )
    assert set_token(api, original, {"appAccountToken": str(uuid.uuid4())}).status_code == 200
    with pytest.raises(ValueError):
        simulator.inject_fault("not_found_retryable", endpoint="lookup")


def test_faults_match_their_target_and_endpoint(simulator, api):
    simulator.inject_fault("internal_error", target=ORDER_REFUNDED)
    simulator.inject_fault("internal_error", endpoint="history")
    assert api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code == 200
    assert api("GET", f"/inApps/v1/lookup/{ORDER_REFUNDED}").status_code == 500
    assert api("GET", f"/inApps/v1/lookup/{ORDER_REFUNDED}").status_code == 200
    assert api("GET", f"/inApps/v2/history/{lukas_any_id()}").status_code == 500
    assert api("GET", f"/inApps/v2/history/{lukas_any_id()}").status_code == 200


def test_faults_come_after_authentication(simulator, api):
    simulator.inject_fault("internal_error")
    response = requests.get(f"{simulator.url}/inApps/v1/lookup/{ORDER_OFFER_CODE}", timeout=TIMEOUT)
    assert response.status_code == 401
    assert api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").status_code == 500


def test_slow_fault_answers_late_but_normally(simulator, api):
    simulator.inject_fault("slow", delay_seconds=0.4)
    started = time.monotonic()
    response = api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}")
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200
    assert response.json()["status"] == 0


def test_a_slow_answer_does_not_hold_up_stop(appstore_credentials):
    with AppStoreSimulator(
        bearer_public_key=appstore_credentials.private_key_pem,
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
    ) as simulator:
        simulator.inject_fault("slow")
        outcome: list[object] = []

        def ask() -> None:
            try:
                outcome.append(
                    requests.get(
                        f"{simulator.url}/inApps/v1/lookup/{ORDER_OFFER_CODE}",
                        headers={"Authorization": f"Bearer {make_token(appstore_credentials)}"},
                        timeout=30,
                    )
                )
            except requests.RequestException as problem:
                outcome.append(problem)

        asker = threading.Thread(target=ask)
        asker.start()
        deadline = time.monotonic() + 5
        while not simulator.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        simulator.stop()
        assert time.monotonic() - started < 2
        asker.join(timeout=5)
        assert isinstance(outcome[0], requests.RequestException)


def test_untrusted_chain_fault_signs_under_a_root_nobody_trusts(simulator, api):
    simulator.inject_fault("untrusted_chain")
    response = api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}")
    assert response.status_code == 200
    for jws in response.json()["signedTransactions"]:
        header, _ = decode(jws)
        verify_with_leaf(jws)
        assert len(header["x5c"]) == 3
        root = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][2]))
        assert root.public_bytes(serialization.Encoding.PEM) != simulator.root_pem
    trusted = api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}").json()["signedTransactions"]
    assert all(decode(t)[0]["x5c"] == simulator.chain.x5c for t in trusted)


def test_untrusted_chain_fault_can_hit_one_transaction_of_a_lookup(simulator, api):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    simulator.inject_fault("untrusted_chain", target=ids[2])
    response = api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}")
    chains = [decode(t)[0]["x5c"] for t in response.json()["signedTransactions"]]
    assert [c == simulator.chain.x5c for c in chains] == [True, True, False, True]


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


# --- chains, signing and the local set-up ---------------------------------------------------------


def test_make_signing_chain_builds_the_broken_chains_tests_need():
    chain = make_signing_chain(leaf_oid=False, intermediate_oid=False)
    with pytest.raises(x509.ExtensionNotFound):
        chain.leaf.extensions.get_extension_for_oid(LEAF_MARKER_OID)
    with pytest.raises(x509.ExtensionNotFound):
        chain.intermediate.extensions.get_extension_for_oid(INTERMEDIATE_MARKER_OID)

    sibling = make_signing_chain(root=chain)
    assert sibling.root == chain.root and sibling.leaf != chain.leaf
    sibling.intermediate.verify_directly_issued_by(chain.root)

    from datetime import UTC, datetime, timedelta

    expired_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    expired = make_signing_chain(not_valid_after=expired_at)
    assert expired.leaf.not_valid_after_utc == expired_at
    assert [base64.b64decode(c) for c in expired.x5c] == [
        c.public_bytes(serialization.Encoding.DER)
        for c in (expired.leaf, expired.intermediate, expired.root)
    ]
    basic = chain.intermediate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.value.ca is True and basic.critical
    assert chain.leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_sign_jws_header_can_be_changed_for_tests():
    chain = make_signing_chain()
    unsigned = sign_jws({"a": 1}, chain, header={"alg": "none"})
    assert unsigned.endswith(".")
    assert decode(unsigned)[0]["alg"] == "none"
    short = sign_jws({"a": 1}, chain, header={"x5c": chain.x5c[:2], "kid": "x"})
    assert decode(short)[0] == {"alg": "ES256", "x5c": chain.x5c[:2], "kid": "x"}
    verify_with_leaf(short)
    assert "x5c" not in decode(sign_jws({}, chain, header={"x5c": None}))[0]
    assert short.split(".")[1] == base64.urlsafe_b64encode(b'{"a":1}').rstrip(b"=").decode()


def test_local_set_up_makes_a_key_and_keeps_its_chain(tmp_path):
    key_path = tmp_path / "keys" / "AuthKey.p8"
    pem = ensure_private_key(key_path)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert os.stat(key_path).st_mode & 0o777 == 0o600
    assert ensure_private_key(key_path) == pem

    root_path = tmp_path / "var" / "root.pem"
    options = {
        "private_key_pem": pem,
        "issuer_id": "issuer",
        "key_id": "KEY",
        "bundle_id": "com.example.supportdesk.demo",
        "app_apple_id": None,
        "environment": "Sandbox",
        "root_certificate_path": root_path,
    }
    first = local_simulator(**options)
    assert root_path.read_bytes() == first.root_pem
    chain_file = tmp_path / "var" / CHAIN_FILE_NAME
    assert os.stat(chain_file).st_mode & 0o777 == 0o600
    assert load_signing_chain(chain_file.read_bytes()).leaf == first.chain.leaf

    root_path.unlink()
    second = local_simulator(**options)
    assert second.root_pem == first.root_pem == root_path.read_bytes()


def test_a_sandbox_simulator_leaves_out_app_apple_id(tmp_path, appstore_credentials):
    with local_simulator(
        private_key_pem=appstore_credentials.private_key_pem,
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        bundle_id=appstore_credentials.bundle_id,
        app_apple_id=None,
        environment="Sandbox",
        root_certificate_path=tmp_path / "root.pem",
    ) as simulator:
        response = requests.get(
            f"{simulator.url}/inApps/v2/history/{lukas_any_id()}",
            headers={"Authorization": f"Bearer {make_token(appstore_credentials)}"},
            timeout=TIMEOUT,
        )
        body = response.json()
        assert "appAppleId" not in body
        assert body["environment"] == "Sandbox"
        assert {decode(t)[1]["environment"] for t in body["signedTransactions"]} == {"Sandbox"}


def test_appstore_settings_point_django_at_the_simulator(
    appstore_settings, simulator, simulator_root_path
):
    assert simulator.url == appstore_settings.APPSTORE_BASE_URL
    assert appstore_settings.APPSTORE_PRIVATE_KEY.startswith("-----BEGIN PRIVATE KEY-----")
    assert appstore_settings.APPSTORE_PRIVATE_KEY_PATH == ""
    root_file = Path(appstore_settings.APPSTORE_ROOT_CERTIFICATES[0])
    assert root_file.read_bytes() == simulator.root_pem
    assert simulator_root_path.exists()


def test_apple_error_fault_answers_any_apple_error(simulator, api):
    original = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    simulator.inject_fault("apple_error", endpoint="set_token", error_code=4000183)
    response = set_token(api, original, {"appAccountToken": str(uuid.uuid4())})
    assert_apple_error(response, 400, 4000183)
    assert response.json()["errorMessage"] == (
        "Invalid request. The app account token field must be a valid UUID."
    )
    assert "appAccountToken" not in simulator.transaction(
        simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    )

    simulator.inject_fault("apple_error", error_code=4040002, error_message="Account not found.")
    assert_apple_error(api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"), 404, 4040002)
    simulator.inject_fault("apple_error", error_code=4000002, http_status=403)
    assert_apple_error(api("GET", f"/inApps/v1/lookup/{ORDER_OFFER_CODE}"), 403, 4000002)
    with pytest.raises(ValueError):
        simulator.inject_fault("apple_error")
    with pytest.raises(ValueError):
        simulator.inject_fault("internal_error", error_code=5000000)
