"""App Store notifications accepted per second by the desk's endpoint, and applied per second.

What runs, all on this machine:
- gunicorn (`gunicorn supportdesk.wsgi`, gunicorn.conf.py: 4 gthread workers) with production
  settings (DEBUG off, plain HTTP) on a PostgreSQL database this script creates, migrates and
  drops;
- in this process, senders that POST `{"signedPayload": ...}` to `/appstore/notifications/`
  over keep-alive connections, --senders at once, as fast as the answers come. The payloads are
  the App Store simulator's, signed with its chain (a signed transaction and renewal info inside
  each), one per notification UUID, spread over --purchases subscriptions; each answer is timed
  from the request's first byte to the answer's last;
- `manage.py db_worker` processes (--workers), which apply the stored notifications.

The run, in order:
1. Ingest: --rounds bursts of --notifications each, no worker running, so the endpoint has the
   machine to itself; each round's rate and p50/p99 are kept and the median round counts.
   Before each burst, the anchor: Apple's `SignedDataVerifier.verify_and_decode_notification`
   alone, in this process, on the first 500 of the burst's payloads (it verifies the outer JWS
   and its whole chain each time; the desk verifies the notification's signature against a chain
   it checked once, checks the transaction and renewal info inside (their chain, app and
   environment; the notification's signature covers their bytes), then stores). Side by side,
   so a busy moment on this shared machine hits both; `ingest_vs_apple_decode` is the ratio of
   the medians.
2. Processing: the workers start on the backlog of stored notifications;
   `process_per_s` = notifications applied / (last applied - first applier's start).
3. A burst with the workers running: one worker is killed (SIGKILL) while it is applying
   notifications, another is started in its place, and once the queue is empty the sweep (the
   desk's recovery for work a dead worker left) runs with no grace period and its tasks finish.
   `lost` counts every notification answered 200 but not stored, plus every stored one still not
   applied; `errors` counts answers other than 200.

    .venv/bin/python benchmarks/notifications_ingest.py [--notifications 1000] [--rounds 3]
        [--senders 16] [--workers 2] [--purchases 400] [--port 0]
        [--postgres postgres://postgres@127.0.0.1:5432] [--database-prefix supportdesk_ingest]
        [--desk PATH]

`--desk` serves another checkout's desk (an earlier commit, unpacked beside this one, with its
.venv) with this script, to compare two commits in alternate runs.

The stack's limit, in the same run: right after each burst, the same bodies go to a bare Django
view on the same gunicorn and PostgreSQL (supportdesk/stack_limit.py, mounted only because this
script sets BENCHMARK_STACK_LIMIT) that reads the body and inserts one row; the median round is
`stack_limit_per_s`, and `ingest_vs_stack_limit` = ingest_per_s / stack_limit_per_s.

The last line is JSON: ingest_per_s, ingest_p50_ms, ingest_p99_ms, process_per_s,
apple_decode_per_s, lost, errors, ingest_vs_apple_decode, stack_limit_per_s,
stack_limit_p99_ms, ingest_vs_stack_limit, stack_limit_errors, and the burst with workers running
(with_workers_per_s, with_workers_p99_ms, killed_mid_task: whether the killed worker was caught
running a task).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appstoreserverlibrary.models.Environment import Environment  # noqa: E402
from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from benchmarks.processes import (  # noqa: E402
    desk_option,
    free_port,
    production_settings,
    start_gunicorn,
    stop,
)
from lookups.simulators.appstore import AppStoreSimulator  # noqa: E402
from lookups.simulators.appstore.local import generate_private_key_pem  # noqa: E402
from lookups.simulators.demo_data import DEMO_APP_APPLE_ID, DEMO_BUNDLE_ID  # noqa: E402

PATH = "/appstore/notifications/"
# The bare endpoint on the same gunicorn and PostgreSQL (supportdesk/stack_limit.py).
STACK_LIMIT_PATH = "/benchmark/stack-limit/"
KINDS = [("DID_RENEW", None), ("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED")]
WORKER_COMMAND = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
APPLE_SAMPLE = 500  # of each burst's payloads, decoded by Apple's verifier before the burst


# --- the payloads ------------------------------------------------------------------------------


def make_simulator() -> AppStoreSimulator:
    # Not started: signing and keeping notifications needs no server and no notification URL.
    return AppStoreSimulator(
        bearer_public_key=generate_private_key_pem(),
        issuer_id="ingest-bench",
        key_id="INGEST",
        bundle_id=DEMO_BUNDLE_ID,
        app_apple_id=DEMO_APP_APPLE_ID,
        environment="Production",
        # The desk is measured here, not Apple's limits.
        rate_limits=False,
    )


def sign_bodies(simulator: AppStoreSimulator, purchases: list[str], count: int) -> list[bytes]:
    """`count` request bodies, each a new notification about one of `purchases`, in turn."""
    bodies = []
    for n in range(count):
        notification_type, subtype = KINDS[n % len(KINDS)]
        sent = simulator.emit_notification(
            notification_type, subtype, transaction_id=purchases[n % len(purchases)]
        )
        bodies.append(json.dumps({"signedPayload": sent.signed_payload}).encode())
    return bodies


def apple_verifier(simulator: AppStoreSimulator) -> SignedDataVerifier:
    root = simulator.chain.root.public_bytes(serialization.Encoding.DER)
    return SignedDataVerifier(
        [root], False, Environment.PRODUCTION, DEMO_BUNDLE_ID, DEMO_APP_APPLE_ID
    )


def apple_decode_rate(apple: SignedDataVerifier, bodies: list[bytes]) -> float:
    """Notifications a second through Apple's verify_and_decode_notification, on `bodies`."""
    payloads = [json.loads(body)["signedPayload"] for body in bodies[:APPLE_SAMPLE]]
    started = time.perf_counter()
    for signed in payloads:
        apple.verify_and_decode_notification(signed)
    return len(payloads) / (time.perf_counter() - started)


