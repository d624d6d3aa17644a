"""Every page each role opens, at a big app's scale: server time and query counts.

Makes a PostgreSQL database of its own (--database, dropped at the end unless --keep), migrates
it and seeds it with COPY: customer accounts, purchases in the picture, App Store notifications,
audit rows (settled token changes), lookups and open refund requests, in the counts below times
--scale. One customer holds --customer-purchases purchases; a fifth of the purchases are
offer codes nobody is linked to yet, each with its OFFER_REDEEMED notification.

Then, in this process through Django's test client (the server's own time: no network, no
browser), each page is opened --repeat times as the role that opens it, and its p50/p95 and
its number of queries are kept: agents' pages (a customer with many purchases, the unlinked
offer codes, the refund queue, an account search), managers' (transfers, approvals, reports over
90 days, each CSV export's time to its first rows), and every admin changelist with and
without a search, as a superuser.

    .venv/bin/python benchmarks/scale.py [--scale 1.0] [--repeat 20] [--accounts 1000000]
        [--purchases 5000000] [--notifications 20000000] [--audit-rows 2000000]
        [--lookups 5000000] [--refund-requests 2000] [--customer-purchases 200]
        [--database supportdesk_scale] [--keep] [--reuse] [--pages KEY_PART]
        [--postgres postgres://postgres@127.0.0.1:5432]

Target: every p95 under 100 ms, and query counts that don't grow with the data (compare the
`_queries` of two --scale runs). The last line is JSON: `<page>_p50_ms`, `<page>_p95_ms`,
`<page>_queries` for every page, the counts seeded and the seconds seeding took.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import production_settings  # noqa: E402

COPY_BATCH = 50_000
PRODUCTS = ["com.example.pro.monthly", "com.example.pro.yearly", "com.example.premium.yearly"]
NOW = datetime.now(UTC).replace(microsecond=0)
SPREAD = timedelta(days=365)


def token(n: int) -> str:
    return str(uuid.UUID(int=(0x4 << 76) | (0x8 << 60) | n))


def at(n: int, count: int) -> str:
    """The n-th of `count` moments spread over the last year, as PostgreSQL reads it."""
    return (NOW - SPREAD + SPREAD * (n / max(count, 1))).isoformat()


# --- seeding with COPY ---------------------------------------------------------------------------


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], rows: Iterator[str]):
    """COPY table (columns) FROM STDIN: tab-separated text lines, sent in batches."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        batch: list[str] = []
        for row in rows:
            batch.append(row)
            if len(batch) == COPY_BATCH:
                copy.write("".join(batch))
                batch = []
        if batch:
            copy.write("".join(batch))


def accounts(count: int) -> Iterator[str]:
    for n in range(count):
        created = at(n, count)
        yield (
            f"cust-{n}\tcustomer{n}@example.com\tCustomer {n}\t{token(n)}\t\t{created}\t{created}\n"
        )


def purchases(count: int, accounts_count: int, heavy_customer: int) -> Iterator[str]:
    """Four in five linked to a customer (the first `heavy_customer` to customer 0); the fifth
    an offer code with no token."""
    for n in range(count):
        original = 2_000_000_000_000_000 + n
        product = PRODUCTS[n % 3]
        offer = n % 5 == 4
        owner = "\\N" if offer else token(0 if n < heavy_customer else n % accounts_count)
        bought = at(n, count)
        # As applying its OFFER_REDEEMED notification marks it.
        told = bought if offer else "\\N"
        txn = (
            f'{{"transactionId": "{original}", "originalTransactionId": "{original}", '
            f'"productId": "{product}", "type": "Auto-Renewable Subscription", '
            f'"purchaseDate": {1_700_000_000_000 + n}, "offerType": {3 if offer else 0}}}'
        )
        yield (
            f"Production\t{original}\t{txn}\t{product}\t{owner}\tMK{n:08X}\t{bought}\tlookup\t"
            f"\\N\t\\N\t\\N\t\\N\t\t\\N\t\\N\t\\N\tactive\t{bought}\t{bought}\tstatus_read\t"
            f"{told}\n"
        )


