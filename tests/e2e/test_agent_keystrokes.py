"""An agent's hundred tickets a day in Chromium: names and prices read aloud, the link flow by
keyboard, why a purchase can't be linked, tab titles, a history that keeps step with Back, and a
Look up box that takes whatever the customer sent."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from playwright.sync_api import Locator, Page, Request, expect

from lookups.models import CustomerAccount, Product, TokenChange
from lookups.services.demo_products import create_demo_products
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.demo_data import (
    CREDITS_FINISHED,
    CREDITS_UNFINISHED,
    MAYA,
    OFFER_CODE_LATEST,
    ORDER_CONSUMABLES,
    ORDER_EXPIRED,
    ORDER_FAMILY_SHARED,
    ORDER_LONG_HISTORY,
    ORDER_OFFER_CODE,
    ORDER_REFUNDED,
    PURCHASE_OFFER_CODE,
    PURCHASE_REFUNDED,
)
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


@pytest.fixture(autouse=True)
def unhurried(appstore_settings):
    """No per-second budget: an agent here looks up faster than the demo's Sandbox limit."""
    appstore_settings.APPSTORE_RATE_LIMITS = {"lookup": 1000, "set_token": 1000, "history": 1000}


ORIGINAL_TRANSACTION_ID = PURCHASE_OFFER_CODE
LATEST_TRANSACTION_ID = OFFER_CODE_LATEST
TICKET = "SD-4821"


def look_up(page: Page, entry: str) -> None:
    """Look up and wait for the answer: a second Enter while one runs is dropped, by design."""
    box = page.get_by_label("Order ID or transaction ID")
    box.fill(entry)
    with page.expect_response(lambda response: "/orders/?" in response.url):
        box.press("Enter")


def lead_line(page: Page, original_transaction_id: str) -> Locator:
    return page.locator(f"#purchase-{original_transaction_id} .lead-line")


def test_an_order_leads_with_product_names_newest_first(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    create_demo_products()
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_OFFER_CODE)
    rows = page.locator("table.purchases tbody tr[id^=txn-]")
    expect(rows).to_have_count(4)
    expect(rows.first).to_have_id(f"txn-{LATEST_TRANSACTION_ID}")
    expect(rows.last).to_have_id(f"txn-{ORIGINAL_TRANSACTION_ID}")
    expect(rows.first.locator("td").first).to_contain_text("Pro, monthly")
    expect(rows.first).to_contain_text("$9.99")
    # The purchase's group opens with its line, before any of its transactions.
    group = page.locator("table.purchases tbody.purchase")
    expect(group).to_have_count(1)
    expect(group.locator("tr").first).to_have_id(f"purchase-{PURCHASE_OFFER_CODE}")
    expect(lead_line(page, PURCHASE_OFFER_CODE)).to_have_text(
        re.compile(
            r"^\s*Pro, monthly\s+Active\s+Renews \d{4}-\d{2}-\d{2}\s+Not linked to a customer\s*$"
        )
    )
    # Apple's statuses are in the lines now, not in a list of their own under the table.
    expect(page.get_by_role("heading", name="Apple's status")).to_have_count(0)
    screenshots.take(page, "order-with-names")

    Product.objects.filter(product_id__endswith=".monthly").delete()
    look_up(page, ORDER_OFFER_CODE)
    expect(page.locator(f"#txn-{LATEST_TRANSACTION_ID} td").first).to_contain_text(
        "com.example.supportdesk.demo.pro.monthly"
    )


def test_each_purchase_says_its_status_and_whose_it_is(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_EXPIRED)
    expect(page.locator(".lead-line")).to_have_text(
        re.compile(r"Expired\s+Expired \d{4}-\d{2}-\d{2}\s+Not linked to a customer")
    )
    expect(page.locator("tr.purchase-lead .status-details")).to_contain_text(
        "Why it expired: The customer cancelled it"
    )
    look_up(page, ORDER_REFUNDED)
    expect(lead_line(page, PURCHASE_REFUNDED)).to_contain_text(
        re.compile(r"Refunded\s+on \d{4}-\d{2}-\d{2}\s+Linked to James")
    )
    screenshots.take(page, "refunded-order")

    # Two purchases in one order: the one bought last leads.
    look_up(page, ORDER_CONSUMABLES)
    leads = page.locator("tr.purchase-lead")
    expect(leads).to_have_count(2)
    expect(leads.first).to_have_id(f"purchase-{CREDITS_UNFINISHED}")
    expect(leads.last).to_have_id(f"purchase-{CREDITS_FINISHED}")
    expect(leads.first.locator(".lead-line")).to_contain_text("Owned")
    screenshots.take(page, "two-purchases")


