"""Tasks per second through `manage.py db_worker` on PostgreSQL, with 1 and with 4 workers.

Two kinds of task: a no-op (the queue's own cost: claim with SELECT ... FOR UPDATE SKIP LOCKED,
mark running, mark done) and the real check of a timed-out link (`check_token_change`: Get
Transaction History from the App Store simulator, verify, settle into the audit chain). The
workers start first and idle; then a batch of tasks is committed at once and timed until the
last one has finished. Each figure is the median of several rounds, in a database made for the
run and dropped after it.

    .venv/bin/python benchmarks/tasks_throughput.py [--postgres postgres://postgres@127.0.0.1:5432]
        [--noop 1000] [--settle 200] [--rounds 3]

The last line is JSON: noop_per_s_1, noop_per_s_4, settle_per_s_1, settle_per_s_4.

On this 2-core machine each task costs a handful of round trips to PostgreSQL (claim with
SKIP LOCKED, mark running, mark done, each committed), so commit latency and CPU shared with
PostgreSQL bound the no-op rate; the check adds Get Transaction History, verifying its
signatures, and the settlement's turn on the audit chain head, one at a time by design.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_workers(count: int, environment: dict[str, str], log: Path) -> list[subprocess.Popen]:
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    workers = [
        subprocess.Popen(
            [*command, "--interval", "0.05", "--worker-id", f"bench-{n}"],
            cwd=ROOT,
            env=environment,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )
        for n in range(count)
    ]
    # Ready once each has said it started (Django loaded, queue polled).
    deadline = time.monotonic() + 60
    while log.read_text().count("Starting worker") < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise SystemExit(f"the workers did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def time_batch(enqueue_batch, count: int) -> float:
    """Seconds from committing `count` tasks to the last of them finishing."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    with transaction.atomic():
        enqueue_batch()
    started = time.perf_counter()
    while DBTaskResult.objects.finished().count() < count:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    failed = DBTaskResult.objects.failed().count()
    if failed:
        sample = DBTaskResult.objects.failed().first()
        raise SystemExit(f"{failed} tasks failed, for example:\n{sample.traceback}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--noop", type=int, default=1000, help="no-op tasks per round")
    parser.add_argument(
        "--settle", type=int, default=200, help="checks of a pending link per round"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import psycopg

    database = f"supportdesk_tasks_{os.getpid()}"
    admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory(prefix="supportdesk-tasks-") as tmp:
            results = run(args, f"{args.postgres}/{database}", Path(tmp))
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    order = ["noop_per_s_1", "noop_per_s_4", "settle_per_s_1", "settle_per_s_4"]
    print(json.dumps({key: results[key] for key in order}))


def run(args, database_url: str, workdir: Path) -> dict[str, float]:
    from lookups.simulators.appstore import AppStoreSimulator
    from lookups.simulators.appstore.local import generate_private_key_pem
    from lookups.simulators.demo_data import DEMO_APP_APPLE_ID, DEMO_BUNDLE_ID

    key = generate_private_key_pem().decode("ascii")
    simulator = AppStoreSimulator(
        bearer_public_key=key,
        issuer_id="57246542-96fe-1a63-e053-0824d011072a",
        key_id="BENCHKEY01",
        bundle_id=DEMO_BUNDLE_ID,
        app_apple_id=DEMO_APP_APPLE_ID,
        environment="Production",
        # The desk is measured here, not Apple's limits.
        rate_limits=False,
    )
    simulator.start()
    root = simulator.write_root(workdir / "root.pem")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        "DATABASE_URL": database_url,
        "APPSTORE_BASE_URL": simulator.url,
        "APPSTORE_PRIVATE_KEY": key,
        "APPSTORE_PRIVATE_KEY_PATH": "",
        "APPSTORE_ROOT_CERTIFICATES": str(root),
        "APPSTORE_ISSUER_ID": "57246542-96fe-1a63-e053-0824d011072a",
        "APPSTORE_KEY_ID": "BENCHKEY01",
        "APPSTORE_BUNDLE_ID": DEMO_BUNDLE_ID,
        "APPSTORE_APP_APPLE_ID": str(DEMO_APP_APPLE_ID),
        "APPSTORE_ENVIRONMENT": "Production",
        # The queue is measured, not Apple's rate limit (history: 50 a second).
        "APPSTORE_RATE_LIMITS": "lookup=10000,set_token=10000,history=10000",
        "ADAPTY_SECRET_KEY": "",
        "SWEEP_INTERVAL_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(environment)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from benchmarks.noop_task import noop
    from lookups import tasks
    from lookups.models import CustomerAccount, TokenChange, TokenChangeFollowUp

    call_command("migrate", interactive=False, verbosity=0)
    agent = User.objects.create(username="bench-agent")
    account = CustomerAccount.objects.create(external_id="bench-1", email="b@example.com")
    purchases = [
        simulator.store.add_order(f"BENCH{n:05d}", 1)[0]
        for n in range(args.settle * args.rounds * 2)
    ]
    spare = iter(purchases)

    def enqueue_noops() -> None:
        for _ in range(args.noop):
            noop.enqueue()

    def enqueue_checks() -> None:
        # Pending changes whose check is due; Apple never carried them out, so each settles failed.
        now = timezone.now()
        changes = TokenChange.objects.bulk_create(
            TokenChange(
                request_id=uuid.uuid4(),
                agent=agent,
                account=account,
                original_transaction_id=next(spare),
                product_id="com.example.pro.monthly",
                environment="Production",
                token_after=account.app_account_token,
                ticket_reference="BENCH",
            )
            for _ in range(args.settle)
        )
        TokenChangeFollowUp.objects.bulk_create(
            TokenChangeFollowUp(token_change=change, next_check_at=now) for change in changes
        )
        for change in changes:
            tasks.check_token_change.enqueue(token_change_id=change.pk)

    results: dict[str, float] = {}
    print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    for count in (1, 4):
        log = workdir / f"workers-{count}.log"
        workers = start_workers(count, environment, log)
        try:
            for name, enqueue, size in (
                ("noop", enqueue_noops, args.noop),
                ("settle", enqueue_checks, args.settle),
            ):
                rates = [size / time_batch(enqueue, size) for _ in range(args.rounds)]
                results[f"{name}_per_s_{count}"] = round(statistics.median(rates), 1)
                print(
                    f"{name:>6} x{size} with {count} worker(s): "
                    + ", ".join(f"{rate:.0f}/s" for rate in rates)
                    + f" (median {statistics.median(rates):.0f}/s)",
                    flush=True,
                )
        finally:
            stop_workers(workers)
    settled = TokenChange.objects.exclude(outcome=TokenChange.Outcome.PENDING).count()
    print(f"settled {settled} token changes into the audit chain", flush=True)
    # On a shared machine the figures move with the load: say what it was.
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()), flush=True)
    simulator.stop()
    return results


if __name__ == "__main__":
    main()
