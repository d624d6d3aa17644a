"""A superuser checks the notification URL from the admin, in Chromium."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Screenshots
from tests.e2e.desk import sign_in

pytestmark = pytest.mark.e2e


def test_a_superuser_requests_a_test_notification_and_watches_it_arrive(
    new_page: Callable[..., Page],
    superuser: User,
    simulator,
    live_server,
    notification_endpoint: str,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in(page, superuser.get_username())
    page.goto("/admin/lookups/appstorenotification/")
    page.get_by_role("link", name="Request a test notification").click()
    # The first attempt goes to a wrong URL; Apple's retry, a second later, to the endpoint.
    simulator.set_notification_url(live_server.url + "/no-such-endpoint/")
    page.get_by_role("button", name="Request a test notification").click()
    expect(page.locator("#send-attempts")).to_contain_text("UNSUCCESSFUL_HTTP_RESPONSE_CODE")
    expect(page.locator("#test-notification-not-arrived")).to_be_visible()
    screenshots.take(page, "not-arrived")
    simulator.set_notification_url(notification_endpoint)
    # The page refreshes itself: no reload here.
    expect(page.locator("#test-notification-arrived")).to_contain_text("TEST", timeout=15_000)
    expect(page.locator("#send-attempts td").get_by_text("SUCCESS", exact=True)).to_be_visible()
    screenshots.take(page, "arrived")
    assert browser_errors == []
