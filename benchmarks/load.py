"""Fifty support agents at once against a production-like desk: gunicorn, PostgreSQL and Redis.

What runs, all on this machine:
- the App Store simulator (`manage.py appstore_simulator`) in its own process, with a key made for
  this run;
- gunicorn (`gunicorn supportdesk.wsgi`, which reads gunicorn.conf.py: 4 gthread workers, of
  --threads threads each), with DEBUG off and
  production settings but plain HTTP (SECURE_SSL_REDIRECT off), on a PostgreSQL database this
  script creates, migrates and drops, and Django's Redis cache in one Redis database (11 unless
  --redis-db says otherwise), which must be empty and is emptied afterwards;
- Locust, headless, in this process: 50 agents (`FastHttpUser`) who each sign in through the
  login form, then, 1 to 3 seconds apart, look up the simulator's demo orders, page through a
  purchase's history (first page, then "Load more" with the revision), search customer accounts
  and open one, and search accounts from the link panel, as the pages' htmx requests do.

Sign-ins come first (each checks a deliberately slow password hash) and are reported apart; the
figures count for --seconds, from a few seconds after every agent is signed in.

Apple's rate limits: Look Up Order ID allows 10 requests a second per app, and fifty agents ask
for more. With Apple's limits the desk's shared budget holds lookups back until the next second,
so the lookup page would time Apple's quota rather than the desk. By default this run therefore
sets the budget (APPSTORE_RATE_LIMITS) to 500 a second per endpoint, more than the simulator is
asked for here: the figures are the desk's own, and the budget's Redis round trips are still paid
on every call. `--apple-limits` keeps Apple's production limits instead: no page fails, but
lookups queue for their turn inside the request (the client waits up to the next second), and with
sync workers every waiting lookup holds a worker, so every other page waits too; `--threads 8`
(gthread workers) keeps the other pages fast while lookups queue.

    .venv/bin/python benchmarks/load.py [--seconds 60] [--users 50] [--workers 4] [--threads 1]
        [--apple-limits]

Needs PostgreSQL at --postgres (default postgres://postgres@127.0.0.1:5432, trust auth) and Redis
at 127.0.0.1:6379. Ends with one JSON line: requests_per_s, errors, lookup_p95_ms, and per page
p50/p95/p99.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import quote

import gevent
from gevent.event import Event
from locust import FastHttpUser, between, events, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import (  # noqa: E402
    free_port,
    production_settings,
    start_gunicorn,
    stop,
    wait_for_port,
)
from lookups.simulators.appstore.local import generate_private_key_pem  # noqa: E402
from lookups.simulators.demo_data import (  # noqa: E402
    DEMO_ACCOUNTS,
    DEMO_APP_APPLE_ID,
    DEMO_BUNDLE_ID,
    DEMO_ORDERS,
)

ISSUER_ID = "3b9d2f61-7c4e-4a58-9e0f-10ad00000050"
KEY_ID = "LOADTEST50"
ACCOUNTS = 10_000
SETTLE_SECONDS = 5
FIRST_NAMES = ["Maya", "Oliver", "Sofia", "Lukas", "Emma", "James", "Chloe", "Aiko", "Noah", "Lea"]
LAST_NAMES = ["Patel", "Bennett", "Martinez", "Schneider", "Johnson", "Dubois", "Tanaka", "Rossi"]
SEARCH_TERMS = [
    *(name.lower() for name in FIRST_NAMES),
    *(name.lower() for name in LAST_NAMES),
    "maya.patel",
    "cust-00042",
    "cust-0123",
    "example.fr",
    DEMO_ACCOUNTS[0]["app_account_token"],
]
# Pages a load run reports on, in the order printed.
PAGES = [
    "lookup",
    "history",
    "history, load more",
    "accounts search",
    "account page",
    "link panel search",
]

# A full page load, and the fragment requests htmx makes; a redirect (to sign in) is a failure.
FULL_PAGE = {"allow_redirects": False, "catch_response": True}
PAGE = {**FULL_PAGE, "headers": {"HX-Request": "true"}}
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_HISTORY_LINK = re.compile(r'href="/purchases/([0-9]+)/history/"')
_LINK_ACTION = re.compile(r'href="/purchases/([0-9]+)/link/')
_LOAD_MORE = re.compile(r'<a class="button" href="([^"]+revision=[^"]+)"')
_ACCOUNT_LINK = re.compile(r'href="/accounts/([0-9]+)/"')
_ERROR_NOTICE = re.compile(r'class="notice error"[^>]*>(.*?)</', re.DOTALL)


class Desk:
    """What the agents share: who signs in as whom, and who has signed in so far."""

    usernames: list[str] = []
    password = ""
    agents = 0
    signed_in = 0
    everyone_signed_in = Event()


def page_problem(response) -> str | None:
    """Why a page counts as failed: not 200, or an error the agent would see."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    if match := _ERROR_NOTICE.search(response.text or ""):
        text = re.sub(r"<[^>]+>", "", match.group(1)).strip()
        return f"error shown: {text[:120]}"
    return None


