"""A decoded, verified signed renewal info (Apple's JWSRenewalInfoDecodedPayload).

It says what happens at the end of a subscription's current period. As with transactions, unknown
fields and enum values survive decoding: the whole payload stays available as `raw`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .transactions import (
    DecodingError,
    Environment,
    OfferDiscountType,
    OfferType,
    _choice,
    _flag,
    _integer,
    _moment,
    _OpenIntEnum,
    _text,
)


class AutoRenewStatus(_OpenIntEnum):
    OFF = 0
    ON = 1


class ExpirationIntent(_OpenIntEnum):
    CUSTOMER_CANCELLED = 1
    BILLING_ERROR = 2
    PRICE_INCREASE_NOT_CONSENTED = 3
    PRODUCT_NOT_AVAILABLE = 4
    OTHER = 5


class PriceIncreaseStatus(_OpenIntEnum):
    NOT_RESPONDED = 0
    CONSENTED = 1


@dataclass(frozen=True)
class RenewalInfo:
    original_transaction_id: str | None
    product_id: str | None
    auto_renew_product_id: str | None
    auto_renew_status: AutoRenewStatus | None
    expiration_intent: ExpirationIntent | None
    is_in_billing_retry_period: bool | None
    grace_period_expires_date: datetime | None
    renewal_date: datetime | None
    renewal_price_milliunits: int | None
    currency: str | None
    offer_type: OfferType | None
    offer_identifier: str | None
    offer_discount_type: OfferDiscountType | None
    price_increase_status: PriceIncreaseStatus | None
    signed_date: datetime | None
    environment: Environment | None
    recent_subscription_start_date: datetime | None
    app_account_token: str | None
    app_transaction_id: str | None
    raw: MappingProxyType[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> RenewalInfo:
        """Build from a decoded payload; raises DecodingError on a field of the wrong type."""
        if not isinstance(payload, dict):
            raise DecodingError("the payload is not a JSON object")
        values: dict[str, Any] = dict.fromkeys(_ATTRIBUTES)
        for key, value in payload.items():
            field_spec = _FIELDS.get(key)
            if field_spec is not None and value is not None:
                values[field_spec[0]] = field_spec[1](key, value)
        values["raw"] = MappingProxyType(dict(payload))
        return cls(**values)

    @property
    def will_renew(self) -> bool:
        return self.auto_renew_status == AutoRenewStatus.ON

    @property
    def renewal_price(self) -> Decimal | None:
        """The next renewal's price in the currency's units (Apple sends milliunits)."""
        if self.renewal_price_milliunits is None:
            return None
        return Decimal(self.renewal_price_milliunits) / 1000

    @property
    def unknown_fields(self) -> dict[str, Any]:
        return {key: value for key, value in self.raw.items() if key not in _FIELDS}


_FIELDS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "originalTransactionId": ("original_transaction_id", _text),
    "productId": ("product_id", _text),
    "autoRenewProductId": ("auto_renew_product_id", _text),
    "autoRenewStatus": ("auto_renew_status", _choice(AutoRenewStatus)),
    "expirationIntent": ("expiration_intent", _choice(ExpirationIntent)),
    "isInBillingRetryPeriod": ("is_in_billing_retry_period", _flag),
    "gracePeriodExpiresDate": ("grace_period_expires_date", _moment),
    "renewalDate": ("renewal_date", _moment),
    "renewalPrice": ("renewal_price_milliunits", _integer),
    "currency": ("currency", _text),
    "offerType": ("offer_type", _choice(OfferType)),
    "offerIdentifier": ("offer_identifier", _text),
    "offerDiscountType": ("offer_discount_type", _choice(OfferDiscountType)),
    "priceIncreaseStatus": ("price_increase_status", _choice(PriceIncreaseStatus)),
    "signedDate": ("signed_date", _moment),
    "environment": ("environment", _choice(Environment)),
    "recentSubscriptionStartDate": ("recent_subscription_start_date", _moment),
    "appAccountToken": ("app_account_token", _text),
    "appTransactionId": ("app_transaction_id", _text),
}
_ATTRIBUTES = tuple(attribute for attribute, _ in _FIELDS.values())
