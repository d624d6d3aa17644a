"""On PostgreSQL every query the search box runs is answered from an index, for every kind of
input: with sequential scans priced out, a query no index serves still reads its whole table."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lookups.services.search import search

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the plans checked are PostgreSQL's"
    ),
]

SEARCHED = ["lookups_customeraccount", "lookups_purchase", "lookups_customernote"]
SEARCHED += ["lookups_tokenchange", "lookups_transferrequest", "lookups_subscriptionextension"]


@pytest.mark.parametrize(
    "typed",
    [
        "maya.patel@example.com",  # email
        "Maya Pa",  # name prefix, then names and notes containing it
        "MK5TTTVWJH",  # order ID
        "2000000815627301",  # transaction ID
        "3f2b8c1e-7d4a-4c9e-9b6f-2a1d5e8c7b40",  # token
        "sd-4821",  # ticket
        "acct-1001",  # account ID
    ],
)
def test_every_search_query_reads_an_index(maya, typed):
    with CaptureQueriesContext(connection) as captured:
        search(typed)
    scans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            scans += [table for table in SEARCHED if f"Seq Scan on {table}" in plan]
        cursor.execute("RESET enable_seqscan")
    assert scans == []