def test_the_link_flow_by_keyboard_alone(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_OFFER_CODE)
    expect(page).to_have_title(f"{ORDER_OFFER_CODE} · Supportdesk")

    page.locator(f"#txn-{LATEST_TRANSACTION_ID}").get_by_role(
        "link", name="Link to customer"
    ).focus()
    page.keyboard.press("Enter")
    search = page.get_by_label("Find the customer (email, account ID or name)")
    expect(search).to_be_focused()
    page.keyboard.type("maya.pat", delay=30)
    choose = page.get_by_role("link", name="Choose")
    expect(choose).to_have_count(1)
    screenshots.take(page, "search-focused")

    # Tab leaves the search box for the Search button, then the one choice.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(choose).to_be_focused()
    page.keyboard.press("Enter")
    ticket = page.get_by_label("Support ticket")
    expect(ticket).to_be_focused()
    expect(ticket).to_have_attribute("aria-describedby", "ticket-help")
    expect(page.locator("#ticket-help")).to_contain_text("like SD-4821")
    screenshots.take(page, "ticket-focused")

    page.keyboard.type(TICKET)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    screenshots.take(page, "linked")
    change = TokenChange.objects.get()
    assert (change.outcome, change.account, change.ticket_reference) == ("succeeded", maya, TICKET)
    assert browser_errors == []


def test_a_failed_link_keeps_the_customer_and_ticket_and_offers_retry(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    simulator: AppStoreSimulator,
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_OFFER_CODE)
    page.locator(f"#txn-{LATEST_TRANSACTION_ID}").get_by_role(
        "link", name="Link to customer"
    ).click()
    search = page.get_by_label("Find the customer (email, account ID or name)")
    # Focused once htmx has settled the panel, and so listens to what is typed.
    expect(search).to_be_focused()
    search.fill("maya.pat")
    page.get_by_role("link", name="Choose").click()
    page.get_by_label("Support ticket").fill(TICKET)
    simulator.inject_fault("internal_error", endpoint="set_token")
    page.get_by_role("button", name="Link purchase").click()
    expect(page.get_by_role("alert").filter(has_text="The link failed")).to_be_visible()
    expect(page.locator("form.retry")).to_contain_text(f"Maya Patel, ticket {TICKET}")
    screenshots.take(page, "failed-with-retry")

    page.get_by_role("button", name="Retry").click()
    ticket = page.get_by_label("Support ticket")
    expect(ticket).to_have_value(TICKET)
    expect(ticket).to_be_focused()
    expect(page.locator("form.confirm")).to_contain_text("Will be linked toMaya Patel")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    screenshots.take(page, "retried")
    outcomes = list(TokenChange.objects.order_by("created_at").values_list("outcome", flat=True))
    assert outcomes == ["failed", "succeeded"]


def test_a_purchase_that_cant_be_linked_says_why(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_FAMILY_SHARED)
    expect(page.get_by_role("link", name="Link to customer")).to_have_count(0)
    expect(page.locator(".why-not")).to_contain_text("link the organiser's own purchase instead")
    screenshots.take(page, "family-shared")

    look_up(page, ORDER_REFUNDED)
    expect(page.locator(".why-not")).to_contain_text(re.compile(r"Refunded on \d{4}-\d{2}-\d{2}"))
    screenshots.take(page, "refunded")


def test_the_history_keeps_filters_and_results_in_step(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    simulator: AppStoreSimulator,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_LONG_HISTORY)
    page.get_by_role("link", name="History").first.click()
    expect(page.get_by_role("heading", name=re.compile("Transaction history"))).to_be_visible()
    expect(page).to_have_title(re.compile(r"^History of \d+ · Supportdesk$"))
    back = page.get_by_role("link", name=f"Back to order {ORDER_LONG_HISTORY}")
    expect(back).to_be_visible()
    expect(page.get_by_text("The customer's whole purchase history in this app")).to_be_visible()

    def shown() -> str:
        # What the results are: the rows' IDs, or the message when none match.
        rows = page.locator("#history tr[id^=txn-]")
        return " ".join(rows.evaluate_all("rows => rows.map(row => row.id)")) or (
            page.locator("#history").inner_text().strip()
        )

    refunds = page.get_by_label("Refunds")
    refunds.select_option("false")
    expect(page).to_have_url(re.compile("revoked=false"))
    page.wait_for_load_state("networkidle")
    not_refunded = shown()
    refunds.select_option("true")
    expect(page).to_have_url(re.compile("revoked=true"))
    page.wait_for_load_state("networkidle")
    refunded_only = shown()
    assert refunded_only != not_refunded
    screenshots.take(page, "refunded-only")

    page.go_back()
    expect(page).to_have_url(re.compile("revoked=false"))
    expect(page.get_by_label("Refunds")).to_have_value("false")
    page.wait_for_load_state("networkidle")
    assert shown() == not_refunded
    page.go_forward()
    expect(page).to_have_url(re.compile("revoked=true"))
    expect(page.get_by_label("Refunds")).to_have_value("true")
    page.wait_for_load_state("networkidle")
    assert shown() == refunded_only
    screenshots.take(page, "after-back-and-forward")

    page.get_by_label("Refunds").select_option("")
    expect(page).not_to_have_url(re.compile("revoked=true"))
    rows = page.locator("#history-rows tr[id^=txn-]")
    expect(rows).to_have_count(20)
    expect(page.locator("#load-more")).to_contain_text("20 shown")

    simulator.inject_fault("internal_error", endpoint="history")
    page.get_by_role("link", name="Load more").click()
    expect(page.locator("#load-more")).to_contain_text("5000000")
    expect(rows).to_have_count(20)
    screenshots.take(page, "load-more-failed")
    page.locator("#load-more").get_by_role("link", name="Retry").click()
    expect(rows).not_to_have_count(20)
    count = rows.count()
    expect(page.locator("#load-more")).to_contain_text(f"{count} shown")
    screenshots.take(page, "load-more-retried")

    back.click()
    expect(page.get_by_role("heading", name=f"Order {ORDER_LONG_HISTORY}")).to_be_visible()
    assert browser_errors == []


