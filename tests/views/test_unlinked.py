"""The unlinked offer-code purchases list, fed by notifications the simulator posts."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from django.urls import reverse

from lookups.models import Purchase
from lookups.reporting import figures
from lookups.simulators.demo_data import (
    PURCHASE_FREE_TRIAL,
    PURCHASE_LINKED_IN_APP,
    PURCHASE_OFFER_CODE,
)

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def post(live_server, appstore_settings, simulator):
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(None)
    endpoint = live_server.url + reverse("lookups:appstore_notifications")

    def post(*args, **kwargs):
        sent = simulator.emit_notification(*args, **kwargs)
        answer = requests.post(endpoint, json={"signedPayload": sent.signed_payload}, timeout=5)
        assert answer.status_code == 200
        time.sleep(0.01)  # distinct signedDate milliseconds, so "oldest first" has an order

    return post


def test_offer_codes_apple_told_about_are_listed_oldest_first(post, agent_client):
    post("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    post("OFFER_REDEEMED", transaction_id=PURCHASE_LINKED_IN_APP)
    page = agent_client.get(reverse("lookups:unlinked")).text
    # Sofia's carries a token already: only Maya's waits.
    assert f"unlinked-{PURCHASE_OFFER_CODE}" in page
    assert f"unlinked-{PURCHASE_LINKED_IN_APP}" not in page
    assert "Link to customer" in page


def test_the_one_apple_told_about_first_comes_first(post, agent_client):
    post("OFFER_REDEEMED", transaction_id=PURCHASE_FREE_TRIAL)
    post("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    page = agent_client.get(reverse("lookups:unlinked")).text
    assert page.index(f"unlinked-{PURCHASE_FREE_TRIAL}") < page.index(
        f"unlinked-{PURCHASE_OFFER_CODE}"
    )


def test_a_renewal_alone_does_not_list_a_purchase(post, agent_client):
    post("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    page = agent_client.get(reverse("lookups:unlinked")).text
    assert "No offer-code purchase is waiting" in page


def test_a_linked_purchase_leaves_the_list(post, agent_client):
    post("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    Purchase.objects.filter(original_transaction_id=PURCHASE_OFFER_CODE).update(
        app_account_token=uuid.uuid4()
    )
    assert (
        f"unlinked-{PURCHASE_OFFER_CODE}" not in agent_client.get(reverse("lookups:unlinked")).text
    )


def test_the_reports_page_counts_them(post, manager_client):
    post("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    page = manager_client.get(reverse("lookups:reports")).text
    assert "1 offer-code purchase not linked yet" in page


def test_the_reports_page_stops_counting_past_its_limit(post, manager_client, monkeypatch):
    # Counting a million waiting purchases would read every one of them.
    monkeypatch.setattr(figures, "UNLINKED_COUNTED_UP_TO", 0)
    post("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    page = manager_client.get(reverse("lookups:reports")).text
    assert "More than 0 offer-code purchases not linked yet" in page


def test_an_offer_code_redeemed_in_the_demo_life_reaches_the_list(
    live_server, appstore_settings, simulator, agent_client
):
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(live_server.url + reverse("lookups:appstore_notifications"))
    try:
        answer = simulator.live({"action": "redeem_offer_code"})
        assert simulator.notifications.wait_until_settled(timeout=10)
    finally:
        simulator.set_notification_url(None)
    purchase = Purchase.objects.get(learnt_from=Purchase.Source.NOTIFICATION)
    assert purchase.status == Purchase.Status.ACTIVE
    page = agent_client.get(reverse("lookups:unlinked")).text
    assert f"unlinked-{purchase.original_transaction_id}" in page
    assert answer


def test_an_agent_limited_to_one_app_lists_only_its_unlinked_purchases(
    post, agent_client, agent_user
):
    from lookups.models import App
    from lookups.services.apps import desk_apps

    post("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    [own] = desk_apps()
    coach = App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")
    url = reverse("lookups:unlinked")
    assert f"unlinked-{PURCHASE_OFFER_CODE}" in agent_client.get(url).text

    coach.limited_agents.add(agent_user)

    assert f"unlinked-{PURCHASE_OFFER_CODE}" not in agent_client.get(url).text
    assert figures.unlinked_offer_codes(figures.EVERY_APP.narrowed_to(coach)) == 0
    assert figures.unlinked_offer_codes(figures.EVERY_APP.narrowed_to(own)) == 1


def row_of(page: str, original_id: str) -> str:
    start = page.index(f'<tr id="unlinked-{original_id}"')
    return page[start : page.index("</tr>", start)]


def test_a_sandbox_offer_code_is_listed_beside_production_ones_labelled_sandbox(
    post, live_server, simulator, three_apps, agent_client
):
    from lookups.simulators.demo_apps import COACH_BUNDLE_ID, SANDBOX_TESTER_PURCHASE

    post("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    coach_sandbox = simulator.app(COACH_BUNDLE_ID, "Sandbox")
    coach_sandbox.set_notification_url(None)
    sent = coach_sandbox.emit_notification("OFFER_REDEEMED", transaction_id=SANDBOX_TESTER_PURCHASE)
    answer = requests.post(
        live_server.url + three_apps.coach.notification_path("Sandbox"),
        json={"signedPayload": sent.signed_payload},
        timeout=5,
    )
    assert answer.status_code == 200

    page = agent_client.get(reverse("lookups:unlinked")).text

    sandbox = row_of(page, SANDBOX_TESTER_PURCHASE)
    assert "Sandbox: a test purchase, no money moved" in sandbox
    assert "Coach" in sandbox
    production = row_of(page, PURCHASE_OFFER_CODE)
    assert "Sandbox" not in production
    assert three_apps.demo.name in production
    # The one Apple told of first comes first, whatever its environment.
    assert page.index(f"unlinked-{PURCHASE_OFFER_CODE}") < page.index(
        f"unlinked-{SANDBOX_TESTER_PURCHASE}"
    )
