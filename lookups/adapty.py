"""Adapty's server-side "Set transaction", and the body it takes built from an Apple transaction.

No Django here, like `appstore/`: plain values in, frozen dataclasses or `AdaptyError` out.

Adapty has no idempotency key, but re-sending a transaction with the same `store_transaction_id`
updates Adapty's record instead of adding one. So every failure that may be passing (a timeout,
a dropped connection, a 5xx) is retried a bounded number of times with backoff, even when the
request may already have reached Adapty; a 4xx never is, because the same request would get the
same answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import requests

from .appstore.transactions import (
    Environment,
    OfferDiscountType,
    OfferType,
    Transaction,
)

PRODUCTION_URL = "https://api.adapty.io"
SET_TRANSACTION_PATH = "/api/v2/server-side-api/purchase/set/transaction/"
MAX_TRANSACTION_ID_LENGTH = 50


# --- The request body ----------------------------------------------------------------------


class TransactionBodyError(ValueError):
    """The Apple transaction can't be described to Adapty; the message says why, for the agent."""


_OFFER_CATEGORIES = {
    OfferType.INTRODUCTORY: "introductory",
    OfferType.PROMOTIONAL: "promotional",
    OfferType.OFFER_CODE: "offer_code",
    OfferType.WIN_BACK: "win_back",
}
_OFFER_TYPES = {
    OfferDiscountType.FREE_TRIAL: "free_trial",
    OfferDiscountType.PAY_AS_YOU_GO: "pay_as_you_go",
    OfferDiscountType.PAY_UP_FRONT: "pay_up_front",
}

# Apple names a storefront's country in ISO 3166-1 alpha-3 ("USA"); Adapty's price country is a
# two-letter code ("US" in Adapty's own example). Every country with an App Store storefront.
STOREFRONT_COUNTRIES = MappingProxyType(
    {
        "AFG": "AF", "AGO": "AO", "AIA": "AI", "ALB": "AL", "ARE": "AE", "ARG": "AR", "ARM": "AM",
        "ATG": "AG", "AUS": "AU", "AUT": "AT", "AZE": "AZ", "BEL": "BE", "BEN": "BJ", "BFA": "BF",
        "BGR": "BG", "BHR": "BH", "BHS": "BS", "BIH": "BA", "BLR": "BY", "BLZ": "BZ", "BMU": "BM",
        "BOL": "BO", "BRA": "BR", "BRB": "BB", "BRN": "BN", "BTN": "BT", "BWA": "BW", "CAN": "CA",
        "CHE": "CH", "CHL": "CL", "CHN": "CN", "CIV": "CI", "CMR": "CM", "COD": "CD", "COG": "CG",
        "COL": "CO", "CPV": "CV", "CRI": "CR", "CYM": "KY", "CYP": "CY", "CZE": "CZ", "DEU": "DE",
        "DMA": "DM", "DNK": "DK", "DOM": "DO", "DZA": "DZ", "ECU": "EC", "EGY": "EG", "ESP": "ES",
        "EST": "EE", "FIN": "FI", "FJI": "FJ", "FRA": "FR", "FSM": "FM", "GAB": "GA", "GBR": "GB",
        "GEO": "GE", "GHA": "GH", "GMB": "GM", "GNB": "GW", "GRC": "GR", "GRD": "GD", "GTM": "GT",
        "GUY": "GY", "HKG": "HK", "HND": "HN", "HRV": "HR", "HUN": "HU", "IDN": "ID", "IND": "IN",
        "IRL": "IE", "IRQ": "IQ", "ISL": "IS", "ISR": "IL", "ITA": "IT", "JAM": "JM", "JOR": "JO",
        "JPN": "JP", "KAZ": "KZ", "KEN": "KE", "KGZ": "KG", "KHM": "KH", "KNA": "KN", "KOR": "KR",
        "KWT": "KW", "LAO": "LA", "LBN": "LB", "LBR": "LR", "LBY": "LY", "LCA": "LC", "LKA": "LK",
        "LTU": "LT", "LUX": "LU", "LVA": "LV", "MAC": "MO", "MAR": "MA", "MDA": "MD", "MDG": "MG",
        "MDV": "MV", "MEX": "MX", "MKD": "MK", "MLI": "ML", "MLT": "MT", "MMR": "MM", "MNE": "ME",
        "MNG": "MN", "MOZ": "MZ", "MRT": "MR", "MSR": "MS", "MUS": "MU", "MWI": "MW", "MYS": "MY",
        "NAM": "NA", "NER": "NE", "NGA": "NG", "NIC": "NI", "NLD": "NL", "NOR": "NO", "NPL": "NP",
        "NRU": "NR", "NZL": "NZ", "OMN": "OM", "PAK": "PK", "PAN": "PA", "PER": "PE", "PHL": "PH",
        "PLW": "PW", "PNG": "PG", "POL": "PL", "PRT": "PT", "PRY": "PY", "QAT": "QA", "ROU": "RO",
        "RUS": "RU", "RWA": "RW", "SAU": "SA", "SEN": "SN", "SGP": "SG", "SLB": "SB", "SLE": "SL",
        "SLV": "SV", "SRB": "RS", "STP": "ST", "SUR": "SR", "SVK": "SK", "SVN": "SI", "SWE": "SE",
        "SWZ": "SZ", "SYC": "SC", "TCA": "TC", "TCD": "TD", "THA": "TH", "TJK": "TJ", "TKM": "TM",
        "TON": "TO", "TTO": "TT", "TUN": "TN", "TUR": "TR", "TWN": "TW", "TZA": "TZ", "UGA": "UG",
        "UKR": "UA", "URY": "UY", "USA": "US", "UZB": "UZ", "VCT": "VC", "VEN": "VE", "VGB": "VG",
        "VNM": "VN", "VUT": "VU", "WSM": "WS", "XKS": "XK", "YEM": "YE", "ZAF": "ZA", "ZMB": "ZM",
        "ZWE": "ZW",
    }
)  # fmt: skip


