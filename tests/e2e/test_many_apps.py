"""One desk, three apps: an order found in its app among three and linked there (Apple called as
that app, Adapty with that app's key), Sandbox labelled (on an order and in the unlinked offer
codes), and an agent limited to one app who never sees or asks the others; in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount, TokenChange
from lookups.simulators.demo_apps import (
    COACH_BUNDLE_ID,
    COACH_LATEST,
    COACH_TRANSACTIONS,
    ORDER_COACH,
    SANDBOX_TESTER_PURCHASE,
)
from lookups.simulators.demo_data import MAYA, PURCHASE_OFFER_CODE
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import look_up, open_link_panel, settled, wait_past_timers
from tests.e2e.desk import sign_in as sign_in_as
from tests.e2e.test_link_flow import link_on_its_own_page, sign_in
from tests.fixtures.adapty_simulator import COACH_ADAPTY_KEY

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
    # Actions call Apple as Coach: its buttons are offered like the desk's own app's.
    expect(row.get_by_role("link", name="Link to customer")).to_be_visible()
    expect(row.locator(".why-not-act")).to_have_count(0)
    screenshots.take(page, "found-in-coach")


def test_a_coach_purchase_is_linked_from_the_order_page_at_coach_and_at_coachs_adapty(
    new_page: Callable[..., Page],
    agent_user: User,
    coach_on_adapty,
    simulator,
    adapty,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    three_apps = coach_on_adapty
    maya = CustomerAccount.objects.get(external_id=MAYA)
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    look_up(page, ORDER_COACH)

    open_link_panel(page, COACH_LATEST).press_sequentially("maya.pat", delay=40)
    page.get_by_role("link", name="Choose").click()
    confirm = page.locator("form.confirm")
    confirm.get_by_label("Support ticket").fill("SD-5120")
    confirm.get_by_role("button", name="Link purchase").click()
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    granted = f"Adapty: access granted to customer user ID {maya.adapty_user_id}"
    expect(page.get_by_role("status").filter(has_text=granted)).to_be_visible()
    wait_past_timers(page)
    screenshots.take(page, "linked-in-coach")

    change = TokenChange.objects.get(original_transaction_id=COACH_TRANSACTIONS[0])
    assert (change.outcome, change.app, change.environment) == (
        TokenChange.Outcome.SUCCEEDED,
        three_apps.coach,
        "Production",
    )
    # Coach's own store holds the token: Apple was called with Coach's key and bundle ID.
    at_coach = simulator.app(COACH_BUNDLE_ID).store.latest_transaction(COACH_TRANSACTIONS[0])
    assert at_coach["appAccountToken"] == str(maya.app_account_token)
    # Adapty was sent it with Coach's own key: Maya's profile in Coach's Adapty app holds it,
    # the desk's first app's holds nothing.
    assert [request.secret_key for request in adapty.requests] == [COACH_ADAPTY_KEY]
    in_coach = adapty.profile(maya.adapty_user_id, COACH_ADAPTY_KEY)
    assert [sub["store_transaction_id"] for sub in in_coach["subscriptions"]] == [COACH_LATEST]
    assert in_coach["access_levels"][0]["access_level_id"] == "premium"
    assert adapty.profile(maya.adapty_user_id) is None
    assert browser_errors == []


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


def _lookups_of_two_apps(agent: User, three_apps) -> None:
    """Today: two of the demo app's lookups (naming no app, as before apps) and three of Coach's,
    one of them in Sandbox."""
    from tests.fixtures.rows import make_lookup

    for app, environment in (
        (None, "Production"),
        (None, "Production"),
        (three_apps.coach, "Production"),
        (three_apps.coach, "Production"),
        (three_apps.coach, "Sandbox"),
    ):
        make_lookup(agent, app=app, environment=environment)


def _csv_rows(download) -> list[dict[str, str]]:
    import csv
    import io

    with open(download.value.path(), encoding="utf-8-sig", newline="") as csv_file:
        return list(csv.DictReader(io.StringIO(csv_file.read())))


def test_a_manager_reports_and_exports_one_app_and_environment(
    new_page: Callable[..., Page],
    manager_user: User,
    agent_user: User,
    three_apps,
    screenshots: Screenshots,
) -> None:
    _lookups_of_two_apps(agent_user, three_apps)
    page = new_page()
    sign_in_as(page, manager_user.get_username(), landing=re.compile(r"^Welcome, "))
    page.goto("/reports/")
    totals = page.locator("table.numbers", has_text="Lookups per day by outcome").locator(
        "tbody tr td:last-child"
    )
    expect(totals.last).to_have_text("5")

    page.get_by_label("App", exact=True).select_option(label="Coach")
    settled(page)
    expect(totals.last).to_have_text("3")
    expect(page.get_by_text("Coach only")).to_be_visible()
    screenshots.take(page, "reports-of-coach")

    with page.expect_download() as download:
        page.get_by_role("link", name="Lookups", exact=True).click()
    rows = _csv_rows(download)
    assert [(row["app"], row["environment"]) for row in rows] == [
        ("Coach", "Production"),
        ("Coach", "Production"),
        ("Coach", "Sandbox"),
    ]

    page.get_by_label("Environment").select_option(label="Sandbox")
    settled(page)
    expect(totals.last).to_have_text("1")
    with page.expect_download() as download:
        page.get_by_role("link", name="Lookups", exact=True).click()
    assert [(row["app"], row["environment"]) for row in _csv_rows(download)] == [
        ("Coach", "Sandbox")
    ]
    screenshots.take(page, "reports-of-coach-in-sandbox")


def test_an_agent_limited_to_coach_never_sees_the_other_apps_purchases_or_rows(
    new_page: Callable[..., Page],
    agent_user: User,
    auditor_user: User,
    three_apps,
    screenshots: Screenshots,
) -> None:
    from django.conf import settings
    from django.utils import timezone

    from lookups.models import CustomerAccount, Purchase
    from lookups.simulators.demo_data import MAYA

    maya = CustomerAccount.objects.get(external_id=MAYA)
    for original, app in (("2000000999200001", None), ("2000000999200002", three_apps.coach)):
        Purchase.objects.create(
            environment=settings.APPSTORE_ENVIRONMENT,
            original_transaction_id=original,
            latest_transaction={"transactionId": original, "productId": "com.example.pro"},
            product_id="com.example.pro",
            app=app,
            app_account_token=maya.app_account_token,
            learnt_at=timezone.now(),
            learnt_from=Purchase.Source.LOOKUP,
        )
    _lookups_of_two_apps(agent_user, three_apps)
    three_apps.coach.limited_agents.add(agent_user, auditor_user)

    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    page.goto(f"/accounts/{maya.pk}/")
    coach_row = page.locator("#purchase-2000000999200002")
    expect(coach_row.locator(".row-app")).to_have_text("Coach")
    expect(page.locator("#purchase-2000000999200001")).to_have_count(0)
    screenshots.take(page, "customer-page-of-coach-only")

    auditor = new_page()
    sign_in_as(auditor, auditor_user.get_username(), landing=re.compile(r"^Welcome, "))
    auditor.goto("/admin/lookups/lookup/")
    rows = auditor.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    expect(auditor.locator("#changelist-filter")).to_contain_text("Coach")
    expect(auditor.locator("#changelist-filter")).not_to_contain_text("Journal")
    screenshots.take(auditor, "admin-lookups-of-coach-only")


def test_a_sandbox_offer_code_waits_in_the_unlinked_list_labelled_sandbox(
    new_page: Callable[..., Page],
    agent_user: User,
    three_apps,
    simulator,
    live_server,
    notification_endpoint,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    # Apple tells of an offer code redeemed in the desk's app, then of a tester's in Coach's
    # Sandbox, each at the URL of its app and environment.
    simulator.emit_notification("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    assert simulator.notifications.wait_until_settled(timeout=10)
    coach_sandbox = simulator.app(COACH_BUNDLE_ID, "Sandbox")
    coach_sandbox.set_notification_url(
        live_server.url + three_apps.coach.notification_path("Sandbox")
    )
    try:
        coach_sandbox.emit_notification("OFFER_REDEEMED", transaction_id=SANDBOX_TESTER_PURCHASE)
        assert coach_sandbox.notifications.wait_until_settled(timeout=10)
    finally:
        coach_sandbox.set_notification_url(None)

    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    page.goto("/purchases/unlinked/")

    sandbox = page.locator(f"#unlinked-{SANDBOX_TESTER_PURCHASE}")
    expect(sandbox.locator(".row-app")).to_have_text("Coach")
    expect(sandbox.get_by_text("Sandbox: a test purchase, no money moved")).to_be_visible()
    production = page.locator(f"#unlinked-{PURCHASE_OFFER_CODE}")
    expect(production.locator(".row-app")).to_have_text(three_apps.demo.name)
    expect(production.locator(".badge.sandbox")).to_have_count(0)
    screenshots.take(page, "unlinked-sandbox")

    # Linked from the list, at Coach's Sandbox, where the tester bought it.
    sandbox.get_by_role("link", name="Link to customer").click()
    link_on_its_own_page(page)
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    change = TokenChange.objects.get(original_transaction_id=SANDBOX_TESTER_PURCHASE)
    assert (change.outcome, change.app, change.environment) == (
        TokenChange.Outcome.SUCCEEDED,
        three_apps.coach,
        "Sandbox",
    )
    page.goto("/purchases/unlinked/")
    expect(page.locator(f"#unlinked-{PURCHASE_OFFER_CODE}")).to_be_visible()
    expect(sandbox).to_have_count(0)
    # The list polls for new offer codes: the linked one must not come back with a poll.
    wait_past_timers(page)
    expect(sandbox).to_have_count(0)
    assert browser_errors == []