def notifications(count: int, purchases_count: int) -> Iterator[str]:
    """One OFFER_REDEEMED per unlinked offer code first, then renewals, all applied."""
    offers = [n for n in range(4, purchases_count, 5)]
    for n in range(count):
        if n < len(offers):
            kind, original = "OFFER_REDEEMED", 2_000_000_000_000_000 + offers[n]
        else:
            kind, original = "DID_RENEW", 2_000_000_000_000_000 + n % max(purchases_count, 1)
        when = at(n, count)
        yield (
            f"{uuid.UUID(int=n)}\tProduction\t{kind}\t\t{when}\t{original}\t{{}}\t"
            f'{{"originalTransactionId": "{original}", "offerType": 3}}\t\\N\t{when}\t'
            f"endpoint\tprocessed\t{when}\tapplied\n"
        )


def token_changes(count: int, agent_ids: list[int], first_account: int, accounts_count: int):
    """Links of the purchases that have a token: n + n // 4 skips every fifth, the offer codes
    still waiting (a link that succeeded gives its purchase a token when Apple next tells)."""
    for n in range(1, count + 1):
        created = at(n, count)
        purchase = 2_000_000_000_000_000 + n + n // 4
        agent = agent_ids[n % len(agent_ids)]
        account = first_account + n % accounts_count
        previous = "0" * 64 if n == 1 else f"{n - 1:064x}"
        yield (
            f"{uuid.UUID(int=n)}\t{agent}\t{created}\t{account}\t{purchase}\t"
            f"{PRODUCTS[n % 3]}\tProduction\tMK{n:08X}\t\\N\t{token(n % accounts_count)}\t"
            f"ZD-{n}\t\\N\tsucceeded\t\\N\t\t{created}\t{n}\t{previous}\t{n:064x}\n"
        )


def lookups(count: int, agent_ids: list[int]) -> Iterator[str]:
    for n in range(count):
        yield (
            f"{at(n, count)}\torder\tMK{n:08X}\t\t\\N\tProduction\tfound\t\\N\t\t"
            f"{40 + n % 200}\t[]\t{agent_ids[n % len(agent_ids)]}\n"
        )


def refund_requests(count: int) -> Iterator[str]:
    for n in range(count):
        requested = (NOW - timedelta(hours=n % 11)).isoformat()
        deadline = (NOW - timedelta(hours=n % 11) + timedelta(hours=12)).isoformat()
        original = 2_000_000_000_000_000 + n
        yield (
            f"{uuid.UUID(int=10**12 + n)}\tProduction\t{original}\t{original}\t{PRODUCTS[n % 3]}"
            f"\t9990\tUSD\t1\t{requested}\t{deadline}\topen\t\t\\N\t\t{requested}\t\\N\n"
        )


# The columns each generator above writes, in its order.
COLUMNS = {
    "CustomerAccount": "external_id email display_name app_account_token adapty_customer_user_id "
    "created_at updated_at",
    "Purchase": "environment original_transaction_id latest_transaction product_id "
    "app_account_token order_id learnt_at learnt_from auto_renew expiration_intent "
    "grace_period_ends_at next_renewal_date next_renewal_product_id renewal_info revocation_date "
    "revocation_reason status status_learnt_at status_signed_at status_source offer_code_told_at",
    "AppStoreNotification": "notification_uuid environment notification_type subtype "
    "signed_date original_transaction_id payload transaction renewal_info received_at "
    "received_from state processed_at outcome",
    "Lookup": "created_at kind order_id transaction_id history_version environment outcome "
    "error_code error_message duration_ms transactions agent_id",
    "RefundRequest": "notification_uuid environment transaction_id original_transaction_id "
    "product_id price_milliunits currency reason requested_at deadline status decision "
    "decided_at decision_notification_uuid created_at account_id",
    "TokenChange": "request_id agent_id created_at account_id original_transaction_id product_id "
    "environment order_id token_before token_after ticket_reference lookup_id outcome "
    "error_code error_message settled_at chain_sequence chain_previous_hash chain_hash",
}


def columns(table: str) -> list[str]:
    return COLUMNS[table].split()


