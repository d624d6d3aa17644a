"""Two agents link the same purchase at the same moment: one Apple call, one row, both told."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from lookups.models import TokenChange
from lookups.services.linking import LinkRefused, LinkRequest, link_purchase
from lookups.simulators.demo_data import ORDER_OFFER_CODE

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so there is no race to test",
    ),
]


def test_two_agents_linking_one_purchase_make_one_call(
    appstore_settings, simulator, make_user, make_account
):
    from lookups.roles import AGENTS

    agents = [make_user(f"racer{n}", AGENTS) for n in range(2)]
    accounts = [make_account(display_name=f"Customer {n}") for n in range(2)]
    original_id = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    # Apple answers slowly, so the first link is still pending when the second arrives.
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=1.0)

    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def link(n: int) -> None:
        request = LinkRequest(
            original_transaction_id=original_id,
            account=accounts[n],
            ticket_reference=f"T-{n}",
            request_id=uuid.uuid4(),
        )
        start.wait()
        try:
            outcomes[n] = link_purchase(agents[n], request)
        except LinkRefused as refusal:
            outcomes[n] = refusal
        finally:
            connection.close()

    threads = [threading.Thread(target=link, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    changes = [o for o in outcomes if isinstance(o, TokenChange)]
    refusals = [o for o in outcomes if isinstance(o, LinkRefused)]
    assert len(changes) == 1 and len(refusals) == 1
    winner = changes[0]
    assert winner.outcome == TokenChange.Outcome.SUCCEEDED
    assert TokenChange.objects.count() == 1
    assert [method for method, _ in simulator.requests].count("PUT") == 1
    # The other agent learns who got there first and to which customer.
    assert winner.agent.username in refusals[0].message
    assert winner.account.display_name in refusals[0].message