class LoopbackCookiePolicy(DefaultCookiePolicy):
    """Send the desk's Secure cookies back over plain HTTP to 127.0.0.1.

    With DEBUG off the session and CSRF cookies are marked Secure (TLS ends at the proxy in
    production). Browsers count loopback as a secure origin and send them; Python's jar doesn't.
    """

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class Agent(FastHttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(LoopbackCookiePolicy())
        self.transactions: list[str] = []
        self.purchases: list[str] = []
        username = Desk.usernames.pop()
        form = self.client.get("/login/", name="sign in form")
        token = _CSRF_INPUT.search(form.text or "")
        with self.client.post(
            "/login/",
            data={
                "username": username,
                "password": Desk.password,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered HTTP {response.status_code}")
        Desk.signed_in += 1
        if Desk.signed_in == Desk.agents:
            Desk.everyone_signed_in.set()

    @task(5)
    def look_up_order(self) -> None:
        order_id = random.choice(list(DEMO_ORDERS))
        with self.client.get(f"/orders/?order_id={order_id}", name="lookup", **PAGE) as response:
            if problem := page_problem(response):
                response.failure(problem)
                return
            self.transactions = _HISTORY_LINK.findall(response.text) or self.transactions
            self.purchases = _LINK_ACTION.findall(response.text) or self.purchases

    @task(2)
    def page_through_history(self) -> None:
        if not self.transactions:
            self.look_up_order()
            return
        url = f"/purchases/{random.choice(self.transactions)}/history/"
        with self.client.get(url, name="history", **FULL_PAGE) as response:
            if problem := page_problem(response):
                response.failure(problem)
                return
            more = _LOAD_MORE.search(response.text)
        if more:
            with self.client.get(
                html.unescape(more.group(1)), name="history, load more", **PAGE
            ) as response:
                if problem := page_problem(response):
                    response.failure(problem)

    @task(2)
    def search_accounts(self) -> None:
        term = quote(random.choice(SEARCH_TERMS))
        with self.client.get(f"/accounts/?q={term}", name="accounts search", **PAGE) as response:
            if problem := page_problem(response):
                response.failure(problem)
                return
            found = _ACCOUNT_LINK.findall(response.text)
        if found:
            with self.client.get(
                f"/accounts/{random.choice(found)}/", name="account page", **FULL_PAGE
            ) as response:
                if problem := page_problem(response):
                    response.failure(problem)

    @task(1)
    def search_from_the_link_panel(self) -> None:
        if not self.purchases:
            self.look_up_order()
            return
        url = f"/purchases/{random.choice(self.purchases)}/link/"
        term = quote(random.choice(SEARCH_TERMS))
        with self.client.get(f"{url}?q={term}", name="link panel search", **PAGE) as response:
            if problem := page_problem(response):
                response.failure(problem)


# --- the desk under test -----------------------------------------------------------------------


def desk_environment(args, workdir: Path, database_url: str, simulator_port: int) -> dict:
    key_path = workdir / "appstore-key.p8"
    key_path.write_bytes(generate_private_key_pem())
    limits = 500 if not args.apple_limits else None
    settings = {
        **production_settings(database_url),
        "CACHE_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "APPSTORE_BASE_URL": f"http://127.0.0.1:{simulator_port}",
        "APPSTORE_PRIVATE_KEY": "",
        "APPSTORE_PRIVATE_KEY_PATH": str(key_path),
        "APPSTORE_ROOT_CERTIFICATES": str(workdir / "simulator-root.pem"),
        "APPSTORE_ISSUER_ID": ISSUER_ID,
        "APPSTORE_KEY_ID": KEY_ID,
        "APPSTORE_BUNDLE_ID": DEMO_BUNDLE_ID,
        "APPSTORE_APP_APPLE_ID": str(DEMO_APP_APPLE_ID),
        "APPSTORE_ENVIRONMENT": "Production",
        "ADAPTY_SECRET_KEY": "",
        "LOG_LEVEL": "WARNING",
    }
    if limits:
        settings["APPSTORE_RATE_LIMITS"] = f"lookup={limits},set_token={limits},history={limits}"
    return settings


def prepare_database(users: int) -> None:
    """Migrate, collect static files, and create the agents and customer accounts."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connections

    from lookups.models import CustomerAccount
    from lookups.roles import AGENTS
    from lookups.services.demo_accounts import create_demo_accounts

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    # One hash for every agent: hashing is deliberately slow, and they share the password.
    password_hash = make_password(Desk.password)
    agents = User.objects.bulk_create(
        User(username=f"load-agent-{n:02d}", password=password_hash, first_name=f"Agent {n}")
        for n in range(1, users + 1)
    )
    Group.objects.get(name=AGENTS).user_set.add(*agents)
    create_demo_accounts()
    CustomerAccount.objects.bulk_create(
        CustomerAccount(
            external_id=f"cust-{n:05d}",
            email=f"{first.lower()}.{last.lower()}{n}@example.{random.choice(['com', 'fr', 'de'])}",
            display_name=f"{first} {last}",
        )
        for n in range(ACCOUNTS)
        for first, last in [(random.choice(FIRST_NAMES), random.choice(LAST_NAMES))]
    )
    connections.close_all()
    Desk.usernames = [agent.username for agent in agents]
    Desk.agents = len(agents)


def percentiles(entry) -> dict[str, float]:
    return {
        f"p{int(q * 100)}": round(entry.get_response_time_percentile(q), 1)
        for q in (0.5, 0.95, 0.99)
    }


def report(environment: Environment, seconds: float, sign_in: dict, args) -> dict:
    stats = environment.stats
    total = stats.total
    figures: dict = {
        "seconds": round(seconds, 1),
        "users": args.users,
        "workers": args.workers,
        "threads": args.threads,
        "apple_limits": args.apple_limits,
        "requests": total.num_requests,
        "requests_per_s": round(total.num_requests / seconds, 1),
        "errors": total.num_failures,
    }
    print(
        f"\n{args.users} agents, {args.workers} gunicorn workers x {args.threads} threads,"
        f" {seconds:.0f} s measured"
    )
    print(
        f"  sign in (before measuring): {sign_in['requests']} requests, p50 {sign_in['p50']} ms,"
        f" p95 {sign_in['p95']} ms"
    )
    print(f"  {'page':<22} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for name in PAGES:
        entry = stats.entries.get((name, "GET"))
        if entry is None or not entry.num_requests:
            continue
        marks = percentiles(entry)
        key = name.replace(", ", "_").replace(" ", "_")
        figures.update({f"{key}_{mark}_ms": value for mark, value in marks.items()})
        print(
            f"  {name:<22} {entry.num_requests:>8} {entry.num_failures:>6}"
            f" {marks['p50']:>7} {marks['p95']:>7} {marks['p99']:>7}"
        )
    print(f"  all pages: {figures['requests_per_s']} requests/s, {figures['errors']} errors")
    for error in stats.errors.values():
        print(f"    {error.occurrences} x {error.name}: {error.error}")
    figures["lookup_p95_ms"] = figures.get("lookup_p95_ms")
    figures["sign_in_p95_ms"] = sign_in["p95"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="per worker (gthread)")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument(
        "--apple-limits",
        action="store_true",
        help="keep Apple's production rate limits (lookups 10/s) instead of raising the budget",
    )
    args = parser.parse_args()

    import psycopg
    import redis

    cache = redis.Redis(host="127.0.0.1", port=6379, db=args.redis_db)
    if cache.dbsize():
        raise SystemExit(f"Redis database {args.redis_db} is not empty: choose another --redis-db")
    database = f"supportdesk_load_{os.getpid()}"
    admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    Desk.password = secrets.token_urlsafe(16)
    simulator = server = None
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory(prefix="supportdesk-load-") as tmp:
            workdir = Path(tmp)
            simulator_port, server_port = free_port(), free_port()
            settings = desk_environment(
                args, workdir, f"{args.postgres}/{database}", simulator_port
            )
            os.environ.update(settings)
            prepare_database(args.users)

            simulator_log = workdir / "simulator.log"
            simulator = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "appstore_simulator",
                    "--port",
                    str(simulator_port),
                    "--no-rate-limits",
                ],
                cwd=ROOT,
                stdout=simulator_log.open("w"),
                stderr=subprocess.STDOUT,
            )
            wait_for_port(simulator_port, simulator, "the App Store simulator", simulator_log)
            server_log = workdir / "gunicorn.log"
            server = start_gunicorn(
                server_port,
                server_log,
                *("--workers", str(args.workers), "--threads", str(args.threads)),
            )

            environment = Environment(
                user_classes=[Agent], host=f"http://127.0.0.1:{server_port}", events=events
            )
            runner = environment.create_local_runner()
            runner.start(args.users, spawn_rate=args.spawn_rate)
            if not Desk.everyone_signed_in.wait(timeout=180):
                raise SystemExit(f"only {Desk.signed_in} of {args.users} agents signed in")
            entry = environment.stats.entries.get(("sign in", "POST"))
            sign_in = {"requests": entry.num_requests if entry else 0}
            sign_in.update(percentiles(entry) if entry else {"p50": 0, "p95": 0, "p99": 0})
            # Pages asked for while others signed in queued behind the password checks; let
            # them finish before counting.
            gevent.sleep(SETTLE_SECONDS)
            environment.stats.reset_all()
            started = time.monotonic()
            gevent.sleep(args.seconds)
            measured = time.monotonic() - started
            runner.quit()
            figures = report(environment, measured, sign_in, args)
            if environment.runner.exceptions:
                for problem in environment.runner.exceptions.values():
                    print(f"    exception in the agents: {problem['msg']}")
            stop(server)
            stop(simulator)
            if figures["errors"] or server.returncode not in (0, -signal.SIGTERM):
                print(f"  gunicorn log tail:\n{server_log.read_text()[-2000:]}")
    finally:
        stop(server)
        stop(simulator)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
        cache.flushdb()
    load_after = os.getloadavg()
    figures["load_average_before"] = round(load_before[0], 2)
    figures["load_average_after"] = round(load_after[0], 2)
    print(f"  load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
