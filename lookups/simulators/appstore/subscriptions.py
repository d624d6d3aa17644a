"""Auto-renewable subscriptions as Apple sees them: renewal state, status and signed renewal info.

A subscription is known by its original transaction ID; its latest transaction says until when it
is paid for, and its renewal state says what happens next (auto-renew on or off, billing retry,
grace period, the offer of the next renewal). The status Get All Subscription Statuses reports
follows from the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Get All Subscription Statuses' `status` values.
ACTIVE, EXPIRED, BILLING_RETRY, GRACE_PERIOD, REVOKED = 1, 2, 3, 4, 5
STATUSES = frozenset({ACTIVE, EXPIRED, BILLING_RETRY, GRACE_PERIOD, REVOKED})

# expirationIntent values.
CUSTOMER_CANCELLED, BILLING_ERROR = 1, 2

YEAR_MS = 365 * 86_400_000
MAX_EXTENSIONS_PER_YEAR = 2


@dataclass
class RenewalState:
    """What the App Store will do at the end of the current period."""

    auto_renew_product_id: str
    auto_renew_status: int = 1
    expiration_intent: int | None = None
    in_billing_retry: bool = False
    grace_period_expires_date: int | None = None
    # Next renewal's offer: (offerType, offerIdentifier, offerDiscountType).
    renewal_offer: tuple[int, str, str] | None = None
    price_increase_status: int | None = None
    # (when, days) of each renewal-date extension granted.
    extensions: list[tuple[int, int]] = field(default_factory=list)
    # requestIdentifier -> Apple's answer, so a retried request extends once.
    extension_answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def extensions_in_year_before(self, now_ms: int) -> int:
        return sum(1 for when, _ in self.extensions if when > now_ms - YEAR_MS)


def subscription_status(latest: dict[str, Any], state: RenewalState, now_ms: int) -> int:
    """Apple's status of a subscription from its latest transaction and renewal state."""
    if "revocationDate" in latest:
        return REVOKED
    if now_ms < latest.get("expiresDate", 0):
        return ACTIVE
    if state.in_billing_retry:
        grace = state.grace_period_expires_date
        return GRACE_PERIOD if grace is not None and now_ms < grace else BILLING_RETRY
    return EXPIRED


def renewal_info(
    latest: dict[str, Any],
    state: RenewalState,
    *,
    environment: str,
    renewal_price: int | None,
    recent_start: int,
) -> dict[str, Any]:
    """The JWSRenewalInfoDecodedPayload fields, without signedDate (added when signed)."""
    payload: dict[str, Any] = {
        "originalTransactionId": latest["originalTransactionId"],
        "autoRenewProductId": state.auto_renew_product_id,
        "productId": latest["productId"],
        "autoRenewStatus": state.auto_renew_status,
        "isInBillingRetryPeriod": state.in_billing_retry,
        "environment": environment,
        "recentSubscriptionStartDate": recent_start,
        "renewalDate": latest["expiresDate"],
        "appTransactionId": latest["appTransactionId"],
    }
    if state.expiration_intent is not None:
        payload["expirationIntent"] = state.expiration_intent
    if state.grace_period_expires_date is not None:
        payload["gracePeriodExpiresDate"] = state.grace_period_expires_date
    if state.price_increase_status is not None:
        payload["priceIncreaseStatus"] = state.price_increase_status
    if state.renewal_offer is not None:
        offer_type, identifier, discount_type = state.renewal_offer
        payload["offerType"] = offer_type
        payload["offerIdentifier"] = identifier
        payload["offerDiscountType"] = discount_type
    if renewal_price is not None:
        payload["renewalPrice"] = renewal_price
        payload["currency"] = latest["currency"]
    if latest.get("appAccountToken"):
        payload["appAccountToken"] = latest["appAccountToken"]
    return payload
