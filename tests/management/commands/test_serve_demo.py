"""`serve_demo`: its background worker starts once the first page has been served."""

from __future__ import annotations

import sys
import time

import pytest
from django.test import Client

from lookups.management.commands.serve_demo import _AfterFirstPage
from lookups.management.kept_process import KeptProcess


@pytest.fixture
def worker():
    """A real child process standing in for db_worker: it only waits to be stopped."""
    kept = KeptProcess([sys.executable, "-c", "import time; time.sleep(60)"])
    yield kept
    kept.stop(timeout=5)


def started(worker: KeptProcess, within: float) -> bool:
    give_up = time.monotonic() + within
    while worker.starts == 0 and time.monotonic() < give_up:
        time.sleep(0.05)
    return worker.starts == 1


@pytest.mark.django_db
def test_the_worker_waits_for_the_first_page(worker):
    deferred = _AfterFirstPage(worker, at_most=60)
    try:
        assert not started(worker, within=0.5)

        assert Client().get("/login/").status_code == 200

        assert started(worker, within=10)
        assert worker.process.poll() is None
    finally:
        deferred.stop()


def test_the_worker_starts_anyway_when_nobody_asks(worker):
    deferred = _AfterFirstPage(worker, at_most=0.2)
    try:
        assert started(worker, within=10)
    finally:
        deferred.stop()


def test_a_server_stopped_first_never_starts_it(worker):
    deferred = _AfterFirstPage(worker, at_most=0.3)
    deferred.stop()
    assert not started(worker, within=1)
