"""The consumption information bodies (V2 and the deprecated V1), checked as Apple checks them.

V2's rules go beyond the fields' types: a percentage only with a delivered item and never on an
auto-renewable subscription, and GRANT_PRORATED with a percentage strictly between 0 and 100000
for the other product types.
"""

from __future__ import annotations

import re
from typing import Any

from lookups.simulators.appstore import errors
from lookups.simulators.appstore.catalog import AUTO_RENEWABLE
from lookups.simulators.appstore.errors import ApiError, AppleError

FULL_PERCENTAGE = 100_000  # milli-percent

_DELIVERY_STATUSES = frozenset(
    {
        "DELIVERED",
        "UNDELIVERED_QUALITY_ISSUE",
        "UNDELIVERED_WRONG_ITEM",
        "UNDELIVERED_SERVER_OUTAGE",
        "UNDELIVERED_OTHER",
    }
)
_REFUND_PREFERENCES = frozenset({"DECLINE", "GRANT_FULL", "GRANT_PRORATED"})
_V2_FIELDS = (
    "customerConsented",
    "sampleContentProvided",
    "deliveryStatus",
    "consumptionPercentage",
    "refundPreference",
)
_UUID_OR_EMPTY = re.compile(r"|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_v2(body: object, *, product_type: str) -> dict[str, Any]:
    """A ConsumptionRequest (V2) for a transaction of `product_type`; the answer to record."""
    if not isinstance(body, dict):
        raise ApiError(errors.GENERAL_BAD_REQUEST)
    if body.get("customerConsented") is not True:
        raise ApiError(errors.INVALID_CUSTOMER_CONSENTED)
    if not isinstance(body.get("sampleContentProvided"), bool):
        raise ApiError(errors.INVALID_SAMPLE_CONTENT_PROVIDED)
    delivery = body.get("deliveryStatus")
    if delivery not in _DELIVERY_STATUSES:
        raise ApiError(errors.INVALID_DELIVERY_STATUS)
    preference = body.get("refundPreference")
    if preference is not None and preference not in _REFUND_PREFERENCES:
        raise ApiError(errors.INVALID_REFUND_PREFERENCE)
    percentage = body.get("consumptionPercentage")
    if percentage is not None:
        if not _whole_number(percentage) or not 0 <= percentage <= FULL_PERCENTAGE:
            raise ApiError(errors.CONSUMPTION_PERCENTAGE_OUT_OF_RANGE)
        if product_type == AUTO_RENEWABLE:
            raise ApiError(errors.CONSUMPTION_PERCENTAGE_AUTO_RENEWABLE_SUBSCRIPTION)
        if delivery != "DELIVERED" and percentage != 0:
            raise ApiError(errors.UNDELIVERED_CONSUMPTION_PERCENTAGE_NON_ZERO)
    prorated = preference == "GRANT_PRORATED" and product_type != AUTO_RENEWABLE
    if prorated and (percentage is None or not 0 < percentage < FULL_PERCENTAGE):
        raise ApiError(errors.CONSUMPTION_PERCENTAGE_OUT_OF_RANGE)
    return {key: body[key] for key in _V2_FIELDS if body.get(key) is not None}


# ConsumptionRequestV1: each field, the whole numbers it takes, and Apple's error for it.
_V1_RANGES: tuple[tuple[str, range, AppleError], ...] = (
    ("consumptionStatus", range(4), errors.INVALID_CONSUMPTION_STATUS),
    ("platform", range(3), errors.INVALID_PLATFORM),
    ("deliveryStatus", range(6), errors.INVALID_DELIVERY_STATUS),
    ("accountTenure", range(8), errors.INVALID_ACCOUNT_TENURE),
    ("playTime", range(8), errors.INVALID_PLAY_TIME),
    ("lifetimeDollarsRefunded", range(8), errors.INVALID_LIFETIME_DOLLARS_REFUNDED),
    ("lifetimeDollarsPurchased", range(8), errors.INVALID_LIFETIME_DOLLARS_PURCHASED),
    ("userStatus", range(5), errors.INVALID_USER_STATUS),
)


def check_v1(body: object) -> dict[str, Any]:
    """A ConsumptionRequestV1: every field required, each in its documented range."""
    if not isinstance(body, dict):
        raise ApiError(errors.GENERAL_BAD_REQUEST)
    if body.get("customerConsented") is not True:
        raise ApiError(errors.INVALID_CUSTOMER_CONSENTED)
    for name, allowed, error in _V1_RANGES:
        value = body.get(name)
        if not _whole_number(value) or value not in allowed:
            raise ApiError(error)
    if not isinstance(body.get("sampleContentProvided"), bool):
        raise ApiError(errors.INVALID_SAMPLE_CONTENT_PROVIDED)
    token = body.get("appAccountToken")
    if not isinstance(token, str) or not _UUID_OR_EMPTY.fullmatch(token):
        raise ApiError(errors.INVALID_APP_ACCOUNT_TOKEN)
    preference = body.get("refundPreference")
    if preference is not None and (not _whole_number(preference) or preference not in range(4)):
        raise ApiError(errors.INVALID_REFUND_PREFERENCE)
    return dict(body)
