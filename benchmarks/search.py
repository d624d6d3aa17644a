"""The search box at a big app's scale on PostgreSQL: server time per kind of query.

Makes a database of its own, migrates it, and loads with COPY `--accounts` customer accounts
(1M by default), `--purchases` purchases in the desk's picture (5M; four in five carry a
customer's token) and `--tickets` token changes naming a ticket (200k). The indexes other than
the primary and unique keys are dropped for the load and built again after it, then the tables
are analysed. An agent then searches as the box in the top bar does (htmx's request for the
results), through Django's own request handling (middleware, session, the view, the template;
no network), the kinds of query taking turns, `--queries` of each:

    email           a customer's whole email, in mixed case
    name_prefix     the start of a customer's name, 4 to 10 characters
    order_id        an order ID of a purchase
    transaction_id  a purchase's original or latest transaction ID, in turn
    token           a customer's app account token
    ticket          a ticket reference, in lower case

    .venv/bin/python benchmarks/search.py [--accounts 1000000] [--purchases 5000000]
        [--tickets 200000] [--queries 200] [--postgres postgres://postgres@127.0.0.1:5432]
        [--keep]

A smaller run: `--accounts 20000 --purchases 100000 --tickets 5000`. `--keep` leaves the
database for the next run, which reuses it when it holds the same counts (three runs, one
load). Target: p95 under 100 ms per kind. The last line is JSON: for each kind,
`search_p50_ms_<kind>` and `search_p95_ms_<kind>`, plus the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "supportdesk_search_bench"
KINDS = ("email", "name_prefix", "order_id", "transaction_id", "token", "ticket")
FIRST_NAMES = [
    "Maya",
    "Oliver",
    "Sofia",
    "Lukas",
    "Emma",
    "James",
    "Chloe",
    "Aiko",
    "Noah",
    "Liam",
    "Ava",
    "Mia",
    "Ethan",
    "Lucas",
    "Amelia",
    "Zoe",
    "Hannah",
    "Leon",
    "Elena",
    "Mateo",
    "Nora",
    "Arjun",
    "Priya",
    "Yuki",
    "Omar",
    "Fatima",
    "Ines",
    "Jonas",
    "Clara",
    "Felix",
]
LAST_NAMES = [
    "Patel",
    "Bennett",
    "Martinez",
    "Schneider",
    "Johnson",
    "OConnor",
    "Dubois",
    "Tanaka",
    "Smith",
    "Garcia",
    "Muller",
    "Rossi",
    "Kowalski",
    "Nguyen",
    "Kim",
    "Silva",
    "Jensen",
    "Novak",
    "Ivanova",
    "Costa",
    "Haddad",
    "Okafor",
    "Larsen",
    "Moreau",
    "Weber",
    "Fischer",
    "Lopez",
    "Becker",
    "Sato",
    "Ali",
]
ORDER_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ENVIRONMENT = "Production"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


# --- The data, a row at a time, the same on every run ------------------------------------------


def name_of(n: int) -> tuple[str, str]:
    return FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]


def email_of(n: int) -> str:
    first, last = name_of(n)
    return f"{first}.{last}{n}@example.com".lower()


def token_of(n: int) -> uuid.UUID:
    return uuid.UUID(int=(0x3F2B8C1E7D4A4C9E9B6F000000000000 + n))


def order_of(p: int) -> str:
    letters, value = [], p * 7919 + 12345
    for _ in range(9):
        value, digit = divmod(value, len(ORDER_LETTERS))
        letters.append(ORDER_LETTERS[digit])
    return "M" + "".join(letters)


def original_of(p: int) -> str:
    return str(2_000_000_000_000_000 + p * 10)


def latest_of(p: int) -> str:
    return str(2_000_000_000_000_000 + p * 10 + 7)


def owner_of(p: int, accounts: int) -> int | None:
    """Four purchases in five carry a customer's token."""
    return None if p % 5 == 4 else (p * 31) % accounts


