"""A few weeks of made-up desk activity for the reports: marked as demo, made once."""

from __future__ import annotations

import pytest

from lookups.models import Lookup, TokenChange
from lookups.services.demo_accounts import create_demo_accounts
from lookups.services.demo_activity import CUSTOMER_PREFIX, TICKET_PREFIX, create_demo_activity


@pytest.mark.django_db
def test_demo_activity_is_marked_and_made_once():
    create_demo_accounts()
    first = create_demo_activity(days=21)
    assert first.created and first.lookups > 50 and first.token_changes > 10
    again = create_demo_activity(days=21)
    assert not again.created
    assert Lookup.objects.count() == first.lookups
    assert TokenChange.objects.count() == first.token_changes

    assert all(
        order.startswith("DEMO") for order in Lookup.objects.values_list("order_id", flat=True)
    )
    assert all(
        ticket.startswith(TICKET_PREFIX)
        for ticket in TokenChange.objects.values_list("ticket_reference", flat=True)
    )
    assert set(Lookup.objects.values_list("agent__username", flat=True)) <= {
        "demo-ana",
        "demo-ben",
        "demo-chen",
        "demo-dara",
    }
    outcomes = set(Lookup.objects.values_list("outcome", flat=True))
    assert outcomes == {"found", "not_found", "failed"}
    assert TokenChange.objects.filter(outcome="failed").exists()
    assert not TokenChange.objects.filter(outcome="pending").exists()
    # Links go to the demo's own made-up customers, never to the hand-made ones agents try.
    linked = set(TokenChange.objects.values_list("account__external_id", flat=True))
    assert linked and all(external_id.startswith(CUSTOMER_PREFIX) for external_id in linked)
