"""Adapty's server-side "Set transaction" over HTTP. No Django: plain values in, frozen
dataclasses or `AdaptyError` out.

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
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import requests

from lookups.appstore.backoff import backoff_delay

PRODUCTION_URL = "https://api.adapty.io"
SET_TRANSACTION_PATH = "/api/v2/server-side-api/purchase/set/transaction/"


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
        key_name: str = "ADAPTY_SECRET_KEY",
    ) -> None:
        if not secret_key:
            raise ValueError("an Adapty secret key is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.secret_key = secret_key
        # Where the key came from, named when Adapty refuses it: never the key itself.
        self.key_name = key_name
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
            self._sleep(
                backoff_delay(
                    attempt, base_seconds=self.backoff_seconds, cap_seconds=self.backoff_cap_seconds
                )
            )

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
        raise _error_for(status, answer, request_id, customer_user_id, attempt, self.key_name)


def _error_for(
    status: int, answer: Any, request_id: str, customer_user_id: str, attempt: int, key_name: str
) -> AdaptyError:
    error_code, messages = _read_error(answer)
    retryable = status >= 500
    if status >= 500:
        message = (
            f"Adapty had a problem of its own (HTTP {status}, {_tries(attempt)}). "
            "Try again in a few minutes."
        )
    elif status == 401 or error_code == "not_authenticated":
        message = f"Adapty refused Supportdesk's API key. Ask an administrator to check {key_name}."
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
