"""Every agent page: who may open it, which methods it takes, full page versus htmx fragment."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from lookups.models import Lookup, TokenChange
from lookups.simulators.demo_apps import COACH_LATEST, COACH_TRANSACTIONS, ORDER_COACH
from lookups.simulators.demo_data import (
    LONG_HISTORY_CREDIT_PACKS,
    LONG_HISTORY_RENEWALS,
    ORDER_LINKED_IN_APP,
    ORDER_LONG_HISTORY,
    ORDER_NOT_FOUND,
    ORDER_OFFER_CODE,
    ORDER_TRANSACTIONS,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.links import post_link
from tests.fixtures.pages import HTMX, link, look_up

pytestmark = pytest.mark.django_db


def test_the_lookup_page_refuses_post(agent_client):
    assert agent_client.post(reverse("lookups:look_up")).status_code == 405


def test_link_refuses_put_and_delete(agent_client):
    url = reverse("lookups:link", args=[PURCHASE_OFFER_CODE])
    assert agent_client.put(url).status_code == 405
    assert agent_client.delete(url).status_code == 405


def test_home_sends_each_role_to_its_section(agent_client, auditor_client):
    assert agent_client.get(reverse("lookups:home")).url == reverse("lookups:look_up")
    # Auditors land on a home with the audit trail (tests/test_landing.py has the rest).
    home = auditor_client.get(reverse("lookups:home"))
    assert reverse("admin:lookups_tokenchange_changelist") in home.text


def test_the_header_shows_only_the_sections_of_the_role(agent_client, manager_client):
    agent_page = agent_client.get(reverse("lookups:accounts")).text
    manager_page = manager_client.get(reverse("lookups:reports")).text
    assert "Look up an order" in agent_page and "Customers" in agent_page
    assert "Audit trail" not in agent_page and "Reports" not in agent_page
    # Managers read orders and customers before they approve.
    assert "Look up an order" in manager_page and "Customers" in manager_page
    assert "Audit trail" in manager_page and "Reports" in manager_page


def test_a_lookup_renders_the_whole_page_without_htmx(agent_client, appstore_settings):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    assert response.status_code == 200
    assert "<html" in response.text and "Offer code" in response.text


def test_a_lookup_renders_only_the_results_for_htmx(agent_client, appstore_settings):
    response = agent_client.get(
        reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Offer code" in response.text and "Not linked" in response.text


def test_a_lookup_trims_and_upper_cases_the_order_id(agent_client, agent_user, appstore_settings):
    agent_client.get(reverse("lookups:look_up"), {"order_id": f"  {ORDER_OFFER_CODE.lower()} "})
    lookup = Lookup.objects.get()
    assert lookup.order_id == ORDER_OFFER_CODE
    assert lookup.agent == agent_user and lookup.outcome == Lookup.Outcome.FOUND
    shown = [t["payload"]["transactionId"] for t in lookup.transactions if t["verified"]]
    assert sorted(shown) == sorted(ORDER_TRANSACTIONS[ORDER_OFFER_CODE])
    assert len(shown) == len(lookup.transactions)


@pytest.mark.parametrize("bad", ["12", "MK5T-TTV!WJH", "x" * 40, "ÄÖÜÄÖÜÄÖÜ"])
def test_a_malformed_order_id_explains_what_one_looks_like(agent_client, bad, appstore_settings):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": bad})
    assert response.status_code == 200
    assert "receipt email" in response.text
    assert Lookup.objects.count() == 0


def test_status_one_gets_a_plain_explanation(agent_client, appstore_settings):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_NOT_FOUND})
    assert "has no purchases of this app" in response.text
    assert Lookup.objects.get().outcome == Lookup.Outcome.NOT_FOUND


def test_a_lookup_shows_the_linked_account_by_name(agent_client, appstore_settings, sofia):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_LINKED_IN_APP})
    assert reverse("lookups:account", args=[sofia.pk]) in response.text
    assert "Sofia Martinez" in response.text


def test_the_history_page_pages_by_revision(agent_client, appstore_settings):
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_LONG_HISTORY})
    transaction_id = Lookup.objects.get().transactions[0]["payload"]["transactionId"]
    url = reverse("lookups:history", args=[transaction_id])

    first = agent_client.get(url)
    assert first.text.count('<tr id="txn-') == 20
    assert "Load more" in first.text

    history = Lookup.objects.filter(kind=Lookup.Kind.HISTORY).get()
    assert history.history_version == 2 and len(history.transactions) == 20

    revision = first.context["result"].revision
    more = agent_client.get(url, {"revision": revision}, headers={"HX-Request": "true"})
    assert "<html" not in more.text
    # Aiko's whole history: every renewal and credit pack, 20 on the first page, the rest here.
    rest = LONG_HISTORY_RENEWALS + LONG_HISTORY_CREDIT_PACKS - 20
    assert more.text.count('<tr id="txn-') == rest
    assert "Load more" not in more.text


def test_history_filters_reject_a_reversed_date_range(agent_client, appstore_settings):
    url = reverse("lookups:history", args=[PURCHASE_OFFER_CODE])
    response = agent_client.get(url, {"start": "2026-05-01", "end": "2026-04-01"})
    assert "must not be after" in response.text
    assert not Lookup.objects.exists()


def test_history_of_something_that_is_not_a_transaction_id_is_404(agent_client):
    assert agent_client.get("/purchases/abc/history/").status_code == 404


def test_load_more_shows_apples_refusal_of_a_stale_revision_in_the_table(
    agent_client, appstore_settings
):
    url = reverse("lookups:history", args=[PURCHASE_OFFER_CODE])
    response = agent_client.get(url, {"revision": "not-a-revision"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert '<tr id="load-more">' in response.text
    assert "(Apple error 4000005)" in response.text
    assert Lookup.objects.get().error_code == 4000005


def test_a_link_apple_accepted_tells_the_order_to_show_itself_again(
    agent_client, appstore_settings, simulator, maya
):
    lookup = look_up(agent_client, ORDER_OFFER_CODE)
    simulator.inject_fault("internal_error", endpoint="set_token")
    failed = link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)
    assert "HX-Trigger" not in failed.headers

    linked = link(agent_client, PURCHASE_OFFER_CODE, maya, lookup)
    assert "Linked to <strong>Maya Patel</strong>" in linked.text
    assert json.loads(linked.headers["HX-Trigger"]) == {"orderChanged": {}}


def test_the_order_shown_again_keeps_the_link_panels_and_the_page_when_apple_fails(
    agent_client, appstore_settings, simulator
):
    query = {"order_id": ORDER_OFFER_CODE, "refresh": "1"}
    shown = agent_client.get(reverse("lookups:look_up"), query, headers=HTMX)
    assert f'id="link-{PURCHASE_OFFER_CODE}" hx-preserve' in shown.text
    assert 'hx-trigger="orderChanged from:body' in shown.text

    simulator.inject_fault("internal_error", endpoint="lookup")
    kept = agent_client.get(reverse("lookups:look_up"), query, headers=HTMX)
    # No content: htmx leaves the order the agent sees in place.
    assert kept.status_code == 204


@pytest.mark.parametrize("name", ["Maya Patel", "maya patel", "Ana María López"])
def test_a_name_typed_into_look_up_is_never_sent_to_apple(
    agent_client, appstore_settings, simulator, name
):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": name})
    assert "looks like a name" in response.text
    assert "search box" in response.text
    assert simulator.requests == []
    assert Lookup.objects.count() == 0


def test_a_coach_order_offers_the_actions_at_apple_like_the_desks_own(agent_client, three_apps):
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_COACH}).text

    assert f'id="txn-{COACH_LATEST}"' in page
    assert reverse("lookups:link", args=[COACH_TRANSACTIONS[0]]) in page
    assert reverse("lookups:extend", args=[COACH_TRANSACTIONS[0]]) in page
    assert "why-not-act" not in page


def test_the_acting_apps_order_still_offers_the_link_beside_other_apps(agent_client, three_apps):
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}).text

    assert "Link to customer" in page
    assert "why-not-act" not in page


def test_a_link_posted_for_a_coach_purchase_is_made_at_coach(
    agent_client, three_apps, maya, simulator
):
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_COACH})

    response = post_link(agent_client, COACH_TRANSACTIONS[0], maya)

    assert response.status_code == 200
    change = TokenChange.objects.get()
    assert (change.outcome, change.app) == ("succeeded", three_apps.coach)


def test_a_link_posted_by_an_agent_not_on_coach_is_refused_with_the_reason(
    agent_client, agent_user, three_apps, maya, simulator
):
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_COACH})
    three_apps.journal.limited_agents.add(agent_user)
    asked_before = len(simulator.requests)

    response = post_link(agent_client, COACH_TRANSACTIONS[0], maya)

    assert response.status_code == 403
    assert "You don&#x27;t work on Coach&#x27;s purchases" in response.text
    assert len(simulator.requests) == asked_before
    assert not TokenChange.objects.exists()
