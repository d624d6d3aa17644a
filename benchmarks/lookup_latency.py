"""One order lookup, end to end at the service level: ours against Apple's own library.

Ours is `services.looking_up.look_up_order(agent, order_id)`: Look Up Order ID over HTTP, every
signed transaction verified and decoded, the customer accounts their tokens point to fetched, the
purchase picture updated, and the `Lookup` row written; since the lookup shows Apple's status of
each subscription, it also reads Get All Subscription Statuses (in a thread, alongside the
verification) whenever the order holds one, as every order here does. Apple's is
`app-store-server-library`: `look_up_order_id(order_id)`, then
`SignedDataVerifier.verify_and_decode_signed_transaction` on every transaction, and no database at
all. Both ask the same simulator, for orders of 1, 20 and 100 transactions. The simulator runs in
a process of its own, on a free port with a key made for the run, as Apple is another machine: in
this process its threads would take turns with the caller's for Python's interpreter lock. Calls
alternate (ours, Apple's, ours, ...) so a busy moment on the machine hits both alike; the median
and the 95th percentile count.

    .venv/bin/python benchmarks/lookup_latency.py [--iterations 50] [--iterations-100 20]
        [--iterations-apps 80] [--profile 20]

Django runs with production settings (DEBUG off) on a throwaway SQLite file and the local-memory
cache. The last line is JSON: ours_median_ms_N, apple_median_ms_N and ratio_N for N in 1, 20, 100.

With the status read (20 transactions), so that both sides make the same two calls: ours is the
same service call, checked to have written Apple's status onto the purchase; Apple's is its client
and `SignedDataVerifier` making the two calls one after the other and verifying the same tokens
(the statuses' signed transaction and renewal info too). Keys: ours_median_ms_20_with_status,
apple_median_ms_20_with_status, ratio_20_with_status.

Across apps: the same order of 20 looked up by `look_up_order_in_apps` for an agent limited to
one app, and for one who sees three (the simulator serves two more apps of the team, which answer
"no such order"), interleaved. Keys: one_app_median_ms_20, three_apps_median_ms_20 and
ratio_3_apps_vs_1 (three over one; the target is 1.3 or less).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appstoreserverlibrary.api_client import AppStoreServerAPIClient
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.appstore.local import generate_private_key_pem
from lookups.simulators.demo_data import DEMO_APP_APPLE_ID, DEMO_BUNDLE_ID

ISSUER_ID = "5c1f0e4b-7a59-4d0b-9b3e-bench0000001"
KEY_ID = "BENCHKEY01"
SIZES = (1, 20, 100)
STATUS_ORDER, STATUS_SIZE = "STATUS0020", 20


class AppleClientForSimulator(AppStoreServerAPIClient):
    """Apple's client, unchanged but for where it sends requests.

    The library has no base-URL parameter: its constructor picks a host from the environment and
    keeps it in `_base_url`, which `_get_full_url` prefixes to every path. Replacing that one
    attribute after construction points every request at the simulator and leaves the rest of
    the library (a fresh connection and a newly signed token per call, no `iat` claim) as it is.
    """

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._base_url = base_url


OTHER_APPS = ("com.example.bench.second", "com.example.bench.third")


def serve_simulator(key_pem: str, orders: dict[str, int], connection) -> None:
    """In its own process: the simulator with `orders` added, serving until told to stop.

    Sends back its URL, its root certificate (DER) and each order's original transaction IDs.
    """
    simulator = AppStoreSimulator(
        bearer_public_key=key_pem,
        issuer_id=ISSUER_ID,
        key_id=KEY_ID,
        bundle_id=DEMO_BUNDLE_ID,
        app_apple_id=DEMO_APP_APPLE_ID,
        # The desk is measured here, not Apple's limits.
        rate_limits=False,
    )
    # Two more apps of the same team, with no purchases: an order is asked of all three.
    for bundle_id in OTHER_APPS:
        simulator.add_app(
            bundle_id=bundle_id,
            app_apple_id=None,
            bearer_public_key=key_pem,
            issuer_id=ISSUER_ID,
            key_id=KEY_ID,
            demo_data=lambda store, now_ms: None,
        )
    originals = {order_id: simulator.add_order(order_id, size) for order_id, size in orders.items()}
    with simulator:
        root = simulator.chain.root.public_bytes(serialization.Encoding.DER)
        connection.send((simulator.url, root, originals))
        connection.recv()


def start_simulator(key_pem: str, orders: dict[str, int]):
    """The simulator's process, its URL, root certificate and each order's original IDs."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve_simulator, args=(key_pem, orders, theirs), daemon=True)
    process.start()
    if not ours.poll(60):
        raise SystemExit("the simulator did not start within a minute")
    url, root, originals = ours.recv()
    return process, ours, url, root, originals


