"""A decoded, verified App Store transaction (Apple's JWSTransactionDecodedPayload).

Apple adds fields and enum values without notice, so nothing unknown is dropped: unknown enum
values become members named `UNKNOWN_<value>` that compare equal to the raw value, and the whole
payload stays available as `raw`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any, Self


class _OpenStrEnum(StrEnum):
    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class _OpenIntEnum(IntEnum):
    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_{value}"
        member._value_ = value
        return member


class ProductType(_OpenStrEnum):
    AUTO_RENEWABLE = "Auto-Renewable Subscription"
    NON_CONSUMABLE = "Non-Consumable"
    CONSUMABLE = "Consumable"
    NON_RENEWING = "Non-Renewing Subscription"


class OwnershipType(_OpenStrEnum):
    PURCHASED = "PURCHASED"
    FAMILY_SHARED = "FAMILY_SHARED"


class Environment(_OpenStrEnum):
    PRODUCTION = "Production"
    SANDBOX = "Sandbox"
    XCODE = "Xcode"
    LOCAL_TESTING = "LocalTesting"


class TransactionReason(_OpenStrEnum):
    PURCHASE = "PURCHASE"
    RENEWAL = "RENEWAL"


class OfferType(_OpenIntEnum):
    INTRODUCTORY = 1
    PROMOTIONAL = 2
    OFFER_CODE = 3
    WIN_BACK = 4


class RevocationReason(_OpenIntEnum):
    OTHER = 0
    APP_ISSUE = 1


class OfferDiscountType(_OpenStrEnum):
    FREE_TRIAL = "FREE_TRIAL"
    PAY_AS_YOU_GO = "PAY_AS_YOU_GO"
    PAY_UP_FRONT = "PAY_UP_FRONT"
    ONE_TIME = "ONE_TIME"


class DecodingError(ValueError):
    """A payload field holds a value of the wrong type."""


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise DecodingError(f"{key} should be text")
    return str(value)


def _integer(payload: dict[str, Any], key: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DecodingError(f"{key} should be a number")
    return int(value)


def _moment(payload: dict[str, Any], key: str) -> datetime | None:
    millis = _integer(payload, key)
    if millis is None:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise DecodingError(f"{key} is not a valid time") from exc


def _flag(payload: dict[str, Any], key: str) -> bool | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise DecodingError(f"{key} should be true or false")
    return value


def _choice[E: (StrEnum, IntEnum)](payload: dict[str, Any], key: str, enum: type[E]) -> E | None:
    value = payload.get(key)
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError as exc:
        raise DecodingError(f"{key} has a value of the wrong type") from exc


@dataclass(frozen=True, slots=True)
class Transaction:
    transaction_id: str | None
    original_transaction_id: str | None
    web_order_line_item_id: str | None
    bundle_id: str | None
    product_id: str | None
    subscription_group_identifier: str | None
    purchase_date: datetime | None
    original_purchase_date: datetime | None
    expires_date: datetime | None
    quantity: int | None
    type: ProductType | None
    app_account_token: str | None
    in_app_ownership_type: OwnershipType | None
    signed_date: datetime | None
    revocation_reason: RevocationReason | None
    revocation_date: datetime | None
    revocation_type: str | None
    is_upgraded: bool | None
    offer_type: OfferType | None
    offer_identifier: str | None
    offer_discount_type: OfferDiscountType | None
    offer_period: str | None
    environment: Environment | None
    transaction_reason: TransactionReason | None
    storefront: str | None
    storefront_id: str | None
    price_milliunits: int | None
    currency: str | None
    app_transaction_id: str | None
    raw: MappingProxyType[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Transaction:
        """Build from a decoded payload; raises DecodingError on a field of the wrong type."""
        if not isinstance(payload, dict):
            raise DecodingError("the payload is not a JSON object")
        return cls(
            transaction_id=_text(payload, "transactionId"),
            original_transaction_id=_text(payload, "originalTransactionId"),
            web_order_line_item_id=_text(payload, "webOrderLineItemId"),
            bundle_id=_text(payload, "bundleId"),
            product_id=_text(payload, "productId"),
            subscription_group_identifier=_text(payload, "subscriptionGroupIdentifier"),
            purchase_date=_moment(payload, "purchaseDate"),
            original_purchase_date=_moment(payload, "originalPurchaseDate"),
            expires_date=_moment(payload, "expiresDate"),
            quantity=_integer(payload, "quantity"),
            type=_choice(payload, "type", ProductType),
            app_account_token=_text(payload, "appAccountToken") or None,
            in_app_ownership_type=_choice(payload, "inAppOwnershipType", OwnershipType),
            signed_date=_moment(payload, "signedDate"),
            revocation_reason=_choice(payload, "revocationReason", RevocationReason),
            revocation_date=_moment(payload, "revocationDate"),
            revocation_type=_text(payload, "revocationType"),
            is_upgraded=_flag(payload, "isUpgraded"),
            offer_type=_choice(payload, "offerType", OfferType),
            offer_identifier=_text(payload, "offerIdentifier"),
            offer_discount_type=_choice(payload, "offerDiscountType", OfferDiscountType),
            offer_period=_text(payload, "offerPeriod"),
            environment=_choice(payload, "environment", Environment),
            transaction_reason=_choice(payload, "transactionReason", TransactionReason),
            storefront=_text(payload, "storefront"),
            storefront_id=_text(payload, "storefrontId"),
            price_milliunits=_integer(payload, "price"),
            currency=_text(payload, "currency"),
            app_transaction_id=_text(payload, "appTransactionId"),
            raw=MappingProxyType(dict(payload)),
        )

    @property
    def price(self) -> Decimal | None:
        """The price in the currency's units (Apple sends milliunits)."""
        if self.price_milliunits is None:
            return None
        return Decimal(self.price_milliunits) / 1000

    @property
    def is_offer_code(self) -> bool:
        return self.offer_type == OfferType.OFFER_CODE

    @property
    def is_family_shared(self) -> bool:
        return self.in_app_ownership_type == OwnershipType.FAMILY_SHARED

    @property
    def is_revoked(self) -> bool:
        return self.revocation_date is not None

    @property
    def is_subscription(self) -> bool:
        return self.type == ProductType.AUTO_RENEWABLE

    @property
    def can_take_account_token(self) -> bool:
        """Apple refuses Set App Account Token on family-shared purchases."""
        return not self.is_family_shared and self.original_transaction_id is not None

    @property
    def unknown_fields(self) -> dict[str, Any]:
        return {key: value for key, value in self.raw.items() if key not in _KNOWN_FIELDS}


_KNOWN_FIELDS = frozenset(
    {
        "transactionId",
        "originalTransactionId",
        "webOrderLineItemId",
        "bundleId",
        "productId",
        "subscriptionGroupIdentifier",
        "purchaseDate",
        "originalPurchaseDate",
        "expiresDate",
        "quantity",
        "type",
        "appAccountToken",
        "inAppOwnershipType",
        "signedDate",
        "revocationReason",
        "revocationDate",
        "revocationType",
        "isUpgraded",
        "offerType",
        "offerIdentifier",
        "offerDiscountType",
        "offerPeriod",
        "environment",
        "transactionReason",
        "storefront",
        "storefrontId",
        "price",
        "currency",
        "appTransactionId",
    }
)
