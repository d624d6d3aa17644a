"""The simulator's bearer check, held to Apple's: a missing, malformed or wrongly signed token
answers an empty 401; one good token serves many requests; every request is logged."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from lookups.simulators.demo_data import (
    ORDER_OFFER_CODE,
    ORDER_REFUNDED,
)
from tests.fixtures.simulator_api import (
    TIMEOUT,
    first_transaction_of,
    make_token,
)


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
