"""The token-change CSV export at a million rows, over real HTTP, against PostgreSQL's own COPY.

Makes a database of its own (supportdesk_bench), migrates it, loads agents, customer accounts and
settled token changes in SQL, and serves the app with gunicorn (one sync worker). A manager signs
in and downloads the export of every row; meanwhile the worker's resident memory is sampled every
50 ms. In the same run PostgreSQL's `COPY (SELECT ...) TO STDOUT WITH CSV` of the same rows, joins
and order sets the floor, and the admin's token-change changelist is loaded ten times as a
superuser.

    .venv/bin/python benchmarks/export_stream.py [--rows 1000000] [--postgres postgres://postgres@127.0.0.1:5432]

Targets: memory growth under 100 MB, export time within 1.5x COPY's, changelist under 50 ms.
The export and the COPYs run in turns, --rounds times (3), and the medians are compared.
The last line is JSON: rows, export_s, copy_s, ratio_vs_copy, peak_memory_growth_mb,
admin_changelist_ms. The database and the server are removed at the end, whatever happens,
unless --keep: then the database stays, and the next run with --keep reuses it if it holds the
same --rows (a million rows take minutes to load on a busy machine; the export seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "supportdesk_bench"
PASSWORD = "bench-password-not-a-secret"
AGENTS = 20
ACCOUNTS = 20_000
SPREAD_DAYS = 300
BATCH = 250_000
PORT = 0


# --- The database ---------------------------------------------------------------------------


def admin_connection(server_url: str) -> psycopg.Connection:
    return psycopg.connect(f"{server_url}/postgres", autocommit=True)


def create_database(server_url: str) -> None:
    with admin_connection(server_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def loaded_database(server_url: str, rows: int) -> bool:
    """Whether the database exists and holds a finished load of `rows` token changes."""
    with admin_connection(server_url) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            return False
    with psycopg.connect(f"{server_url}/{DATABASE}") as conn:
        try:
            users = conn.execute(
                "SELECT count(*) FROM auth_user WHERE username IN ('bench-manager', 'bench-admin')"
            ).fetchone()[0]
            held = conn.execute("SELECT count(*) FROM lookups_tokenchange").fetchone()[0]
        except psycopg.Error:
            return False
    return users == 2 and held == rows


def drop_database(server_url: str) -> None:
    with admin_connection(server_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def make_users() -> tuple[list[int], str, str]:
    """Agents (who can't sign in), a manager and a superuser (who can). Through the ORM."""
    from django.contrib.auth.models import Group, User

    from lookups import roles

    agents = [
        User(username=f"agent{n:02d}", email=f"agent{n:02d}@example.com") for n in range(AGENTS)
    ]
    for agent in agents:
        agent.set_unusable_password()
    User.objects.bulk_create(agents)
    group = Group.objects.get(name=roles.AGENTS)
    agent_ids = list(User.objects.filter(username__startswith="agent").values_list("pk", flat=True))
    group.user_set.add(*agent_ids)

    manager = User.objects.create_user("bench-manager", password=PASSWORD, is_staff=True)
    manager.groups.add(Group.objects.get(name=roles.MANAGERS))
    User.objects.create_superuser("bench-admin", password=PASSWORD)
    return agent_ids, "bench-manager", "bench-admin"


def fill(conn: psycopg.Connection, table: str, expressions: dict[str, str], rows: int) -> None:
    """INSERT … SELECT over generate_series, the columns matching what the model has now."""
    from django.apps import apps

    model = apps.get_model("lookups", table)
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    missing = [c for c in columns if c not in expressions]
    if missing:
        raise SystemExit(f"The benchmark doesn't know how to fill {table}.{', '.join(missing)}.")
    select = ", ".join(expressions[c] for c in columns).replace("{rows}", str(rows))
    for first in range(1, rows + 1, BATCH):
        last = min(first + BATCH - 1, rows)
        # No parameters: the expressions use % as modulo, and every value here is ours.
        conn.execute(
            f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {select} FROM generate_series({first}::bigint, {last}::bigint) AS n"
        )
        print(f"  {table}: {last:,} of {rows:,}", end="\r", flush=True)
    print()


def load(database_url: str, rows: int, agent_ids: list[int]) -> None:
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        fill(
            conn,
            "CustomerAccount",
            {
                "external_id": "'cust-' || n",
                "email": "'customer' || n || '@example.com'",
                "display_name": "'Customer ' || n",
                "app_account_token": "gen_random_uuid()",
                "adapty_customer_user_id": "''",
                "created_at": f"now() - interval '{SPREAD_DAYS} days' + n * interval '1 minute'",
                "updated_at": "now()",
            },
            ACCOUNTS,
        )
        first_account = conn.execute("SELECT min(id) FROM lookups_customeraccount").fetchone()[0]
        agents = "ARRAY[" + ",".join(str(pk) for pk in agent_ids) + "]::bigint[]"
        spread = f"interval '{SPREAD_DAYS} days'"
        created = f"(now() - {spread} + n * ({spread} / {{rows}}))"
        failed = "n % 10 = 0"
        # Settled rows straight in, for volume: only the owner can step past the insert guard.
        insert_guard = "TRIGGER lookups_tokenchange_inserted_pending"
        conn.execute(f"ALTER TABLE lookups_tokenchange DISABLE {insert_guard}")
        fill(
            conn,
            "TokenChange",
            {
                "request_id": "gen_random_uuid()",
                "agent_id": f"({agents})[1 + n % {len(agent_ids)}]",
                "created_at": created,
                "account_id": f"{first_account} + (n * 7919) % {ACCOUNTS}",
                "original_transaction_id": "(2000000000000000 + n)::text",
                "product_id": "(ARRAY['com.example.pro.yearly', 'com.example.pro.monthly', "
                "'com.example.premium.yearly'])[1 + n % 3]",
                "environment": "'Production'",
                "order_id": "'MK' || upper(substr(md5(n::text), 1, 8))",
                "token_before": "CASE WHEN n % 5 = 0 THEN gen_random_uuid() END",
                "token_after": "gen_random_uuid()",
                "ticket_reference": "CASE WHEN n % 100 = 0 THEN '-' || n ELSE 'ZD-' || n END",
                "lookup_id": "NULL",
                "outcome": f"CASE WHEN {failed} THEN 'failed' ELSE 'succeeded' END",
                "error_code": f"CASE WHEN {failed} THEN 4040010 END",
                # Commas and quotes: these cells go out quoted.
                "error_message": f"CASE WHEN {failed} THEN "
                "'Apple said \"TransactionIdNotFoundError\", code 4040010.' ELSE '' END",
                "settled_at": f"{created} + interval '2 seconds'",
                # A stand-in chain: the export copies these columns, nothing here checks them.
                "chain_sequence": "n",
                "chain_previous_hash": "CASE WHEN n = 1 THEN repeat('0', 64) "
                "ELSE md5((n - 1)::text) || md5('chain' || (n - 1)) END",
                "chain_hash": "md5(n::text) || md5('chain' || n)",
                # The names recorded at settling (recipe 2): the export doesn't show them.
                "chain_version": "2",
                "agent_username": f"'agent' || lpad(((n % {len(agent_ids)}))::text, 2, '0')",
                "transfer_requested_by_username": "NULL",
                # Rows written before apps were registered name none; the export doesn't show it.
                "app_id": "NULL",
                # Recipe 3 records the bundle ID Apple was called with; recipe 2 rows have none.
                "app_bundle_id": "NULL",
            },
            rows,
        )
        conn.execute(f"ALTER TABLE lookups_tokenchange ENABLE {insert_guard}")
        conn.execute("VACUUM ANALYZE")
        # The load's WAL written out now, not by the checkpointer while the first export is
        # timed (the daily tallies' triggers write as much again as the rows themselves).
        conn.execute("CHECKPOINT")
    print(f"loaded {rows:,} token changes in {time.perf_counter() - started:.1f} s")


# --- The server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "supportdesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "900",
            # Other gunicorns on this machine may hold the default control socket.
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited while starting; see its log above.")
        try:
            if requests.get(f"{base_url}/login/", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s.")


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def rss_kb(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1))


class PeakMemory(threading.Thread):
    """Samples a process's resident set every 50 ms until stopped; keeps the highest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = rss_kb(pid)
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid))
            self.samples += 1
            self._stop_event.wait(0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.peak_kb = max(self.peak_kb, rss_kb(self.pid))


def signed_in(base_url: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base_url}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base_url}/login/"},
        timeout=10,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"signing in as {username} failed: HTTP {answer.status_code}")
    return session


def download(session: requests.Session, url: str, params: dict) -> tuple[int, int, float]:
    """(data rows, bytes, seconds from request to last byte) of one CSV export."""
    started = time.perf_counter()
    lines = size = 0
    with session.get(url, params=params, stream=True, timeout=900) as response:
        response.raise_for_status()
        for block in response.iter_content(chunk_size=1 << 20):
            lines += block.count(b"\n")
            size += len(block)
    # The test data has no line breaks inside a cell: each line is a row, the first the header.
    return lines - 1, size, time.perf_counter() - started


# --- The floor ------------------------------------------------------------------------------


def copy_floor(database_url: str, query) -> tuple[int, float]:
    """PostgreSQL writing the export's own query as CSV, read by a client that counts lines."""
    compiled, params = query.query.sql_with_params()
    with psycopg.connect(database_url) as conn:
        literal = psycopg.ClientCursor(conn).mogrify(compiled, params)
        started = time.perf_counter()
        lines = 0
        with conn.cursor().copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for block in copy:
                lines += bytes(block).count(b"\n")
        return lines - 1, time.perf_counter() - started


# --- The run --------------------------------------------------------------------------------


def main() -> None:
    global DATABASE, PORT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="exports and COPYs, in turns")
    parser.add_argument("--database", default=DATABASE, help="made for the run and dropped after")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (a free one)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database after the run, and reuse it if it holds --rows token changes "
        "loaded the same day (to try changes without loading again)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server, without a database name",
    )
    args = parser.parse_args()
    DATABASE, PORT = args.database, args.port
    server_url = args.postgres.rstrip("/")
    settings = {
        "DATABASE_URL": f"{server_url}/{DATABASE}",
        "SUPPORTDESK_LOCAL": "true",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
    }
    os.environ.update(settings)
    # A plain kill runs the clean-up below too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))

    reuse = args.keep and loaded_database(server_url, args.rows)
    if not reuse:
        create_database(server_url)
    servers: list[subprocess.Popen] = []
    with tempfile.TemporaryFile(mode="w+") as log:
        try:
            figures = run(
                args.rows, args.rounds, settings["DATABASE_URL"], log, servers, reuse=reuse
            )
        except BaseException:
            log.seek(0)
            print("--- gunicorn log ---", log.read()[-4000:], sep="\n", file=sys.stderr)
            raise
        finally:
            for server in servers:
                stop_server(server)
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            if not args.keep:
                drop_database(server_url)
    print(json.dumps(figures))


