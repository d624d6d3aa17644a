"""Managers and auditors in Chromium: a home of their own, an audit list that fits a laptop, the
admin's way back to the desk, styled error pages, and reports with weeks of demo life."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount, SubscriptionExtension
from lookups.services.demo_activity import create_demo_activity
from lookups.simulators.demo_data import DEMO_ACCOUNTS, MAYA, ORDER_OFFER_CODE
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import LAPTOP, PHONE, forgive_page_status, horizontal_overflow, sign_in
from tests.fixtures.rows import make_extension, make_refund_request

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]
WELCOME = re.compile(r"^Welcome, ")
DEMO_CUSTOMER_IDS = [account["external_id"] for account in DEMO_ACCOUNTS]


def test_a_manager_lands_on_a_home_with_reports_audit_trail_and_exports(
    new_page: Callable[..., Page],
    manager_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in(page, manager_user.get_username(), landing=WELCOME)
    expect(page).to_have_title("Home · Supportdesk")
    for tile in ("Reports", "Audit trail", "Exports"):
        expect(
            page.locator("main").get_by_role("link", name=re.compile(f"^{tile}"))
        ).to_be_visible()
    screenshots.take(page, "manager-home")

    page.locator("main").get_by_role("link", name=re.compile("^Audit trail")).click()
    expect(page.get_by_role("heading", name="Select token change to view")).to_be_visible()
    expect(page).to_have_title("Select token change to view · Supportdesk")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="View site").click()
    expect(page.get_by_role("heading", name=WELCOME)).to_be_visible()
    assert browser_errors == []


def test_the_audit_list_fits_a_laptop_with_outcome_and_ticket_in_view(
    new_page: Callable[..., Page], auditor_user: User, screenshots: Screenshots
) -> None:
    create_demo_activity(days=21)
    page = new_page()
    page.set_viewport_size(LAPTOP)
    sign_in(page, auditor_user.get_username(), landing=WELCOME)
    page.goto("/admin/lookups/tokenchange/")
    table = page.locator("#result_list")
    expect(table).to_be_visible()
    screenshots.take(page, "token-changes-1366")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= LAPTOP["width"]
    # Nor clipped inside the admin's own scroll box.
    assert page.evaluate(
        "(() => { const box = document.querySelector('#changelist .results');"
        " return box.scrollWidth <= box.clientWidth; })()"
    )
    for column in ("Outcome", "Ticket reference"):
        header = page.locator("#result_list thead th", has_text=column)
        box = header.bounding_box()
        assert box is not None and box["x"] + box["width"] <= LAPTOP["width"], column
    expect(table.locator("tbody tr").first).to_contain_text(
        re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")
    )

    page.locator("#searchbar").fill("demo-4001")
    page.get_by_role("button", name="Search").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("DEMO-4001")
    screenshots.take(page, "ticket-search-any-case")


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/no/such/page/", "There is no such page"), ("/reports/", "You may not open this page")],
)
def test_error_pages_are_styled_with_a_way_back(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    settings,
    path: str,
    heading: str,
    browser_errors: list[str],
) -> None:
    settings.DEBUG = False
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.goto(path)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    forgive_page_status(browser_errors, 404 if path == "/no/such/page/" else 403)
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "8px"
    screenshots.take(page, "error-page")
    page.get_by_role("link", name="Back to the desk").click()
    expect(page.get_by_role("heading", name="Look up an order")).to_be_visible()


def test_a_server_error_is_styled_with_a_way_back(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    settings,
    appstore_settings,
    browser_errors: list[str],
) -> None:
    settings.DEBUG = False
    page = new_page()
    sign_in(page, agent_user.get_username())
    # A key that is no key at all: the desk can't even build its App Store client.
    appstore_settings.APPSTORE_PRIVATE_KEY = "not a private key"
    response = page.goto(f"/orders/?order_id={ORDER_OFFER_CODE}")
    assert response is not None and response.status == 500
    expect(page.get_by_role("heading", name="Something went wrong on the desk")).to_be_visible()
    forgive_page_status(browser_errors, 500)
    expect(page.locator("body")).not_to_contain_text("private key")
    screenshots.take(page, "server-error")
    page.get_by_role("link", name="Back to the desk").click()
    expect(page.get_by_role("heading", name="Look up an order")).to_be_visible()


def test_reports_show_weeks_of_demo_life_and_clip_no_table(
    new_page: Callable[..., Page],
    manager_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    create_demo_activity(days=21)
    page = new_page()
    page.set_viewport_size(LAPTOP)
    sign_in(page, manager_user.get_username(), landing=WELCOME)
    page.goto("/reports/")
    expect(page.locator("#lookups-per-day-title")).to_be_attached()
    # Demo activity fills the charts: bars, not the empty-range message.
    expect(page.locator("svg.chart-svg rect.bar").first).to_be_attached()
    expect(page.get_by_text("No lookups in this range.")).to_have_count(0)
    expect(page.locator("table.numbers", has_text="Agents with the most")).to_contain_text("demo-")
    screenshots.take(page, "reports-with-demo-life")
    clipped = page.evaluate(
        """[...document.querySelectorAll('.table-scroll')]
            .filter(box => box.scrollHeight > box.clientHeight + 1)
            .map(box => box.querySelector('caption')?.textContent)"""
    )
    assert clipped == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Lookups", exact=True).click()
    with open(download.value.path(), "rb") as csv_file:
        assert csv_file.read(3) == b"\xef\xbb\xbf"
    assert browser_errors == []


def test_the_reports_open_on_all_three_weeks_of_demo_life(
    new_page: Callable[..., Page], manager_user: User, screenshots: Screenshots
) -> None:
    create_demo_activity(days=21)
    first_day = (timezone.now() - timedelta(days=21)).astimezone(UTC).date()
    page = new_page()
    sign_in(page, manager_user.get_username(), landing=WELCOME)
    page.goto("/reports/")
    lookups = page.locator("table.numbers", has_text="Lookups per day by outcome")
    first_row = lookups.locator("tbody tr", has_text=first_day.isoformat())
    expect(first_row).to_have_count(1)
    expect(first_row.locator("td").last).not_to_have_text("0")
    screenshots.take(page, "reports-by-default")


def test_demo_activity_leaves_the_hand_made_demo_customers_alone(
    new_page: Callable[..., Page], agent_user: User
) -> None:
    create_demo_activity(days=21)
    page = new_page()
    sign_in(page, agent_user.get_username())
    for account in CustomerAccount.objects.filter(external_id__in=DEMO_CUSTOMER_IDS):
        page.goto(f"/accounts/{account.pk}/")
        expect(page.get_by_role("heading", name=account.display_name)).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("DEMO")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_no_report_table_is_cut_off(
    new_page: Callable[..., Page],
    manager_user: User,
    agent_user: User,
    screenshots: Screenshots,
    viewport: dict[str, int],
) -> None:
    create_demo_activity(days=21)
    make_extension(agent_user).settle(SubscriptionExtension.Outcome.SUCCEEDED)
    make_refund_request(account=CustomerAccount.objects.get(external_id=MAYA))
    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, manager_user.get_username(), landing=WELCOME)
    page.goto("/reports/")
    expect(page.locator("#refund-figures table")).to_be_visible()
    screenshots.take(page, f"reports-{viewport['width']}")
    # A table is cut off when it is wider than the box it sits in: its last columns are out of
    # sight, behind a sideways scroll or past the card's edge.
    cut_off = page.evaluate(
        """[...document.querySelectorAll('#report table')]
            .filter(table => {
                const box = table.closest('.table-scroll') || table.parentElement;
                return table.getBoundingClientRect().width > box.clientWidth + 1
                    || box.scrollWidth > box.clientWidth + 1;
            })
            .map(table => table.querySelector('caption')?.textContent
                          || table.closest('section')?.querySelector('h2')?.textContent)"""
    )
    assert cut_off == []
    assert horizontal_overflow(page) == 0
