"""Signed-transaction verification rate: ours, Apple's library, and a bare ECDSA P-256 verify.

All three work on the same 2,000 tokens, signed by the simulator's chain the way Apple signs
(one leaf for many tokens). Each is timed over several rounds; the median round counts. Every
verifier first runs once over all the tokens untimed (its chain checked and cached, its online
answers fetched), and within a round the verifiers take turns on batches of 50 tokens, the
first of each pair changing every batch, so a busy moment on the shared machine falls on all of
them alike instead of on whichever ran during it.

Then both verifiers run again with online checks on (Apple recommends them in production), both
on one set of --tokens tokens of the same shape, signed by a simulator running in a process
of its own (Apple's responder is another machine) whose certificates name its OCSP responder:
both ask the responder about the leaf and the intermediate of the chain once and keep the
answer (Apple's library keeps a checked chain for a while when online checks are on); the run
stops if the responder did not see exactly those four requests.

    .venv/bin/python benchmarks/verify_throughput.py [--tokens 2000] [--rounds 5]

The last line is JSON: ours_per_s, apple_per_s, bare_ecdsa_per_s, ratio_vs_apple, ratio_vs_bare,
ours_online_per_s, apple_online_per_s, ratio_vs_apple_online.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from lookups.appstore import TransactionVerifier
from lookups.appstore.revocation import OnlineChecks
from lookups.simulators.appstore.certificates import SigningChain, make_signing_chain
from lookups.simulators.appstore.local import generate_private_key_pem
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.appstore.signing import sign_jws

BUNDLE_ID = "com.example.supportdesk.demo"
APP_APPLE_ID = 1234567890


def make_tokens(count: int, chain: SigningChain | None = None):
    chain = chain or make_signing_chain()
    now_ms = int(time.time() * 1000)
    tokens = []
    for n in range(count):
        payload = {
            "transactionId": str(2_000_000_000_000_000 + n),
            "originalTransactionId": str(2_000_000_000_000_000 + n - n % 10),
            "webOrderLineItemId": str(3_000_000_000_000_000 + n),
            "bundleId": BUNDLE_ID,
            "productId": "com.example.pro.monthly",
            "subscriptionGroupIdentifier": "21000000",
            "purchaseDate": now_ms - n * 60_000,
            "originalPurchaseDate": now_ms - 86_400_000,
            "expiresDate": now_ms + 2_592_000_000,
            "quantity": 1,
            "type": "Auto-Renewable Subscription",
            "inAppOwnershipType": "PURCHASED",
            "signedDate": now_ms,
            "environment": "Production",
            "transactionReason": "RENEWAL",
            "storefront": "USA",
            "storefrontId": "143441",
            "price": 9990,
            "currency": "USD",
            "appTransactionId": "704000000000000001",
        }
        tokens.append(sign_jws(payload, chain))
    return chain, tokens


def serve_simulator(count: int, connection) -> None:
    """In its own process: a simulator serving OCSP for its chain, and tokens signed by it."""
    simulator = AppStoreSimulator(
        bearer_public_key=generate_private_key_pem(),
        issuer_id="bench",
        key_id="BENCH",
        bundle_id=BUNDLE_ID,
        app_apple_id=APP_APPLE_ID,
        rate_limits=False,
    )
    with simulator:
        _, tokens = make_tokens(count, simulator.chain)
        root = simulator.chain.root.public_bytes(serialization.Encoding.DER)
        connection.send((root, tokens))
        connection.recv()
        connection.send(simulator.ocsp_requests)


def online_figures(count: int, rounds: int) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    ours_end, theirs = context.Pipe()
    process = context.Process(target=serve_simulator, args=(count, theirs), daemon=True)
    process.start()
    try:
        if not ours_end.poll(60):
            raise SystemExit("the simulator did not start within a minute")
        root_der, tokens = ours_end.recv()
        ours = TransactionVerifier(
            [root_der],
            bundle_id=BUNDLE_ID,
            environment="Production",
            app_apple_id=APP_APPLE_ID,
            online_checks=OnlineChecks(),
        )
        apple = SignedDataVerifier(
            [root_der], True, Environment.PRODUCTION, BUNDLE_ID, APP_APPLE_ID
        )
        timings = timed_rounds(
            {"ours": ours.decode_transaction, "apple": apple.verify_and_decode_signed_transaction},
            {"ours": tokens, "apple": tokens},
            rounds,
        )
    finally:
        ours_end.send("stop")
        ocsp_requests = ours_end.recv() if ours_end.poll(10) else None
        process.join(timeout=10)
    if ocsp_requests != 4:
        # Each side asks about the leaf and the intermediate once; otherwise one of them did not
        # check online (or kept asking), and the figures would compare different work.
        raise SystemExit(f"the responder was asked {ocsp_requests} times, not 4")
    ours_per_s, apple_per_s = (
        len(tokens) / statistics.median(timings[name]) for name in ("ours", "apple")
    )
    return {
        "online_tokens": len(tokens),
        "ocsp_requests": ocsp_requests,
        "ours_online_per_s": round(ours_per_s),
        "apple_online_per_s": round(apple_per_s),
        "ratio_vs_apple_online": round(ours_per_s / apple_per_s, 1),
    }


BATCH = 50


def timed_rounds(functions: dict, inputs: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds each function took over all its inputs, per round, after one untimed pass.

    Within a round the functions take turns on batches of BATCH inputs (the same positions for
    all), the order rotating every batch.
    """
    names = list(functions)
    count = len(next(iter(inputs.values())))
    for name in names:
        one_pass(functions[name], inputs[name])
    timings: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        spent = dict.fromkeys(names, 0.0)
        for turn, start in enumerate(range(0, count, BATCH)):
            order = names[turn % len(names) :] + names[: turn % len(names)]
            for name in order:
                spent[name] += one_pass(functions[name], inputs[name][start : start + BATCH])
        for name in names:
            timings[name].append(spent[name])
    return timings