def configure_django(simulator_url: str, root_der: bytes, key_pem: str, workdir: Path) -> None:
    root_path = workdir / "simulator-root.pem"
    root_path.write_bytes(
        x509.load_der_x509_certificate(root_der).public_bytes(serialization.Encoding.PEM)
    )
    os.environ.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        DEBUG="false",
        SECRET_KEY="lookup-latency-benchmark-only",
        AUDIT_CHAIN_KEY="lookup-latency-benchmark-only-chain-key",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{workdir / 'benchmark.sqlite3'}",
        CACHE_URL="locmemcache://lookup-latency",
        APPSTORE_BASE_URL=simulator_url,
        APPSTORE_PRIVATE_KEY=key_pem,
        APPSTORE_PRIVATE_KEY_PATH="",
        APPSTORE_ROOT_CERTIFICATES=str(root_path),
        APPSTORE_ISSUER_ID=ISSUER_ID,
        APPSTORE_KEY_ID=KEY_ID,
        APPSTORE_BUNDLE_ID=DEMO_BUNDLE_ID,
        APPSTORE_APP_APPLE_ID=str(DEMO_APP_APPLE_ID),
        APPSTORE_ENVIRONMENT="Production",
        # Apple allows 10 lookups and 50 status reads a second; this measures the desk, so the
        # shared budget must not make calls wait for the next second (every lookup here reads
        # its subscription's status too).
        APPSTORE_RATE_LIMITS="lookup=1000000,set_token=1000000,history=1000000,statuses=1000000",
        LOG_LEVEL="WARNING",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def timed_ms(call: Callable[[], int], expected: int) -> float:
    started = time.perf_counter()
    count = call()
    elapsed = (time.perf_counter() - started) * 1000
    if count != expected:
        raise SystemExit(f"expected {expected} verified transactions, got {count}")
    return elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50, help="for 1 and 20 transactions")
    parser.add_argument("--iterations-100", type=int, default=20, help="for 100 transactions")
    parser.add_argument(
        "--iterations-apps", type=int, default=80, help="for an order across 1 and 3 apps"
    )
    parser.add_argument(
        "--profile", type=int, metavar="N", help="afterwards, profile ours on N transactions"
    )
    args = parser.parse_args()

    key_pem = generate_private_key_pem().decode("ascii")
    orders = {f"BENCH{size:05d}": size for size in SIZES}
    orders[STATUS_ORDER] = STATUS_SIZE
    if args.profile:
        orders[f"PROFILE{args.profile:05d}"] = args.profile
    process, control, url, root, originals = start_simulator(key_pem, orders)
    try:
        with tempfile.TemporaryDirectory(prefix="lookup-latency-") as workdir:
            configure_django(url, root, key_pem, Path(workdir))
            run(args, key_pem, url, root, originals)
    finally:
        control.send("stop")
        process.join(timeout=10)


