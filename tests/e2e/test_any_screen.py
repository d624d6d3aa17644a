"""Every page of the desk on a 390 px phone and a 1366 px laptop: nothing scrolls sideways, every
target is thumb-sized on the phone, and axe-core finds nothing serious or critical."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount
from lookups.services.demo_activity import create_demo_activity
from lookups.simulators.demo_data import (
    CREDITS_UNFINISHED,
    MAYA,
    ORDER_CONSUMABLES,
    ORDER_LINKED_IN_APP,
    ORDER_LONG_HISTORY,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
    SOFIA,
)
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import (
    LAPTOP,
    PHONE,
    accessibility_violations,
    horizontal_overflow,
    sign_in,
    small_targets,
)
from tests.fixtures.rows import make_refund_request, make_transfer_request, make_waiting_extension
from tests.live_server import between_requests

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


@pytest.fixture(autouse=True)
def unhurried(appstore_settings):
    """No per-second budget: an agent here looks up faster than the demo's Sandbox limit."""
    appstore_settings.APPSTORE_RATE_LIMITS = {"lookup": 1000, "set_token": 1000, "history": 1000}


LATEST_TRANSACTION_ID = "2000000842287015"
WELCOME = re.compile(r"^Welcome, ")


def check(page: Page, screenshots: Screenshots, name: str, *, phone: bool) -> dict[str, list]:
    """What is wrong with the page as it is now; empty lists when nothing is."""
    screenshots.take(page, name)
    problems: dict[str, list] = {
        "overflow": [px] if (px := horizontal_overflow(page)) else [],
        "axe": accessibility_violations(page),
    }
    if phone:
        problems["small targets"] = small_targets(page)
    return {key: value for key, value in problems.items() if value}


def agent_pages(page: Page, screenshots: Screenshots, *, phone: bool) -> dict[str, dict]:
    found = {}
    page.goto(f"/orders/?order_id={ORDER_OFFER_CODE}")
    expect(page.locator("table.purchases")).to_be_visible()
    found["lookup"] = check(page, screenshots, "lookup", phone=phone)

    page.locator(f"#txn-{LATEST_TRANSACTION_ID}").get_by_role(
        "link", name="Link to customer"
    ).click()
    search = page.get_by_label("Find the customer (email, account ID or name)")
    # Focused once htmx has settled the panel, and so listens to what is typed.
    expect(search).to_be_focused()
    search.fill("maya")
    expect(page.get_by_role("link", name="Choose")).to_be_visible()
    found["link search"] = check(page, screenshots, "link-search", phone=phone)
    page.get_by_role("link", name="Choose").click()
    expect(page.get_by_label("Support ticket")).to_be_focused()
    found["link confirm"] = check(page, screenshots, "link-confirm", phone=phone)

    page.goto(f"/orders/?order_id={ORDER_LONG_HISTORY}")
    page.get_by_role("link", name="History").first.click()
    expect(page.get_by_role("link", name="Load more")).to_be_visible()
    found["history"] = check(page, screenshots, "history", phone=phone)

    maya = CustomerAccount.objects.get(external_id=MAYA)
    page.goto(f"/accounts/{maya.pk}/")
    found["account"] = check(page, screenshots, "account", phone=phone)
    page.goto("/accounts/?q=example")
    found["customers"] = check(page, screenshots, "customers", phone=phone)
    page.goto(f"/purchases/{CREDITS_UNFINISHED}/finish/?order={ORDER_CONSUMABLES}")
    expect(page.get_by_role("heading", name="Mark purchase finished")).to_be_visible()
    found["finish"] = check(page, screenshots, "finish", phone=phone)
    return found


def manager_pages(page: Page, screenshots: Screenshots, *, phone: bool) -> dict[str, dict]:
    found = {"home": check(page, screenshots, "manager-home", phone=phone)}
    page.goto("/reports/")
    expect(page.get_by_role("heading", name="Lookups per day")).to_be_visible()
    found["reports"] = check(page, screenshots, "reports", phone=phone)
    page.goto("/outages/")
    expect(page.get_by_role("heading", name="Outage compensation")).to_be_visible()
    found["outages"] = check(page, screenshots, "outages", phone=phone)
    page.goto("/admin/lookups/tokenchange/")
    expect(page.get_by_role("heading", name="Select token change to view")).to_be_visible()
    # The admin's own pages: the width and axe, but not the size of Django's own controls.
    found["admin token changes"] = check(page, screenshots, "admin-token-changes", phone=False)
    page.locator("#result_list tbody a").first.click()
    expect(page.get_by_role("heading", name="View token change")).to_be_visible()
    found["admin token change"] = check(page, screenshots, "admin-token-change", phone=False)
    return found


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone-390", "laptop-1366"])
def test_every_page_fits_the_screen_and_passes_axe(
    new_page: Callable[..., Page],
    agent_user: User,
    manager_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
    viewport: dict[str, int],
) -> None:
    create_demo_activity(days=14)
    phone = viewport == PHONE

    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, agent_user.get_username())
    problems = agent_pages(page, screenshots, phone=phone)

    manager = new_page()
    manager.set_viewport_size(viewport)
    sign_in(manager, manager_user.get_username(), landing=WELCOME)
    problems.update(manager_pages(manager, screenshots, phone=phone))

    assert {page: found for page, found in problems.items() if found} == {}
    assert browser_errors == []


