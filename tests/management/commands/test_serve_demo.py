"""manage.py serve_demo, as make run starts it: the desk, both simulators and a worker on nothing
but SUPPORTDESK_LOCAL=true; the worker starts once the first page has been served."""

from __future__ import annotations

import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests
from django.test import Client

from lookups.management.commands.serve_demo import _AfterFirstPage
from lookups.management.kept_process import KeptProcess
from lookups.services.demo_accounts import DEMO_USERS
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.manage_process import free_port, manage


@pytest.fixture
def serve_demo(tmp_path: Path) -> Iterator[str]:
    """`make run` in its own process: serve_demo --prepare (migrate, setup_demo), on free ports."""
    port = free_port()
    environment = {
        "SUPPORTDESK_LOCAL": "true",
        # Everything else as local mode has it, but kept out of this clone's own demo.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "APPSTORE_PRIVATE_KEY_PATH": str(tmp_path / "appstore-local-key.p8"),
        "APPSTORE_ROOT_CERTIFICATES": str(tmp_path / "appstore-simulator-root.pem"),
        "APPSTORE_SIMULATOR_PORT": str(free_port()),
        "ADAPTY_SIMULATOR_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",  # its log as it is written, for the test to read
    }
    log = (tmp_path / "serve_demo.log").open("w")
    server = manage(
        "serve_demo",
        "--prepare",
        "--port",
        str(port),
        environment=environment,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + 180  # migrating and the demo's data come first
        while True:
            assert server.poll() is None, (tmp_path / "serve_demo.log").read_text()
            try:
                requests.get(f"{url}/login/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < give_up, "serve_demo never answered"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def demo_lookups(database: Path) -> int:
    with closing(sqlite3.connect(database)) as demo:
        found = demo.execute("SELECT count(*) FROM lookups_lookup WHERE order_id LIKE 'DEMO%'")
        return found.fetchone()[0]


def test_make_run_serves_the_demo_with_nothing_but_local_mode(serve_demo, tmp_path):
    session = requests.Session()
    login = session.get(f"{serve_demo}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    username, password, _, _ = DEMO_USERS[0]
    signed_in = session.post(
        f"{serve_demo}/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token},
        timeout=10,
    )
    assert signed_in.status_code == 200 and "/login/" not in signed_in.url

    page = session.get(f"{serve_demo}/orders/", params={"order_id": ORDER_OFFER_CODE}, timeout=30)

    # Apple's answer came from the local simulator, signed by a chain the desk trusts.
    assert page.status_code == 200
    assert "Offer code" in page.text and "Not linked" in page.text
    assert "Not verified" not in page.text and "failed signature verification" not in page.text

    # A new SQLite database is loaded whole rather than migrated step by step.
    assert "New SQLite database: loaded whole" in (tmp_path / "serve_demo.log").read_text()
    # The weeks of demo activity for the reports come from the background worker, which starts
    # once the first page has been served.
    give_up = time.monotonic() + 120
    while not demo_lookups(tmp_path / "demo.sqlite3"):
        assert time.monotonic() < give_up, "the worker never made the demo activity"
        time.sleep(0.5)


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
