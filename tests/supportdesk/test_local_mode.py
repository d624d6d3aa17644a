"""Local mode: `make run`'s commands on nothing but SUPPORTDESK_LOCAL=true, and the simulators
built from the settings, which the desk then trusts and talks to with nothing else configured."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests
from django.urls import reverse

from lookups.management.local_simulators import adapty_simulator, appstore_simulator
from lookups.models import AdaptyDelivery, CustomerAccount, Lookup, TokenChange
from lookups.services.demo_accounts import DEMO_USERS, create_demo_accounts
from lookups.simulators.demo_data import MAYA, ORDER_OFFER_CODE

ROOT = Path(__file__).resolve().parents[2]
MAYA_ORIGINAL = "2000000815627301"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args: str, environment: dict[str, str], **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **environment},
        **popen,
    )


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
def local_simulators(settings, tmp_path):
    """Both simulators as `make run` builds them from the settings, on free ports."""
    settings.APPSTORE_PRIVATE_KEY = ""
    settings.APPSTORE_PRIVATE_KEY_PATH = str(tmp_path / "appstore-local-key.p8")
    settings.APPSTORE_ROOT_CERTIFICATES = [str(tmp_path / "appstore-simulator-root.pem")]
    # Local mode's own Adapty key, which the suite otherwise turns off (pyproject.toml).
    settings.ADAPTY_SECRET_KEY = settings.ADAPTY_SIMULATOR_SECRET_KEY
    # The delivery to Adapty is a task: run it at once, as a worker would.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with appstore_simulator(port=0) as appstore, adapty_simulator(port=0) as adapty:
        settings.APPSTORE_BASE_URL = appstore.url
        settings.ADAPTY_BASE_URL = adapty.url
        yield appstore, adapty


@pytest.mark.django_db
def test_the_desk_links_a_demo_purchase_through_the_simulators_built_from_its_settings(
    agent_client, local_simulators
):
    _, adapty = local_simulators
    create_demo_accounts()
    maya = CustomerAccount.objects.get(external_id=MAYA)
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    assert page.status_code == 200
    lookup = Lookup.objects.get(order_id=ORDER_OFFER_CODE)
    assert lookup.outcome == Lookup.Outcome.FOUND
    assert all(row["verified"] for row in lookup.transactions)

    response = agent_client.post(
        reverse("lookups:link", args=[MAYA_ORIGINAL]),
        {
            "account": maya.pk,
            "ticket_reference": "ZD-4711",
            "request_id": str(uuid.uuid4()),
            "lookup": lookup.pk,
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert TokenChange.objects.get().outcome == TokenChange.Outcome.SUCCEEDED
    assert AdaptyDelivery.objects.get().outcome == AdaptyDelivery.Outcome.SUCCEEDED
    assert [request.customer_user_id for request in adapty.requests] == [MAYA]


def test_the_adapty_simulator_built_from_settings_refuses_any_other_key(settings):
    with adapty_simulator(port=0) as adapty:
        answer = requests.post(
            f"{adapty.url}/api/v2/server-side-api/purchase/set/transaction/",
            json={},
            headers={"Authorization": "Api-Key secret_live_somebody_else"},
            timeout=10,
        )

    assert answer.status_code == 401
    assert adapty.secret_key == settings.ADAPTY_SIMULATOR_SECRET_KEY
