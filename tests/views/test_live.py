"""The live poll and the menu's counts of waiting work."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lookups.services import live
from tests.fixtures.rows import (
    make_refund_request,
    make_transfer_request,
    make_waiting_extension,
)

pytestmark = pytest.mark.django_db


def poll(client, user, topics, stamp):
    token = live.sign_topics(topics, user.pk)
    return client.get(reverse("lookups:live"), {"t": token, "v": stamp})


def test_an_unchanged_page_is_told_nothing(agent_client, agent_user):
    topics = [live.REFUNDS]
    response = poll(agent_client, agent_user, topics, live.stamp(topics))
    assert response.status_code == 204
    assert not response.content


def test_a_changed_page_gets_a_new_poller_and_the_event_to_fetch_itself_again(
    agent_client, agent_user
):
    topics = [live.purchase_topic("2000000815627301")]
    rendered_with = live.stamp(topics)
    live.bump(*topics)

    response = poll(agent_client, agent_user, topics, rendered_with)

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"desk-changed": {}}
    page = response.content.decode()
    assert 'id="live"' in page
    assert f"v={live.stamp(topics)}" in page
    assert f"v={rendered_with}" not in page


def test_a_token_the_desk_did_not_sign_is_told_nothing(agent_client):
    response = agent_client.get(reverse("lookups:live"), {"t": "forged", "v": ""})
    assert response.status_code == 204
    assert "HX-Trigger" not in response


def test_a_signed_out_browser_is_sent_to_sign_in(client, agent_user):
    token = live.sign_topics([live.REFUNDS], agent_user.pk)
    response = client.get(reverse("lookups:live"), {"t": token, "v": "stale"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def menu(client) -> dict[str, str]:
    page = client.get(reverse("lookups:menu_counts")).content.decode()
    return dict(re.findall(r'<span id="count-(\w+)"[^>]*>([^<]*)</span>', page))


def test_an_agent_sees_the_open_refund_requests_and_those_due_soon(agent_client):
    make_refund_request()
    make_refund_request(deadline=timezone.now() + timedelta(hours=1))
    make_refund_request(deadline=timezone.now() - timedelta(minutes=1))  # missed: not counted
    make_refund_request(decision="AGENT")  # answered: not counted

    assert menu(agent_client) == {"refunds": "2, 1 due within 2 h"}


def test_a_manager_sees_the_approvals_waiting_and_no_refund_queue(
    manager_client, agent_user, customer_account
):
    make_waiting_extension(agent_user)
    make_waiting_extension(agent_user, original_transaction_id="2000000000000042")
    make_transfer_request(agent_user, customer_account)

    assert menu(manager_client) == {"extensions": "2 waiting", "transfers": "1 waiting"}


def test_nothing_waiting_leaves_the_counts_blank(manager_client):
    assert menu(manager_client) == {"extensions": "", "transfers": ""}
