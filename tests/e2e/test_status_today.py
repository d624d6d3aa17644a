"""Status lines in Chromium say what Apple's state means today, never a renewal in the past."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount, Purchase
from lookups.simulators.appstore.server import AppStoreSimulator
from lookups.simulators.demo_data import OLIVER, ORDER_PAY_AS_YOU_GO, PURCHASE_PAY_AS_YOU_GO
from tests.e2e.desk import look_up, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def test_a_billing_retry_past_its_renewal_date_does_not_say_renews(
    new_page: Callable[..., Page], agent_user: User, browser_errors: list[str]
) -> None:
    maya = CustomerAccount.objects.get(display_name="Maya Patel")
    due = timezone.now() - timedelta(days=20)
    Purchase.objects.create(
        environment=settings.APPSTORE_ENVIRONMENT,
        original_transaction_id="2000000999000001",
        latest_transaction={
            "transactionId": "2000000999000001",
            "originalTransactionId": "2000000999000001",
            "productId": "com.example.supportdesk.demo.pro.monthly",
        },
        product_id="com.example.supportdesk.demo.pro.monthly",
        app_account_token=maya.app_account_token,
        status=Purchase.Status.BILLING_RETRY,
        auto_renew=True,
        next_renewal_date=due,
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
    )
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.goto(f"/accounts/{maya.pk}/")
    line = page.locator(".purchase-status[data-status=billing_retry]")
    expect(line).to_contain_text(f"Renewal due {due:%Y-%m-%d} failed: Apple is retrying the charge")
    expect(line).not_to_contain_text(re.compile(r"Renews \d"))


def test_a_subscription_refunded_after_its_order_says_so_on_the_order_and_the_customer(
    new_page: Callable[..., Page], agent_user: User, simulator: AppStoreSimulator
) -> None:
    # Oliver's subscription renews, and Apple refunds the renewal, for an issue in the app: the
    # refunded transaction is not one of the order's, so no row of the order carries it.
    renewal = simulator.renew(PURCHASE_PAY_AS_YOU_GO)
    simulator.revoke(renewal, reason=1)
    page = new_page()
    sign_in(page, agent_user.get_username())
    look_up(page, ORDER_PAY_AS_YOU_GO)
    lead = page.locator(f"#purchase-{PURCHASE_PAY_AS_YOU_GO}")
    expect(lead.locator(".status-badge")).to_have_text("Revoked")
    refunded_on = f"{timezone.now():%Y-%m-%d}"
    expect(lead).to_contain_text(f"Refunded {refunded_on} for an issue in the app")
    expect(lead).to_contain_text(
        "The refunded transaction came after this order's: it is in History"
    )

    oliver = CustomerAccount.objects.get(external_id=OLIVER)
    page.goto(f"/accounts/{oliver.pk}/")
    line = page.locator(".purchase-status[data-status=revoked]")
    expect(line).to_contain_text(
        f"Refunded by Apple on {refunded_on} for an issue in the app: it gives no access now"
    )
