"""What Apple shows of a purchase now, read back after a call whose answer never came."""

from __future__ import annotations

import pytest

from lookups.services.apple_reads import latest_transaction_at_apple, renewal_date_at_apple
from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_LIFETIME, PURCHASE_OFFER_CODE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appstore_settings")]


def test_the_latest_transaction_is_the_newest_renewal_of_the_purchase(simulator):
    renewals = simulator.order_transaction_ids(ORDER_OFFER_CODE)

    latest = latest_transaction_at_apple(PURCHASE_OFFER_CODE)

    assert latest.original_transaction_id == PURCHASE_OFFER_CODE
    assert latest.transaction_id == renewals[-1]


def test_a_token_set_at_apple_shows_on_the_latest_transaction(simulator):
    simulator.store.set_app_account_token(
        PURCHASE_OFFER_CODE, {"appAccountToken": "6f1c8e0a-3b9d-4c1e-9a57-1d2e3f405162"}
    )
    latest = latest_transaction_at_apple(PURCHASE_OFFER_CODE)
    assert latest.app_account_token == "6f1c8e0a-3b9d-4c1e-9a57-1d2e3f405162"


def test_the_renewal_date_is_read_from_the_signed_renewal_info(simulator):
    renews = renewal_date_at_apple(PURCHASE_OFFER_CODE)

    # It renews when its current period ends.
    assert renews == latest_transaction_at_apple(PURCHASE_OFFER_CODE).expires_date


def test_a_one_time_purchase_has_no_renewal_date(simulator):
    assert renewal_date_at_apple(PURCHASE_LIFETIME) is None
