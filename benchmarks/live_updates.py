"""What keeping pages live costs: fifty agents' pages open against gunicorn, PostgreSQL and Redis.

Each agent's page polls `/live/` as the browser does (every LIVE_POLL_SECONDS, with the stamp it
was rendered with). Two figures:

- `idle_cpu_share_50_agents`: CPU time of gunicorn (master and workers) over a window in which
  nothing changes, as a share of one core;
- `change_to_screen_p95_ms`: from a change committed (a refund request arriving) to each open
  page having both heard of it and fetched the refund queue again, 95th percentile over every
  page and change.

Run: `.venv/bin/python benchmarks/live_updates.py` (PostgreSQL and Redis local; it creates and
drops its own database, and needs an empty Redis database, --redis-db). The last line is JSON.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.processes import production_settings, start_gunicorn, stop
from lookups.simulators.appstore.local import generate_private_key_pem

POLLER = re.compile(r'id="live"[^>]*hx-get="([^"]+)"')


def desk_environment(workdir: Path, database_url: str, redis_db: int, poll: float) -> dict:
    key_path = workdir / "appstore-key.p8"
    key_path.write_bytes(generate_private_key_pem())
    (workdir / "root.pem").write_text("")
    return {
        **production_settings(database_url),
        "CACHE_URL": f"redis://127.0.0.1:6379/{redis_db}",
        # No Apple call is made: the pages only poll.
        "APPSTORE_BASE_URL": "http://127.0.0.1:9",
        "APPSTORE_PRIVATE_KEY_PATH": str(key_path),
        "APPSTORE_ROOT_CERTIFICATES": str(workdir / "root.pem"),
        "APPSTORE_ISSUER_ID": "3b9d2f61-7c4e-4a58-9e0f-10ad00000051",
        "APPSTORE_KEY_ID": "LIVEBENCH1",
        "APPSTORE_BUNDLE_ID": "com.example.supportdesk",
        "APPSTORE_APP_APPLE_ID": "1234567890",
        "APPSTORE_ENVIRONMENT": "Production",
        "ADAPTY_SECRET_KEY": "",
        "LOG_LEVEL": "WARNING",
        "LIVE_POLL_SECONDS": str(poll),
    }


def prepare(agents: int) -> list[str]:
    """Migrate, create the agents, and sign each in: their session keys."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connections

    from lookups.roles import AGENTS

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    group = Group.objects.get(name=AGENTS)
    keys = []
    for n in range(agents):
        user = User.objects.create_user(f"live-agent-{n:02d}", password=None)
        group.user_set.add(user)
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        # As a real sign-in records it: the backend that checks passwords.
        session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[-1]
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    connections.close_all()
    return keys


class OpenPage:
    """One agent's refund queue left open: the browser's poll, and its refetch on a change."""

    def __init__(self, base: str, session_key: str, poll: float) -> None:
        self.base, self.poll = base, poll
        self.http = requests.Session()
        self.http.cookies.set("sessionid", session_key, domain="127.0.0.1")
        self.http.headers["HX-Request"] = "true"
        # The page as the browser opened it: its poller says what to ask.
        self.poll_url = self._poller(self.http.get(f"{base}/refund-requests/", timeout=30))
        self.changes_seen: list[float] = []  # when each change was on screen (monotonic)
        self.errors = 0

    def _poller(self, response: requests.Response) -> str:
        match = POLLER.search(response.text)
        if response.status_code != 200 or not match:
            raise SystemExit(f"no poller ({response.status_code}): {response.text[:300]}")
        return self.base + html.unescape(match.group(1))

    def run(self, until: float, offset: float) -> None:
        time.sleep(offset)  # pages were opened at different moments
        next_poll = time.monotonic()
        while next_poll < until:
            response = self.http.get(self.poll_url, timeout=10)
            if response.status_code == 200:
                self.poll_url = self._poller(response)
                screen = self.http.get(f"{self.base}/refund-requests/", timeout=10)
                if screen.status_code == 200:
                    self.changes_seen.append(time.monotonic())
                else:
                    self.errors += 1
            elif response.status_code != 204:
                self.errors += 1
            next_poll += self.poll
            time.sleep(max(0.0, next_poll - time.monotonic()))


