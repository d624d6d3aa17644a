"""Refund history on the account page: asked of Apple on request, shown as a fragment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.simulators.demo_data import (
    ORDER_LINKED_IN_APP,
    ORDER_REFUNDED,
    PURCHASE_LINKED_IN_APP,
    PURCHASE_OFFER_CODE,
    PURCHASE_REFUNDED,
)
from tests.fixtures.pages import HTMX, look_up

pytestmark = pytest.mark.django_db


def _refunds_url(account, original_transaction_id: str) -> str:
    return reverse("lookups:account_refunds", args=[account.pk, original_transaction_id])


def test_the_account_page_offers_refund_history_for_each_purchase(
    appstore_settings, agent_client, james
):
    look_up(agent_client, ORDER_REFUNDED)
    page = agent_client.get(reverse("lookups:account", args=[james.pk])).content.decode()
    assert f'hx-get="{_refunds_url(james, PURCHASE_REFUNDED)}"' in page
    assert 'id="refund-history"' in page


def test_a_refunded_purchase_shows_its_date_product_and_reason(
    appstore_settings, simulator, agent_client, james
):
    look_up(agent_client, ORDER_REFUNDED)
    requests_before = len(simulator.requests)
    fragment = agent_client.get(_refunds_url(james, PURCHASE_REFUNDED), headers=HTMX)
    text = fragment.content.decode()
    assert "<html" not in text
    assert PURCHASE_REFUNDED in text
    assert simulator.transaction(PURCHASE_REFUNDED)["productId"] in text
    assert "Refunded for an issue in the app" in text
    assert any("/refund/lookup/" in path for _, path in simulator.requests[requests_before:])


def test_a_customer_never_refunded_reads_no_refunds(appstore_settings, agent_client, sofia):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    page = agent_client.get(_refunds_url(sofia, PURCHASE_LINKED_IN_APP))
    assert page.status_code == 200
    assert "No refunds." in page.content.decode()
    assert "Back to the account" in page.content.decode()  # the page works without htmx


def test_apple_s_error_is_shown_in_plain_words_with_its_code(
    appstore_settings, simulator, agent_client, sofia
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    simulator.inject_fault("internal_error", endpoint="refund_history")
    text = agent_client.get(_refunds_url(sofia, PURCHASE_LINKED_IN_APP), headers=HTMX)
    assert "(Apple error 5000000)" in text.content.decode()


def test_a_purchase_not_carrying_the_customer_s_token_is_not_found(
    appstore_settings, simulator, agent_client, sofia
):
    look_up(agent_client, ORDER_LINKED_IN_APP)
    assert agent_client.get(_refunds_url(sofia, PURCHASE_OFFER_CODE)).status_code == 404
    assert not any("/refund/lookup/" in path for _, path in simulator.requests)