def run(
    rows_wanted: int,
    rounds: int,
    database_url: str,
    log,
    servers: list[subprocess.Popen],
    *,
    reuse: bool = False,
) -> dict:
    import django

    django.setup()
    from django.db import connections

    from lookups.models import Export
    from lookups.reporting import exports
    from lookups.reporting.figures import ReportFilters

    migrate(dict(os.environ))
    if reuse:
        print(f"reusing the {rows_wanted:,} token changes already loaded")
        manager, superuser = "bench-manager", "bench-admin"
    else:
        agent_ids, manager, superuser = make_users()
        connections.close_all()
        load(database_url, rows_wanted, agent_ids)

    port = PORT or free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_server(dict(os.environ), port, log)
    servers.append(server)
    wait_until_up(base_url, server)
    worker = worker_pid(server.pid)

    today = datetime.now(UTC).date()
    start = today - timedelta(days=365)
    everything = {"start": start.isoformat(), "end": today.isoformat()}
    export_url = f"{base_url}/reports/token-changes.csv"

    managing = signed_in(base_url, manager)
    # Warm the worker (imports, database connection, caches) on a one-day export first.
    download(managing, export_url, {"start": today.isoformat(), "end": today.isoformat()})
    time.sleep(0.5)
    baseline_kb = statistics.median(rss_kb(worker) for _ in range(5))
    sampler = PeakMemory(worker)
    # The floor is the faster of two COPYs with the export's joins, order and rows: of its own
    # query (cells formatted in SQL), and of the bare columns in PostgreSQL's own text formats.
    in_range = ReportFilters(start, today).token_changes()
    bare_columns = [column.path for column in exports.TOKEN_CHANGES.columns]
    floors = {
        "export's query": exports.TOKEN_CHANGES.values(in_range),
        "bare columns": in_range.order_by("created_at", "pk").values_list(*bare_columns),
    }
    # Export and COPYs in turns, medians of the rounds: on a shared machine one pass of each
    # moved the ratio by half a point with the neighbours' load.
    exported: list[float] = []
    copied: dict[str, list[float]] = {name: [] for name in floors}
    sampler.start()
    try:
        for _ in range(rounds):
            rows, size, export_s = download(managing, export_url, everything)
            exported.append(export_s)
            for name, query in floors.items():
                copy_rows, copy_s = copy_floor(database_url, query)
                copied[name].append(copy_s)
                if not rows == copy_rows == rows_wanted:
                    raise SystemExit(
                        f"row counts differ: export {rows}, COPY {copy_rows}, loaded {rows_wanted}"
                    )
    finally:
        sampler.stop()
    growth_mb = (sampler.peak_kb - baseline_kb) / 1024
    export_s = statistics.median(exported)
    copies = {name: (copy_rows, statistics.median(times)) for name, times in copied.items()}
    copy_s = min(seconds for _, seconds in copies.values())
    record = Export.objects.order_by("-pk").first()
    connections.close_all()

    admin = signed_in(base_url, superuser)
    changelist = f"{base_url}/admin/lookups/tokenchange/"
    admin.get(changelist, timeout=60).raise_for_status()
    loads = []
    for _ in range(10):
        started = time.perf_counter()
        admin.get(changelist, timeout=60).raise_for_status()
        loads.append((time.perf_counter() - started) * 1000)
    admin_ms = statistics.median(loads)

    print(f"token-change export of {rows:,} rows ({size / 1e6:.0f} MB of CSV) over HTTP,")
    print(f"medians of {rounds} rounds (export, then each COPY):")
    print(f"  export over HTTP      {export_s:7.2f} s   {rows / export_s:>10,.0f} rows/s")
    for name, (_, seconds) in copies.items():
        print(f"  COPY, {name:<15} {seconds:7.2f} s   {copy_rows / seconds:>10,.0f} rows/s")
    print(f"  ratio to the faster COPY {export_s / copy_s:4.2f}x  (target: at most 1.5x)")
    print(
        f"  worker memory {baseline_kb / 1024:.0f} MB before, {sampler.peak_kb / 1024:.0f} MB "
        f"at peak ({sampler.samples} samples): +{growth_mb:.1f} MB (target: under 100 MB)"
    )
    print(f"  recorded as   Export #{record.pk}, {record.row_count:,} rows, {record.finished_at}")
    print(
        f"admin token-change changelist: median {admin_ms:.0f} ms of 10 "
        f"(min {min(loads):.0f}, max {max(loads):.0f}; target under 50 ms)"
    )
    return {
        "rows": rows,
        "export_s": round(export_s, 2),
        "copy_s": round(copy_s, 2),
        "ratio_vs_copy": round(export_s / copy_s, 2),
        "peak_memory_growth_mb": round(growth_mb, 1),
        "admin_changelist_ms": round(admin_ms, 1),
    }


if __name__ == "__main__":
    main()
