"""The finish page: a note is required, and the result is told in plain words."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from lookups.models import TransactionFinish
from lookups.simulators.demo_data import CREDITS_UNFINISHED, ORDER_CONSUMABLES, ORDER_OFFER_CODE

pytestmark = pytest.mark.django_db


def post(client, transaction_id: str = CREDITS_UNFINISHED, **changes):
    data = {"note": "20 credits by hand", "order_id": ORDER_CONSUMABLES}
    data["request_id"] = str(uuid.uuid4())
    data.update(changes)
    return client.post(reverse("lookups:finish", args=[transaction_id]), data)


def test_a_note_is_required(agent_client, appstore_settings):
    response = post(agent_client, note="")

    assert response.status_code == 400
    assert "Say what you delivered by hand" in response.content.decode()
    assert not TransactionFinish.objects.exists()


def test_finishing_is_told_and_a_second_time_refused(agent_client, appstore_settings, simulator):
    assert "Finished:" in post(agent_client).content.decode()
    again = post(agent_client)
    assert again.status_code == 409
    assert "already marked this purchase finished" in again.content.decode()


def test_the_order_page_offers_it_beside_each_consumable(agent_client, appstore_settings):
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_CONSUMABLES})
    assert page.content.decode().count("Mark finished") == 2
    subscription = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    assert "Mark finished" not in subscription.content.decode()
