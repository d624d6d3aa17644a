"""A manager in Chromium decides approvals seeing what each purchase is now, with Approve and
Reject clearly apart, and reads the order and the customer behind them (without changing them)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from lookups.models import CustomerAccount, Purchase
from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_REVOKED_SUBSCRIPTION
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import sign_in
from tests.fixtures.rows import make_transfer_request, make_waiting_extension

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]
WELCOME = re.compile(r"^Welcome, ")
APPROVE = "Approve and send to the App Store"
REJECT = re.compile(r"^Reject")


def refunded_in_the_picture(owner: CustomerAccount) -> Purchase:
    """The desk's picture of a subscription Apple refunded after the agent asked."""
    return Purchase.objects.create(
        environment=settings.APPSTORE_ENVIRONMENT,
        original_transaction_id=PURCHASE_REVOKED_SUBSCRIPTION,
        latest_transaction={
            "transactionId": PURCHASE_REVOKED_SUBSCRIPTION,
            "originalTransactionId": PURCHASE_REVOKED_SUBSCRIPTION,
            "productId": "com.example.supportdesk.demo.pro.yearly",
        },
        product_id="com.example.supportdesk.demo.pro.yearly",
        app_account_token=owner.app_account_token,
        status=Purchase.Status.REVOKED,
        revocation_date=timezone.now(),
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
    )


def assert_distinct_buttons(row: Locator) -> None:
    approve = row.get_by_role("button", name=APPROVE)
    reject = row.get_by_role("button", name=REJECT)
    expect(approve).to_be_visible()
    expect(reject).to_be_visible()
    look = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
    assert approve.evaluate(look) != reject.evaluate(look)


def test_a_manager_sees_each_approvals_status_now_and_can_tell_approve_from_reject(
    new_page: Callable[..., Page],
    manager_user: User,
    agent_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
) -> None:
    maya = CustomerAccount.objects.get(display_name="Maya Patel")
    oliver = CustomerAccount.objects.exclude(pk=maya.pk).first()
    refunded_in_the_picture(maya)
    make_waiting_extension(agent_user, original_transaction_id=PURCHASE_REVOKED_SUBSCRIPTION)
    make_transfer_request(
        agent_user,
        oliver,
        original_transaction_id=PURCHASE_REVOKED_SUBSCRIPTION,
        token_before=maya.app_account_token,
        environment=settings.APPSTORE_ENVIRONMENT,
    )
    page = new_page()
    sign_in(page, manager_user.get_username(), landing=WELCOME)

    for path in ("/extensions/", "/transfers/"):
        page.goto(path)
        row = page.locator("main li").first
        expect(row.locator(".status-badge")).to_have_text("Revoked")
        expect(row).to_contain_text("Refunded by Apple")
        assert_distinct_buttons(row)
        screenshots.take(page, f"approval-status{path.replace('/', '-')}")


def test_a_manager_reads_an_order_and_a_customer_without_changing_them(
    new_page: Callable[..., Page], manager_user: User, browser_errors: list[str]
) -> None:
    maya = CustomerAccount.objects.get(display_name="Maya Patel")
    page = new_page()
    sign_in(page, manager_user.get_username(), landing=WELCOME)
    page.get_by_role("link", name="Look up an order").first.click()
    page.get_by_label("Order ID").fill(ORDER_OFFER_CODE)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Order {ORDER_OFFER_CODE}")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Link"))).to_have_count(0)
    expect(page.get_by_role("link", name="Extend")).to_have_count(0)

    page.goto(f"/accounts/{maya.pk}/")
    expect(page.get_by_role("heading", name=re.compile("Maya Patel"))).to_be_visible()
