"""Customer accounts: the agents' search and each account's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_agents_search_customer_accounts(agent_client, customer_account):
    response = agent_client.get(reverse("lookups:accounts"), {"q": customer_account.email[:5]})
    assert response.status_code == 200
    assert customer_account.display_name in response.text


def test_an_account_without_links_says_no_purchase_has_been_linked(agent_client, customer_account):
    response = agent_client.get(reverse("lookups:account", args=[customer_account.pk]))
    assert response.status_code == 200
    assert customer_account.email in response.text
    assert "No purchase has been linked" in response.text


def test_the_account_search_refuses_post(agent_client):
    assert agent_client.post(reverse("lookups:accounts")).status_code == 405


def test_the_account_search_lists_matches_by_name(agent_client, make_account):
    for name in ("Zoe Adams", "Anna Berg", "Mia Chen"):
        make_account(display_name=name)
    page = agent_client.get(reverse("lookups:accounts"), {"q": "customer"}).text
    assert page.index("Anna Berg") < page.index("Mia Chen") < page.index("Zoe Adams")