def transaction_body(txn: Transaction, *, now: datetime | None = None) -> dict[str, Any]:
    """The "Set transaction" body for one verified Apple transaction.

    `now` decides whether a subscription still renews (see `_renews`); it defaults to the
    current time. Raises TransactionBodyError when Apple's transaction lacks what Adapty needs.
    """
    now = now or datetime.now(UTC)
    is_subscription = txn.is_subscription
    original_id = _required(txn.original_transaction_id, "original transaction ID")
    if is_subscription:
        transaction_id = _required(txn.transaction_id, "transaction ID")
    else:
        # Adapty requires a one-time purchase's transaction ID to equal its original. Both carry
        # Apple's original transaction ID: the purchase's lasting identity (the one linked at
        # Apple), so a re-send updates Adapty's record of it rather than adding a second one.
        transaction_id = original_id
    if len(transaction_id) > MAX_TRANSACTION_ID_LENGTH:
        raise TransactionBodyError(
            f"The transaction ID {transaction_id} is longer than the "
            f"{MAX_TRANSACTION_ID_LENGTH} characters Adapty accepts."
        )

    body: dict[str, Any] = {
        "purchase_type": "subscription" if is_subscription else "one_time_purchase",
        "store": "app_store",
    }
    # Adapty knows Production and Sandbox only; Xcode and local StoreKit testing never reach
    # the App Store Server API, and if one did we leave the optional field out.
    if txn.environment in (Environment.PRODUCTION, Environment.SANDBOX):
        body["environment"] = str(txn.environment)
    body |= {
        "store_product_id": _required(txn.product_id, "product ID"),
        "store_transaction_id": transaction_id,
        "store_original_transaction_id": original_id,
        "is_family_shared": txn.is_family_shared,
        "price": _price(txn),
        "purchased_at": _moment(_required(txn.purchase_date, "purchase date")),
    }
    if offer := _offer(txn):
        body["offer"] = offer
    if txn.revocation_date is not None:
        body["refunded_at"] = _moment(txn.revocation_date)
        # Adapty has one reason for money given back; Apple's revocationReason (app issue or
        # other) only says why the customer asked.
        body["cancellation_reason"] = "refund"
    elif txn.is_upgraded:
        body["cancellation_reason"] = "upgraded"
    if is_subscription:
        body["originally_purchased_at"] = _moment(txn.original_purchase_date or txn.purchase_date)
        body["expires_at"] = _moment(_required(txn.expires_date, "expiry date"))
        body["renew_status"] = _renews(txn, now)
    return body


