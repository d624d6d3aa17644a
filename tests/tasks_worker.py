"""`manage.py db_worker` in a subprocess against the test database, configured like this test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parent.parent

# What the worker reads from the environment, copied from the test's (possibly changed) settings.
_SETTINGS = [
    "APPSTORE_BASE_URL",
    "APPSTORE_PRIVATE_KEY",
    "APPSTORE_ISSUER_ID",
    "APPSTORE_KEY_ID",
    "APPSTORE_BUNDLE_ID",
    "APPSTORE_APP_APPLE_ID",
    "APPSTORE_ENVIRONMENT",
    "APPSTORE_TIMEOUT_SECONDS",
    "APPSTORE_CALL_BUDGET_SECONDS",
    "ADAPTY_SECRET_KEY",
    "ADAPTY_BASE_URL",
    "ADAPTY_TIMEOUT_SECONDS",
    "ADAPTY_MAX_ATTEMPTS",
    "ADAPTY_DELIVERY_ATTEMPTS",
    "TOKEN_CHECK_MARGIN_SECONDS",
    "TOKEN_CHECK_ATTEMPTS",
    "TASK_RETRY_DELAY_SECONDS",
    "TASK_RETRY_CAP_SECONDS",
    "SWEEP_INTERVAL_SECONDS",
    "SWEEP_OVERDUE_SECONDS",
    "TASKS_ABANDONED_AFTER_SECONDS",
]


def needs_a_shared_database() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "needs a test database another process can open (PostgreSQL); "
            "SQLite's test database lives in this process's memory"
        )


def database_url(database: dict) -> str:
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = f"{database['HOST'] or 'localhost'}:{database['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(database['NAME'], safe='')}"


def worker_environment(**overrides: str) -> dict[str, str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "APPSTORE_PRIVATE_KEY_PATH": "",
        "APPSTORE_ROOT_CERTIFICATES": ",".join(settings.APPSTORE_ROOT_CERTIFICATES),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "LOG_LEVEL": "WARNING",
    }
    for name in _SETTINGS:
        environment[name] = str(getattr(settings, name))
    environment.update(overrides)
    return environment


def start_worker(log: Path, *args: str, **overrides: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.1",
            *args,
        ],
        cwd=PROJECT,
        env=worker_environment(**overrides),
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


@contextmanager
def running_worker(log: Path, *args: str, **overrides: str) -> Iterator[subprocess.Popen]:
    """A worker for the length of the block, stopped (and reaped) however the block ends."""
    worker = start_worker(log, *args, **overrides)
    try:
        yield worker
    finally:
        stop(worker)


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def wait_for(condition: Callable[[], object], *, seconds: float, what: str, log: Path) -> None:
    """Wait until `condition()` holds; fail with the workers' output if it never does."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            output = log.read_text() if log.exists() else ""
            pytest.fail(f"gave up waiting for {what}; the workers said:\n{output[-4000:]}")
        time.sleep(0.1)
