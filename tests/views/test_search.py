"""The search box's page and fragment: grouped answers, and Apple only ever offered, never asked."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.models import Lookup
from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.pages import HTMX

pytestmark = pytest.mark.django_db

URL = "/search/"


def test_the_search_url_is_named():
    assert reverse("lookups:search") == URL


def test_every_agent_page_carries_the_box_and_its_shortcuts(agent_client):
    for url in (reverse("lookups:look_up"), reverse("lookups:accounts")):
        page = agent_client.get(url).text
        assert 'id="search-box-q"' in page
        assert 'aria-keyshortcuts="/ Control+K Meta+K"' in page
        assert 'id="shortcuts"' in page
        assert "js/search.js" in page


def test_managers_who_read_orders_and_customers_search_too(manager_client):
    page = manager_client.get(reverse("lookups:reports")).text
    assert 'id="search-box-q"' in page


def test_an_auditor_page_has_no_box(auditor_client):
    page = auditor_client.get(reverse("lookups:home")).text
    assert 'id="search-box-q"' not in page


def test_auditors_may_not_search(auditor_client):
    assert auditor_client.get(URL, {"q": "maya"}).status_code == 403


@pytest.mark.parametrize(
    "typed", ["Maya Patel", "maya.patel@example.com", "Maya", "maya patel", "acct-1001"]
)
def test_a_name_or_an_email_never_reaches_apple(
    agent_client, simulator, appstore_settings, maya, typed
):
    page = agent_client.get(URL, {"q": typed}).text
    assert "Maya Patel" in page
    assert "Look up at Apple" not in page
    assert simulator.requests == []
    assert Lookup.objects.count() == 0


def test_an_order_id_is_offered_to_apple_but_not_sent(agent_client, simulator, appstore_settings):
    page = agent_client.get(URL, {"q": ORDER_OFFER_CODE.lower()}).text
    offer = reverse("lookups:look_up") + f"?order_id={ORDER_OFFER_CODE}"
    assert f'href="{offer}"' in page
    assert "Look up at Apple" in page
    assert simulator.requests == []


def test_a_transaction_id_the_desk_has_seen_finds_the_purchase_and_its_customer(
    agent_client, simulator, appstore_settings, maya
):
    # Maya's purchase is in the desk's picture once looked up; linked in the simulator first.
    simulator.store.set_app_account_token(
        PURCHASE_OFFER_CODE, {"appAccountToken": str(maya.app_account_token)}
    )
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    asked = len(simulator.requests)
    page = agent_client.get(URL, {"q": PURCHASE_OFFER_CODE}).text
    assert len(simulator.requests) == asked
    assert 'id="search-purchases"' in page and PURCHASE_OFFER_CODE in page
    assert reverse("lookups:account", args=[maya.pk]) in page
    assert reverse("lookups:history", args=[PURCHASE_OFFER_CODE]) in page


def test_htmx_gets_only_the_results(agent_client, maya):
    fragment = agent_client.get(URL, {"q": "maya"}, headers=HTMX).text
    assert "<html" not in fragment
    assert 'id="search-customers"' in fragment and "Maya Patel" in fragment


def test_nothing_found_says_so(agent_client, maya):
    page = agent_client.get(URL, {"q": "nobody-at-all"}).text
    assert "Nothing matches “nobody-at-all”" in page


def test_too_long_a_query_is_refused_plainly(agent_client):
    page = agent_client.get(URL, {"q": "x" * 300}).text
    assert "at most 200 characters" in page


def test_an_agent_limited_to_another_app_finds_no_purchase_of_this_one(
    agent_client, agent_user, maya, appstore_settings
):
    from django.utils import timezone

    from lookups.models import App, Purchase
    from lookups.services.apps import desk_apps

    desk_apps()
    Purchase.objects.create(
        environment=appstore_settings.APPSTORE_ENVIRONMENT,
        original_transaction_id="2000000999400001",
        latest_transaction={"transactionId": "2000000999400001", "productId": "com.example.pro"},
        product_id="com.example.pro",
        app_account_token=maya.app_account_token,
        learnt_from=Purchase.Source.LOOKUP,
        learnt_at=timezone.now(),
    )
    url = reverse("lookups:search")
    assert "2000000999400001" in agent_client.get(url, {"q": "2000000999400001"}).text

    App.objects.create(name="Coach", bundle_id="com.example.coach").limited_agents.add(agent_user)

    page = agent_client.get(url, {"q": "2000000999400001"}).text
    assert "original transaction 2000000999400001" not in page


def test_a_token_finds_the_sandbox_purchase_too_labelled_and_named_by_its_app(
    agent_client, maya, appstore_settings
):
    from django.utils import timezone

    from lookups.models import App, Purchase
    from lookups.services.apps import desk_apps

    desk_apps()
    coach = App.objects.create(name="Coach", bundle_id="com.example.coach", uses_sandbox=True)
    for original_id, environment in (
        ("2000000999400001", "Production"),
        ("2000000999400002", "Sandbox"),
    ):
        Purchase.objects.create(
            app=coach,
            environment=environment,
            original_transaction_id=original_id,
            latest_transaction={"transactionId": original_id, "productId": "com.example.pro"},
            product_id="com.example.pro",
            app_account_token=maya.app_account_token,
            learnt_from=Purchase.Source.LOOKUP,
            learnt_at=timezone.now(),
        )

    page = agent_client.get(URL, {"q": str(maya.app_account_token)}).text

    hits = page[page.index('id="search-purchases"') :].split("<li>")[1:]
    [sandbox] = [hit for hit in hits if "original transaction 2000000999400002" in hit]
    [production] = [hit for hit in hits if "original transaction 2000000999400001" in hit]
    assert "Sandbox: a test purchase, no money moved" in sandbox
    assert "Coach" in sandbox and "Coach" in production
    assert "Sandbox" not in production
