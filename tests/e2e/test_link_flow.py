"""An agent links the demo offer-code purchase to its customer, in Chromium, start to finish."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.models import AdaptyDelivery, CustomerAccount, Lookup, TokenChange
from lookups.services.adapty_delivery import deliver
from lookups.simulators.demo_data import (
    MAYA,
    OFFER_CODE_LATEST,
    ORDER_LINKED_IN_APP,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
)
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import look_up, open_link_panel, wait_past_timers
from tests.fixtures.users import PASSWORD

# The demo's offer-code subscription: a free month and three renewals, none linked yet.
TICKET = "SD-4821"

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def sign_in(page: Page, user: User) -> None:
    """Sign in through the form the desk sends every signed-out visitor to."""
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Look up an order")).to_be_visible()


def fill_link_to_maya_on_the_order(page: Page) -> None:
    """The latest offer-code row's link panel: Maya chosen, the ticket typed, not yet sent."""
    open_link_panel(page, OFFER_CODE_LATEST).fill("maya.pat")
    page.get_by_role("link", name="Choose").click()
    page.get_by_label("Support ticket").fill(TICKET)


def test_agent_links_offer_code_purchase_to_customer(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    page = new_page()

    page.goto("/")
    screenshots.take(page, "sign-in")
    sign_in(page, agent_user)
    screenshots.take(page, "look-up-form")

    look_up(page, ORDER_OFFER_CODE)
    rows = page.locator("table.purchases tbody tr[id^=txn-]")
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="Not linked")).to_have_count(4)
    link_buttons = page.get_by_role("link", name="Link to customer")
    expect(link_buttons).to_have_count(1)
    latest = page.locator(f"#txn-{OFFER_CODE_LATEST}")
    expect(latest.get_by_role("link", name="Link to customer")).to_be_visible()
    screenshots.take(page, "order")

    latest.get_by_role("link", name="Link to customer").click()
    search = page.get_by_label("Find the customer (email, account ID or name)")
    expect(search).to_be_focused()
    expect(page.get_by_text("Currently: not linked to any customer.")).to_be_visible()
    screenshots.take(page, "link-panel")

    # Typed key by key and never submitted: the debounced live search must fetch the choices.
    search.press_sequentially("maya.pat", delay=40)
    choices = page.locator(f"#choices-{PURCHASE_OFFER_CODE} li")
    expect(choices).to_have_count(1)
    expect(choices).to_contain_text("Maya Patel")
    expect(choices).to_contain_text(maya.email)
    screenshots.take(page, "search-results")

    choices.get_by_role("link", name="Choose").click()
    confirm = page.locator("form.confirm")
    expect(confirm.get_by_role("heading", name="Confirm the link")).to_be_visible()
    expect(confirm).to_contain_text("Now linked toNobody")
    expect(confirm).to_contain_text(f"Maya Patel · {maya.email}")
    confirm.get_by_label("Support ticket").fill(TICKET)
    screenshots.take(page, "confirm")

    confirm.get_by_role("button", name="Link purchase").click()
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    screenshots.take(page, "linked")

    look_up(page, ORDER_OFFER_CODE)
    latest = page.locator(f"#txn-{OFFER_CODE_LATEST}")
    expect(latest.get_by_role("link", name="Maya Patel")).to_have_attribute(
        "href", re.compile(rf"/accounts/{maya.pk}/$")
    )
    expect(latest.get_by_role("link", name="Change link")).to_be_visible()
    screenshots.take(page, "order-linked")

    change = TokenChange.objects.get(original_transaction_id=PURCHASE_OFFER_CODE)
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert change.account == maya
    assert change.agent == agent_user
    assert change.ticket_reference == TICKET
    assert browser_errors == []


