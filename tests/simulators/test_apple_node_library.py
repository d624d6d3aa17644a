"""Apple's Node.js library (`@apple/app-store-server-library`, locked in tests/node), unchanged
but for its base URL, drives every endpoint of the simulator and verifies every signed payload
with online checks on (tests/node/drive_simulator.js). Skipped where Node or the installed
library is missing."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from lookups.simulators.appstore.catalog import PRO_MONTHLY
from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    CREDITS_UNFINISHED,
    LUKAS,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_NON_CONSUMABLE,
    ORDER_NOT_FOUND,
    ORDER_OFFER_CODE,
    PURCHASE_LONG_HISTORY,
    PURCHASE_REFUNDED,
)

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE = shutil.which("node")


def test_apples_node_library_against_the_simulator(simulator, appstore_credentials, tmp_path):
    if NODE is None:
        pytest.skip("Node.js is not installed: Apple's Node.js library check needs `node` 18+.")
    if not (NODE_DIR / "node_modules" / "@apple" / "app-store-server-library").is_dir():
        pytest.skip("Apple's Node.js library is not installed: run `npm ci` in tests/node.")
    offer_code = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    config = {
        "url": simulator.url,
        "rootDerBase64": base64.b64encode(
            simulator.chain.root.public_bytes(serialization.Encoding.DER)
        ).decode("ascii"),
        "privateKeyPem": appstore_credentials.private_key_pem,
        "keyId": appstore_credentials.key_id,
        "issuerId": appstore_credentials.issuer_id,
        "bundleId": appstore_credentials.bundle_id,
        "appAppleId": appstore_credentials.app_apple_id,
        "ids": {
            "orderOfferCode": ORDER_OFFER_CODE,
            "orderNotFound": ORDER_NOT_FOUND,
            "offerCodeOriginal": offer_code[0],
            "offerCodeLatest": offer_code[-1],
            "purchaseLongHistory": PURCHASE_LONG_HISTORY,
            "purchaseRefunded": PURCHASE_REFUNDED,
            "creditsUnfinished": CREDITS_UNFINISHED,
            "consumable": simulator.order_transaction_ids(ORDER_CONSUMABLES)[0],
            "nonConsumable": simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0],
            "familyShared": simulator.order_transaction_ids(ORDER_FAMILY_SHARED)[0],
            "appTransactionId": APP_TRANSACTION_IDS[LUKAS],
            "proMonthly": PRO_MONTHLY,
        },
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))

    run = subprocess.run(
        [NODE, "drive_simulator.js", str(config_path)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )

    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    failures = [f"{r['check']}: {r['detail']}" for r in lines if r.get("ok") is False]
    assert not failures, "\n".join(failures)
    assert run.returncode == 0, run.stderr
    summary = lines[-1]
    assert summary["failed"] == 0 and summary["checks"] >= 25
