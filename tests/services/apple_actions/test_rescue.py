"""A process killed between "pending" and "settled": the sweep settles the action by itself.

For every kind of action: a real process is killed with SIGKILL while Apple holds its call, a
real `db_worker` is started, and the row must settle with no person's help within the call
budget plus the sweep interval (and some slack for the worker to start); then a later action on
the same subject works. PostgreSQL only: the processes share the test database.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.fixtures.cut_off_actions import SCENARIOS
from tests.fixtures.worker_process import (
    PROJECT,
    needs_a_shared_database,
    settled,
    wait_for,
    worker_environment,
    worker_until,
)
from tests.services.test_tasks_worker import quick_tasks  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quick_tasks", "appstore_settings"),
]


@pytest.fixture(autouse=True)
def shared_database() -> None:
    needs_a_shared_database()


def rescue_deadline() -> float:
    """The call budget and margin, the sweep interval, and time for a worker to start."""
    return (
        settings.APPSTORE_CALL_BUDGET_SECONDS
        + settings.TOKEN_CHECK_MARGIN_SECONDS
        + settings.SWEEP_INTERVAL_SECONDS
        + 20
    )


def killed_mid_call(simulator, endpoint: str, code: str, log: Path) -> None:
    """Run `code` in a desk process, and SIGKILL it once Apple has the call in hand."""
    seen = len(simulator.requests)
    simulator.inject_fault("slow", endpoint=endpoint, delay_seconds=1.0)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT,
        # The process would wait for Apple's answer far longer than it is given here.
        env=worker_environment(APPSTORE_TIMEOUT_SECONDS="60", APPSTORE_CALL_BUDGET_SECONDS="60"),
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: len(simulator.requests) > seen and _reached(simulator, seen, endpoint),
            seconds=60,
            what=f"the {endpoint} call to reach Apple",
            log=log,
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    time.sleep(1.2)  # Apple finishes the call it was holding; nobody hears the answer.


def settled_by_the_sweep(row, log: Path, **overrides: str) -> None:
    """A worker starts; the row must settle with nobody's help within the rescue deadline."""
    started = time.monotonic()
    worker_until(
        log, settled(row), what=f"the sweep to settle {row}", seconds=rescue_deadline(), **overrides
    )
    assert time.monotonic() - started < rescue_deadline()
    row.refresh_from_db()


def _reached(simulator, seen: int, endpoint: str) -> bool:
    marks = {
        "set_token": "/appAccountToken",
        "extend": "/subscriptions/extend/",
        "consumption": "/transactions/consumption/",
        "mass_extend": "/subscriptions/extend/mass",
        "finish": "/finish",
    }
    mark = marks.get(endpoint, "/transactions/")
    return any(mark in path for _, path in simulator.requests[seen:])


@pytest.mark.parametrize("kind", SCENARIOS)
def test_an_action_cut_off_mid_call_is_settled_by_the_sweep(kind, request, simulator, tmp_path):
    log = tmp_path / "rescue.log"
    scenario = SCENARIOS[kind](request, simulator)
    killed_mid_call(simulator, scenario.endpoint, scenario.code, log)
    cut_off = scenario.row()
    assert cut_off.outcome == "pending"

    settled_by_the_sweep(cut_off, log, **scenario.worker)
    scenario.afterwards(cut_off)