def run(args, key_pem: str, url: str, root: bytes, originals: dict[str, list[str]]) -> None:
    from django.contrib.auth.models import User

    from lookups.services import looking_up

    agent = User.objects.create(username="benchmark-agent")
    apple_client = AppleClientForSimulator(
        url,
        signing_key=key_pem.encode("ascii"),
        key_id=KEY_ID,
        issuer_id=ISSUER_ID,
        bundle_id=DEMO_BUNDLE_ID,
        environment=Environment.PRODUCTION,
    )
    apple_verifier = SignedDataVerifier(
        root_certificates=[root],
        enable_online_checks=False,
        environment=Environment.PRODUCTION,
        bundle_id=DEMO_BUNDLE_ID,
        app_apple_id=DEMO_APP_APPLE_ID,
    )

    def ours(order_id: str) -> int:
        result = looking_up.look_up_order(agent, order_id)
        return sum(1 for row in result.rows if row.verified)

    def apple(order_id: str) -> int:
        answer = apple_client.look_up_order_id(order_id)
        decoded = [
            apple_verifier.verify_and_decode_signed_transaction(signed)
            for signed in answer.signedTransactions or []
        ]
        return len(decoded)

    figures: dict[str, float] = {}
    print(f"one order lookup, service level, ms (interleaved; simulator at {url}):")
    print(
        f"  {'N':>4} {'runs':>5} {'ours p50':>9} {'ours p95':>9} {'Apple p50':>10}"
        f" {'Apple p95':>10} {'ratio':>6}"
    )
    for size in SIZES:
        order_id = f"BENCH{size:05d}"
        for _ in range(3):  # warm: bearer token, trusted chain, connections, caches
            ours(order_id)
            apple(order_id)
        runs = args.iterations_100 if size == 100 else args.iterations
        timings: dict[str, list[float]] = {"ours": [], "apple": []}
        for _ in range(runs):
            timings["ours"].append(timed_ms(lambda o=order_id: ours(o), size))
            timings["apple"].append(timed_ms(lambda o=order_id: apple(o), size))
        ours_median = statistics.median(timings["ours"])
        apple_median = statistics.median(timings["apple"])
        ours_p95 = percentile(timings["ours"], 0.95)
        apple_p95 = percentile(timings["apple"], 0.95)
        ratio = round(apple_median / ours_median, 2)
        figures[f"ours_median_ms_{size}"] = round(ours_median, 2)
        figures[f"apple_median_ms_{size}"] = round(apple_median, 2)
        figures[f"ratio_{size}"] = ratio
        figures[f"ours_p95_ms_{size}"] = round(ours_p95, 2)
        figures[f"apple_p95_ms_{size}"] = round(apple_p95, 2)
        print(
            f"  {size:>4} {runs:>5} {ours_median:>9.2f} {ours_p95:>9.2f}"
            f" {apple_median:>10.2f} {apple_p95:>10.2f} {ratio:>5}x"
        )
    print("  ratio = Apple's median / ours; ours also writes the Lookup row, Apple's does not.")
    original_id = originals[STATUS_ORDER][0]
    figures.update(with_status(original_id, agent, apple_client, apple_verifier, args))
    figures.update(across_apps(key_pem, args))
    if args.profile:
        profile_ours(ours, args.profile)
    print(json.dumps(figures))


