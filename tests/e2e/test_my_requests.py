"""An agent in Chromium follows their own requests: transfers and extensions with their outcomes,
and the days of extension left today, in numbers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import sign_in
from tests.fixtures.rows import make_extension, make_transfer_request, make_waiting_extension

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def test_an_agent_follows_their_requests_and_sees_the_days_left_today(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    maya = CustomerAccount.objects.get(display_name="Maya Patel")
    # Asked of Apple, not answered yet: its 18 days count against today's 30.
    make_extension(agent_user, extend_by_days=18)
    make_waiting_extension(agent_user, ticket_reference="SD-WAIT")
    make_transfer_request(
        agent_user, maya, ticket_reference="SD-MOVE", environment=settings.APPSTORE_ENVIRONMENT
    )
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.get_by_role("link", name="My requests").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    extensions = page.locator("#my-extensions")
    expect(extensions.locator("li", has_text="SD-WAIT")).to_contain_text("Waiting for a manager")
    pending = extensions.locator("li", has_text="18 days")
    expect(pending).to_contain_text("Apple has not answered yet")
    transfers = page.locator("#my-transfers")
    expect(transfers.locator("li", has_text="SD-MOVE")).to_contain_text(re.compile("Waiting for"))
    expect(transfers.locator("li", has_text="SD-MOVE")).to_contain_text("Maya Patel")
    screenshots.take(page, "my-requests")

    page.goto(f"/purchases/{PURCHASE_OFFER_CODE}/extend/")
    expect(page.locator("main")).to_contain_text("12 of 30 days left today")
