"""Open pages stay live: what another agent, Apple or a manager changes shows within 5 s, and
the menu counts the waiting work, in Chromium at the production poll interval."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount, Lookup
from lookups.simulators.demo_data import (
    MAYA,
    OFFER_CODE_LATEST,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
)
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import look_up, open_link_panel, sign_in, wait_past_timers
from tests.fixtures.rows import make_refund_request, make_waiting_extension
from tests.live_server import between_requests

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]
WITHIN = 5_000  # ms, the promise
WELCOME = r"^Welcome, "


@pytest.fixture(autouse=True)
def production_interval(settings) -> None:
    settings.LIVE_POLL_SECONDS = 3


def test_a_link_shows_on_another_agents_open_order_and_customer_page(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    watcher = new_page()
    sign_in(watcher, agent_user.get_username())
    look_up(watcher, ORDER_OFFER_CODE)
    # Nothing changes: the open order asks nobody, Apple least of all.
    lookups = Lookup.objects.count()
    wait_past_timers(watcher)
    assert Lookup.objects.count() == lookups

    linker = new_page()
    sign_in(linker, agent_user.get_username())
    look_up(linker, ORDER_OFFER_CODE)
    open_link_panel(linker, OFFER_CODE_LATEST).fill("maya.pat")
    linker.get_by_role("link", name="Choose").click()
    linker.get_by_label("Support ticket").fill("SD-7001")
    linker.get_by_role("button", name="Link purchase").click()
    expect(linker.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()

    expect(watcher.locator(f"#purchase-{PURCHASE_OFFER_CODE} .lead-line")).to_contain_text(
        "Linked to Maya Patel", timeout=WITHIN
    )
    screenshots.take(watcher, "watcher-sees-the-link")

    watcher.goto(f"/accounts/{maya.pk}/")
    expect(watcher.locator("#current-purchases")).to_contain_text(PURCHASE_OFFER_CODE)


def test_the_refund_queue_and_the_menu_count_new_work(
    new_page: Callable[..., Page],
    agent_user: User,
    manager_user: User,
    screenshots: Screenshots,
) -> None:
    agent = new_page()
    sign_in(agent, agent_user.get_username())
    agent.goto("/refund-requests/")
    expect(agent.get_by_text("No refund request is waiting for an answer.")).to_be_visible()
    manager = new_page()
    sign_in(manager, manager_user.get_username(), landing=re.compile(WELCOME))

    # Both pages poll: the new work goes in between their requests.
    with between_requests():
        case = make_refund_request(deadline=timezone.now() + timedelta(hours=1))
    expect(agent.locator(f"#refund-{case.pk}")).to_be_visible(timeout=WITHIN)
    expect(agent.locator("#count-refunds")).to_have_text("1, 1 due within 2 h", timeout=WITHIN)
    screenshots.take(agent, "queue-live")

    with between_requests():
        make_waiting_extension(agent_user)
    expect(manager.locator("#count-extensions")).to_have_text("1 waiting", timeout=WITHIN)
    screenshots.take(manager, "menu-counts")