def _renews(txn: Transaction, now: datetime) -> bool:
    """Whether to tell Adapty the subscription will renew.

    A transaction does not carry the renewal status (that is in Apple's subscription status,
    which we don't fetch). We say it renews while the period this transaction paid for is still
    running and nothing has ended it: not refunded, not upgraded away. A period that has ended
    without a later transaction means the customer did not renew.
    """
    if txn.is_revoked or txn.is_upgraded:
        return False
    return txn.expires_date is not None and txn.expires_date > now


def _price(txn: Transaction) -> dict[str, Any]:
    storefront = _required(txn.storefront, "storefront")
    country = STOREFRONT_COUNTRIES.get(storefront.upper())
    if country is None:
        raise TransactionBodyError(
            f"The storefront {storefront} is not in Supportdesk's list of App Store countries."
        )
    price = txn.price
    if price is None:
        raise TransactionBodyError("Apple's transaction carries no price.")
    return {
        "country": country,
        "currency": _required(txn.currency, "currency"),
        "value": price,
    }


def _offer(txn: Transaction) -> dict[str, str] | None:
    category = _OFFER_CATEGORIES.get(txn.offer_type)
    kind = _OFFER_TYPES.get(txn.offer_discount_type)
    # Adapty's offer needs both. Apple's ONE_TIME discount (offers on one-time purchases) and
    # values Apple adds later have no Adapty type: the offer is left out rather than misnamed.
    if category is None or kind is None:
        return None
    offer = {"category": category, "type": kind}
    if txn.offer_identifier:
        offer["id"] = txn.offer_identifier
    return offer


def _required[T](value: T | None, what: str) -> T:
    if value is None or value == "":
        raise TransactionBodyError(f"Apple's transaction carries no {what}.")
    return value


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- The client ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdaptyResult:
    """Adapty's answer to "Set transaction": the customer's profile as it now stands."""

    profile: Mapping[str, Any]
    request_id: str
    http_status: int
    attempts: int

    @property
    def access_level_ids(self) -> tuple[str, ...]:
        levels = self.profile.get("access_levels") or []
        return tuple(
            str(level["access_level_id"])
            for level in levels
            if isinstance(level, dict) and level.get("access_level_id")
        )


class AdaptyError(Exception):
    """A call to Adapty failed. `agent_message` is the sentence to show a support agent.

    `http_status` is None when no answer came (timeout, connection). `error_code` and
    `messages` are Adapty's own, when it sent them.
    """

    def __init__(
        self,
        agent_message: str,
        *,
        http_status: int | None = None,
        error_code: str = "",
        messages: tuple[str, ...] = (),
        request_id: str = "",
        retryable: bool = False,
        attempts: int = 1,
    ) -> None:
        self.agent_message = agent_message
        self.http_status = http_status
        self.error_code = error_code
        self.messages = messages
        self.request_id = request_id
        self.retryable = retryable
        self.attempts = attempts
        super().__init__(self.describe())

    def describe(self) -> str:
        """The agent's sentence, then Adapty's own words, as shown on the page and recorded."""
        details = "; ".join(self.messages)
        if self.error_code:
            details = f"{self.error_code}: {details}" if details else self.error_code
        return f"{self.agent_message} (Adapty: {details})" if details else self.agent_message


