"""The customer's app download (Get App Transaction Info) on the lookup and account pages: when,
on which platform and with which version they first got the app, asked of Apple on request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.simulators.demo_data import (
    ORDER_LINKED_IN_APP,
    ORDER_OFFER_CODE,
    PURCHASE_LINKED_IN_APP,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.pages import HTMX, look_up

pytestmark = pytest.mark.django_db


def _download_url(transaction_id: str) -> str:
    return reverse("lookups:app_download", args=[transaction_id])


def test_the_lookup_and_account_pages_offer_the_app_download(
    appstore_settings, agent_client, sofia
):
    lookup_page = agent_client.get(
        reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}
    ).content.decode()
    assert f'hx-get="{_download_url(PURCHASE_OFFER_CODE)}"' in lookup_page
    assert 'id="app-download"' in lookup_page
    look_up(agent_client, ORDER_LINKED_IN_APP)
    account_page = agent_client.get(reverse("lookups:account", args=[sofia.pk])).content.decode()
    assert f'hx-get="{_download_url(PURCHASE_LINKED_IN_APP)}"' in account_page
    assert 'id="app-download"' in account_page


def test_the_download_shows_when_where_and_which_version(
    appstore_settings, simulator, agent_client
):
    app = simulator.store.app_transaction(PURCHASE_OFFER_CODE, app_apple_id=None)
    fragment = agent_client.get(_download_url(PURCHASE_OFFER_CODE), headers=HTMX)
    text = fragment.content.decode()

    assert fragment.status_code == 200 and "<html" not in text
    assert "First got the app" in text
    assert app["originalPlatform"] in text
    assert f"version {app['originalApplicationVersion']}" in text
    assert app["appTransactionId"] in text
    assert ("GET", f"/inApps/v1/transactions/appTransactions/{PURCHASE_OFFER_CODE}") in (
        simulator.requests
    )


def test_the_page_works_without_htmx(appstore_settings, agent_client):
    page = agent_client.get(_download_url(PURCHASE_OFFER_CODE))
    assert page.status_code == 200
    assert "<html" in page.content.decode() and "First got the app" in page.content.decode()


def test_apples_error_is_shown_in_plain_words_with_its_code(
    appstore_settings, simulator, agent_client
):
    simulator.inject_fault("internal_error", endpoint="app_transaction")
    text = agent_client.get(_download_url(PURCHASE_OFFER_CODE), headers=HTMX).content.decode()
    assert "(Apple error 5000000)" in text


def test_a_download_that_fails_verification_is_not_shown(
    appstore_settings, simulator, agent_client
):
    appstore_settings.APPSTORE_APP_APPLE_ID = 999
    text = agent_client.get(_download_url(PURCHASE_OFFER_CODE), headers=HTMX).content.decode()
    assert "could not be verified" in text and "First got the app" not in text


def test_not_a_transaction_id_is_not_found(appstore_settings, agent_client):
    assert agent_client.get(_download_url("not-an-id")).status_code == 404
