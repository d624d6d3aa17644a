"""A simulated subscription's status and signed renewal info, from its latest transaction and
what the App Store will do at the end of the period."""

from __future__ import annotations

import pytest

from lookups.simulators.appstore.subscriptions import (
    ACTIVE,
    BILLING_RETRY,
    EXPIRED,
    GRACE_PERIOD,
    REVOKED,
    YEAR_MS,
    RenewalState,
    renewal_info,
    subscription_status,
)

NOW = 1_796_672_401_000
LATEST = {
    "originalTransactionId": "2000000815627301",
    "productId": "com.example.pro.monthly",
    "expiresDate": NOW + 1000,
    "appTransactionId": "705000000000000101",
    "currency": "EUR",
}


@pytest.mark.parametrize(
    ("latest", "state", "status"),
    [
        (LATEST, RenewalState("p"), ACTIVE),
        ({**LATEST, "expiresDate": NOW - 1}, RenewalState("p"), EXPIRED),
        (
            {**LATEST, "expiresDate": NOW - 1},
            RenewalState("p", in_billing_retry=True),
            BILLING_RETRY,
        ),
        (
            {**LATEST, "expiresDate": NOW - 1},
            RenewalState("p", in_billing_retry=True, grace_period_expires_date=NOW + 5),
            GRACE_PERIOD,
        ),
        (
            {**LATEST, "expiresDate": NOW - 1},
            RenewalState("p", in_billing_retry=True, grace_period_expires_date=NOW - 5),
            BILLING_RETRY,
        ),
        ({**LATEST, "revocationDate": NOW - 1}, RenewalState("p"), REVOKED),
    ],
)
def test_the_status_apple_reports(latest, state, status):
    assert subscription_status(latest, state, NOW) == status


def test_renewal_info_says_only_what_applies():
    plain = renewal_info(
        LATEST,
        RenewalState("com.example.pro.yearly"),
        environment="Sandbox",
        renewal_price=None,
        recent_start=NOW - YEAR_MS,
    )
    assert plain["autoRenewProductId"] == "com.example.pro.yearly"
    assert plain["renewalDate"] == LATEST["expiresDate"]
    assert not {"expirationIntent", "renewalPrice", "currency", "offerType"} & set(plain)

    state = RenewalState("p", expiration_intent=1, renewal_offer=(3, "PROFREEMONTH", "FREE_TRIAL"))
    full = renewal_info(
        {**LATEST, "appAccountToken": "6f1c8e0a-3b9d-4c1e-9a57-1d2e3f405162"},
        state,
        environment="Sandbox",
        renewal_price=4990,
        recent_start=NOW,
    )
    assert (full["renewalPrice"], full["currency"]) == (4990, "EUR")
    assert (full["offerType"], full["offerIdentifier"], full["offerDiscountType"]) == (
        3,
        "PROFREEMONTH",
        "FREE_TRIAL",
    )
    assert full["expirationIntent"] == 1 and full["appAccountToken"]


def test_extensions_count_within_the_year_before():
    state = RenewalState("p", extensions=[(NOW - YEAR_MS - 1, 3), (NOW - 10, 3)])
    assert state.extensions_in_year_before(NOW) == 1
