"""One desk, three apps: an order found in its app among three (with no action offered at Apple
but the reason), Sandbox labelled, and an agent limited to one app who never sees or asks the
others; in Chromium."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.simulators.demo_apps import COACH_LATEST, ORDER_COACH, SANDBOX_TESTER_PURCHASE
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import look_up, settled
from tests.e2e.test_link_flow import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def test_an_order_is_found_in_its_app_among_three(
    new_page: Callable[..., Page], agent_user: User, three_apps, screenshots: Screenshots
) -> None:
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)

    look_up(page, ORDER_COACH)

    line = page.locator(".app-line")
    expect(line.locator(".app-name")).to_have_text("Coach")
    expect(line).to_contain_text("Production")
    expect(line).to_contain_text("Journal (not found)")
    expect(line).to_contain_text(f"{three_apps.demo.name} (not found)")
    row = page.locator(f"#txn-{COACH_LATEST}")
    expect(row).to_be_visible()
    # Actions still call Apple as the desk's own app: the reason stands where the buttons were.
    expect(row.locator(".why-not-act")).to_have_text(
        "Coach's purchases can be looked up here but not changed at Apple yet: "
        "change it in Coach's own tools."
    )
    expect(page.get_by_role("link", name="Link to customer")).to_have_count(0)
    expect(page.get_by_role("link", name="Extend")).to_have_count(0)
    screenshots.take(page, "found-in-coach")


def test_a_sandbox_purchase_is_plainly_labelled(
    new_page: Callable[..., Page], agent_user: User, three_apps, screenshots: Screenshots
) -> None:
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)

    page.get_by_label("Order ID").fill(SANDBOX_TESTER_PURCHASE)
    page.get_by_role("button", name="Look up").click()
    settled(page)

    line = page.locator(".app-line")
    expect(line.locator(".app-name")).to_have_text("Coach")
    expect(line.get_by_text("Sandbox: a test purchase, no money moved")).to_be_visible()
    screenshots.take(page, "sandbox")


def test_an_agent_limited_to_one_app_sees_and_asks_only_that_one(
    new_page: Callable[..., Page], agent_user: User, three_apps, simulator, screenshots
) -> None:
    three_apps.journal.limited_agents.add(agent_user)
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)

    page.get_by_label("Order ID").fill(ORDER_COACH)
    page.get_by_role("button", name="Look up").click()
    settled(page)

    expect(page.get_by_text("The App Store has no purchases of this app")).to_be_visible()
    expect(page.get_by_text("Coach")).to_have_count(0)
    assert len([path for _, path in simulator.requests if "/lookup/" in path]) == 1
    screenshots.take(page, "limited-to-journal")
