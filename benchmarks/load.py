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

    .venv/bin/python benchmarks/load.py [--seconds 60] [--users 50] [--workers 4] [--threads 8]
        [--apple-limits] [--desk PATH] [--redis-db 11] [--database-prefix supportdesk_load]

`--desk` serves another checkout's desk (an earlier commit, unpacked beside this one) with this
script, so that two commits are measured the same way in alternate runs.

Needs PostgreSQL at --postgres (default postgres://postgres@127.0.0.1:5432, trust auth) and Redis
at 127.0.0.1:6379. Ends with one JSON line: requests_per_s, errors (real failures only),
errors_by_kind, lookup_p95_ms, and per page p50/p95/p99 as the agents saw them.

The agents' times include their own turn on the CPU and the wait in gunicorn's queue. So that the
desk is measured fairly on a shared machine, the run also reports, per page, the server's own time
from gunicorn's access log (`<page>_server_p50_ms`, `<page>_server_p95_ms`, lookup_server_p95_ms
among them), and `cpu_seconds` over the measured window: the desk (gunicorn), the simulator, this
run's PostgreSQL backends, Redis, the load generator (this process), the whole machine, and
`other` (everything else on the machine: other people's work); `desk_cpu_ms_per_request` is the
desk's and its database's CPU per answered request.

A failure is an answer other than 200 or an alert the agent would read as something gone wrong
(Apple's error code, the desk pausing calls, a signature that failed); a notice that is the
page's normal content, such as a refunded purchase's "why not linkable" line, is not.
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
import psutil
from gevent.event import Event
from locust import FastHttpUser, between, events, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import (  # noqa: E402
    desk_option,
    free_port,
    production_settings,
    start_gunicorn,
    stop,
    wait_for_port,
)
from benchmarks.server_side import (  # noqa: E402
    CpuMeter,
    Served,
    access_log_options,
    process_tree,
    read_access_log,
    server_times,
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
SIGN_IN_ATTEMPTS = 3
SIGN_IN_WAIT_SECONDS = 900
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

# The pages again, as gunicorn's access log names them (path, and the query for "load more").
_PAGE_PATHS = [
    (re.compile(r"/orders/"), "lookup"),
    (re.compile(r"/purchases/\d+/history/"), "history"),
    (re.compile(r"/accounts/"), "accounts search"),
    (re.compile(r"/accounts/\d+/"), "account page"),
    (re.compile(r"/purchases/\d+/link/"), "link panel search"),
]


def page_of(request: Served) -> str | None:
    """Which page a logged request was, as the load run names it; None for any other."""
    if request.method != "GET":
        return None
    page = next((name for path, name in _PAGE_PATHS if path.fullmatch(request.path)), None)
    if page == "history" and "revision=" in request.query:
        return "history, load more"
    return page


# A full page load, and the fragment requests htmx makes; a redirect (to sign in) is a failure.
FULL_PAGE = {"allow_redirects": False, "catch_response": True}
PAGE = {**FULL_PAGE, "headers": {"HX-Request": "true"}}
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_HISTORY_LINK = re.compile(r'href="/purchases/([0-9]+)/history/(?:\?[^"]*)?"')
_LINK_ACTION = re.compile(r'href="/purchases/([0-9]+)/link/')
_LOAD_MORE = re.compile(r'<a class="button" href="([^"]+revision=[^"]+)"')
_ACCOUNT_LINK = re.compile(r'href="/accounts/([0-9]+)/"')
# A failure the page shows the agent is an alert (role="alert"); notices that are the page's
# normal content (a refunded purchase's "why not linkable" line, say) carry no such role.
_ALERT = re.compile(
    r'<(?:p|div|td)[^>]*class="notice error[^"]*"[^>]*role="alert"[^>]*>(.*?)</', re.S
)
_APPLE_CODE = re.compile(r"\(Apple error (\d{7})\)")
# Alerts that are not Apple's codes, by what they say.
_ALERT_KINDS = [
    ("the desk paused App Store calls", "pausing App Store calls"),
    ("the App Store could not be reached", "could not be reached"),
    ("signature verification failed", "failed signature verification"),
    ("signature verification failed", "could not be verified"),
]


class Desk:
    """What the agents share: who signs in as whom, and who has signed in so far."""

    usernames: list[str] = []
    password = ""
    agents = 0
    signed_in = 0
    everyone_signed_in = Event()
    # Refusals the pages showed, as they were meant to: not failures.
    refusals: dict[str, int] = {}


def page_problem(response) -> str | None:
    """The kind of failure a page shows, or None when it is the page meant to be shown.

    Failures: an answer other than 200 (a redirect to sign in included), and an alert the
    agent would read as something gone wrong (Apple's error code, the desk pausing calls, the
    App Store out of reach, a signature that failed). A refusal the page is meant to show (a
    refunded purchase can't be linked, say) and a notice that is the page's normal content are
    not failures; refusals are counted apart.
    """
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    match = _ALERT.search(response.text or "")
    if match is None:
        return None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()
    kind = failure_shown(text)
    if kind is None:
        Desk.refusals[text[:80]] = Desk.refusals.get(text[:80], 0) + 1
    return kind


def failure_shown(text: str) -> str | None:
    """The kind of failure an alert tells of, or None for a refusal the page is meant to show."""
    if code := _APPLE_CODE.search(text):
        return f"Apple error {code.group(1)}"
    return next((kind for kind, words in _ALERT_KINDS if words in text), None)


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
        # On a busy machine fifty password checks at once can outlast the client's timeout; an
        # agent who is not signed in would count every page as a failure, so it tries again.
        for attempt in range(1, SIGN_IN_ATTEMPTS + 1):
            if self.sign_in(username, last=attempt == SIGN_IN_ATTEMPTS):
                break
        Desk.signed_in += 1
        if Desk.signed_in == Desk.agents:
            Desk.everyone_signed_in.set()

    def sign_in(self, username: str, *, last: bool) -> bool:
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
            if response.status_code == 302:
                return True
            if last:
                response.failure(f"sign-in answered HTTP {response.status_code}")
            else:
                response.success()
            return False

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


def failure_kind(error) -> str:
    """A failure as Locust keeps it: our kind for a page's own, the exception's name otherwise."""
    if isinstance(error, str):
        # Locust keeps errors as text; a page's own failure is CatchResponseError('kind').
        found = re.fullmatch(r"CatchResponseError\(['\"](.*)['\"]\)", error)
        return found.group(1) if found else error.split("(")[0]
    if type(error).__name__ == "CatchResponseError":
        return str(error)
    return type(error).__name__


def percentiles(entry) -> dict[str, float]:
    return {
        f"p{int(q * 100)}": round(entry.get_response_time_percentile(q), 1)
        for q in (0.5, 0.95, 0.99)
    }


def report(
    environment: Environment,
    seconds: float,
    sign_in: dict,
    args,
    served: dict[str, dict[str, float]],
    cpu: dict[str, float],
) -> dict:
    stats = environment.stats
    total = stats.total
    figures: dict = {
        "desk": str(args.desk),
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
        f" {seconds:.0f} s measured, the desk of {args.desk}"
    )
    print(
        f"  sign in (before measuring): {sign_in['requests']} requests, p50 {sign_in['p50']} ms,"
        f" p95 {sign_in['p95']} ms"
    )
    print(
        f"  {'page':<22} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
        f"   server's own: {'p50 ms':>7} {'p95 ms':>7}"
    )
    for name in PAGES:
        entry = stats.entries.get((name, "GET"))
        if entry is None or not entry.num_requests:
            continue
        marks = percentiles(entry)
        key = name.replace(", ", "_").replace(" ", "_")
        figures.update({f"{key}_{mark}_ms": value for mark, value in marks.items()})
        own = served.get(name, {"p50": 0.0, "p95": 0.0})
        figures.update({f"{key}_server_{mark}_ms": own[mark] for mark in ("p50", "p95")})
        print(
            f"  {name:<22} {entry.num_requests:>8} {entry.num_failures:>6}"
            f" {marks['p50']:>7} {marks['p95']:>7} {marks['p99']:>7}"
            f"                 {own['p50']:>7} {own['p95']:>7}"
        )
    print(f"  all pages: {figures['requests_per_s']} requests/s, {figures['errors']} errors")
    by_kind: dict[str, int] = {}
    for error in stats.errors.values():
        kind = failure_kind(error.error)
        by_kind[kind] = by_kind.get(kind, 0) + error.occurrences
        print(f"    {error.occurrences} x {error.name}: {kind}")
    figures["errors_by_kind"] = by_kind
    figures["refusals_shown"] = sum(Desk.refusals.values())
    for text, count in Desk.refusals.items():
        print(f"    refusal shown (not a failure) {count} x: {text}")
    figures["lookup_p95_ms"] = figures.get("lookup_p95_ms")
    figures["sign_in_p95_ms"] = sign_in["p95"]
    # Who had the two cores: the desk, what it asks (simulator, database, cache), the agents'
    # generator, and everything else running on the machine meanwhile.
    figures["cpu_seconds"] = cpu
    figures["desk_cpu_ms_per_request"] = round(
        1000 * (cpu["desk"] + cpu["postgresql"]) / max(total.num_requests, 1), 1
    )
    print(
        "  CPU seconds over the window: "
        + ", ".join(f"{name} {seconds}" for name, seconds in cpu.items())
        + f" (of {2 * seconds:.0f} on two cores)"
    )
    print(f"  desk + its database: {figures['desk_cpu_ms_per_request']} ms CPU a request")
    return figures


def cpu_meter(server, simulator, admin, database: str) -> CpuMeter:
    def backends() -> list[int]:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchall()
        return [pid for (pid,) in rows]

    def redis_server() -> list[int]:
        return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]

    return CpuMeter(
        {
            "desk": lambda: process_tree(server.pid),
            "simulator": lambda: [simulator.pid],
            "postgresql": backends,
            "redis": redis_server,
            "load generator": lambda: [os.getpid()],
        }
    )


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
        "--database-prefix",
        default="supportdesk_load",
        help="the run's PostgreSQL database is named PREFIX_<pid>, created and dropped by the run",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="gunicorn's port, the simulator's the next (free ones)"
    )
    parser.add_argument(
        "--apple-limits",
        action="store_true",
        help="keep Apple's production rate limits (lookups 10/s) instead of raising the budget",
    )
    desk_option(parser)
    args = parser.parse_args()

    import psycopg
    import redis

    cache = redis.Redis(host="127.0.0.1", port=6379, db=args.redis_db)
    if cache.dbsize():
        raise SystemExit(f"Redis database {args.redis_db} is not empty: choose another --redis-db")
    database = f"{args.database_prefix}_{os.getpid()}"
    admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    Desk.password = secrets.token_urlsafe(16)
    simulator = server = None
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory(prefix="supportdesk-load-") as tmp:
            workdir = Path(tmp)
            server_port = args.port or free_port()
            simulator_port = args.port + 1 if args.port else free_port()
            settings = desk_environment(
                args, workdir, f"{args.postgres}/{database}", simulator_port
            )
            os.environ.update(settings)
            prepare_database(args.users)
            if args.desk.resolve() != ROOT:
                # The pages name their static files through the desk's own manifest.
                subprocess.run(
                    [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                    cwd=args.desk,
                    check=True,
                )

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
                cwd=args.desk,
                stdout=simulator_log.open("w"),
                stderr=subprocess.STDOUT,
            )
            wait_for_port(simulator_port, simulator, "the App Store simulator", simulator_log)
            server_log = workdir / "gunicorn.log"
            access_log = workdir / "access.log"
            server = start_gunicorn(
                server_port,
                server_log,
                *("--workers", str(args.workers), "--threads", str(args.threads)),
                *access_log_options(access_log),
                desk=args.desk,
            )
            meter = cpu_meter(server, simulator, admin, database)

            environment = Environment(
                user_classes=[Agent], host=f"http://127.0.0.1:{server_port}", events=events
            )
            runner = environment.create_local_runner()
            runner.start(args.users, spawn_rate=args.spawn_rate)
            # Fifty deliberately slow password checks take minutes on a busy shared machine.
            if not Desk.everyone_signed_in.wait(timeout=SIGN_IN_WAIT_SECONDS):
                raise SystemExit(f"only {Desk.signed_in} of {args.users} agents signed in")
            entry = environment.stats.entries.get(("sign in", "POST"))
            sign_in = {"requests": entry.num_requests if entry else 0}
            sign_in.update(percentiles(entry) if entry else {"p50": 0, "p95": 0, "p99": 0})
            # Pages asked for while others signed in queued behind the password checks; let
            # them finish before counting.
            gevent.sleep(SETTLE_SECONDS)
            environment.stats.reset_all()
            Desk.refusals.clear()
            logged_before = access_log.stat().st_size
            meter.start()
            started = time.monotonic()
            gevent.sleep(args.seconds)
            measured = time.monotonic() - started
            cpu = meter.stop()
            runner.quit()
            served = server_times(read_access_log(access_log, logged_before), page_of)
            figures = report(environment, measured, sign_in, args, served, cpu)
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