def one_pass(function, items) -> float:
    started = time.perf_counter()
    for item in items:
        function(item)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    chain, tokens = make_tokens(args.tokens)
    root_der = chain.root.public_bytes(serialization.Encoding.DER)

    ours = TransactionVerifier([root_der], bundle_id=BUNDLE_ID, environment="Production")
    apple = SignedDataVerifier([root_der], False, Environment.PRODUCTION, BUNDLE_ID, APP_APPLE_ID)

    leaf_key = chain.leaf.public_key()
    algorithm = ec.ECDSA(hashes.SHA256())
    prepared = []
    for token in tokens:
        signing_input, _, signature = token.rpartition(".")
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        prepared.append((der, signing_input.encode()))

    def bare(item):
        leaf_key.verify(item[0], item[1], algorithm)

    timings = timed_rounds(
        {
            "ours": ours.decode_transaction,
            "bare": bare,
            "apple": apple.verify_and_decode_signed_transaction,
        },
        {"ours": tokens, "bare": prepared, "apple": tokens},
        args.rounds,
    )
    ours_per_s, bare_per_s, apple_per_s = (
        len(tokens) / statistics.median(timings[name]) for name in ("ours", "bare", "apple")
    )

    figures = {
        "tokens": len(tokens),
        "ours_per_s": round(ours_per_s),
        "apple_per_s": round(apple_per_s),
        "bare_ecdsa_per_s": round(bare_per_s),
        "ratio_vs_apple": round(ours_per_s / apple_per_s, 2),
        "ratio_vs_bare": round(ours_per_s / bare_per_s, 3),
        **online_figures(args.tokens, args.rounds),
    }
    print(f"tokens verified per second (median of rounds), {len(tokens)} tokens:")
    print(f"  ours (TransactionVerifier)        {figures['ours_per_s']:>8}")
    print(f"  Apple's SignedDataVerifier         {figures['apple_per_s']:>8}")
    print(f"  bare ECDSA P-256 verify            {figures['bare_ecdsa_per_s']:>8}")
    print(f"  ours / Apple {figures['ratio_vs_apple']}x, ours / bare {figures['ratio_vs_bare']}x")
    print(
        f"with online checks (OCSP), {figures['online_tokens']} tokens, both sides"
        f" ({figures['ocsp_requests']} OCSP requests in all):"
    )
    print(f"  ours (TransactionVerifier)        {figures['ours_online_per_s']:>8}")
    print(f"  Apple's SignedDataVerifier         {figures['apple_online_per_s']:>8}")
    print(f"  ours / Apple {figures['ratio_vs_apple_online']}x")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