def wait_until_answering(base: str) -> None:
    """gunicorn listens before its workers have loaded the desk: until one answers."""
    deadline = time.monotonic() + 120
    while True:
        try:
            requests.get(f"{base}/login/", timeout=5)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def cpu_seconds(server: psutil.Process) -> float:
    total = 0.0
    for process in [server, *server.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def make_change() -> float:
    """A refund request arrives (as Apple's notification would open it); when it committed."""
    from datetime import timedelta

    from django.utils import timezone

    from lookups.models import RefundRequest

    RefundRequest.objects.create(
        notification_uuid=secrets.token_hex(16),
        environment="Production",
        transaction_id=str(2_000_000_900_000_000 + secrets.randbelow(10**6)),
        original_transaction_id="2000000900000000",
        requested_at=timezone.now(),
        deadline=timezone.now() + timedelta(hours=12),
    )
    return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--poll", type=float, default=3.0, help="LIVE_POLL_SECONDS")
    parser.add_argument("--port", type=int, default=8310)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis-db", type=int, default=3)
    args = parser.parse_args()

    import psycopg
    import redis

    cache = redis.Redis(host="127.0.0.1", port=6379, db=args.redis_db)
    if cache.dbsize():
        raise SystemExit(f"Redis database {args.redis_db} is not empty: choose another --redis-db")
    database = f"supportdesk_live_{os.getpid()}"
    admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    server = None
    try:
        with tempfile.TemporaryDirectory(prefix="supportdesk-live-") as tmp:
            workdir = Path(tmp)
            os.environ.update(
                desk_environment(workdir, f"{args.postgres}/{database}", args.redis_db, args.poll)
            )
            keys = prepare(args.agents)
            server = start_gunicorn(args.port, workdir / "gunicorn.log")
            base = f"http://127.0.0.1:{args.port}"
            wait_until_answering(base)
            pages = [OpenPage(base, key, args.poll) for key in keys]
            gunicorn = psutil.Process(server.pid)

            # Idle: every page polls, nothing changes.
            settle = 2 * args.poll
            idle_end = time.monotonic() + settle + args.idle_seconds
            changes_end = idle_end + (args.changes + 1) * 2 * args.poll
            threads = [
                threading.Thread(
                    target=page.run, args=(changes_end, n * args.poll / len(pages)), daemon=True
                )
                for n, page in enumerate(pages)
            ]
            for thread in threads:
                thread.start()
            time.sleep(settle)
            cpu_before, wall_before = cpu_seconds(gunicorn), time.monotonic()
            time.sleep(max(0.0, idle_end - time.monotonic()))
            idle_share = (cpu_seconds(gunicorn) - cpu_before) / (time.monotonic() - wall_before)
            quiet = [len(page.changes_seen) for page in pages]

            # Changes, one at a time, far enough apart that every page sees each one alone.
            made = []
            for _ in range(args.changes):
                made.append(make_change())
                time.sleep(2 * args.poll)
            for thread in threads:
                thread.join()
    finally:
        stop(server)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        cache.flushdb()

    delays = []
    for page, seen_before in zip(pages, quiet, strict=True):
        seen = page.changes_seen[seen_before:]
        for at in made:
            after = [moment for moment in seen if moment >= at]
            if after:
                delays.append((after[0] - at) * 1000)
    missed = len(pages) * len(made) - len(delays)
    p95 = statistics.quantiles(delays, n=20)[-1] if len(delays) > 1 else None
    result = {
        "agents": args.agents,
        "poll_seconds": args.poll,
        "idle_seconds": args.idle_seconds,
        "refreshes_while_idle": sum(quiet),
        "changes": len(made),
        "changes_missed": missed,
        "errors": sum(page.errors for page in pages),
        "change_to_screen_median_ms": round(statistics.median(delays), 1) if delays else None,
        "idle_cpu_share_50_agents": round(idle_share, 4),
        "change_to_screen_p95_ms": round(p95, 1) if p95 is not None else None,
    }
    print(
        f"{args.agents} open pages polling every {args.poll} s: gunicorn used "
        f"{idle_share:.1%} of one core while nothing changed; a change reached every page's "
        f"screen in {result['change_to_screen_median_ms']} ms (median), "
        f"{result['change_to_screen_p95_ms']} ms (p95)."
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
