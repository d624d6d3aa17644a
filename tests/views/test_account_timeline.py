"""The account page: purchases by the customer's current token; Apple's news and the desk's."""

from __future__ import annotations

import pytest
import requests
from django.urls import reverse

from lookups.models import TokenChange
from lookups.simulators.demo_data import ORDER_LINKED_IN_APP, PURCHASE_LINKED_IN_APP
from tests.fixtures.rows import make_lookup, make_token_change

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def test_the_account_lists_purchases_carrying_its_token_with_their_status(
    agent_client, appstore_settings, sofia
):
    page = agent_client.get(reverse("lookups:account", args=[sofia.pk])).text
    assert "The desk knows no purchase carrying this customer's token" in page
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_LINKED_IN_APP})
    page = agent_client.get(reverse("lookups:account", args=[sofia.pk])).text
    assert f"purchase-{PURCHASE_LINKED_IN_APP}" in page
    assert "status-active" in page


def test_apples_notifications_and_the_desks_links_share_the_timeline(
    live_server, agent_client, agent_user, appstore_settings, simulator, sofia
):
    change = make_token_change(
        agent_user,
        sofia,
        lookup=make_lookup(agent_user),
        original_transaction_id=PURCHASE_LINKED_IN_APP,
    )
    change.settle(TokenChange.Outcome.SUCCEEDED)
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(None)
    sent = simulator.emit_notification(
        "DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED", transaction_id=PURCHASE_LINKED_IN_APP
    )
    answer = requests.post(
        live_server.url + reverse("lookups:appstore_notifications"),
        json={"signedPayload": sent.signed_payload},
        timeout=5,
    )
    assert answer.status_code == 200
    page = agent_client.get(reverse("lookups:account", args=[sofia.pk])).text
    assert 'id="timeline"' in page
    assert "Apple: Turned automatic renewal on" in page
    assert f"purchase-{PURCHASE_LINKED_IN_APP}" in page
    timeline = page[page.index('id="timeline"') :]
    assert "Link succeeded" in timeline and agent_user.get_username() in timeline
