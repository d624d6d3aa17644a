"""The simulator's faults as the README tells them: every kind, endpoint and parameter."""

from __future__ import annotations

import base64
import dataclasses
import re
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.appstore.faults import ENDPOINTS, FAULT_KINDS, Fault
from lookups.simulators.demo_data import (
    ORDER_OFFER_CODE,
    ORDER_REFUNDED,
)
from tests.fixtures.simulator_api import (
    TIMEOUT,
    assert_apple_error,
    decode,
    lukas_any_id,
    make_token,
    set_token,
    verify_with_leaf,
)

README = Path(__file__).resolve().parents[3] / "README.md"


def _fault_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("The simulator takes faults on demand")
    return text[start : text.index("\n## ", start)]


def test_the_readme_lists_every_fault_kind_and_endpoint():
    section = _fault_section()
    kinds = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))
    assert kinds >= FAULT_KINDS
    for endpoint in ENDPOINTS - {"*"}:
        assert f"`{endpoint}`" in section, endpoint


def test_the_readme_names_every_parameter_a_fault_takes():
    section = _fault_section()
    for field in dataclasses.fields(Fault):
        assert f"`{field.name}`" in section, field.name


def test_the_readme_says_a_long_retry_after_holds_every_worker():
    section = _fault_section()
    assert "A long `Retry-After` holds every worker" in section


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