def seed(database_url: str, counts: dict[str, int], agent_ids: list[int]) -> float:
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        steps: list[tuple[str, str, Callable[[], Iterator[str]]]] = [
            ("accounts", "CustomerAccount", lambda: accounts(counts["accounts"])),
            (
                "purchases",
                "Purchase",
                lambda: purchases(
                    counts["purchases"], counts["accounts"], counts["customer_purchases"]
                ),
            ),
            (
                "notifications",
                "AppStoreNotification",
                lambda: notifications(counts["notifications"], counts["purchases"]),
            ),
            ("lookups", "Lookup", lambda: lookups(counts["lookups"], agent_ids)),
            (
                "refund_requests",
                "RefundRequest",
                lambda: refund_requests(counts["refund_requests"]),
            ),
        ]
        for name, table, rows in steps:
            began = time.perf_counter()
            copy_rows(conn, f"lookups_{table.lower()}", columns(table), rows())
            print(f"  {name}: {counts[name]:,} in {time.perf_counter() - began:.1f} s", flush=True)
        first = conn.execute("SELECT min(id) FROM lookups_customeraccount").fetchone()[0]
        began = time.perf_counter()
        # Settled rows straight in, for volume: only the owner can step past the insert guard.
        guard = "TRIGGER lookups_tokenchange_inserted_pending"
        conn.execute(f"ALTER TABLE lookups_tokenchange DISABLE {guard}")
        rows = token_changes(counts["audit_rows"], agent_ids, first, counts["accounts"])
        copy_rows(conn, "lookups_tokenchange", columns("TokenChange"), rows)
        conn.execute(f"ALTER TABLE lookups_tokenchange ENABLE {guard}")
        print(f"  audit rows: {counts['audit_rows']:,} in {time.perf_counter() - began:.1f} s")
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


# --- the pages -----------------------------------------------------------------------------------


def make_users() -> dict[str, object]:
    from django.contrib.auth.models import Group, User

    from lookups import roles

    users = {}
    for name, group in (("agent", roles.AGENTS), ("manager", roles.MANAGERS)):
        user = User.objects.create_user(f"scale-{name}", is_staff=name == "manager")
        user.groups.add(Group.objects.get(name=group))
        users[name] = user
    users["superuser"] = User.objects.create_superuser("scale-admin")
    more = User.objects.bulk_create(User(username=f"scale-agent-{n:02d}") for n in range(20))
    Group.objects.get(name=roles.AGENTS).user_set.add(*more)
    return users


def pages(heavy_account: int) -> list[tuple[str, str, str]]:
    """(key, role, path) of every page measured."""
    from django.contrib import admin

    today = NOW.date()
    quarter = f"start={today - timedelta(days=89)}&end={today}"
    listed = [
        ("customer_200_purchases", "agent", f"/accounts/{heavy_account}/"),
        ("accounts_search", "agent", "/accounts/?q=customer4242"),
        ("unlinked_offer_codes", "agent", "/purchases/unlinked/"),
        ("refund_queue", "agent", "/refund-requests/"),
        ("transfers", "manager", "/transfers/"),
        ("approvals", "manager", "/extensions/"),
        ("reports_90_days", "manager", f"/reports/?{quarter}"),
    ]
    for model in admin.site._registry:
        slug = f"{model._meta.app_label}/{model._meta.model_name}"
        key = f"admin_{model._meta.model_name}"
        listed.append((key, "superuser", f"/admin/{slug}/"))
        listed.append((f"{key}_search", "superuser", f"/admin/{slug}/?q=customer4242"))
    return listed


def exports() -> list[tuple[str, str, str]]:
    from lookups.reporting.exports import TABLES

    today = NOW.date()
    quarter = f"start={today - timedelta(days=89)}&end={today}"
    return [
        (f"export_{slug.replace('-', '_')}_ttfb", "manager", f"/reports/{slug}.csv?{quarter}")
        for slug in TABLES
    ]


