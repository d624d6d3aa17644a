"""Pages run a fixed number of queries, whatever the number of transactions shown."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def queries_for_lookup(client, order_id: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("lookups:look_up"), {"order_id": order_id})
    assert response.status_code == 200
    return len(captured)


def test_the_lookup_page_runs_the_same_queries_for_1_or_100_transactions(
    agent_client, appstore_settings, simulator
):
    simulator.add_order("QC1TXN0001", 1)
    simulator.add_order("QC100TXN01", 100)
    queries_for_lookup(agent_client, "QC1TXN0001")  # warm the session and permission caches

    one = queries_for_lookup(agent_client, "QC1TXN0001")
    hundred = queries_for_lookup(agent_client, "QC100TXN01")

    assert one == hundred
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": "QC100TXN01"}).text
    assert page.count('<tr id="txn-') == 100