def test_date_changes_are_debounced(new_page: Callable[..., Page], agent_user: User) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.goto(f"/purchases/{LATEST_TRANSACTION_ID}/history/")
    expect(page.locator("#history-rows")).to_be_visible()
    sent: list[str] = []

    def record(request: Request) -> None:
        if "/history/" in request.url and request.headers.get("hx-request"):
            sent.append(request.url)

    page.on("request", record)
    start = page.get_by_label("From")
    start.focus()
    # Typed digit by digit, a date input changes at every complete date it passes through.
    with page.expect_response(lambda response: "start=2026-01-02" in response.url):
        page.keyboard.type("01022026", delay=40)
    page.wait_for_load_state("networkidle")
    assert sent == [response_url for response_url in sent if "start=2026-01-02" in response_url]
    assert len(sent) == 1, sent


def test_look_up_takes_what_the_customer_sent(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    simulator: AppStoreSimulator,
) -> None:
    page = new_page()
    sign_in(page, agent_user.get_username())
    box = page.get_by_label("Order ID or transaction ID")
    placeholder = box.get_attribute("placeholder") or ""
    assert not re.search(r"\b[A-Z0-9]{8,14}\b", placeholder)

    look_up(page, f"Order ID: {ORDER_OFFER_CODE}   Document No.: 164839210571")
    expect(page.get_by_role("heading", name=f"Order {ORDER_OFFER_CODE}")).to_be_visible()
    look_up(page, f"https://reportaproblem.apple.com/?orderId={ORDER_OFFER_CODE.lower()}")
    expect(page.get_by_role("heading", name=f"Order {ORDER_OFFER_CODE}")).to_be_visible()

    typed = "mk5t-<ttv>!wjh, from the customer"
    look_up(page, typed)
    expect(page.get_by_role("alert")).to_contain_text(f"“{typed}” is neither an order ID")
    screenshots.take(page, "invalid-echoed")

    simulator.inject_fault("slow", endpoint="lookup", delay_seconds=1.5)
    box = page.get_by_label("Order ID or transaction ID")
    box.fill(ORDER_OFFER_CODE)
    with page.expect_response(lambda response: "/orders/?" in response.url):
        box.press("Enter")
        expect(page.get_by_role("button", name="Look up")).to_be_disabled()
        screenshots.take(page, "busy")
    expect(page.get_by_role("heading", name=f"Order {ORDER_OFFER_CODE}")).to_be_visible()
    expect(page.get_by_role("button", name="Look up")).to_be_enabled()

    look_up(page, LATEST_TRANSACTION_ID)
    expect(page).to_have_url(re.compile(rf"/purchases/{LATEST_TRANSACTION_ID}/history/$"))
    expect(page.get_by_role("heading", name=re.compile("Transaction history"))).to_be_visible()
    screenshots.take(page, "transaction-id-opens-history")


@pytest.fixture
def fresh_rate_budget():
    """Apple's Retry-After stays in the shared cache; no later test inherits the pause."""
    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("fresh_rate_budget")
def test_the_desks_own_pause_is_not_told_as_apples_error(
    new_page: Callable[..., Page],
    agent_user: User,
    manager_user: User,
    screenshots: Screenshots,
    simulator: AppStoreSimulator,
    appstore_settings,
) -> None:
    appstore_settings.APPSTORE_MAX_RETRY_AFTER_SECONDS = 0
    page = new_page()
    sign_in(page, agent_user.get_username())
    simulator.inject_fault("rate_limit", endpoint="lookup", retry_after_ms=30_000)
    look_up(page, ORDER_OFFER_CODE)
    expect(page.get_by_role("alert")).to_contain_text("(Apple error 4290000)")
    screenshots.take(page, "apples-429")

    look_up(page, ORDER_OFFER_CODE)
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    screenshots.take(page, "desk-pause")
    expect(alert).to_contain_text(re.compile(r"The desk is pausing App Store calls for (29|30) s"))
    expect(alert).not_to_contain_text("Apple error")

    manager = new_page()
    sign_in(manager, manager_user.get_username(), landing=re.compile(r"^Welcome, "))
    manager.goto("/reports/")
    expect(manager.locator(".desk-holds")).to_contain_text(
        "Held by the desk, never sent to Apple: 1 lookup."
    )
    apples_row = manager.locator("table.numbers tr", has_text="4290000")
    expect(apples_row.locator("td")).to_have_text(["RateLimitExceededError", "1", "0", "1"])
    screenshots.take(manager, "reports-count-them-apart")