def measure(client, path: str, repeat: int, *, first_rows: bool = False) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm: imports, templates, the connection
    times, queries = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            if first_rows:
                # The header goes out first; the first rows are what the reader waits for.
                chunks = iter(response.streaming_content)
                next(chunks, None)
                next(chunks, None)
            elapsed = (time.perf_counter() - started) * 1000
            response.close()
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        times.append(elapsed)
        queries.append(len(captured.captured_queries))
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "queries": max(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="times every count below")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=5_000_000)
    parser.add_argument("--notifications", type=int, default=20_000_000)
    parser.add_argument("--audit-rows", type=int, default=2_000_000)
    parser.add_argument("--lookups", type=int, default=5_000_000)
    parser.add_argument("--refund-requests", type=int, default=2_000)
    parser.add_argument("--customer-purchases", type=int, default=200, help="not scaled")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", default="supportdesk_scale")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database kept by an earlier run (migrated first), without seeding it",
    )
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--pages", default="", help="measure only the pages whose key has this")
    args = parser.parse_args()
    counts = {
        name: max(1, round(getattr(args, name) * args.scale))
        for name in ("accounts", "purchases", "notifications", "audit_rows", "lookups")
    }
    counts["refund_requests"] = max(1, round(args.refund_requests * args.scale))
    counts["customer_purchases"] = min(args.customer_purchases, counts["purchases"])

    server = args.postgres.rstrip("/")
    database_url = f"{server}/{args.database}"
    # The desk as deployed (no simulator panels, DEBUG off), on the test client's host name;
    # Apple is never called, so its settings only need to be there.
    os.environ.update(
        {
            **production_settings(database_url),
            "ALLOWED_HOSTS": "testserver",
            "CACHE_URL": "locmemcache://scale",
            "APPSTORE_PRIVATE_KEY": "not used: the pages measured never call Apple",
            "APPSTORE_ROOT_CERTIFICATES": str(ROOT / "tests" / "fixtures"),
            "APPSTORE_ISSUER_ID": "scale-bench",
            "APPSTORE_KEY_ID": "SCALE",
            "APPSTORE_BUNDLE_ID": "com.example.app",
            "APPSTORE_APP_APPLE_ID": "1",
            "APPSTORE_ENVIRONMENT": "Production",
            "ADAPTY_SECRET_KEY": "",
            # The clients are signed in already; a second factor is sign-in's, not a page's.
            "SECOND_FACTOR_GROUPS": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    admin = psycopg.connect(f"{server}/postgres", autocommit=True)
    name = sql.Identifier(args.database)
    if not args.reuse:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        figures = run(args, counts, database_url)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.close()
    print(json.dumps(figures))


def run(args, counts: dict[str, int], database_url: str) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from lookups.models import CustomerAccount

    call_command("migrate", interactive=False, verbosity=0)
    # DEBUG off serves the manifest's hashed names: the pages need them collected.
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.contrib.auth.models import User

    if args.reuse:
        users = {
            role: User.objects.get(username=f"scale-{name}")
            for role, name in (("agent", "agent"), ("manager", "manager"), ("superuser", "admin"))
        }
        seed_s = 0.0
    else:
        users = make_users()
        agent_ids = list(
            User.objects.filter(username__startswith="scale-agent").values_list("pk", flat=True)
        )
        connections.close_all()
        print(f"seeding {database_url} with COPY (scale {args.scale}):", flush=True)
        seed_s = seed(database_url, counts, agent_ids)
    heavy = CustomerAccount.objects.get(external_id="cust-0").pk

    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    figures: dict = {f"seeded_{name}": count for name, count in counts.items()}
    figures["seed_s"] = round(seed_s, 1)
    print(f"{'page':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for key, role, path in [*pages(heavy), *exports()]:
        if args.pages not in key:
            continue
        marks = measure(clients[role], path, args.repeat, first_rows=key.startswith("export_"))
        print(f"{key:<44} {marks['p50_ms']:>8} {marks['p95_ms']:>8} {marks['queries']:>8}")
        figures.update({f"{key}_{mark}": value for mark, value in marks.items()})
    slowest = max((v, k) for k, v in figures.items() if k.endswith("_p95_ms"))
    figures["slowest_p95"] = f"{slowest[1]} {slowest[0]}"
    return figures


if __name__ == "__main__":
    main()
