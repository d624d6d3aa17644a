"""Notification decoding rate: ours against Apple's library, on the simulator's notifications.

The simulator signs the notifications as it sends them (each carries a signed transaction and a
signed renewal info). `TransactionVerifier.decode_notification` verifies all three JWS. Apple's
`verify_and_decode_notification` verifies only the outer one, so Apple's library is timed twice:
that call alone (the anchor the ingest benchmark names `apple_decode_per_s`), and that call plus
its own transaction and renewal-info verification, which is the same work as ours. Rounds
interleave the three; the median round counts.

    .venv/bin/python benchmarks/notification_decode.py [--notifications 1000] [--rounds 5]

The last line is JSON: notifications, ours_per_s, apple_decode_per_s, apple_full_per_s,
ratio_vs_apple_full.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier
from cryptography.hazmat.primitives import serialization

from lookups.appstore import TransactionVerifier
from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.appstore.local import generate_private_key_pem
from lookups.simulators.demo_data import DEMO_APP_APPLE_ID, DEMO_BUNDLE_ID

SUBSCRIPTION = "2000000815627301"  # the demo's offer-code subscription


def make_notifications(count: int) -> tuple[AppStoreSimulator, list[str]]:
    # Not started: signing and keeping need no server and no notification URL.
    simulator = AppStoreSimulator(
        bearer_public_key=generate_private_key_pem(),
        issuer_id="bench",
        key_id="BENCH",
        # The desk is measured here, not Apple's limits.
        rate_limits=False,
    )
    latest = simulator.store.latest_transaction(SUBSCRIPTION)
    kinds = [("DID_RENEW", None), ("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED")]
    for n in range(count):
        notification_type, subtype = kinds[n % len(kinds)]
        simulator.emit_notification(
            notification_type, subtype, transaction_id=latest["transactionId"]
        )
    return simulator, [sent.signed_payload for sent in simulator.notifications.all()]


def one_pass(function, items) -> float:
    started = time.perf_counter()
    for item in items:
        function(item)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    simulator, payloads = make_notifications(args.notifications)
    root_der = simulator.chain.root.public_bytes(serialization.Encoding.DER)
    ours = TransactionVerifier(
        [root_der],
        bundle_id=DEMO_BUNDLE_ID,
        environment="Production",
        app_apple_id=DEMO_APP_APPLE_ID,
    )
    apple = SignedDataVerifier(
        [root_der], False, Environment.PRODUCTION, DEMO_BUNDLE_ID, DEMO_APP_APPLE_ID
    )

    def apple_full(signed: str) -> None:
        notification = apple.verify_and_decode_notification(signed)
        apple.verify_and_decode_signed_transaction(notification.data.signedTransactionInfo)
        apple.verify_and_decode_renewal_info(notification.data.signedRenewalInfo)

    timings: dict[str, list[float]] = {"ours": [], "apple": [], "apple_full": []}
    for _ in range(args.rounds):
        timings["ours"].append(one_pass(ours.decode_notification, payloads))
        timings["apple"].append(one_pass(apple.verify_and_decode_notification, payloads))
        timings["apple_full"].append(one_pass(apple_full, payloads))
    ours_per_s, apple_per_s, apple_full_per_s = (
        len(payloads) / statistics.median(timings[name]) for name in ("ours", "apple", "apple_full")
    )

    figures = {
        "notifications": len(payloads),
        "ours_per_s": round(ours_per_s),
        "apple_decode_per_s": round(apple_per_s),
        "apple_full_per_s": round(apple_full_per_s),
        "ratio_vs_apple_full": round(ours_per_s / apple_full_per_s, 2),
    }
    print(f"notifications decoded per second (median of {args.rounds} rounds):")
    print(f"  ours, all three JWS verified                 {figures['ours_per_s']:>8}")
    print(f"  Apple's verify_and_decode_notification alone  {figures['apple_decode_per_s']:>8}")
    print(f"  Apple's, with transaction and renewal info    {figures['apple_full_per_s']:>8}")
    print(f"  ours / Apple's same work {figures['ratio_vs_apple_full']}x")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