def test_lookup_and_link_work_without_javascript(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto("/")
    sign_in(page, agent_user)

    look_up(page, ORDER_OFFER_CODE)
    # A whole page loaded by the form's own GET, not a fragment swapped in.
    assert page.url.endswith(f"/orders/?order_id={ORDER_OFFER_CODE}")
    expect(page.locator("table.purchases tbody tr[id^=txn-]")).to_have_count(4)
    latest = page.locator(f"#txn-{OFFER_CODE_LATEST}")
    expect(latest).to_contain_text("Not linked")
    screenshots.take(page, "order")

    latest.get_by_role("link", name="Link to customer").click()
    expect(page.get_by_role("heading", name=f"Link purchase {PURCHASE_OFFER_CODE}")).to_be_visible()
    page.get_by_label("Find the customer (email, account ID or name)").fill("maya.pat")
    page.get_by_role("button", name="Search").click()
    choice = page.locator(f"#choices-{PURCHASE_OFFER_CODE} li", has_text="Maya Patel")
    expect(choice).to_be_visible()
    screenshots.take(page, "search-results")

    choice.get_by_role("link", name="Choose").click()
    page.get_by_label("Support ticket").fill(TICKET)
    screenshots.take(page, "confirm")
    page.get_by_role("button", name="Link purchase").click()
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    screenshots.take(page, "linked")

    assert TokenChange.objects.get().outcome == TokenChange.Outcome.SUCCEEDED
    assert browser_errors == []


def test_moving_a_purchase_is_asked_for_by_an_agent_and_approved_by_a_manager(
    new_page: Callable[..., Page],
    agent_user: User,
    manager_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    sofias_latest = "2000000799031265"
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    look_up(page, ORDER_LINKED_IN_APP)
    page.locator(f"#txn-{sofias_latest}").get_by_role("link", name="Change link").click()
    expect(page.get_by_text("Currently: Sofia Martinez.")).to_be_visible()
    search = page.get_by_label("Find the customer (email, account ID or name)")
    expect(search).to_be_focused()
    search.press_sequentially("maya.pat", delay=40)
    page.get_by_role("link", name="Choose").click()
    confirm = page.locator("form.confirm")
    confirm.get_by_label("Support ticket").fill(TICKET)
    confirm.get_by_label(re.compile("move this purchase away from Sofia Martinez")).check()
    screenshots.take(page, "transfer-confirm")
    confirm.get_by_role("button", name="Ask for the transfer").click()
    expect(page.get_by_role("status").filter(has_text="Transfer requested")).to_be_visible()
    assert not TokenChange.objects.exists()

    approver = new_page()
    approver.goto("/transfers/")
    expect(approver.get_by_role("heading", name="Sign in")).to_be_visible()
    approver.get_by_label("Username").fill(manager_user.get_username())
    approver.get_by_label("Password").fill(PASSWORD)
    approver.get_by_role("button", name="Sign in").click()
    expect(approver.get_by_role("heading", name="Transfers waiting for approval")).to_be_visible()
    screenshots.take(approver, "transfers")
    approver.get_by_role("button", name="Approve and send to the App Store").click()
    expect(
        approver.get_by_role("status").filter(has_text="now linked to Maya Patel")
    ).to_be_visible()
    screenshots.take(approver, "approved")

    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert change.agent == manager_user
    assert browser_errors == []


def test_after_a_link_every_row_of_the_order_shows_the_customer_without_a_reload(
    new_page: Callable[..., Page],
    agent_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    look_up(page, ORDER_OFFER_CODE)
    rows = page.locator("table.purchases tbody tr[id^=txn-]")
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="Not linked")).to_have_count(4)
    # Gone if the page were loaded again rather than the order fetched into it.
    page.evaluate("window.stillTheSamePage = true")
    lookups_before = Lookup.objects.count()

    fill_link_to_maya_on_the_order(page)
    screenshots.take(page, "before-link")
    with page.expect_response(lambda response: "refresh=1" in response.url):
        page.get_by_role("button", name="Link purchase").click()

    expect(page.get_by_role("link", name="Link to customer")).to_have_count(0)
    expect(rows).to_have_count(4)
    expect(rows.filter(has=page.get_by_role("link", name="Maya Patel"))).to_have_count(4)
    expect(page.locator(f"#purchase-{PURCHASE_OFFER_CODE} .lead-line")).to_contain_text(
        "Linked to Maya Patel"
    )
    expect(
        page.locator(f"#txn-{OFFER_CODE_LATEST}").get_by_role("link", name="Change link")
    ).to_be_visible()
    # The link's own answer stays where the agent was looking.
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    screenshots.take(page, "after-link")
    assert page.evaluate("window.stillTheSamePage") is True
    # The order was asked of Apple again, which now says whose the purchase is.
    assert Lookup.objects.count() == lookups_before + 1
    assert browser_errors == []


def link_to_maya_on_the_order(page: Page) -> None:
    """From the order on the page: the latest offer-code row's link panel, Maya, a ticket, send."""
    fill_link_to_maya_on_the_order(page)
    page.get_by_role("button", name="Link purchase").click()
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()


def test_the_order_stays_and_the_lookup_box_works_while_adapty_is_polled(
    new_page: Callable[..., Page],
    agent_user: User,
    adapty_settings,
    adapty,
    screenshots: Screenshots,
) -> None:
    # Deliveries wait for a worker, as in production, so the outcome polls Adapty's step.
    adapty_settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    look_up(page, ORDER_OFFER_CODE)
    link_to_maya_on_the_order(page)
    expect(page.get_by_role("status").filter(has_text="Adapty: queued")).to_be_visible()

    wait_past_timers(page)
    rows = page.locator("table.purchases tbody tr[id^=txn-]")
    expect(rows).to_have_count(4)
    expect(rows.filter(has=page.get_by_role("link", name="Maya Patel"))).to_have_count(4)

    # The worker's turn: the poll brings Adapty's answer into the same place.
    deliver(AdaptyDelivery.objects.get().pk)
    expect(page.get_by_role("status").filter(has_text="Adapty: access granted")).to_be_visible()
    wait_past_timers(page)
    expect(rows).to_have_count(4)
    screenshots.take(page, "linked-and-polled")

    page.get_by_label("Order ID").fill(ORDER_LINKED_IN_APP)
    page.get_by_label("Order ID").press("Enter")
    expect(page.get_by_role("heading", name=f"Order {ORDER_LINKED_IN_APP}")).to_be_visible()


def link_on_its_own_page(page: Page, ticket: str = TICKET) -> None:
    """The link page opened from "Unlinked offer codes": Maya, a ticket, send."""
    page.get_by_label("Find the customer (email, account ID or name)").fill("maya.pat")
    page.get_by_role("link", name="Choose").click()
    page.get_by_label("Support ticket").fill(ticket)
    page.get_by_role("button", name="Link purchase").click()


def redeem_an_offer_code(page: Page, simulator) -> str:
    """A customer redeems an offer code; Apple tells the desk, which lists it as unlinked."""
    page.locator("section.trainer").get_by_role("button", name="Redeem an offer code").click()
    expect(page.locator('#trainer-step [data-state="applied"]')).to_be_visible()
    [original_id] = simulator.order_transaction_ids(
        page.locator("#trainer-step a").first.inner_text()
    )
    return original_id


def test_a_purchase_just_linked_leaves_the_unlinked_list(
    new_page: Callable[..., Page],
    agent_user: User,
    notification_endpoint,
    simulator,
    screenshots: Screenshots,
) -> None:
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    original_id = redeem_an_offer_code(page, simulator)
    page.goto("/purchases/unlinked/")
    page.locator(f"#unlinked-{original_id}").get_by_role("link", name="Link to customer").click()
    link_on_its_own_page(page)
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()

    # A second agent opening the list sees it gone at once, not after someone reads its history.
    page.goto("/purchases/unlinked/")
    expect(page.get_by_role("heading", name="Unlinked offer-code purchases")).to_be_visible()
    expect(page.locator(f"#unlinked-{original_id}")).to_have_count(0)
    screenshots.take(page, "unlinked-after-link")


def test_a_link_from_unlinked_offer_codes_reaches_adapty(
    new_page: Callable[..., Page],
    agent_user: User,
    adapty_settings,
    adapty,
    notification_endpoint,
    simulator,
    screenshots: Screenshots,
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    original_id = redeem_an_offer_code(page, simulator)
    page.goto("/purchases/unlinked/")
    page.locator(f"#unlinked-{original_id}").get_by_role("link", name="Link to customer").click()
    link_on_its_own_page(page)
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Adapty: access granted")).to_be_visible()
    screenshots.take(page, "linked-from-unlinked")
    assert adapty.profile(maya.adapty_user_id) is not None


def test_adapty_is_sent_again_by_its_button_and_by_linking_again(
    new_page: Callable[..., Page],
    agent_user: User,
    adapty_settings,
    adapty,
    screenshots: Screenshots,
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    adapty.inject_fault("server_error", times=3)
    page = new_page()
    page.goto("/")
    sign_in(page, agent_user)
    page.goto(f"/purchases/{PURCHASE_OFFER_CODE}/link/")
    link_on_its_own_page(page)
    expect(page.get_by_role("alert").filter(has_text="Adapty: access not granted")).to_be_visible()
    screenshots.take(page, "adapty-failed")

    page.get_by_role("button", name="Send to Adapty again").click()
    expect(page.get_by_role("status").filter(has_text="Adapty: access granted")).to_be_visible()
    assert adapty.profile(maya.adapty_user_id) is not None

    # Linking again a purchase Apple already has on Maya, whose Adapty step failed, sends it.
    adapty.reset()
    adapty.inject_fault("server_error", times=3)
    AdaptyDelivery.objects.filter(outcome=AdaptyDelivery.Outcome.SUCCEEDED).update(
        outcome=AdaptyDelivery.Outcome.FAILED
    )
    page.goto(f"/purchases/{PURCHASE_OFFER_CODE}/link/")
    adapty.clear_faults()
    link_on_its_own_page(page, ticket="SD-4822")
    expect(page.get_by_role("status").filter(has_text="already linked")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Adapty: access granted")).to_be_visible()
    assert adapty.profile(maya.adapty_user_id) is not None