def with_status(
    original_id: str,
    agent,
    apple_client: AppStoreServerAPIClient,
    apple_verifier: SignedDataVerifier,
    args: argparse.Namespace,
) -> dict[str, float]:
    """Look up an order of 20 and read its subscription's status: ours through the desk's
    service (concurrently), Apple's one call after the other; every token verified."""
    from lookups.services import looking_up

    size, order_id = STATUS_SIZE, STATUS_ORDER

    def ours() -> int:
        result = looking_up.look_up_order(agent, order_id)
        purchase = result.purchases.get(original_id)
        if result.status_problem or purchase is None or not purchase.status:
            raise SystemExit(f"the status read did not land: {result.status_problem!r}")
        return sum(1 for row in result.rows if row.verified)

    def apple() -> int:
        answer = apple_client.look_up_order_id(order_id)
        decoded = [
            apple_verifier.verify_and_decode_signed_transaction(signed)
            for signed in answer.signedTransactions or []
        ]
        statuses = apple_client.get_all_subscription_statuses(decoded[0].originalTransactionId)
        for group in statuses.data or []:
            for last in group.lastTransactions or []:
                apple_verifier.verify_and_decode_signed_transaction(last.signedTransactionInfo)
                apple_verifier.verify_and_decode_renewal_info(last.signedRenewalInfo)
        return len(decoded)

    for _ in range(3):
        ours()
        apple()
    timings: dict[str, list[float]] = {"ours": [], "apple": []}
    for _ in range(args.iterations):
        timings["ours"].append(timed_ms(ours, size))
        timings["apple"].append(timed_ms(apple, size))
    ours_median = statistics.median(timings["ours"])
    apple_median = statistics.median(timings["apple"])
    ratio = round(apple_median / ours_median, 2)
    print(
        f"lookup + subscription statuses, {size} transactions, service level, ms: ours p50"
        f" {ours_median:.2f} p95 {percentile(timings['ours'], 0.95):.2f} (concurrent), Apple p50"
        f" {apple_median:.2f} p95 {percentile(timings['apple'], 0.95):.2f}, ratio {ratio}x"
    )
    return {
        "ours_median_ms_20_with_status": round(ours_median, 2),
        "apple_median_ms_20_with_status": round(apple_median, 2),
        "ratio_20_with_status": ratio,
    }


def across_apps(key_pem: str, args) -> dict[str, float]:
    """An order of 20 transactions looked up across 3 apps (two have no such order) vs 1 app."""
    from django.contrib.auth.models import User

    from lookups.models import App
    from lookups.services.apps import desk_apps
    from lookups.services.looking_up import look_up_order_in_apps, shown_lookup

    os.environ["BENCHMARK_P8"] = key_pem
    [first] = desk_apps()
    for bundle_id in OTHER_APPS:
        App.objects.create(
            name=bundle_id,
            bundle_id=bundle_id,
            issuer_id=ISSUER_ID,
            key_id=KEY_ID,
            private_key_source="BENCHMARK_P8",
            rate_limits={"lookup": 1000000, "statuses": 1000000},
        )
    one_app = User.objects.create(username="benchmark-one-app")
    first.limited_agents.add(one_app)
    all_apps = User.objects.create(username="benchmark-all-apps")
    order_id = f"BENCH{20:05d}"

    def lookup(agent) -> int:
        shown = shown_lookup(look_up_order_in_apps(agent, order_id))
        return sum(1 for row in shown.result.rows if row.verified)

    for _ in range(3):
        lookup(one_app)
        lookup(all_apps)
    timings: dict[str, list[float]] = {"one": [], "three": []}
    for _ in range(args.iterations_apps):
        timings["one"].append(timed_ms(lambda: lookup(one_app), 20))
        timings["three"].append(timed_ms(lambda: lookup(all_apps), 20))
    one, three = statistics.median(timings["one"]), statistics.median(timings["three"])
    ratio = round(three / one, 2)
    print(
        f"an order of 20 across apps, ms: 1 app p50 {one:.2f}, 3 apps p50 {three:.2f}"
        f" (p95 {percentile(timings['three'], 0.95):.2f}), ratio {ratio} (target 1.3 or less)"
    )
    return {
        "one_app_median_ms_20": round(one, 2),
        "three_apps_median_ms_20": round(three, 2),
        "ratio_3_apps_vs_1": ratio,
    }


def profile_ours(ours: Callable[[str], int], size: int) -> None:
    """Where our lookup spends its time (the simulator, in its own process, is not sampled)."""
    from pyinstrument import Profiler

    order_id = f"PROFILE{size:05d}"
    ours(order_id)
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(30):
            ours(order_id)
    print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()
