"""The database or Redis gone between "pending" and "settled": the sweep settles the action.

For every kind of action, a desk process makes the call with its database (or its Redis) behind
a TCP relay; once Apple holds the call the relay is cut, so Apple's answer reaches a desk that
cannot write it down. A real `db_worker`, behind the same relay, lives through the outage; the
row must settle with nobody's help within the call budget plus the sweep interval (and slack for
processes to start) once the outage ends, and a later action on the same subject must work.

Shortened times stand for the real ones: the outage lasts OUTAGE_SECONDS instead of a minute,
because what matters is that it outlasts the call budget and its margin (1 s + 1 s here, 20 s
and 30 s in production) and several sweeps (0.5 s here, 60 s in production), and that the
worker retries its connection many times in it (every 0.5 s here, DB_WORKER_RECONNECT_SECONDS).
A minute in production is likewise longer than a call budget and shorter than the worker's
patience (DB_WORKER_OUTAGE_PATIENCE_SECONDS, ten minutes). PostgreSQL only.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.fixtures.cut_off_actions import SCENARIOS, Scenario
from tests.fixtures.database_outage import DatabaseRelay
from tests.fixtures.parallel import redis_url
from tests.fixtures.worker_process import (
    PROJECT,
    database_url,
    needs_a_shared_database,
    running_worker,
    wait_for,
    worker_environment,
)
from tests.services.apple_actions.test_rescue import _reached, rescue_deadline
from tests.services.test_tasks_worker import quick_tasks  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quick_tasks", "appstore_settings"),
]

OUTAGE_SECONDS = 4.0


@pytest.fixture(autouse=True)
def shared_database() -> None:
    needs_a_shared_database()


@dataclass
class Cut:
    """One outage: the relay to cut, and how the desk and the worker reach what it relays."""

    relay: DatabaseRelay
    environment: dict[str, str]


def database_cut() -> Cut:
    database = connection.settings_dict
    relay = DatabaseRelay(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    through = database_url({**database, "HOST": "127.0.0.1", "PORT": relay.port})
    return Cut(relay, {"DATABASE_URL": through, "DB_WORKER_RECONNECT_SECONDS": "0.5"})


def redis_cut() -> Cut:
    # An empty Redis, as after a restart: nothing cached by an earlier test (its simulator's
    # signing key, its bearer token) carries over.
    url = urlsplit(redis_url())
    redis.Redis.from_url(url.geturl()).flushdb()
    relay = DatabaseRelay(url.hostname or "127.0.0.1", url.port or 6379)
    through = url._replace(netloc=f"127.0.0.1:{relay.port}").geturl()
    return Cut(relay, {"CACHE_URL": through})


CUTS = {"database": database_cut, "redis": redis_cut}


@pytest.mark.parametrize("outage", CUTS)
@pytest.mark.parametrize("kind", SCENARIOS)
def test_an_action_cut_off_by_an_outage_is_settled_by_the_sweep(
    kind, outage, request, simulator, tmp_path
):
    log = tmp_path / "outage.log"
    scenario = SCENARIOS[kind](request, simulator)
    cut = CUTS[outage]()
    cut.relay.restore()
    try:
        with running_worker(log, **cut.environment, **scenario.worker):
            wait_for(
                lambda: "Starting worker" in log.read_text(), seconds=60, what="start", log=log
            )
            desk = cut_off_mid_call(simulator, scenario, cut, log)
            row = scenario.row()
            time.sleep(OUTAGE_SECONDS)
            cut.relay.restore()
            restored = time.monotonic()
            wait_for(
                lambda: type(row).objects.get(pk=row.pk).is_settled,
                seconds=rescue_deadline(),
                what=f"the sweep to settle {row} after the {outage} came back",
                log=log,
            )
            assert time.monotonic() - restored < rescue_deadline()
            assert desk.poll() is not None
    finally:
        cut.relay.cut()
    row.refresh_from_db()
    assert settings.APPSTORE_CALL_BUDGET_SECONDS < OUTAGE_SECONDS
    assert row.outcome == "succeeded", f"{row.error_code}: {row.error_message}\n" + log.read_text()
    scenario.afterwards(row)


def cut_off_mid_call(simulator, scenario: Scenario, cut: Cut, log: Path) -> subprocess.Popen:
    """Run the desk's code, and cut the relay once Apple has the call in hand."""
    seen = len(simulator.requests)
    simulator.inject_fault("slow", endpoint=scenario.endpoint, delay_seconds=1.0)
    desk = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", scenario.code],
        cwd=PROJECT,
        # The desk would wait for Apple's answer far longer than it is given here.
        env=worker_environment(
            APPSTORE_TIMEOUT_SECONDS="60", APPSTORE_CALL_BUDGET_SECONDS="60", **cut.environment
        ),
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: _reached(simulator, seen, scenario.endpoint),
            seconds=60,
            what=f"the {scenario.endpoint} call to reach Apple",
            log=log,
        )
    finally:
        cut.relay.cut()
    # Apple finishes the call it was holding; the desk can't write the answer down.
    try:
        desk.wait(timeout=30)
    except subprocess.TimeoutExpired:
        desk.kill()
        desk.wait()
    return desk
