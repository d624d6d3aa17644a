"""One customer's life, in Chromium: an offer code redeemed, linked, renewed, refunded.

The simulator's steps come from the trainers' panel, as a trainer would press them; each
notification reaches the live desk's endpoint over HTTP and is applied as it arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from lookups.models import CustomerAccount, Purchase
from lookups.simulators.demo_data import MAYA
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import accessibility_violations, sign_in

TICKET = "SD-5107"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("notification_endpoint", "demo_customers"),
]


def press(page: Page, panel: Locator, label: str, sent: str) -> None:
    """Press one of the panel's buttons; wait until the desk has applied what was sent."""
    panel.get_by_role("button", name=label).click()
    outcome = page.locator("#trainer-step")
    expect(outcome.locator("#trainer-sent")).to_have_text(sent)
    expect(outcome.locator('[data-state="applied"]')).to_be_visible()


def purchase_panel(page: Page, original_transaction_id: str) -> Locator:
    row = page.locator(f"#purchase-{original_transaction_id}")
    row.get_by_text("Simulator (demo and training only)").click()
    return row


def test_a_customer_from_offer_code_to_refund(
    new_page: Callable[..., Page],
    agent_user: User,
    simulator,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    page = new_page()
    sign_in(page, agent_user.get_username())

    # The customer redeems an offer code in the App Store: Apple tells the desk.
    trainer = page.locator("section.trainer")
    press(page, trainer, "Redeem an offer code", "OFFER_REDEEMED (INITIAL_BUY)")
    order_id = page.locator("#trainer-step a").first.inner_text()
    [original_id] = simulator.order_transaction_ids(order_id)
    screenshots.take(page, "offer-code-redeemed")

    # The unlinked list shows it; the agent links it to Maya.
    page.get_by_role("link", name="Unlinked").first.click()
    unlinked = page.locator(f"#unlinked-{original_id}")
    expect(unlinked).to_be_visible()
    screenshots.take(page, "unlinked")
    unlinked.get_by_role("link", name="Link to customer").click()
    search = page.get_by_label("Find the customer (email, account ID or name)")
    expect(search).to_be_focused()
    search.press_sequentially("maya.pat", delay=40)
    choice = page.locator(f"#choices-{original_id} li", has_text="Maya Patel")
    choice.get_by_role("link", name="Choose").click()
    page.get_by_label("Support ticket").fill(TICKET)
    page.get_by_role("button", name="Link purchase").click()
    expect(page.get_by_role("status").filter(has_text="Linked to Maya Patel")).to_be_visible()
    screenshots.take(page, "linked")

    # Looked up again, Apple's transactions carry her token; her account page shows it active.
    page.goto(f"/orders/?order_id={order_id}")
    page.locator(f"#txn-{original_id}").get_by_role("link", name="Maya Patel").click()
    expect(page.get_by_role("heading", name="Maya Patel", level=1)).to_be_visible()
    assert page.url.endswith(f"/accounts/{maya.pk}/")
    row = page.locator(f"#purchase-{original_id}")
    expect(row.locator(".status-badge")).to_have_text("Active")
    first_renewal = Purchase.objects.get(original_transaction_id=original_id).next_renewal_date
    screenshots.take(page, "account-active")

    # It renews: still active, the next renewal date moves on.
    press(page, purchase_panel(page, original_id), "Renew now", "DID_RENEW")
    renewed = Purchase.objects.get(original_transaction_id=original_id)
    assert renewed.next_renewal_date > first_renewal
    row = page.locator(f"#purchase-{original_id}")
    expect(row.locator(".status-badge")).to_have_text("Active")
    expect(row).to_contain_text(f"Renews {renewed.next_renewal_date.astimezone(UTC):%Y-%m-%d}")
    assert renewed.next_renewal_date > datetime.now(UTC)
    screenshots.take(page, "account-renewed")

    # Apple refunds it: revoked, and the timeline tells the whole story.
    press(page, purchase_panel(page, original_id), "Refund", "REFUND")
    row = page.locator(f"#purchase-{original_id}")
    expect(row.locator(".status-badge")).to_have_text("Revoked")
    timeline = page.locator("#timeline")
    for entry in (
        "Apple: Redeemed an offer code for a new subscription",
        "Apple: Renewed",
        "Apple: Refunded by Apple",
    ):
        expect(timeline).to_contain_text(entry)
    expect(timeline).to_contain_text("Link succeeded")
    screenshots.take(page, "account-refunded")

    # Apple's refund history, asked from her page, lists the refund.
    row.get_by_role("link", name="Refund history").click()
    refunded = simulator.store.latest_transaction(original_id)["transactionId"]
    expect(page.locator("#refunds")).to_contain_text(refunded)
    expect(page.locator("#refunds")).to_contain_text("Refunded for another reason")
    screenshots.take(page, "refund-history")
    purchase_panel(page, original_id)
    assert accessibility_violations(page) == []
    assert browser_errors == []
