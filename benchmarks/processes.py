"""The desk's processes a benchmark runs: their settings, a free port, waiting for it, stopping."""

from __future__ import annotations

import contextlib
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_settings(database_url: str) -> dict[str, str]:
    """The desk as deployed (DEBUG off, fresh secrets), but on plain HTTP to 127.0.0.1."""
    return {
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_CHAIN_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "BEHIND_TLS_PROXY": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "60",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path) -> None:
    """Until `process` listens on `port`; its log's tail explains an early exit."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited early:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not listen on port {port} within a minute")


def stop(process: subprocess.Popen | None, *, timeout: float = 15) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `timeout` seconds; always reaped."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_gunicorn(port: int, log: Path, *options: str, desk: Path = ROOT) -> subprocess.Popen:
    """`gunicorn supportdesk.wsgi` (gunicorn.conf.py, and `options`) listening on `port`.

    `desk` is the checkout served: this one, or another commit's beside it for a comparison.
    """
    command = [sys.executable, "-m", "gunicorn", "supportdesk.wsgi", *options]
    server = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}"],
        cwd=desk,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, server, "gunicorn", log)
    return server


def desk_option(parser) -> None:
    """`--desk PATH`: serve another checkout's desk (an earlier commit, say) with this script."""
    parser.add_argument(
        "--desk",
        type=Path,
        default=ROOT,
        help="the checkout whose desk runs (default: this one), to compare commits side by side",
    )
