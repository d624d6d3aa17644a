"""The trainers' panel on the lookup and account pages: local mode only, over real HTTP."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from lookups.models import AppStoreNotification
from lookups.simulators.demo_data import (
    ORDER_LINKED_IN_APP,
    ORDER_OFFER_CODE,
    PURCHASE_LINKED_IN_APP,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.pages import HTMX, look_up

PANEL = "Simulator (demo and training only)"


@pytest.mark.django_db
def test_the_lookup_page_offers_the_panel_in_local_mode(appstore_settings, agent_client):
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    text = page.content.decode()
    assert PANEL in text and "Redeem an offer code" in text
    for label in ("Renew now", "Fail the renewal (billing retry)", "Enter grace period"):
        assert label in text
    assert f'name="original_transaction_id" value="{PURCHASE_OFFER_CODE}"' in text


@pytest.mark.django_db
def test_the_account_page_offers_the_panel_for_each_purchase(
    appstore_settings, agent_client, sofia
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    text = agent_client.get(reverse("lookups:account", args=[sofia.pk])).content.decode()
    assert PANEL in text and "Turn auto-renew off" in text
    assert f'name="original_transaction_id" value="{PURCHASE_LINKED_IN_APP}"' in text


@pytest.mark.django_db
def test_off_local_mode_the_panel_is_absent_entirely(
    appstore_settings, simulator, agent_client, sofia
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    appstore_settings.SUPPORTDESK_LOCAL = False
    lookup_page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_LINKED_IN_APP})
    account_page = agent_client.get(reverse("lookups:account", args=[sofia.pk]))
    for page in (lookup_page, account_page):
        assert page.status_code == 200
        text = page.content.decode()
        assert "Simulator" not in text and reverse("lookups:trainer_life") not in text
    step = agent_client.post(
        reverse("lookups:trainer_life"),
        {"action": "renew", "original_transaction_id": PURCHASE_LINKED_IN_APP},
    )
    assert step.status_code == 404
    echo = agent_client.get(reverse("lookups:trainer_notification", args=["any"]))
    assert echo.status_code == 404
    assert not simulator.notifications.all()


@pytest.mark.django_db(transaction=True)
def test_a_step_shows_what_was_sent_then_the_picture_it_changed(
    notification_endpoint, simulator, agent_client, sofia
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    account = reverse("lookups:account", args=[sofia.pk])
    assert "Auto-renew off" in agent_client.get(account, headers=HTMX).content.decode()
    step = agent_client.post(
        reverse("lookups:trainer_life"),
        {"action": "auto_renew_on", "original_transaction_id": PURCHASE_LINKED_IN_APP},
        headers=HTMX,
    )
    text = step.content.decode()
    assert "DID_CHANGE_RENEWAL_STATUS (AUTO_RENEW_ENABLED)" in text
    sent = simulator.notifications.all()[-1]
    assert simulator.notifications.wait_until_settled(timeout=10)
    echo = agent_client.get(
        reverse("lookups:trainer_notification", args=[sent.notification_uuid]), headers=HTMX
    )
    assert 'data-state="applied"' in echo.content.decode()
    assert "purchase-picture-changed" in json.loads(echo.headers["HX-Trigger"])
    row = AppStoreNotification.objects.get(notification_uuid=sent.notification_uuid)
    assert row.state == AppStoreNotification.State.PROCESSED
    picture = agent_client.get(account, headers=HTMX).content.decode()
    assert "<html" not in picture
    assert "Auto-renew on" in picture


@pytest.mark.django_db
def test_without_htmx_a_step_goes_back_with_what_was_sent(appstore_settings, agent_client):
    back = reverse("lookups:look_up") + f"?order_id={ORDER_OFFER_CODE}"
    answer = agent_client.post(
        reverse("lookups:trainer_life"),
        {"action": "renew", "original_transaction_id": PURCHASE_OFFER_CODE, "back": back},
        follow=True,
    )
    assert answer.redirect_chain[-1][0] == back
    assert "The simulator sent DID_RENEW." in answer.content.decode()


@pytest.mark.django_db
def test_a_refused_step_says_why(appstore_settings, agent_client):
    answer = agent_client.post(
        reverse("lookups:trainer_life"),
        {"action": "revoke", "original_transaction_id": PURCHASE_OFFER_CODE},
        headers=HTMX,
    )
    assert "The simulator refused" in answer.content.decode()
    assert "Family Sharing" in answer.content.decode()


@pytest.mark.django_db
def test_a_purchase_step_needs_its_purchase(appstore_settings, simulator, agent_client):
    answer = agent_client.post(reverse("lookups:trainer_life"), {"action": "renew"}, headers=HTMX)
    assert answer.status_code == 422
    assert "original transaction ID" in answer.content.decode()
    assert not simulator.notifications.all()


@pytest.mark.django_db
def test_without_htmx_an_incomplete_step_goes_back_with_the_reason(
    appstore_settings, simulator, agent_client
):
    answer = agent_client.post(reverse("lookups:trainer_life"), {"action": "renew"}, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("lookups:look_up")
    assert "The simulator refused: Name the purchase" in answer.content.decode()
    assert not simulator.notifications.all()
