"""A decoded, verified App Store Server Notification V2 (Apple's ResponseBodyV2DecodedPayload).

Apple POSTs `{"signedPayload": "<JWS>"}` for every event. The payload names the event
(`notificationType`, `subtype`), identifies it (`notificationUUID`, repeated by every retry) and
carries `data`: the app, the environment and, for purchase events, a signed transaction and signed
renewal info of their own, verified and decoded here like any other. Mass renewal extensions send
`summary` instead, kept as Apple wrote it. Apple adds notification types without notice, so an
unknown type or subtype becomes an `UNKNOWN_<value>` member and unknown fields stay in `raw`.

`TransactionVerifier.decode_notification` does the checking; this module only holds the shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from .renewal_info import RenewalInfo
from .transactions import (
    DecodingError,
    Environment,
    Transaction,
    _choice,
    _integer,
    _moment,
    _OpenIntEnum,
    _OpenStrEnum,
    _text,
)


class NotificationType(_OpenStrEnum):
    SUBSCRIBED = "SUBSCRIBED"
    OFFER_REDEEMED = "OFFER_REDEEMED"
    DID_RENEW = "DID_RENEW"
    DID_CHANGE_RENEWAL_STATUS = "DID_CHANGE_RENEWAL_STATUS"
    DID_CHANGE_RENEWAL_PREF = "DID_CHANGE_RENEWAL_PREF"
    DID_FAIL_TO_RENEW = "DID_FAIL_TO_RENEW"
    GRACE_PERIOD_EXPIRED = "GRACE_PERIOD_EXPIRED"
    EXPIRED = "EXPIRED"
    REFUND = "REFUND"
    REFUND_DECLINED = "REFUND_DECLINED"
    REFUND_REVERSED = "REFUND_REVERSED"
    REVOKE = "REVOKE"
    CONSUMPTION_REQUEST = "CONSUMPTION_REQUEST"
    RENEWAL_EXTENDED = "RENEWAL_EXTENDED"
    RENEWAL_EXTENSION = "RENEWAL_EXTENSION"
    PRICE_INCREASE = "PRICE_INCREASE"
    ONE_TIME_CHARGE = "ONE_TIME_CHARGE"
    TEST = "TEST"


class NotificationSubtype(_OpenStrEnum):
    INITIAL_BUY = "INITIAL_BUY"
    RESUBSCRIBE = "RESUBSCRIBE"
    DOWNGRADE = "DOWNGRADE"
    UPGRADE = "UPGRADE"
    AUTO_RENEW_ENABLED = "AUTO_RENEW_ENABLED"
    AUTO_RENEW_DISABLED = "AUTO_RENEW_DISABLED"
    VOLUNTARY = "VOLUNTARY"
    BILLING_RETRY = "BILLING_RETRY"
    PRICE_INCREASE = "PRICE_INCREASE"
    GRACE_PERIOD = "GRACE_PERIOD"
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    BILLING_RECOVERY = "BILLING_RECOVERY"
    PRODUCT_NOT_FOR_SALE = "PRODUCT_NOT_FOR_SALE"
    SUMMARY = "SUMMARY"
    FAILURE = "FAILURE"
    UNREPORTED = "UNREPORTED"


class SubscriptionStatus(_OpenIntEnum):
    ACTIVE = 1
    EXPIRED = 2
    BILLING_RETRY = 3
    BILLING_GRACE_PERIOD = 4
    REVOKED = 5


class ConsumptionRequestReason(_OpenStrEnum):
    UNINTENDED_PURCHASE = "UNINTENDED_PURCHASE"
    FULFILLMENT_ISSUE = "FULFILLMENT_ISSUE"
    UNSATISFIED_WITH_PURCHASE = "UNSATISFIED_WITH_PURCHASE"
    LEGAL = "LEGAL"
    OTHER = "OTHER"


@dataclass(frozen=True)
class NotificationData:
    """The `data` of a notification; transaction and renewal info are already verified."""

    environment: Environment | None
    app_apple_id: int | None
    bundle_id: str | None
    bundle_version: str | None
    status: SubscriptionStatus | None
    consumption_request_reason: ConsumptionRequestReason | None
    transaction: Transaction | None
    renewal_info: RenewalInfo | None
    raw: MappingProxyType[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_payload(
        cls,
        payload: dict[str, Any],
        *,
        transaction: Transaction | None = None,
        renewal_info: RenewalInfo | None = None,
    ) -> NotificationData:
        values = _convert(payload, _DATA_FIELDS)
        return cls(
            **values,
            transaction=transaction,
            renewal_info=renewal_info,
            raw=MappingProxyType(dict(payload)),
        )


@dataclass(frozen=True)
class Notification:
    notification_uuid: str
    notification_type: NotificationType
    subtype: NotificationSubtype | None
    signed_date: datetime | None
    version: str | None
    data: NotificationData | None
    # Mass renewal extensions (RENEWAL_EXTENSION with SUMMARY) carry this instead of `data`.
    summary: MappingProxyType[str, Any] | None
    raw: MappingProxyType[str, Any] = field(repr=False, compare=False)
    # The JSON text `raw` was read from, as signed: storing it needs no encoding again.
    text: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_payload(
        cls, payload: dict[str, Any], *, data: NotificationData | None, text: str = ""
    ) -> Notification:
        """Build from a verified payload; raises DecodingError on a missing or mistyped field."""
        values = _convert(payload, _NOTIFICATION_FIELDS)
        if values["notification_uuid"] is None:
            raise DecodingError("notificationUUID is missing")
        if values["notification_type"] is None:
            raise DecodingError("notificationType is missing")
        summary = payload.get("summary")
        if summary is not None and not isinstance(summary, dict):
            raise DecodingError("summary should be an object")
        return cls(
            **values,
            data=data,
            summary=MappingProxyType(dict(summary)) if summary is not None else None,
            raw=MappingProxyType(dict(payload)),
            text=text,
        )

    @property
    def transaction(self) -> Transaction | None:
        return self.data.transaction if self.data else None

    @property
    def renewal_info(self) -> RenewalInfo | None:
        return self.data.renewal_info if self.data else None

    @property
    def unknown_fields(self) -> dict[str, Any]:
        known = {*_NOTIFICATION_FIELDS, "data", "summary"}
        return {key: value for key, value in self.raw.items() if key not in known}


def _convert(
    payload: dict[str, Any], fields: dict[str, tuple[str, Callable[[str, Any], Any]]]
) -> dict[str, Any]:
    values: dict[str, Any] = {attribute: None for attribute, _ in fields.values()}
    for key, (attribute, convert) in fields.items():
        value = payload.get(key)
        if value is not None:
            values[attribute] = convert(key, value)
    return values


_NOTIFICATION_FIELDS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "notificationUUID": ("notification_uuid", _text),
    "notificationType": ("notification_type", _choice(NotificationType)),
    "subtype": ("subtype", _choice(NotificationSubtype)),
    "signedDate": ("signed_date", _moment),
    "version": ("version", _text),
}
_DATA_FIELDS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "environment": ("environment", _choice(Environment)),
    "appAppleId": ("app_apple_id", _integer),
    "bundleId": ("bundle_id", _text),
    "bundleVersion": ("bundle_version", _text),
    "status": ("status", _choice(SubscriptionStatus)),
    "consumptionRequestReason": (
        "consumption_request_reason",
        _choice(ConsumptionRequestReason),
    ),
}
