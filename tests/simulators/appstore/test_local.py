"""The local simulator's set-up: a key made once and kept with its chain, and Sandbox's
differences."""

from __future__ import annotations

import os

import requests

from lookups.simulators.appstore.certificates import (
    load_signing_chain,
)
from lookups.simulators.appstore.local import (
    CHAIN_FILE_NAME,
    ensure_private_key,
    local_simulator,
)
from tests.fixtures.simulator_api import (
    TIMEOUT,
    decode,
    lukas_any_id,
    make_token,
)


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
