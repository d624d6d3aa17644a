"""A decoded, verified App Store transaction (Apple's JWSTransactionDecodedPayload).

Apple adds fields and enum values without notice, so nothing unknown is dropped: unknown enum
values become members named `UNKNOWN_<value>` that compare equal to the raw value, and the whole
payload stays available as `raw`.

Every field's type is checked when the payload is decoded, so a malformed payload is refused
there; most fields are converted (a datetime built, an enum member looked up) only when read, as a
verified token is often decoded for one or two of its thirty fields.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _text(key: str, value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, (dict, list)):
        raise DecodingError(f"{key} should be text")
    return str(value)


def _integer(key: str, value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DecodingError(f"{key} should be a number")
    try:
        return int(value)
    except (OverflowError, ValueError):
        raise DecodingError(f"{key} is not a finite number") from None


def _moment(key: str, value: Any) -> datetime:
    millis = _integer(key, value)
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise DecodingError(f"{key} is not a valid time") from exc


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise DecodingError(f"{key} should be true or false")
    return value


def _choice(enum: type[StrEnum] | type[IntEnum]) -> Callable[[str, Any], Any]:
    known = enum._value2member_map_

    def convert(key: str, value: Any) -> Any:
        member = known.get(value) if isinstance(value, (str, int)) else None
        if member is not None:
            return member
        try:
            return enum(value)
        except ValueError as exc:
            raise DecodingError(f"{key} has a value of the wrong type") from exc

    _CHOICE_ENUMS[convert] = enum
    return convert


# Each converter _choice made -> its enum (to know which JSON type it takes as it is).
_CHOICE_ENUMS: dict[Callable[[str, Any], Any], type[StrEnum] | type[IntEnum]] = {}


@dataclass(frozen=True)
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
    def from_payload(cls, payload: dict[str, Any], *, handed_over: bool = False) -> Transaction:
        """Build from a decoded payload; raises DecodingError on a field of the wrong type.

        `handed_over`: the caller keeps no reference to the dict (the verifier's own, just
        decoded), so `raw` wraps it instead of a copy.
        """
        if not isinstance(payload, dict):
            raise DecodingError("the payload is not a JSON object")
        # Filled through __dict__ rather than __init__'s thirty frozen setattr calls: a lookup
        # decodes up to hundreds of these. The instance stays frozen.
        transaction = object.__new__(cls)
        raw = MappingProxyType(payload if handed_over else dict(payload))
        if _takes_as_it_is(payload):
            # Every field's converter takes its value as it is (the check that refuses a
            # malformed payload is done): each is converted when first read, by __getattr__.
            transaction.__dict__["raw"] = raw
            return transaction
        values: dict[str, Any] = dict.fromkeys(_ATTRIBUTES)
        for key, value in payload.items():
            field_spec = _FIELDS.get(key)
            if field_spec is not None and value is not None:
                values[field_spec[0]] = field_spec[1](key, value)
        values["raw"] = raw
        transaction.__dict__.update(values)
        return transaction

    def __getattr__(self, name: str) -> Any:
        # Reached only for an attribute not in the instance's __dict__: a field from_payload
        # left to convert when read. The value was checked then, so converting it can't fail.
        field_spec = _LAZY.get(name)
        if field_spec is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        key, convert = field_spec
        value = self.raw.get(key)
        if value is not None:
            value = convert(key, value)
        self.__dict__[name] = value
        return value

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
        return {key: value for key, value in self.raw.items() if key not in _FIELDS}


# Apple's field name -> (attribute, converter). Absent and null fields stay None.
_FIELDS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "transactionId": ("transaction_id", _text),
    "originalTransactionId": ("original_transaction_id", _text),
    "webOrderLineItemId": ("web_order_line_item_id", _text),
    "bundleId": ("bundle_id", _text),
    "productId": ("product_id", _text),
    "subscriptionGroupIdentifier": ("subscription_group_identifier", _text),
    "purchaseDate": ("purchase_date", _moment),
    "originalPurchaseDate": ("original_purchase_date", _moment),
    "expiresDate": ("expires_date", _moment),
    "quantity": ("quantity", _integer),
    "type": ("type", _choice(ProductType)),
    "appAccountToken": ("app_account_token", _text),
    "inAppOwnershipType": ("in_app_ownership_type", _choice(OwnershipType)),
    "signedDate": ("signed_date", _moment),
    "revocationReason": ("revocation_reason", _choice(RevocationReason)),
    "revocationDate": ("revocation_date", _moment),
    "revocationType": ("revocation_type", _text),
    "isUpgraded": ("is_upgraded", _flag),
    "offerType": ("offer_type", _choice(OfferType)),
    "offerIdentifier": ("offer_identifier", _text),
    "offerDiscountType": ("offer_discount_type", _choice(OfferDiscountType)),
    "offerPeriod": ("offer_period", _text),
    "environment": ("environment", _choice(Environment)),
    "transactionReason": ("transaction_reason", _choice(TransactionReason)),
    "storefront": ("storefront", _text),
    "storefrontId": ("storefront_id", _text),
    "price": ("price_milliunits", _integer),
    "currency": ("currency", _text),
    "appTransactionId": ("app_transaction_id", _text),
}
_ATTRIBUTES = tuple(attribute for attribute, _ in _FIELDS.values())
_LAZY = {attribute: (key, convert) for key, (attribute, convert) in _FIELDS.items()}

# Which JSON types each converter takes without fail, giving the same value whenever it is
# called: text fields take text (str() of a number is not taken here: it can fail on a huge
# integer), numbers and times integers (times also in range, see below), flags booleans, and
# open enums their own kind of value (an unknown one becomes an UNKNOWN_ member). Null is absent.
_NONE = type(None)
_TAKES: dict[Callable[[str, Any], Any], frozenset[type]] = {
    _text: frozenset((_NONE, str)),
    _integer: frozenset((_NONE, int)),
    _moment: frozenset((_NONE, int)),
    _flag: frozenset((_NONE, bool)),
}
_CHECKED_KEYS = tuple(_FIELDS)
_TAKEN_TYPES = tuple(
    _TAKES.get(convert)
    or frozenset((_NONE, int if issubclass(_CHOICE_ENUMS[convert], IntEnum) else str))
    for _, convert in _FIELDS.values()
)
_MOMENT_KEYS = tuple(key for key, (_, convert) in _FIELDS.items() if convert is _moment)
# The milliseconds datetime.fromtimestamp turns into a time (years 1 to 9999, UTC); a test
# checks both ends and one past each against _moment itself.
MIN_MOMENT_MS = -62_135_596_800_000
MAX_MOMENT_MS = 253_402_300_799_999
_MOMENT_SPAN = min(-MIN_MOMENT_MS, MAX_MOMENT_MS)
_NO_MOMENTS = (0,) * len(_MOMENT_KEYS)
# Every (field name, JSON type) its converter takes as it is.
_TAKEN_PAIRS = frozenset(
    (key, taken) for key, types in zip(_CHECKED_KEYS, _TAKEN_TYPES, strict=True) for taken in types
)


def _takes_as_it_is(payload: dict[str, Any]) -> bool:
    """True when every field's converter takes its value without fail (see _TAKES)."""
    # One set lookup per field of (name, JSON type), built-ins all the way: no Python bytecode
    # runs per field. A payload with a field Apple added later (any type goes) or one of a type
    # that is converted at once goes to the check by name. (zip's strict= would cost a third
    # of the check; keys and values of one dict are the same length.)
    if not _TAKEN_PAIRS.issuperset(zip(payload, map(type, payload.values()))):  # noqa: B905
        return _each_known_field_takes_its_value(payload)
    # The times are integers, absent (0 here) or null now. Within +-_MOMENT_SPAN ms of 1970 both
    # ends hold; a time further off, or null (abs refuses None), is checked by name.
    try:
        if max(map(abs, map(payload.get, _MOMENT_KEYS, _NO_MOMENTS))) <= _MOMENT_SPAN:
            return True
    except TypeError:
        pass
    return _each_known_field_takes_its_value(payload)


def _each_known_field_takes_its_value(payload: dict[str, Any]) -> bool:
    types = map(type, map(payload.get, _CHECKED_KEYS))
    if not all(map(frozenset.__contains__, _TAKEN_TYPES, types)):
        return False
    moments = tuple(filter(None, map(payload.get, _MOMENT_KEYS)))
    return not moments or (min(moments) >= MIN_MOMENT_MS and max(moments) <= MAX_MOMENT_MS)
