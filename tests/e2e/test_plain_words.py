"""Pages name products by the catalogue and say Apple's codes in sentences, in Chromium."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.models import App, CustomerAccount
from lookups.services.apps import desk_apps
from lookups.services.demo_products import create_demo_products
from lookups.simulators.appstore.catalog import PRO_MONTHLY
from lookups.simulators.demo_data import MAYA, ORDER_LINKED_IN_APP, SOFIA
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import look_up, sign_in
from tests.fixtures.rows import make_refund_request

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("notification_endpoint", "demo_customers"),
]
RAW = ("com.example.", "UNINTENDED_PURCHASE", "DID_", "OFFER_REDEEMED", "INITIAL_BUY")


def raw_names_in(page: Page) -> list[str]:
    text = page.locator("main").inner_text()
    return [raw for raw in RAW if raw in text]


def test_no_page_shows_a_product_id_or_an_apple_code(
    new_page: Callable[..., Page], agent_user: User, simulator, screenshots: Screenshots
) -> None:
    create_demo_products()
    # The app is named in the admin, as the demo names its own: the pages name rows by it.
    [app] = desk_apps()
    App.objects.filter(pk=app.pk).update(name="Supportdesk Demo")
    maya = CustomerAccount.objects.get(external_id=MAYA)
    make_refund_request(product_id=PRO_MONTHLY, account=maya, reason="UNINTENDED_PURCHASE")
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.locator("section.trainer").get_by_role("button", name="Redeem an offer code").click()
    expect(page.locator('#trainer-step [data-state="applied"]')).to_be_visible()

    page.goto("/refund-requests/")
    expect(page.locator(".refund-request")).to_contain_text("Pro, monthly")
    expect(page.locator(".refund-request")).to_contain_text("bought it by mistake")
    screenshots.take(page, "refund-requests")
    found = {"refund requests": raw_names_in(page)}

    page.goto("/purchases/unlinked/")
    expect(page.locator("table.purchases")).to_be_visible()
    screenshots.take(page, "unlinked")
    found["unlinked"] = raw_names_in(page)

    # Sofia's renewal turned off in the App Store: Apple tells the desk; her page says it.
    page.goto("/")
    look_up(page, ORDER_LINKED_IN_APP)
    sofia = CustomerAccount.objects.get(external_id=SOFIA)
    page.goto(f"/accounts/{sofia.pk}/")
    expect(page.get_by_role("heading", name="Sofia Martinez")).to_be_visible()
    screenshots.take(page, "customer")
    found["customer"] = raw_names_in(page)
    assert {name: raw for name, raw in found.items() if raw} == {}