class AdaptyClient:
    def __init__(
        self,
        secret_key: str,
        base_url: str = PRODUCTION_URL,
        timeout: float = 5.0,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        *,
        connect_timeout: float = 3.05,
        backoff_seconds: float = 0.25,
        backoff_cap_seconds: float = 2.0,
        session: requests.Session | None = None,
    ) -> None:
        if not secret_key:
            raise ValueError("an Adapty secret key is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.secret_key = secret_key
        self.url = (base_url or PRODUCTION_URL).rstrip("/") + SET_TRANSACTION_PATH
        self.timeout = (connect_timeout, timeout)
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_cap_seconds = backoff_cap_seconds
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = "Supportdesk/1.0"
        self._sleep = sleep

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> AdaptyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def set_transaction(self, customer_user_id: str, body: Mapping[str, Any]) -> AdaptyResult:
        """Set transaction: `POST /api/v2/server-side-api/purchase/set/transaction/`.

        Records the transaction for the profile with this customer user ID and grants the
        access level its product unlocks. Returns the profile Adapty answers with.
        """
        if not customer_user_id:
            raise ValueError("a customer user ID is required")
        headers = {
            "Authorization": f"Api-Key {self.secret_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "adapty-customer-user-id": customer_user_id,
        }
        payload = json.dumps(body, default=_json_number, separators=(",", ":")).encode()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(headers, payload, customer_user_id, attempt)
            except AdaptyError as error:
                if not error.retryable or attempt >= self.max_attempts:
                    raise
            self._sleep(min(self.backoff_cap_seconds, self.backoff_seconds * 2 ** (attempt - 1)))

    def _attempt(
        self, headers: dict[str, str], payload: bytes, customer_user_id: str, attempt: int
    ) -> AdaptyResult:
        try:
            response = self.session.post(
                self.url, data=payload, headers=headers, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise AdaptyError(
                f"Adapty did not answer in time ({_tries(attempt)}). Try again in a minute.",
                retryable=True,
                attempts=attempt,
            ) from exc
        except requests.RequestException as exc:
            raise AdaptyError(
                f"Supportdesk could not reach Adapty ({_tries(attempt)}). Try again in a minute.",
                retryable=True,
                attempts=attempt,
            ) from exc

        request_id = response.headers.get("Request-Id", "")
        status = response.status_code
        try:
            answer = response.json()
        except ValueError:
            answer = None

        if 200 <= status < 300:
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, dict):
                # It may well have been recorded; the agent's retry re-sends the same record.
                raise AdaptyError(
                    "Adapty accepted the request but its answer could not be read. "
                    "Send it again to be sure.",
                    http_status=status,
                    request_id=request_id,
                    attempts=attempt,
                )
            return AdaptyResult(
                profile=MappingProxyType(data),
                request_id=request_id,
                http_status=status,
                attempts=attempt,
            )
        raise _error_for(status, answer, request_id, customer_user_id, attempt)


def _error_for(
    status: int, answer: Any, request_id: str, customer_user_id: str, attempt: int
) -> AdaptyError:
    error_code, messages = _read_error(answer)
    retryable = status >= 500
    if status >= 500:
        message = (
            f"Adapty had a problem of its own (HTTP {status}, {_tries(attempt)}). "
            "Try again in a few minutes."
        )
    elif status == 401 or error_code == "not_authenticated":
        message = (
            "Adapty refused Supportdesk's API key. Ask an administrator to check ADAPTY_SECRET_KEY."
        )
    elif error_code == "profile_does_not_exist" or status == 404:
        message = (
            f"Adapty has no profile for customer user ID {customer_user_id}. The customer "
            "must sign in to the app once, or the account's Adapty customer user ID is wrong."
        )
    elif status == 429:
        message = "Adapty is receiving too many requests from us. Try again in a minute."
    else:
        message = f"Adapty refused the purchase (HTTP {status})."
    return AdaptyError(
        message,
        http_status=status,
        error_code=error_code,
        messages=messages,
        request_id=request_id,
        retryable=retryable,
        attempts=attempt,
    )


def _read_error(answer: Any) -> tuple[str, tuple[str, ...]]:
    """Adapty's error code and messages, from either shape of `errors` Adapty sends.

    `{"errors": [{"source": "price", "errors": ["..."]}], "error_code": ..., "status_code": ...}`
    or, in some answers, `{"errors": ["..."], ...}`.
    """
    if not isinstance(answer, dict):
        return "", ()
    error_code = answer.get("error_code")
    messages: list[str] = []
    errors = answer.get("errors")
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, str):
            messages.append(item)
        elif isinstance(item, dict):
            source = item.get("source")
            texts = item.get("errors")
            texts = texts if isinstance(texts, list) else [texts] if texts else []
            for text in texts:
                messages.append(f"{source}: {text}" if source else str(text))
    if not messages and isinstance(answer.get("detail"), str):
        messages.append(answer["detail"])
    return (str(error_code) if error_code else ""), tuple(messages)


def _tries(attempt: int) -> str:
    return "1 attempt" if attempt == 1 else f"{attempt} attempts"


def _json_number(value: object) -> float:
    # Prices are Decimals of at most three places; as floats they print as the same short
    # decimal, which is the JSON number Adapty expects.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