def ticket_of(t: int) -> str:
    return f"SD-{t:07d}"


# --- The database --------------------------------------------------------------------------


def admin_connection(server_url: str) -> psycopg.Connection:
    return psycopg.connect(f"{server_url}/postgres", autocommit=True)


def database_exists(server_url: str) -> bool:
    with admin_connection(server_url) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        )


def create_database(server_url: str) -> None:
    with admin_connection(server_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


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


def loaded_counts(conn: psycopg.Connection) -> dict[str, int] | None:
    try:
        row = conn.execute("SELECT counts FROM search_bench_loaded").fetchone()
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        return None
    return json.loads(row[0]) if row else None


def secondary_indexes(conn: psycopg.Connection, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of every index on `tables` that no constraint owns."""
    return conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [tables],
    ).fetchall()


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], rows) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for count, row in enumerate(rows, 1):
            copy.write_row(row)
            if count % 250_000 == 0:
                print(f"  {table}: {count:,}", end="\r", flush=True)
    print(f"  {table}: done        ")


def load(conn: psycopg.Connection, counts: dict[str, int], agent_id: int) -> None:
    accounts, purchases, tickets = counts["accounts"], counts["purchases"], counts["tickets"]
    tables = ["lookups_customeraccount", "lookups_purchase", "lookups_tokenchange"]
    indexes = secondary_indexes(conn, tables)
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    conn.commit()
    started = time.perf_counter()

    def account_rows():
        for n in range(accounts):
            first, last = name_of(n)
            at = EPOCH + timedelta(seconds=n)
            yield (f"cust-{n:07d}", email_of(n), f"{first} {last}", token_of(n), "", at, at)

    copy_rows(
        conn,
        "lookups_customeraccount",
        [
            "external_id",
            "email",
            "display_name",
            "app_account_token",
            "adapty_customer_user_id",
            "created_at",
            "updated_at",
        ],
        account_rows(),
    )

    def purchase_rows():
        for p in range(purchases):
            owner = owner_of(p, accounts)
            transaction = {
                "transactionId": latest_of(p),
                "originalTransactionId": original_of(p),
                "appTransactionId": str(705_000_000_000_000_000 + (owner or p)),
                "productId": "com.example.pro.monthly",
            }
            yield (
                ENVIRONMENT,
                original_of(p),
                json.dumps(transaction),
                "com.example.pro.monthly",
                token_of(owner) if owner is not None else None,
                order_of(p),
                EPOCH + timedelta(seconds=p),
                "lookup",
                "active",
                "",
                "",
            )

    copy_rows(
        conn,
        "lookups_purchase",
        [
            "environment",
            "original_transaction_id",
            "latest_transaction",
            "product_id",
            "app_account_token",
            "order_id",
            "learnt_at",
            "learnt_from",
            "status",
            "next_renewal_product_id",
            "status_source",
        ],
        purchase_rows(),
    )

    first_id = conn.execute("SELECT min(id) FROM lookups_customeraccount").fetchone()[0]

    def ticket_rows():
        for t in range(tickets):
            account = (t * 37) % accounts
            at = EPOCH + timedelta(seconds=t)
            yield (
                uuid.UUID(int=t + 1),
                agent_id,
                at,
                first_id + account,
                str(3_000_000_000_000_000 + t),
                "com.example.pro.monthly",
                ENVIRONMENT,
                "",
                token_of(account),
                ticket_of(t),
                "pending",
                "",
                "",
                "",
            )

    copy_rows(
        conn,
        "lookups_tokenchange",
        [
            "request_id",
            "agent_id",
            "created_at",
            "account_id",
            "original_transaction_id",
            "product_id",
            "environment",
            "order_id",
            "token_after",
            "ticket_reference",
            "outcome",
            "error_message",
            "chain_previous_hash",
            "chain_hash",
        ],
        ticket_rows(),
    )
    conn.commit()
    print(f"  loaded in {time.perf_counter() - started:.0f} s; building {len(indexes)} indexes")
    conn.execute("SET maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        conn.execute(definition)
    conn.commit()
    conn.autocommit = True
    for table in tables:
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    conn.autocommit = False
    conn.execute("CREATE TABLE search_bench_loaded (counts text)")
    conn.execute("INSERT INTO search_bench_loaded VALUES (%s)", [json.dumps(counts)])
    conn.commit()
    print(f"  ready in {time.perf_counter() - started:.0f} s")


# --- The searches --------------------------------------------------------------------------


def queries(kind: str, counts: dict[str, int], rng: random.Random) -> str:
    accounts, purchases = counts["accounts"], counts["purchases"]
    n, p = rng.randrange(accounts), rng.randrange(purchases)
    if kind == "email":
        return email_of(n).capitalize()
    if kind == "name_prefix":
        first, last = name_of(n)
        return f"{first} {last}"[: rng.randint(4, 10)].rstrip()
    if kind == "order_id":
        return order_of(p)
    if kind == "transaction_id":
        return original_of(p) if rng.random() < 0.5 else latest_of(p)
    if kind == "token":
        return str(token_of(n))
    return ticket_of(rng.randrange(counts["tickets"])).lower()


def measure(counts: dict[str, int], per_kind: int) -> dict[str, list[float]]:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from lookups import roles

    agent, _ = User.objects.get_or_create(username="search-bench-agent")
    agent.groups.add(Group.objects.get(name=roles.AGENTS))
    client = Client()
    client.force_login(agent)
    rng = random.Random(22)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for round_ in range(per_kind + 5):
        for kind in KINDS:  # the kinds take turns, so a slow moment hits them all alike
            typed = queries(kind, counts, rng)
            started = time.perf_counter()
            # As the box asks on every keystroke: htmx's request, answered with the results.
            response = client.get("/search/", {"q": typed}, headers={"HX-Request": "true"})
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{kind} {typed!r}: HTTP {response.status_code}")
            if b"Nothing matches" in response.content:
                raise SystemExit(
                    f"{kind} {typed!r} found nothing: the load and the search disagree"
                )
            if round_ >= 5:  # the first rounds warm the caches
                times[kind].append(elapsed)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=5_000_000)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200, help="searches of each kind")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the database for a next run")
    args = parser.parse_args()
    counts = {"accounts": args.accounts, "purchases": args.purchases, "tickets": args.tickets}

    env = {
        **os.environ,
        "SUPPORTDESK_LOCAL": "true",
        "DATABASE_URL": f"{args.postgres}/{DATABASE}",
        "APPSTORE_ENVIRONMENT": ENVIRONMENT,
        "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
    }
    os.environ.update(env)
    reuse = False
    if database_exists(args.postgres):
        with psycopg.connect(f"{args.postgres}/{DATABASE}") as conn:
            reuse = loaded_counts(conn) == counts
    try:
        if not reuse:
            print(f"Loading {DATABASE}: {counts}")
            create_database(args.postgres)
            migrate(env)
        import django

        django.setup()
        if not reuse:
            from django.contrib.auth.models import User

            loader = User.objects.create(username="search-bench-loader")
            with psycopg.connect(f"{args.postgres}/{DATABASE}") as conn:
                load(conn, counts, loader.pk)
        else:
            print(f"Reusing {DATABASE}: {counts}")
        times = measure(counts, args.queries)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.postgres)

    result: dict[str, float | int] = dict(counts)
    for kind in KINDS:
        p50, p95 = statistics.median(times[kind]), percentile(times[kind], 0.95)
        print(f"{kind:15} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({len(times[kind])} searches)")
        result[f"search_p50_ms_{kind}"] = round(p50, 2)
        result[f"search_p95_ms_{kind}"] = round(p95, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
