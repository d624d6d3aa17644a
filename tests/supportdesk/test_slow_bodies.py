"""Slow request bodies don't stall the site: gunicorn, started as the README says, still answers.

Four clients each start a POST and never finish its body, one per worker. With sync workers each
would hold its worker until the timeout and the next page would wait; with gthread workers each
holds one thread, and the sign-in page still comes back.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A fixed port when the machine's ports are shared out; otherwise any free one.
PORT = int(os.environ.get("SUPPORTDESK_TEST_GUNICORN_PORT") or free_port())


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[str]:
    """gunicorn as the README's Deploying section starts it, with four workers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GUNICORN_", "DATABASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'slow-bodies.sqlite3'}",
        GUNICORN_WORKERS=str(WORKERS),
    )
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn_bin), "supportdesk.wsgi", "--bind", f"127.0.0.1:{PORT}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("w"),
    )
    url = f"http://127.0.0.1:{PORT}"
    try:
        give_up = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                urllib.request.urlopen(f"{url}/login/", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < give_up, "gunicorn did not start"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def start_slow_body() -> socket.socket:
    """A POST that announces a body and sends only its first bytes.

    With a CSRF cookie, so the check goes on to read the form's token from the body and waits.
    """
    client = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    client.sendall(
        b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: csrftoken=" + b"a" * 32 + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
        b"username="
    )
    return client


def test_four_slow_bodies_leave_the_site_answering(gunicorn):
    slow = [start_slow_body() for _ in range(WORKERS)]
    try:
        time.sleep(0.5)  # Let each reach a worker and block there.
        with urllib.request.urlopen(f"{gunicorn}/login/", timeout=10) as response:
            assert response.status == 200
            assert b"Sign in" in response.read()
    finally:
        for client in slow:
            client.close()
