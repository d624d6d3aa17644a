"""The order offers only what Apple would accept, and says why not for the rest, in Chromium."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.simulators.demo_data import (
    ORDER_BILLING_RETRY,
    ORDER_CONSUMABLES,
    ORDER_EXPIRED,
    ORDER_FREE_TRIAL,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    ORDER_REVOKED_SUBSCRIPTION,
)
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import look_up, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]

# Apple's rule for extensions, as the simulator keeps it: error 4030004.
REFUSED_SUBSCRIPTIONS = {
    ORDER_EXPIRED: "paid period has ended",
    ORDER_BILLING_RETRY: "paid period has ended",
    ORDER_REVOKED_SUBSCRIPTION: "refunded this subscription",
    ORDER_FREE_TRIAL: "free offer period",
}


def test_extend_is_offered_only_where_apple_extends(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    extend = page.locator("#order").get_by_role("link", name="Extend", exact=True)

    look_up(page, ORDER_OFFER_CODE)
    expect(extend).to_have_count(1)

    for order_id, why in REFUSED_SUBSCRIPTIONS.items():
        look_up(page, order_id)
        expect(extend).to_have_count(0)
        why_not = page.locator(".why-not-extend")
        expect(why_not).to_contain_text("Can't extend")
        expect(why_not).to_contain_text(why)
        expect(why_not).to_contain_text("(Apple error 4030004)")
        screenshots.take(page, f"no-extend-{order_id}")

    for order_id in (ORDER_NON_CONSUMABLE, ORDER_CONSUMABLES):
        look_up(page, order_id)
        expect(extend).to_have_count(0)
        expect(page.locator(".why-not-extend")).to_have_count(0)


def test_a_refunded_purchase_leads_with_why_not_with_the_link(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_REVOKED_SUBSCRIPTION)
    expect(page.locator("tr.why-not")).to_contain_text("The customer no longer has this purchase")
    link = page.locator("#order").get_by_role("link", name="Link to customer")
    # Apple would take the token, so the link stays, but as a secondary action.
    expect(link).to_have_class("button small secondary")
    screenshots.take(page, "refunded")
