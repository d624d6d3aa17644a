"""History in Chromium names whose each purchase is on every row, as the order does, not only
on the transactions that carry the customer's token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.simulators.demo_data import PAY_AS_YOU_GO_TRANSACTIONS, PURCHASE_PAY_AS_YOU_GO
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings", "demo_customers")]


def test_every_history_row_of_a_linked_purchase_names_its_customer(
    new_page: Callable[..., Page], agent_user: User, screenshots: Screenshots
) -> None:
    # Support linked Oliver's purchase last month: only its two latest transactions carry his
    # token, yet all five are his.
    page = new_page()
    sign_in(page, agent_user.get_username())
    page.goto(f"/purchases/{PURCHASE_PAY_AS_YOU_GO}/history/")
    for transaction_id in PAY_AS_YOU_GO_TRANSACTIONS:
        customer = page.locator(f"#txn-{transaction_id} td[data-label=Customer]")
        expect(customer).to_have_text("Oliver Bennett")
    screenshots.take(page, "history-owners")
