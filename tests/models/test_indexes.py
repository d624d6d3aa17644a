"""Every filter the admin and the reports put on token changes is answered from an index.

100,000 token changes over two years, by 50 agents, are loaded with one INSERT ... SELECT; ANALYZE
refreshes the planner's statistics; then every query the admin's changelist (or the report) runs
for a filter is EXPLAINed, and none may read the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lookups.models import CustomerAccount

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the plans checked are PostgreSQL's, and production runs on it",
    ),
]

ROWS = 100_000
AGENTS = 50
ACCOUNTS = 1_000
MINUTES_BETWEEN_ROWS = 10  # 100,000 rows span about two years

# One row in 50 failed, one in 1,000 is still pending, one in 100 was made in Sandbox.
LOAD_TOKEN_CHANGES = """
INSERT INTO lookups_tokenchange (
    request_id, created_at, original_transaction_id, product_id, environment, order_id,
    token_before, token_after, ticket_reference, outcome, error_code, error_message, settled_at,
    account_id, agent_id, lookup_id, chain_sequence, chain_previous_hash, chain_hash
)
SELECT
    md5('change' || g)::uuid,
    moment,
    (2000000000000000 + g)::text,
    'com.example.pro.monthly',
    CASE WHEN mod(g, 100) = 0 THEN 'Sandbox' ELSE 'Production' END,
    'MK' || lpad(g::text, 8, '0'),
    NULL,
    md5('account' || mod(g, %(accounts)s))::uuid,
    'ZD-' || g,
    outcome,
    CASE WHEN outcome = 'failed' THEN 4000185 END,
    CASE WHEN outcome = 'failed' THEN 'Family-shared purchases cannot take a token.' ELSE '' END,
    CASE WHEN outcome = 'pending' THEN NULL ELSE moment + interval '1 second' END,
    (%(account_ids)s::bigint[])[mod(g, %(accounts)s) + 1],
    (%(agent_ids)s::integer[])[mod(g, %(agents)s) + 1],
    NULL,
    CASE WHEN outcome = 'pending' THEN NULL ELSE g END,
    CASE WHEN outcome = 'pending' THEN '' ELSE md5('previous' || g) || md5('p' || g) END,
    CASE WHEN outcome = 'pending' THEN '' ELSE md5('hash' || g) || md5('h' || g) END
FROM generate_series(1, %(rows)s) AS g,
    LATERAL (
        SELECT
            now() - (%(rows)s - g) * %(minutes)s * interval '1 minute' AS moment,
            CASE
                WHEN mod(g, 1000) = 0 THEN 'pending'
                WHEN mod(g, 50) = 0 THEN 'failed'
                ELSE 'succeeded'
            END AS outcome
    ) AS row_values
