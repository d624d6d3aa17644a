"""The desk's pages for a hundred tickets a day, without a browser: names, prices, forgiving
input, where each role lands, the admin's audit list, error pages, demo activity and CSV files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from lookups.forms import OrderLookupForm, read_lookup_entry
from lookups.models import Lookup, Product, TokenChange
from lookups.simulators.appstore.catalog import PRO_MONTHLY
from lookups.simulators.demo_data import (
    OFFER_CODE_TRANSACTIONS,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_LONG_HISTORY,
    ORDER_OFFER_CODE,
    ORDER_REFUNDED,
    PURCHASE_OFFER_CODE,
)
from lookups.templatetags.desk import TIMES, utc_time
from tests.fixtures.rows import make_lookup, make_token_change

HTMX = {"HX-Request": "true"}


# --- 1. Product names and prices ----------------------------------------------------------------


def test_an_order_shows_product_names_and_newest_first(agent_client, appstore_settings):
    Product.objects.create(product_id=PRO_MONTHLY, display_name="Pro, monthly")
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE}).text
    assert page.count('<strong title="com.example.supportdesk.demo.pro.monthly">Pro, monthly') == 4
    rows = [chunk.split('"')[0] for chunk in page.split('<tr id="txn-')[1:]]
    # The demo's offer-code purchase: the free month first bought, three renewals since.
    assert rows == list(reversed(OFFER_CODE_TRANSACTIONS))
    assert "$9.99" in page and "newest first" in page


def test_a_quantity_is_shown_with_its_price(agent_client, appstore_settings):
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_CONSUMABLES}).text
    assert f"2 {TIMES} " in page


# --- 3. Why a purchase can't be linked ----------------------------------------------------------


def test_a_family_shared_purchase_says_why_it_cannot_be_linked(agent_client, appstore_settings):
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_FAMILY_SHARED}).text
    assert "Link to customer" not in page
    assert "Can't be linked:" in page
    assert "link the organiser's own purchase instead" in page


def test_a_refunded_purchase_says_when_and_why(agent_client, appstore_settings):
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_REFUNDED}).text
    lookup = Lookup.objects.get()
    revoked = next(
        record["payload"] for record in lookup.transactions if "revocationDate" in record["payload"]
    )
    day = datetime.fromtimestamp(revoked["revocationDate"] / 1000, UTC).date().isoformat()
    assert f"Refunded on {day}" in page
    assert "The customer no longer has this purchase" in page


# --- 4. Tabs and history ------------------------------------------------------------------------


def test_the_tab_names_the_order_on_the_page_and_in_the_fragment(agent_client, appstore_settings):
    url = reverse("lookups:look_up")
    page = agent_client.get(url, {"order_id": ORDER_OFFER_CODE}).text
    fragment = agent_client.get(url, {"order_id": ORDER_OFFER_CODE}, headers=HTMX).text
    assert f"<title>{ORDER_OFFER_CODE} · Supportdesk</title>" in page
    assert fragment.lstrip().startswith(f"<title>{ORDER_OFFER_CODE} · Supportdesk</title>")


def test_the_history_links_back_to_its_order_and_counts_what_is_shown(
    agent_client, appstore_settings
):
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_LONG_HISTORY})
    transaction_id = Lookup.objects.get().transactions[0]["payload"]["transactionId"]
    url = reverse("lookups:history", args=[transaction_id])

    first = agent_client.get(url, {"order": ORDER_LONG_HISTORY, "revoked": "false"}).text
    assert f"Back to order {ORDER_LONG_HISTORY}" in first
    assert "The customer's whole purchase history in this app" in first
    assert "20 shown" in first
    # The form is rendered from the query, so Back (a fresh load) shows the filter in use.
    assert '<option value="false" selected>' in first
    revision = first.split("revision=")[1].split("&amp;")[0]

    more = agent_client.get(
        url,
        {"order": ORDER_LONG_HISTORY, "revoked": "false", "revision": revision, "shown": "20"},
        headers=HTMX,
    ).text
    assert "40 shown" in more or "All " in more


def test_a_failed_load_more_offers_retry_in_place(agent_client, appstore_settings, simulator):
    agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_LONG_HISTORY})
    transaction_id = Lookup.objects.get().transactions[0]["payload"]["transactionId"]
    url = reverse("lookups:history", args=[transaction_id])
    revision = agent_client.get(url).text.split("revision=")[1].split("&amp;")[0]

    simulator.inject_fault("internal_error", endpoint="history")
    failed = agent_client.get(url, {"revision": revision, "shown": "20"}, headers=HTMX).text
    assert '<tr id="load-more">' in failed and "Retry" in failed
    assert "5000000" in failed

    retry_url = failed.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    again = agent_client.get(retry_url, headers=HTMX).text
    assert again.count('<tr id="txn-') > 0 and "Retry" not in again


# --- 5. Input that forgives ---------------------------------------------------------------------


def test_a_transaction_id_opens_its_history(agent_client, appstore_settings):
    url = reverse("lookups:look_up")
    history = reverse("lookups:history", args=[PURCHASE_OFFER_CODE])
    assert agent_client.get(url, {"order_id": PURCHASE_OFFER_CODE}).url == history
    response = agent_client.get(url, {"order_id": PURCHASE_OFFER_CODE}, headers=HTMX)
    assert response.headers["HX-Redirect"] == history
    assert Lookup.objects.count() == 0


def test_an_invalid_entry_is_echoed_as_typed_and_escaped(agent_client):
    typed = "mk5t<b>-ttv!wjh and more text that runs on past twenty characters"
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": typed}).text
    assert "“mk5t&lt;b&gt;-ttv!wjh and more text that runs on past twenty characters”" in page
    assert Lookup.objects.count() == 0


def test_the_lookup_form_is_disabled_while_it_runs_and_its_placeholder_is_no_order_id(
    agent_client,
):
    page = agent_client.get(reverse("lookups:look_up")).text
    assert 'hx-disabled-elt="find button"' in page
    placeholder = page.split('placeholder="')[1].split('"')[0]
    assert not OrderLookupForm.looks_like_order_id(placeholder.replace(" ", "").upper())
    assert read_lookup_entry(placeholder) is None


# --- 7. Everyone lands where they work ----------------------------------------------------------


def test_a_manager_lands_on_a_home_with_reports_the_audit_trail_and_exports(manager_client):
    page = manager_client.get(reverse("lookups:home")).text
    assert reverse("lookups:reports") in page
    assert reverse("admin:lookups_tokenchange_changelist") in page
    assert "Exports" in page


def test_an_auditor_home_has_no_reports(auditor_client):
    page = auditor_client.get(reverse("lookups:home")).text
    assert reverse("admin:lookups_tokenchange_changelist") in page
    assert reverse("lookups:reports") not in page


def test_the_admin_links_the_desk_home_and_reports_for_those_allowed(
    manager_client, auditor_client
):
    manager_admin = manager_client.get(reverse("admin:index")).text
    auditor_admin = auditor_client.get(reverse("admin:index")).text
    assert f'<a href="{reverse("lookups:home")}">View site</a>' in manager_admin
    assert f'<a href="{reverse("lookups:reports")}">Reports</a>' in manager_admin
    assert f'<a href="{reverse("lookups:reports")}">Reports</a>' not in auditor_admin


def test_managers_may_edit_the_product_catalogue(manager_client, auditor_client):
    url = reverse("admin:lookups_product_add")
    response = manager_client.post(url, {"product_id": PRO_MONTHLY, "display_name": "Pro, monthly"})
    assert response.status_code == 302
    assert Product.objects.get().display_name == "Pro, monthly"
    assert auditor_client.get(url).status_code == 403


# --- 8. The admin's audit list ------------------------------------------------------------------


def test_ticket_search_ignores_case(auditor_client, agent_user, customer_account):
    wanted = make_token_change(agent_user, customer_account, ticket_reference="ZD-4821")
    make_token_change(agent_user, customer_account, ticket_reference="ZD-4822")
    url = reverse("admin:lookups_tokenchange_changelist")
    for term in ("zd-4821", "ZD-4821", " Zd-4821 "):
        page = auditor_client.get(url, {"q": term}).text
        assert f"/admin/lookups/tokenchange/{wanted.pk}/change/" in page, term
        assert "ZD-4822" not in page, term


def test_the_audit_list_shows_times_to_the_second_in_the_desks_one_style(
    auditor_client, agent_user, customer_account
):
    change = make_token_change(
        agent_user, customer_account, created_at=datetime(2026, 11, 23, 15, 4, 5, tzinfo=UTC)
    )
    change.settle(TokenChange.Outcome.FAILED, error_code=4000185)
    page = auditor_client.get(reverse("admin:lookups_tokenchange_changelist")).text
    assert "2026-11-23 15:04:05 UTC" in page
    assert "Failed (4000185)" in page
    assert utc_time(None) == "—"


@pytest.fixture
def production_errors(settings):
    """DEBUG off, as in production, so Django renders the error templates."""
    settings.DEBUG = False
    return settings


def test_a_missing_page_is_styled_with_a_way_back(agent_client, production_errors):
    response = agent_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "There is no such page" in response.text
    assert f'href="{reverse("lookups:home")}"' in response.text
    assert 'href="/static/css/app.css"' in response.text


def test_a_forbidden_page_is_styled_with_a_way_back(agent_client, production_errors):
    response = agent_client.get(reverse("lookups:reports"))
    assert response.status_code == 403
    assert "You may not open this page" in response.text
    assert f'href="{reverse("lookups:home")}"' in response.text


def test_a_server_error_is_styled_with_a_way_back(production_errors, monkeypatch, agent_user):
    from lookups.views import orders

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(orders, "look_up_order_in_apps", broken)
    client = Client(raise_request_exception=False)
    client.force_login(agent_user)
    response = client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    assert response.status_code == 500
    assert "Something went wrong on the desk" in response.text
    assert f'href="{reverse("lookups:home")}"' in response.text
    assert "the database went away" not in response.text


# --- 9. Demo activity and CSV files -------------------------------------------------------------


def test_a_csv_download_starts_with_a_byte_order_mark_unless_asked_not_to(
    manager_client, agent_user
):
    make_lookup(agent_user, order_id="MÜLLER0001")
    url = reverse("lookups:export", args=["lookups"])
    with_bom = b"".join(manager_client.get(url).streaming_content)
    without = b"".join(manager_client.get(url, {"bom": "0"}).streaming_content)
    assert with_bom.startswith(b"\xef\xbb\xbfid,")
    assert without.startswith(b"id,")
    assert with_bom[3:] == without
    assert "MÜLLER0001" in with_bom.decode("utf-8-sig")