def test_the_top_bar_folds_into_a_menu_on_a_phone(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    page = new_page()
    page.set_viewport_size(PHONE)
    sign_in(page, agent_user.get_username())
    menu = page.get_by_role("button", name="Menu")
    sections = page.get_by_role("navigation", name="Sections")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(sections).to_be_hidden()
    screenshots.take(page, "folded")

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sections.get_by_role("link", name="Customers")).to_be_visible()
    screenshots.take(page, "open")
    sections.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()


def test_focus_shows_on_every_control_the_keyboard_reaches_and_answers_are_announced(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.goto(f"/orders/?order_id={ORDER_OFFER_CODE}")
    expect(page.locator("table.purchases")).to_be_visible()
    unringed: list[str] = []
    reached: list[str] = []
    # Enough presses to go round: the order's controls, then the top bar's brand, search box
    # and sections.
    for _ in range(16):
        page.keyboard.press("Tab")
        # What a keyboard user sees around the focused control: the outline's style and width.
        focused = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                       return [e.tagName + ' ' + (e.innerText || e.name || '').trim(),
                               s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
        )
        # Past the last control the focus leaves the page (the document itself has it).
        if focused[0].startswith("BODY"):
            continue
        reached.append(focused[0])
        if focused[1] == "none" or focused[2] < 2:
            unringed.append(focused[0])
    screenshots.take(page, "focus-ring")
    assert unringed == []
    # The order's controls, then round again to the top bar: everything in reading order.
    assert reached[:4] == ["BUTTON Look up", "A App download", "A History", "A Link to customer"]
    assert "A Look up an order" in reached
    # Answers swapped into the page are announced without moving the focus.
    expect(page.locator("#results")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#lookup-busy")).to_have_attribute("role", "status")


def work_waiting(agent: User, simulator_page: Page) -> None:
    """Something on every page: an unlinked offer code, a refund request, a transfer and an
    extension waiting for a manager, and weeks of demo activity for the reports."""
    # The agent's page is open and polls the menu counts: the rows go in between its requests.
    with between_requests():
        create_demo_activity(days=14)
        maya = CustomerAccount.objects.get(external_id=MAYA)
        make_refund_request(
            original_transaction_id=PURCHASE_OFFER_CODE,
            product_id="com.example.supportdesk.demo.pro.monthly",
            account=maya,
            reason="UNINTENDED_PURCHASE",
        )
        make_transfer_request(agent, maya)
        make_waiting_extension(agent)
    trainer = simulator_page.locator("section.trainer")
    trainer.get_by_role("button", name="Redeem an offer code").click()
    expect(simulator_page.locator('#trainer-step [data-state="applied"]')).to_be_visible()


def menu_pages(page: Page) -> list[str]:
    """Every page the signed-in person's menu leads to (the admin's own pages aside)."""
    return page.evaluate(
        """[...document.querySelectorAll('#topbar-menu nav a')]
            .map(a => a.getAttribute('href')).filter(href => !href.startsWith('/admin/'))"""
    )


def test_no_page_any_role_reaches_scrolls_sideways_on_a_phone(
    new_page: Callable[..., Page],
    agent_user: User,
    manager_user: User,
    auditor_user: User,
    notification_endpoint,
    screenshots: Screenshots,
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    agent = new_page()
    agent.set_viewport_size(PHONE)
    sign_in(agent, agent_user.get_username())
    work_waiting(agent_user, agent)
    # Sofia's purchase, once looked up, is on her page.
    agent.goto(f"/orders/?order_id={ORDER_LINKED_IN_APP}")
    expect(agent.locator("table.purchases")).to_be_visible()
    sofia = CustomerAccount.objects.get(external_id=SOFIA)

    pages = {
        "agent": (
            agent,
            [
                *menu_pages(agent),
                f"/orders/?order_id={ORDER_OFFER_CODE}",
                f"/accounts/{maya.pk}/",
                f"/accounts/{sofia.pk}/",
                f"/purchases/{PURCHASE_OFFER_CODE}/link/",
                f"/purchases/{PURCHASE_OFFER_CODE}/extend/",
                f"/purchases/{LATEST_TRANSACTION_ID}/history/",
            ],
        )
    }
    for role, user in (("manager", manager_user), ("auditor", auditor_user)):
        page = new_page()
        page.set_viewport_size(PHONE)
        sign_in(page, user.get_username(), landing=WELCOME)
        pages[role] = (page, ["/", *menu_pages(page), "/admin/lookups/tokenchange/"])

    wide: dict[str, int] = {}
    serious: dict[str, list[str]] = {}
    for role, (page, paths) in pages.items():
        for path in dict.fromkeys(paths):
            page.goto(path)
            expect(page.locator("h1").first).to_be_visible()
            name = f"{role} {path}"
            screenshots.take(page, re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
            if px := horizontal_overflow(page):
                wide[name] = px
            if found := accessibility_violations(page):
                serious[name] = found
    assert wide == {}
    assert serious == {}
