"""A local Adapty server-side API over real HTTP: "Set transaction", answered the way Adapty does.

It checks the secret key and the profile headers, validates the body for each purchase type
(required fields, enums, the 50-character transaction ID), keeps each customer's transactions,
and answers with Adapty's profile shape built from them, with a `Request-Id` header on every
answer. As at Adapty, each app has its own secret key and its own profiles: a key sees only the
profiles of its app. Faults can be injected from Python or over HTTP at /simulator/faults, and
`requests` logs what arrived, so tests can count a client's attempts. No Django: the demo, the
tests and anyone else can run it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from lookups.simulators.http_server import BackgroundServer, TrackedHandler, json_or_none

logger = logging.getLogger(__name__)

SET_TRANSACTION_PATH = "/api/v2/server-side-api/purchase/set/transaction/"
# The key `make run` uses when no ADAPTY_SECRET_KEY is set; it opens nothing but this simulator.
DEMO_SECRET_KEY = "secret_local_demo.supportdesk-adapty-simulator"
DEMO_APP_ID = "6f1c8a52-3b9e-4d7a-9c41-5e2f0b7d8a13"
ACCESS_LEVEL = "premium"

# Fault kinds.
SERVER_ERROR = "server_error"  # a 5xx (500 unless http_status says) with Adapty's error body
NOT_JSON = "not_json"  # a proxy's 502 HTML page
SLOW = "slow"  # the request is recorded at once, the answer comes after delay_seconds
DROP = "drop"  # the connection is closed without an answer
ERROR = "error"  # any status, error_code and messages; `plain` for the strings-only shape
FAULT_KINDS = (SERVER_ERROR, NOT_JSON, SLOW, DROP, ERROR)
DEFAULT_SLOW_SECONDS = 10.0

_MAX_TRANSACTION_ID = 50
_PURCHASE_TYPES = ("subscription", "one_time_purchase")
_ENVIRONMENTS = ("Production", "Sandbox")
_OFFER_CATEGORIES = ("introductory", "promotional", "offer_code", "win_back")
_OFFER_TYPES = ("free_trial", "pay_as_you_go", "pay_up_front")
_CANCELLATION_REASONS = (
    "billing_error",
    "cancelled_by_developer",
    "new_subscription_replace",
    "price_increase",
    "product_was_not_available",
    "refund",
    "unknown",
    "upgraded",
    "voluntarily_cancelled",
    "adapty_revoked",
)
# Rough rates for the profile's total_revenue_usd; other currencies count as nothing.
_USD_RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66, "JPY": 0.0067}
_PROXY_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


@dataclass
class AdaptyFault:
    kind: str
    times: int = 1
    http_status: int | None = None
    error_code: str | None = None
    messages: list[str] | None = None
    plain: bool = False
    delay_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}.")
        if self.times < 1:
            raise ValueError("times must be at least 1.")


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived: headers by lower-case name, the body parsed if it was JSON."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def customer_user_id(self) -> str | None:
        return self.headers.get("adapty-customer-user-id")

    @property
    def secret_key(self) -> str | None:
        """The key the request was sent with (which app it was for)."""
        scheme, _, key = self.headers.get("authorization", "").partition(" ")
        return key if scheme == "Api-Key" and key else None


@dataclass
class _Profile:
    customer_user_id: str
    profile_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # By store_transaction_id: a re-sent transaction replaces its earlier version.
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Rejected(Exception):
    def __init__(self, status: int, error_code: str, errors: list[Any]) -> None:
        self.status = status
        self.error_code = error_code
        self.errors = errors
        super().__init__(error_code)

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors, "error_code": self.error_code, "status_code": self.status}


class AdaptySimulator(BackgroundServer):
    """Adapty's "Set transaction" on 127.0.0.1, in a background thread.

    `known_customers`: the customer user IDs that have a profile; None (the default) creates a
    profile for any customer on first sight, as when every customer has opened the app once.
    Products in `consumable_products` grant no access level; every other product grants
    "premium" while it lasts. `secret_key` is the first app's key, `other_app_keys` those of
    the other apps it starts with; `add_app` adds another app, with its own key and profiles.
    """

    name = "Adapty simulator"

    def __init__(
        self,
        *,
        secret_key: str = DEMO_SECRET_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        known_customers: Iterable[str] | None = None,
        consumable_products: Iterable[str] = (),
        app_id: str = DEMO_APP_ID,
        other_app_keys: Iterable[str] = (),
    ) -> None:
        super().__init__(handler_class=_Handler, host=host, port=port)
        self.secret_key = secret_key
        self.app_id = app_id
        self._other_app_keys = tuple(other_app_keys)
        self.consumable_products = frozenset(consumable_products)
        self._initial_customers = None if known_customers is None else frozenset(known_customers)
        self.known_customers: set[str] | None = None
        self._lock = threading.RLock()
        # Adapty's app ID by secret key: the first app's, and those added.
        self._apps: dict[str, str] = {}
        # Each app's profiles by customer user ID, under the app's key.
        self._profiles: dict[str, dict[str, _Profile]] = {}
        self._faults: list[AdaptyFault] = []
        self._requests: list[ReceivedRequest] = []
        self.reset()

    # --- state for tests and demos ---------------------------------------------------------------

    def reset(self) -> None:
        """No profiles, no faults, an empty request log; apps and known customers as first
        configured."""
        with self._lock:
            self._apps = {self.secret_key: self.app_id}
            for key in self._other_app_keys:
                # The same app ID for the same key, across resets and runs.
                self._apps[key] = str(uuid.uuid5(uuid.NAMESPACE_OID, key))
            self._profiles.clear()
            self._faults.clear()
            self._requests.clear()
            self.known_customers = (
                None if self._initial_customers is None else set(self._initial_customers)
            )

    def add_app(self, secret_key: str, app_id: str | None = None) -> str:
        """Another app at Adapty, answering to its own key with its own profiles; its app ID."""
        if not secret_key:
            raise ValueError("an app's secret key is required")
        with self._lock:
            return self._apps.setdefault(secret_key, app_id or str(uuid.uuid4()))

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def inject_fault(self, kind: str, **options: Any) -> AdaptyFault:
        """Make the next `times` requests fail (or, for "slow", answer late)."""
        fault = AdaptyFault(kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[AdaptyFault]:
        with self._lock:
            return list(self._faults)

    def profile(
        self, customer_user_id: str, secret_key: str | None = None
    ) -> dict[str, Any] | None:
        """The profile in the app of `secret_key` (the first app's by default) as "Set
        transaction" would answer with it now, or None if there is none."""
        key = secret_key or self.secret_key
        with self._lock:
            stored = self._profiles.get(key, {}).get(customer_user_id)
            return None if stored is None else self._profile_data(key, stored)

    # --- the endpoint --------------------------------------------------------------------------

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _take_fault(self) -> AdaptyFault | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.times -= 1
            if fault.times <= 0:
                self._faults.pop(0)
            return fault

    def _set_transaction(self, headers: dict[str, str], body: Any) -> dict[str, Any]:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        with self._lock:
            known_key = scheme == "Api-Key" and key in self._apps
        if not known_key:
            raise _Rejected(
                401,
                "not_authenticated",
                [{"source": "authorization", "errors": ["Invalid or missing API key."]}],
            )
        customer_user_id = headers.get("adapty-customer-user-id")
        profile_id = headers.get("adapty-profile-id")
        if not customer_user_id and not profile_id:
            raise _Rejected(
                400,
                "profile_does_not_exist",
                ["Either adapty-customer-user-id or adapty-profile-id header is required."],
            )
        transaction = _validated(body)
        with self._lock:
            profile = self._find_profile(key, customer_user_id, profile_id)
            profile.transactions[transaction["store_transaction_id"]] = transaction
            return self._profile_data(key, profile)

    def _find_profile(
        self, secret_key: str, customer_user_id: str | None, profile_id: str | None
    ) -> _Profile:
        profiles = self._profiles.setdefault(secret_key, {})
        if customer_user_id:
            profile = profiles.get(customer_user_id)
            if profile is None and (
                self.known_customers is None or customer_user_id in self.known_customers
            ):
                profile = profiles[customer_user_id] = _Profile(customer_user_id)
        else:
            found = [p for p in profiles.values() if p.profile_id == profile_id]
            profile = found[0] if found else None
        if profile is None:
            raise _Rejected(404, "profile_does_not_exist", ["Profile not found."])
        return profile

    # --- the profile it answers with ----------------------------------------------------------

    def _profile_data(self, secret_key: str, profile: _Profile) -> dict[str, Any]:
        now = datetime.now(UTC)
        transactions = sorted(profile.transactions.values(), key=lambda t: t["purchased_at"])
        latest: dict[str, dict[str, Any]] = {}
        for txn in transactions:
            if txn["purchase_type"] == "subscription":
                latest[txn["store_original_transaction_id"]] = txn
        subscriptions = [_subscription(txn) for txn in latest.values()]
        one_time = [txn for txn in transactions if txn["purchase_type"] == "one_time_purchase"]
        non_subscriptions = [self._non_subscription(txn) for txn in one_time]
        access_levels = self._access_levels([*latest.values(), *one_time], now)
        revenue = sum(
            float(txn["price"]["value"]) * _USD_RATES.get(txn["price"]["currency"], 0.0)
            for txn in transactions
            if "refunded_at" not in txn
        )
        segment = hashlib.sha256(
            json.dumps([profile.profile_id, access_levels], sort_keys=True).encode()
        ).hexdigest()
        return {
            "app_id": self._apps.get(secret_key, self.app_id),
            "profile_id": profile.profile_id,
            "customer_user_id": profile.customer_user_id,
            "total_revenue_usd": round(revenue, 2),
            "segment_hash": segment[:16],
            "timestamp": int(time.time() * 1000),
            "custom_attributes": [],
            "access_levels": access_levels,
            "subscriptions": subscriptions,
            "non_subscriptions": non_subscriptions,
        }

    def _non_subscription(self, txn: dict[str, Any]) -> dict[str, Any]:
        return {
            "purchase_id": str(uuid.uuid5(uuid.NAMESPACE_OID, txn["store_transaction_id"])),
            "store": txn["store"],
            "store_product_id": txn["store_product_id"],
            "store_base_plan_id": None,
            "store_transaction_id": txn["store_transaction_id"],
            "store_original_transaction_id": txn["store_original_transaction_id"],
            "purchased_at": txn["purchased_at"],
            "environment": txn.get("environment", "Production"),
            "is_refund": "refunded_at" in txn,
            "is_consumable": txn["store_product_id"] in self.consumable_products,
        }

    def _access_levels(self, sources: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        """Premium from what lasts longest: a lifetime purchase, else the latest expiry."""
        active = []
        for txn in sources:
            if "refunded_at" in txn or txn["store_product_id"] in self.consumable_products:
                continue
            expires = txn.get("expires_at")
            if expires is not None and _parse_moment(expires) <= now:
                continue
            active.append(txn)
        if not active:
            return []
        best = max(
            active,
            key=lambda t: (
                "expires_at" not in t,
                _parse_moment(t["expires_at"]) if "expires_at" in t else now,
            ),
        )
        renews = best.get("renew_status", True)
        return [
            {
                "access_level_id": ACCESS_LEVEL,
                "store": best["store"],
                "store_product_id": best["store_product_id"],
                "store_base_plan_id": None,
                "store_transaction_id": best["store_transaction_id"],
                "store_original_transaction_id": best["store_original_transaction_id"],
                "offer": best.get("offer"),
                "starts_at": best["purchased_at"],
                "purchased_at": best["purchased_at"],
                "originally_purchased_at": best.get(
                    "originally_purchased_at", best["purchased_at"]
                ),
                "expires_at": best.get("expires_at"),
                "renewal_cancelled_at": None if renews else best["purchased_at"],
                "billing_issue_detected_at": best.get("billing_issue_detected_at"),
                "is_in_grace_period": False,
                "cancellation_reason": best.get("cancellation_reason"),
            }
        ]


def _subscription(txn: dict[str, Any]) -> dict[str, Any]:
    return {
        "store": txn["store"],
        "store_product_id": txn["store_product_id"],
        "store_base_plan_id": None,
        "store_transaction_id": txn["store_transaction_id"],
        "store_original_transaction_id": txn["store_original_transaction_id"],
        "offer": txn.get("offer"),
        "environment": txn.get("environment", "Production"),
        "purchased_at": txn["purchased_at"],
        "originally_purchased_at": txn["originally_purchased_at"],
        "expires_at": txn["expires_at"],
        "renewal_cancelled_at": None if txn["renew_status"] else txn["purchased_at"],
        "billing_issue_detected_at": txn.get("billing_issue_detected_at"),
        "is_in_grace_period": False,
        "cancellation_reason": txn.get("cancellation_reason"),
    }


# --- validation ------------------------------------------------------------------------------


def _validated(body: Any) -> dict[str, Any]:
    """The body if Adapty would accept it; otherwise _Rejected with Adapty's 400."""
    if not isinstance(body, dict):
        raise _Rejected(
            400, "validation_error", [{"source": "non_field_errors", "errors": ["Invalid JSON."]}]
        )
    problems: dict[str, list[str]] = {}

    def problem(source: str, message: str) -> None:
        problems.setdefault(source, []).append(message)

    purchase_type = body.get("purchase_type")
    if purchase_type not in _PURCHASE_TYPES:
        problem("purchase_type", f"Must be one of: {', '.join(_PURCHASE_TYPES)}.")
    for name in (
        "store",
        "store_product_id",
        "store_transaction_id",
        "store_original_transaction_id",
    ):
        _check_text(body, name, problem, required=True)
    _check_moment(body, "purchased_at", problem, required=True)
    _check_price(body.get("price"), problem)
    _check_choice(body, "environment", _ENVIRONMENTS, problem)
    _check_choice(body, "cancellation_reason", _CANCELLATION_REASONS, problem)
    _check_text(body, "variation_id", problem, required=False)
    _check_moment(body, "refunded_at", problem, required=False)
    if "is_family_shared" in body and not isinstance(body["is_family_shared"], bool):
        problem("is_family_shared", "Must be a boolean.")
    if "offer" in body:
        _check_offer(body["offer"], problem)
    if purchase_type == "subscription":
        _check_moment(body, "originally_purchased_at", problem, required=True)
        _check_moment(body, "expires_at", problem, required=True)
        for name in (
            "renew_status_changed_at",
            "billing_issue_detected_at",
            "grace_period_expires_at",
        ):
            _check_moment(body, name, problem, required=False)
        if not isinstance(body.get("renew_status"), bool):
            problem("renew_status", "This field is required and must be a boolean.")
    if problems:
        raise _Rejected(
            400,
            "validation_error",
            [{"source": source, "errors": errors} for source, errors in problems.items()],
        )

    transaction_id = body["store_transaction_id"]
    if len(transaction_id) > _MAX_TRANSACTION_ID:
        raise _Rejected(
            400,
            "store_transaction_id_error",
            [
                {
                    "source": "store_transaction_id",
                    "errors": [
                        f"Ensure this field has no more than {_MAX_TRANSACTION_ID} characters."
                    ],
                }
            ],
        )
    if purchase_type == "one_time_purchase" and (
        transaction_id != body["store_original_transaction_id"]
    ):
        raise _Rejected(
            400,
            "store_transaction_id_error",
            [
                {
                    "source": "store_transaction_id",
                    "errors": [
                        "For a one-time purchase store_transaction_id must equal "
                        "store_original_transaction_id."
                    ],
                }
            ],
        )
    return body


def _check_text(body: dict[str, Any], name: str, problem: Any, *, required: bool) -> None:
    value = body.get(name)
    if value is None:
        if required:
            problem(name, "This field is required.")
    elif not isinstance(value, str) or not value:
        problem(name, "Must be a non-empty string.")


def _check_moment(body: dict[str, Any], name: str, problem: Any, *, required: bool) -> None:
    value = body.get(name)
    if value is None:
        if required:
            problem(name, "This field is required.")
        return
    try:
        _parse_moment(value)
    except (TypeError, ValueError):
        problem(name, "Datetime has wrong format; use ISO 8601.")


def _check_choice(body: dict[str, Any], name: str, choices: tuple[str, ...], problem: Any) -> None:
    if name in body and body[name] not in choices:
        problem(name, f"Must be one of: {', '.join(choices)}.")


def _check_price(price: Any, problem: Any) -> None:
    if not isinstance(price, dict):
        problem("price", "This field is required and must be an object.")
        return
    country, currency, value = price.get("country"), price.get("currency"), price.get("value")
    if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        problem("price.country", "Must be a two-letter country code (ISO 3166-1 alpha-2).")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        problem("price.currency", "Must be a three-letter currency code (ISO 4217).")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        problem("price.value", "Must be a number, zero or more.")


def _check_offer(offer: Any, problem: Any) -> None:
    if not isinstance(offer, dict):
        problem("offer", "Must be an object.")
        return
    if offer.get("category") not in _OFFER_CATEGORIES:
        problem("offer.category", f"Must be one of: {', '.join(_OFFER_CATEGORIES)}.")
    if offer.get("type") not in _OFFER_TYPES:
        problem("offer.type", f"Must be one of: {', '.join(_OFFER_TYPES)}.")
    if "id" in offer and not isinstance(offer["id"], str):
        problem("offer.id", "Must be a string.")


def _parse_moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("not a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


# --- HTTP --------------------------------------------------------------------------------------


class _Handler(TrackedHandler):
    server_version = "AdaptySimulator/1.0"

    def extra_headers(self) -> dict[str, str]:
        # Adapty puts a fresh Request-Id on every answer, errors included.
        return {"Request-Id": uuid.uuid4().hex}

    def _serve(self) -> None:
        simulator = self.server.simulator
        path = urlsplit(self.path).path
        try:
            raw = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send_json(400, {"errors": ["Unacceptable Content-Length."]})
            return
        body = json_or_none(raw)
        if path.startswith("/simulator/"):
            self._control(path, raw)
            return

        headers = {name.lower(): value for name, value in self.headers.items()}
        simulator._record(ReceivedRequest(self.command, path, headers, body))
        fault = simulator._take_fault()
        if fault is not None and fault.kind != SLOW:
            self._send_fault(fault)
            return
        if path != SET_TRANSACTION_PATH:
            self._send_json(
                404, {"errors": ["Not found."], "error_code": "not_found", "status_code": 404}
            )
            return
        if self.command != "POST":
            self._send_json(
                405,
                {
                    "errors": [f'Method "{self.command}" not allowed.'],
                    "error_code": "method_not_allowed",
                    "status_code": 405,
                },
                headers={"Allow": "POST"},
            )
            return
        try:
            status, answer = 200, {"data": simulator._set_transaction(headers, body)}
        except _Rejected as rejection:
            status, answer = rejection.status, rejection.body()
        except Exception:
            logger.exception("The Adapty simulator failed answering %s %s", self.command, path)
            status, answer = 500, _server_error_body(500)
        if fault is not None:
            # Recorded already, as at Adapty: only the answer is late.
            delay = DEFAULT_SLOW_SECONDS if fault.delay_seconds is None else fault.delay_seconds
            if simulator._stopping.wait(delay):
                self.close_connection = True
                return
        self._send_json(status, answer)

    def _send_fault(self, fault: AdaptyFault) -> None:
        if fault.kind == DROP:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.kind == NOT_JSON:
            self._send(502, _PROXY_PAGE, content_type="text/html")
        elif fault.kind == SERVER_ERROR:
            status = fault.http_status or 500
            self._send_json(status, _server_error_body(status))
        else:
            status = fault.http_status or 400
            messages = fault.messages or ["Rejected on request."]
            errors: list[Any] = (
                list(messages)
                if fault.plain
                else [{"source": "non_field_errors", "errors": list(messages)}]
            )
            self._send_json(
                status,
                {
                    "errors": errors,
                    "error_code": fault.error_code or "bad_request",
                    "status_code": status,
                },
            )


def _server_error_body(status: int) -> dict[str, Any]:
    return {
        "errors": [{"source": "non_field_errors", "errors": ["Internal server error."]}],
        "error_code": "internal_server_error",
        "status_code": status,
    }
