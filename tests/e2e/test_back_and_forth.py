"""Back and Forward keep what the agent typed, in Chromium."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.simulators.demo_data import ORDER_LINKED_IN_APP, ORDER_OFFER_CODE
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import look_up, settled, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def test_back_brings_the_lookup_box_back_with_the_order_it_shows(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_OFFER_CODE)
    look_up(page, ORDER_LINKED_IN_APP)

    page.go_back()
    expect(page.get_by_role("heading", name=f"Order {ORDER_OFFER_CODE}")).to_be_visible()
    settled(page)
    expect(page.get_by_label("Order ID")).to_have_value(ORDER_OFFER_CODE)
    screenshots.take(page, "back")
