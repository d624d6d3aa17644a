"""The customer's download of the app (Get App Transaction Info's signed app transaction).

Apple signs it like a transaction (JWSAppTransactionDecodedPayload); the desk shows when, on which
platform and with which version the customer first got the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .transactions import DecodingError, _moment


@dataclass(frozen=True, slots=True)
class AppTransaction:
    app_transaction_id: str | None
    bundle_id: str | None
    app_apple_id: int | None
    receipt_type: str | None  # the environment: Production, Sandbox
    original_purchase_date: datetime | None
    original_application_version: str | None
    original_platform: str | None  # iOS, macOS, tvOS, visionOS
    application_version: str | None
    payload: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AppTransaction:
        app_apple_id = payload.get("appAppleId")
        if app_apple_id is not None and type(app_apple_id) is not int:
            raise DecodingError("appAppleId is not a number")
        return cls(
            app_transaction_id=_text(payload, "appTransactionId"),
            bundle_id=_text(payload, "bundleId"),
            app_apple_id=app_apple_id,
            receipt_type=_text(payload, "receiptType"),
            original_purchase_date=_optional_moment(payload, "originalPurchaseDate"),
            original_application_version=_text(payload, "originalApplicationVersion"),
            original_platform=_text(payload, "originalPlatform"),
            application_version=_text(payload, "applicationVersion"),
            payload=payload,
        )


def _optional_moment(payload: dict[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    return None if value is None else _moment(name, value)


def _text(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DecodingError(f"{name} is not text")
    return value
