"""A manager compensates an outage and a second one approves it, with the run followed to its end;
an agent marks a consumable delivered by hand finished. Chromium, the simulator over real HTTP,
and its notifications to the live desk."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Page, expect

from lookups.models import OutageCompensation, TransactionFinish
from lookups.roles import MANAGERS
from lookups.simulators.appstore.catalog import PRO_MONTHLY
from lookups.simulators.demo_data import CREDITS_UNFINISHED, ORDER_CONSUMABLES
from lookups.views.outages import PROGRESS_POLL_SECONDS
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import accessibility_violations, settled, sign_in

WELCOME = re.compile(r"^Welcome, ")
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def test_outage_compensation_asked_approved_by_a_second_manager_and_followed_to_the_end(
    new_page: Callable[..., Page],
    manager_user: User,
    make_user,
    live_server,
    appstore_settings,
    simulator,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(live_server.url + reverse("lookups:appstore_notifications"))
    simulator.mass_extensions.duration_seconds = 4.0
    subscribers = simulator.store.active_subscriptions(PRO_MONTHLY, None)
    second = make_user("second", MANAGERS, first_name="Sam", is_staff=True)
    try:
        asking = new_page()
        sign_in(asking, manager_user.get_username(), landing=WELCOME)
        asking.get_by_role("link", name="Outages").click()
        expect(asking.get_by_role("heading", name="Outage compensation")).to_be_visible()
        asking.get_by_label("Product").fill(PRO_MONTHLY)
        asking.get_by_label("Days to add").fill("3")
        asking.get_by_label("Reason").select_option(label="Service issue or outage")
        asking.get_by_label("What happened").fill("Sync was down Saturday 10:00-16:00 UTC, INC-12")
        screenshots.take(asking, "request-form")
        assert accessibility_violations(asking) == []
        asking.get_by_role("button", name="Ask for a second manager's approval").click()
        expect(asking.get_by_role("status").filter(has_text="Asked:")).to_be_visible()
        expect(asking.get_by_text("Waiting for another manager")).to_be_visible()
        expect(
            asking.get_by_role("button", name="Approve and send to the App Store")
        ).to_have_count(0)
        assert not [p for _, p in simulator.requests if "/extend/mass" in p]

        approving = new_page()
        sign_in(approving, second.get_username(), landing=WELCOME)
        approving.goto(reverse("lookups:outages"))
        approving.get_by_role("button", name="Approve and send to the App Store").click()
        progress = approving.get_by_role("status").filter(has_text="Approved by second")
        expect(progress).to_be_visible()
        screenshots.take(approving, "under-way")
        complete = approving.get_by_role("status").filter(has_text="Complete")
        expect(complete).to_be_visible(timeout=20_000)
        expect(complete).to_contain_text(f"{len(subscribers) - 1} extended, 1 failed")
        settled(approving)
        screenshots.take(approving, "complete")
        row = OutageCompensation.objects.get()
        assert row.outcome == OutageCompensation.Outcome.SUCCEEDED
        assert (row.requested_by, row.approved_by) == (manager_user, second)
        assert len([p for _, p in simulator.requests if p.endswith("/extend/mass")]) == 1

        # The page stops re-reading a finished run: wait past twice its interval, then look.
        time.sleep(2 * PROGRESS_POLL_SECONDS + 0.5)
        expect(complete).to_be_visible()
        asking.reload()
        expect(asking.get_by_role("status").filter(has_text="Complete")).to_be_visible()
        time.sleep(2 * PROGRESS_POLL_SECONDS + 0.5)
    finally:
        simulator.set_notification_url(None)
    assert browser_errors == []


def test_an_agent_marks_a_consumable_delivered_by_hand_finished(
    new_page: Callable[..., Page],
    agent_user: User,
    simulator,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.get_by_label("Order ID").fill(ORDER_CONSUMABLES)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Order {ORDER_CONSUMABLES}")).to_be_visible()
    settled(page)
    page.locator(f"#txn-{CREDITS_UNFINISHED}").get_by_role("link", name="Mark finished").click()
    expect(page.get_by_role("heading", name="Mark purchase finished")).to_be_visible()
    page.get_by_label("What you delivered, and the ticket").fill("20 credits by hand, ZD-41")
    screenshots.take(page, "finish-form")
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Mark finished at the App Store").click()

    expect(page.get_by_role("status").filter(has_text="Finished")).to_be_visible()
    screenshots.take(page, "finished")
    row = TransactionFinish.objects.get()
    assert row.outcome == TransactionFinish.Outcome.SUCCEEDED
    assert (row.transaction_id, row.order_id) == (CREDITS_UNFINISHED, ORDER_CONSUMABLES)
    assert simulator.store.is_finished(CREDITS_UNFINISHED)
    # No timer on these pages; a moment for anything late to surface.
    time.sleep(0.5)
    assert browser_errors == []
