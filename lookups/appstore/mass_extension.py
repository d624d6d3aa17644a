"""Outage compensation at Apple: Extend Subscription Renewal Dates for All Active Subscribers.

`MassExtensionRequest` is the request body, checked against Apple's rules when built; Apple
answers at once and works for hours, and `MassExtensionStatus` is Get Status of Subscription
Renewal Date Extensions' answer (complete or not, how many succeeded and failed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import (
    InvalidEmptyStorefrontCountryCodeListError,
    InvalidExtendByDaysError,
    InvalidExtendReasonCodeError,
    InvalidProductIdError,
    InvalidRequestIdentifierError,
    InvalidStorefrontCountryCodeError,
)

EXTEND_REASON_CODES = (0, 1, 2, 3)  # undeclared, customer satisfaction, other, service outage
_COUNTRY_CODE = re.compile(r"[A-Z]{3}")  # ISO 3166-1 alpha-3


@dataclass(frozen=True, slots=True)
class MassExtensionRequest:
    product_id: str
    extend_by_days: int
    extend_reason_code: int
    request_identifier: str
    # None: every storefront.
    storefront_country_codes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        days = self.extend_by_days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
            raise InvalidExtendByDaysError()
        reason = self.extend_reason_code
        if isinstance(reason, bool) or reason not in EXTEND_REASON_CODES:
            raise InvalidExtendReasonCodeError()
        identifier = self.request_identifier
        if not isinstance(identifier, str) or not 1 <= len(identifier) <= 128:
            raise InvalidRequestIdentifierError()
        if not isinstance(self.product_id, str) or not self.product_id.strip():
            raise InvalidProductIdError()
        codes = self.storefront_country_codes
        if codes is not None:
            if not codes:
                raise InvalidEmptyStorefrontCountryCodeListError()
            if not all(isinstance(c, str) and _COUNTRY_CODE.fullmatch(c) for c in codes):
                raise InvalidStorefrontCountryCodeError()

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "extendByDays": self.extend_by_days,
            "extendReasonCode": self.extend_reason_code,
            "requestIdentifier": self.request_identifier,
            "productId": self.product_id,
        }
        if self.storefront_country_codes is not None:
            body["storefrontCountryCodes"] = list(self.storefront_country_codes)
        return body


@dataclass(frozen=True, slots=True)
class MassExtensionStatus:
    request_identifier: str | None
    complete: bool
    complete_date: datetime | None
    succeeded_count: int | None
    failed_count: int | None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> MassExtensionStatus:
        completed = body.get("completeDate")
        return cls(
            request_identifier=(
                body["requestIdentifier"]
                if isinstance(body.get("requestIdentifier"), str)
                else None
            ),
            complete=body.get("complete") is True,
            complete_date=(
                datetime.fromtimestamp(completed / 1000, tz=UTC) if type(completed) is int else None
            ),
            succeeded_count=_count(body.get("succeededCount")),
            failed_count=_count(body.get("failedCount")),
        )


def _count(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None