"""


@pytest.fixture(scope="module")
def audit_log(django_db_setup, django_db_blocker) -> Iterator[list[User]]:
    """A large audit log, loaded once for this module and rolled back after it: its agents."""
    with django_db_blocker.unblock(), transaction.atomic():
        agents = User.objects.bulk_create(
            User(username=f"index-agent-{n}", password="!") for n in range(AGENTS)
        )
        accounts = CustomerAccount.objects.bulk_create(
            CustomerAccount(
                external_id=f"index-{n}", email=f"index{n}@example.com", display_name=f"Index {n}"
            )
            for n in range(ACCOUNTS)
        )
        with connection.cursor() as cursor:
            # Settled rows straight in, for volume: the owner's way past the insert guard, rolled
            # back with the rest after the module.
            guard = "lookups_tokenchange_inserted_pending"
            cursor.execute(f"ALTER TABLE lookups_tokenchange DISABLE TRIGGER {guard}")
            cursor.execute(
                LOAD_TOKEN_CHANGES,
                {
                    "rows": ROWS,
                    "minutes": MINUTES_BETWEEN_ROWS,
                    "agents": AGENTS,
                    "accounts": ACCOUNTS,
                    "agent_ids": [agent.pk for agent in agents],
                    "account_ids": [account.pk for account in accounts],
                },
            )
            cursor.execute("ANALYZE lookups_tokenchange, lookups_customeraccount, auth_user")
        yield agents
        # The triggers keep token changes from being deleted: roll the whole load back instead.
        transaction.set_rollback(True)


def whole_table_reads(queries: list[dict]) -> list[str]:
    """The plan of each token-change query that reads the whole table, with its SQL."""
    found = []
    for query in queries:
        sql = query["sql"]
        # An EXPLAIN (the admin's estimated count) only plans: it reads no rows.
        if "lookups_tokenchange" not in sql or sql.upper().startswith("EXPLAIN"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        if "Seq Scan on lookups_tokenchange" in plan:
            found.append(f"{sql}\n{plan}")
    return found


def admin_filters(agent: User) -> dict[str, dict[str, str]]:
    today = datetime.now(UTC).date()
    week_ago = today - timedelta(days=7)
    return {
        "outcome failed": {"outcome__exact": "failed"},
        "outcome pending": {"outcome__exact": "pending"},
        "agent": {"agent__id__exact": str(agent.pk)},
        "created_at past 7 days": {
            "created_at__gte": week_ago.isoformat(),
            "created_at__lt": (today + timedelta(days=1)).isoformat(),
        },
        "created_at year and month": {
            "created_at__year": str(week_ago.year),
            "created_at__month": str(week_ago.month),
        },
        "environment Sandbox": {"environment": "Sandbox"},
        "agent and outcome": {"agent__id__exact": str(agent.pk), "outcome__exact": "failed"},
        "search by transaction ID": {"q": "2000000123456789"},
        "search by order ID": {"q": "mk5tttvwjh"},
        "search by ticket": {"q": "ZD-1234"},
        "search by ticket, any case": {"q": "zd-1234"},
        # One customer's email: a term matching a large share of the table is rightly scanned.
        "search by customer": {"q": CustomerAccount.objects.order_by("-pk").first().email},
    }


def test_the_newest_token_changes_page_is_read_from_the_created_at_index(
    audit_log, superuser_client
):
    with CaptureQueriesContext(connection) as captured:
        response = superuser_client.get(reverse("admin:lookups_tokenchange_changelist"))
    assert response.status_code == 200
    # Without a filter, the row count and the date hierarchy's years read every row whatever
    # the indexes; the page itself must come from the index, newest first.
    pages = [query for query in captured if "LIMIT" in query["sql"]]

    assert pages
    assert whole_table_reads(pages) == []


def test_every_admin_filter_on_token_changes_uses_an_index(audit_log, superuser_client):
    url = reverse("admin:lookups_tokenchange_changelist")
    problems = {}
    for name, params in admin_filters(audit_log[7]).items():
        with CaptureQueriesContext(connection) as captured:
            response = superuser_client.get(url, params)
        assert response.status_code == 200, name
        if reads := whole_table_reads(captured.captured_queries):
            problems[name] = reads

    assert problems == {}, "\n\n".join(
        f"{name}:\n" + "\n".join(reads) for name, reads in problems.items()
    )


def test_every_report_query_on_token_changes_uses_an_index(audit_log):
    from lookups.reporting.figures import ReportFilters, build_report

    end = datetime.now(UTC).date()
    start = end - timedelta(days=29)
    problems = {}
    for name, filters in {
        "last 30 days": ReportFilters(start=start, end=end),
        "last 30 days, one agent": ReportFilters(start=start, end=end, agent=audit_log[7]),
        "one day a year ago": ReportFilters(
            start=end - timedelta(days=365), end=end - timedelta(days=365)
        ),
    }.items():
        with CaptureQueriesContext(connection) as captured:
            build_report(filters)
        if reads := whole_table_reads(captured.captured_queries):
            problems[name] = reads

    assert problems == {}, "\n\n".join(
        f"{name}:\n" + "\n".join(reads) for name, reads in problems.items()
    )


def test_the_loaded_log_looks_like_two_years_of_a_busy_desk(audit_log):
    from lookups.models import TokenChange

    oldest = TokenChange.objects.order_by("created_at").first()
    assert TokenChange.objects.count() == ROWS
    assert oldest.created_at.date() < date.today() - timedelta(days=600)
    assert TokenChange.objects.filter(outcome="pending").count() == ROWS // 1000