# --- the senders -------------------------------------------------------------------------------


@dataclass
class Burst:
    seconds: float
    latencies_ms: list[float]
    # The answer's status for each body, by its place in the burst.
    answers: dict[int, int]

    @property
    def per_s(self) -> float:
        return len(self.answers) / self.seconds

    @property
    def errors(self) -> int:
        return sum(1 for status in self.answers.values() if status != 200)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _post(reader, writer, port: int, body: bytes, path: str) -> int:
    writer.write(
        b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path.encode(), port)
        + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.lower(): value
        for name, _, value in (line.partition(": ") for line in lines[1:])
        if value
    }
    if "content-length" not in headers:
        raise SystemExit(f"the desk answered without Content-Length: {head!r}")
    await reader.readexactly(int(headers["content-length"]))
    return status


async def _sender(port: int, queue: list[tuple[int, bytes]], results: Burst, path: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue:
            index, body = queue.pop()
            started = time.perf_counter()
            try:
                status = await _post(reader, writer, port, body, path)
            except (asyncio.IncompleteReadError, ConnectionError):
                # gunicorn closed the idle keep-alive connection: open another, send again.
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                started = time.perf_counter()
                status = await _post(reader, writer, port, body, path)
            results.latencies_ms.append((time.perf_counter() - started) * 1000)
            results.answers[index] = status
    finally:
        writer.close()


def send_burst(port: int, bodies: list[bytes], senders: int, path: str = PATH) -> Burst:
    """POST every body, `senders` at a time, each sender on its own keep-alive connection."""

    async def burst() -> Burst:
        queue = list(reversed(list(enumerate(bodies))))
        results = Burst(0.0, [], {})
        started = time.perf_counter()
        await asyncio.gather(*(_sender(port, queue, results, path) for _ in range(senders)))
        results.seconds = time.perf_counter() - started
        return results

    return asyncio.run(burst())


def accepted_uuids(bodies: list[bytes], burst: Burst) -> list[str]:
    """The notification UUIDs the desk answered 200 for: it must have stored each of them."""
    return [uuid_of(body) for index, body in enumerate(bodies) if burst.answers.get(index) == 200]


def uuid_of(body: bytes) -> str:
    payload = json.loads(body)["signedPayload"].split(".")[1]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(decoded)["notificationUUID"]


# --- the desk ----------------------------------------------------------------------------------


def desk_environment(database_url: str, root_path: Path, key_pem: str) -> dict[str, str]:
    return {
        **production_settings(database_url),
        "CACHE_URL": "locmemcache://notifications-ingest",
        "APPSTORE_BASE_URL": "http://127.0.0.1:9",  # never called: notifications come to us
        "APPSTORE_PRIVATE_KEY": key_pem,
        "APPSTORE_PRIVATE_KEY_PATH": "",
        "APPSTORE_ROOT_CERTIFICATES": str(root_path),
        "APPSTORE_ISSUER_ID": "ingest-bench",
        "APPSTORE_KEY_ID": "INGEST",
        "APPSTORE_BUNDLE_ID": DEMO_BUNDLE_ID,
        "APPSTORE_APP_APPLE_ID": str(DEMO_APP_APPLE_ID),
        "APPSTORE_ENVIRONMENT": "Production",
        # The simulator's certificates name no OCSP responder; Apple's answers are kept per chain
        # while valid, so in production they cost nothing per notification either.
        "APPSTORE_ONLINE_CHECKS": "false",
        "ADAPTY_SECRET_KEY": "",
        # The workers' own sweep stays out of the way; this script runs one when it is time.
        "SWEEP_INTERVAL_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
        "BENCHMARK_STACK_LIMIT": "true",
    }


def start_worker(name: str, log: Path, desk: Path = ROOT) -> subprocess.Popen:
    before = log.read_text().count("Starting worker") if log.exists() else 0
    worker = subprocess.Popen(
        [*WORKER_COMMAND, "--interval", "0.05", "--worker-id", name],
        cwd=desk,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while log.read_text().count("Starting worker") <= before:
        if time.monotonic() > deadline or worker.poll() is not None:
            raise SystemExit(f"worker {name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    return worker


# --- counting, in this process (Django set up on the same database) -----------------------------


def processing_tasks():
    from django_tasks_db.models import DBTaskResult

    from lookups import tasks

    return DBTaskResult.objects.filter(task_path=tasks.apply_notifications.module_path)


def wait_until_queue_empty(dead_workers: frozenset[str] = frozenset(), timeout=600.0) -> None:
    """Until no task waits and none runs, but those a killed worker will never finish."""
    from django.tasks import TaskResultStatus

    deadline = time.monotonic() + timeout
    while True:
        waiting = processing_tasks().filter(status=TaskResultStatus.READY).exists()
        running = [
            result.worker_ids
            for result in processing_tasks().filter(status=TaskResultStatus.RUNNING)
        ]
        if not waiting and all(dead_workers.intersection(ids) for ids in running):
            return
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not finish the queue in time")
        time.sleep(0.05)


def process_rate() -> tuple[int, float]:
    """Notifications applied, and their rate from the first applier's start to the last applied.

    One applier task applies every notification waiting, so the rate is of notifications, not
    of tasks.
    """
    from django.db.models import Max, Min

    from lookups.models import AppStoreNotification

    started = processing_tasks().aggregate(first=Min("started_at"))["first"]
    applied = AppStoreNotification.objects.exclude(state=AppStoreNotification.State.RECEIVED)
    last = applied.aggregate(last=Max("processed_at"))["last"]
    count = applied.count()
    return count, count / (last - started).total_seconds()


def failed_tasks() -> list[str]:
    """Tracebacks of failed tasks, but the one the sweep marked for the killed worker."""
    from django.tasks import TaskResultStatus

    failed = processing_tasks().filter(status=TaskResultStatus.FAILED)
    return [result.traceback for result in failed if "WorkerLost" not in result.traceback]


def recovery_sweep() -> dict[str, int]:
    """The desk's sweep, taking over at once what a dead worker left (no grace period)."""
    from django.test import override_settings

    from lookups.services import sweeping

    with override_settings(SWEEP_OVERDUE_SECONDS=0, TASKS_ABANDONED_AFTER_SECONDS=0):
        return dict(sweeping.sweep())


def count_lost(accepted: list[str]) -> tuple[int, int]:
    """(answered 200 but not stored, stored but not applied)."""
    from lookups.models import AppStoreNotification

    stored = set(
        AppStoreNotification.objects.filter(notification_uuid__in=accepted).values_list(
            "notification_uuid", flat=True
        )
    )
    unapplied = AppStoreNotification.objects.filter(
        state=AppStoreNotification.State.RECEIVED
    ).count()
    return len(set(accepted) - stored), unapplied


def describe(name: str, burst: Burst) -> None:
    print(
        f"  {name:<34} {len(burst.answers):>6} in {burst.seconds:6.2f} s"
        f" {burst.per_s:>7.0f}/s  p50 {burst.percentile_ms(0.5):6.1f} ms"
        f"  p99 {burst.percentile_ms(0.99):6.1f} ms",
        flush=True,
    )


# --- the run -----------------------------------------------------------------------------------


def run(args, database_url: str, workdir: Path) -> dict:
    simulator = make_simulator()
    purchases = [simulator.store.add_order(f"INGEST{n:05d}", 1)[0] for n in range(args.purchases)]
    batches = [
        sign_bodies(simulator, purchases, args.notifications) for _ in range(args.rounds + 1)
    ]
    warm_up = sign_bodies(simulator, purchases, 8 * args.senders)
    print(f"signed {sum(map(len, batches)) + len(warm_up)} notifications", flush=True)

    apple = apple_verifier(simulator)

    key_pem = generate_private_key_pem().decode("ascii")
    environment = desk_environment(
        database_url, simulator.write_root(workdir / "root.pem"), key_pem
    )
    os.environ.update(environment)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    from django.db import connection

    from supportdesk.stack_limit import CREATE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    connections.close_all()

    port = args.port or free_port()
    server = start_gunicorn(port, workdir / "gunicorn.log", "--workers", "4", desk=args.desk)
    workers: list[subprocess.Popen] = []
    log = workdir / "workers.log"
    try:
        # Every gunicorn worker loads the desk and trusts the chain before the clock starts.
        send_burst(port, warm_up, args.senders)
        send_burst(port, warm_up, args.senders, STACK_LIMIT_PATH)
        accepted = [uuid_of(body) for body in warm_up]
        print(f"ingest, {args.senders} senders, no worker running; Apple's decoding:", flush=True)
        rounds, apple_rates, bare_rounds = [], [], []
        for batch in batches[:-1]:
            # Side by side: Apple's decoding of the burst's payloads, then the burst itself.
            apple_rates.append(apple_decode_rate(apple, batch))
            print(f"  {'Apple verify_and_decode_notification':<34} {apple_rates[-1]:>32.0f}/s")
            burst = send_burst(port, batch, args.senders)
            describe("burst", burst)
            accepted += accepted_uuids(batch, burst)
            rounds.append(burst)
            # The stack's limit: the same bodies to the bare endpoint, right after.
            bare_rounds.append(send_burst(port, batch, args.senders, STACK_LIMIT_PATH))
            describe("bare view (stack limit)", bare_rounds[-1])
        apple_per_s = statistics.median(apple_rates)

        print(f"processing the backlog with {args.workers} worker(s):", flush=True)
        workers = [start_worker(f"ingest-{n}", log, args.desk) for n in range(args.workers)]
        wait_until_queue_empty()
        processed, process_per_s = process_rate()
        print(f"  {processed} applied, {process_per_s:.0f}/s", flush=True)

        print("a burst with the workers running; one is killed mid-burst:", flush=True)
        burst, victim, mid_task = burst_with_a_worker_killed(port, batches[-1], args, workers, log)
        with_workers = burst
        describe("burst, workers running", burst)
        accepted += accepted_uuids(batches[-1], burst)
        when = "while it ran a task" if mid_task else "(it held no task at that moment)"
        print(f"  killed worker {victim} (SIGKILL) {when}, started another", flush=True)
        dead = frozenset({victim})
        wait_until_queue_empty(dead)
        swept = recovery_sweep()
        print(f"  recovery sweep: {swept or 'nothing left behind'}", flush=True)
        wait_until_queue_empty(dead)
        not_stored, unapplied = count_lost(accepted)
        print(
            f"  sent and answered 200: {len(accepted)}; not stored: {not_stored};"
            f" stored but not applied: {unapplied}",
            flush=True,
        )
        if problems := failed_tasks():
            print(f"  {len(problems)} failed task(s), for example:\n{problems[0]}")
    finally:
        for worker in workers:
            stop(worker)
        stop(server)
        from django.db import connections

        connections.close_all()

    errors = sum(burst.errors for burst in rounds) + with_workers.errors
    ingest_per_s = statistics.median(burst.per_s for burst in rounds)
    stack_limit_per_s = statistics.median(burst.per_s for burst in bare_rounds)
    return {
        "desk": str(args.desk),
        "ingest_per_s": round(ingest_per_s),
        "ingest_p50_ms": round(statistics.median(b.percentile_ms(0.5) for b in rounds), 1),
        "ingest_p99_ms": round(statistics.median(b.percentile_ms(0.99) for b in rounds), 1),
        "process_per_s": round(process_per_s),
        "apple_decode_per_s": round(apple_per_s),
        "lost": not_stored + unapplied,
        "errors": errors,
        "ingest_vs_apple_decode": round(ingest_per_s / apple_per_s, 2),
        "stack_limit_per_s": round(stack_limit_per_s),
        "stack_limit_p99_ms": round(
            statistics.median(b.percentile_ms(0.99) for b in bare_rounds), 1
        ),
        "ingest_vs_stack_limit": round(ingest_per_s / stack_limit_per_s, 2),
        "stack_limit_errors": sum(burst.errors for burst in bare_rounds),
        "with_workers_per_s": round(with_workers.per_s),
        "with_workers_p99_ms": round(with_workers.percentile_ms(0.99), 1),
        "killed_mid_task": mid_task,
    }


def burst_with_a_worker_killed(
    port: int, bodies: list[bytes], args, workers: list[subprocess.Popen], log: Path
) -> tuple[Burst, str, bool]:
    """Send `bodies` while the workers apply them; SIGKILL one in the middle of a task.

    Returns the burst, the killed worker's ID, and whether it was caught running a task.
    """
    import threading

    from django.db import connections
    from django.tasks import TaskResultStatus

    from lookups.models import AppStoreNotification

    victim, victim_id = workers.pop(0), "ingest-0"
    caught_running = threading.Event()
    done = threading.Event()

    def applied() -> int:
        return AppStoreNotification.objects.exclude(
            state=AppStoreNotification.State.RECEIVED
        ).count()

    def kill_mid_task() -> None:
        try:
            deadline = time.monotonic() + 60
            # A third of the way through the burst's share, then the moment it holds a task.
            target = applied() + len(bodies) // 3
            while applied() < target and time.monotonic() < deadline:
                time.sleep(0.02)
            running = processing_tasks().filter(status=TaskResultStatus.RUNNING)
            while time.monotonic() < deadline:
                if any(victim_id in result.worker_ids for result in running):
                    caught_running.set()
                    break
                time.sleep(0.002)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            workers.append(start_worker("ingest-replacement", log, args.desk))
        finally:
            connections.close_all()
            done.set()

    watcher = threading.Thread(target=kill_mid_task, daemon=True)
    watcher.start()
    burst = send_burst(port, bodies, args.senders)
    done.wait(timeout=180)
    return burst, victim_id, caught_running.is_set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=1000, help="per burst")
    parser.add_argument("--rounds", type=int, default=3, help="ingest bursts with no worker")
    parser.add_argument("--senders", type=int, default=16, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--purchases", type=int, default=400, help="subscriptions notified about")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: a free one)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--database-prefix",
        default="supportdesk_ingest",
        help="the run's PostgreSQL database is named PREFIX_<pid>, created and dropped by the run",
    )
    desk_option(parser)
    args = parser.parse_args()

    import psycopg

    database = f"{args.database_prefix}_{os.getpid()}"
    admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory(prefix="supportdesk-ingest-") as tmp:
            figures = run(args, f"{args.postgres}/{database}", Path(tmp))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
    load_after = os.getloadavg()
    print(
        f"ingest {figures['ingest_per_s']}/s (p99 {figures['ingest_p99_ms']} ms) ="
        f" {figures['ingest_vs_apple_decode']}x Apple's decoding alone; applied"
        f" {figures['process_per_s']}/s; lost {figures['lost']}"
    )
    # On a shared machine the figures move with the load: say what it was.
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
