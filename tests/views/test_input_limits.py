"""Limits on what users send: over-long or out-of-range input gets a plain message, asks nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.models import Lookup
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE
from tests.fixtures.pages import (
    HTMX,
)

pytestmark = pytest.mark.django_db

# --- Limits on what users send -------------------------------------------------------------------


def test_an_over_long_order_id_gets_a_plain_message(agent_client, appstore_settings, simulator):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": "A" * 5000})
    assert response.status_code == 200
    assert "That is too long to hold an order ID; paste only the receipt line." in response.text
    assert not Lookup.objects.exists() and simulator.requests == []


def test_an_over_long_search_gets_a_plain_message(agent_client):
    response = agent_client.get(reverse("lookups:accounts"), {"q": "x" * 201}, headers=HTMX)
    assert response.status_code == 200
    assert "at most 200 characters" in response.text
    link = agent_client.get(reverse("lookups:link", args=[PURCHASE_OFFER_CODE]), {"q": "x" * 201})
    assert link.status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "1999-01-01"}, "Choose dates between 2008-01-01 and"),
        ({"end": "9999-12-31"}, "Choose dates between 2008-01-01 and"),
        ({"start": "2008-01-01", "end": "2025-01-01"}, "at most ten years"),
        ({"start": "2024-13-01"}, "Enter a valid date"),
        ({"revision": "r" * 2049}, "at most 2048 characters"),
        ({"version": "3"}, "Select a valid choice"),
        ({"product_type": "GIFT"}, "Select a valid choice"),
    ],
)
def test_history_filters_out_of_range_get_a_plain_message(
    agent_client, appstore_settings, simulator, query, message
):
    response = agent_client.get(reverse("lookups:history", args=[PURCHASE_OFFER_CODE]), query)
    assert response.status_code == 200
    assert message in response.text
    assert simulator.requests == []


def test_too_many_query_parameters_are_refused(agent_client):
    query = "&".join(f"product_type={n}" for n in range(1500))
    response = agent_client.get(f"{reverse('lookups:history', args=[PURCHASE_OFFER_CODE])}?{query}")
    assert response.status_code == 400
