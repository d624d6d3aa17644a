"""Faults injected on demand: the failures a client of the App Store Server API must survive."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

RATE_LIMIT = "rate_limit"
RETRYABLE_ERROR = "retryable_error"
INTERNAL_ERROR = "internal_error"
SLOW = "slow"
NOT_JSON = "not_json"
UNTRUSTED_CHAIN = "untrusted_chain"
NOT_FOUND_RETRYABLE = "not_found_retryable"
APPLE_ERROR = "apple_error"
REVOKED_CERTIFICATE = "revoked_certificate"

FAULT_KINDS = frozenset(
    {
        RATE_LIMIT,
        RETRYABLE_ERROR,
        INTERNAL_ERROR,
        SLOW,
        NOT_JSON,
        UNTRUSTED_CHAIN,
        NOT_FOUND_RETRYABLE,
        APPLE_ERROR,
        REVOKED_CERTIFICATE,
    }
)
ENDPOINTS = frozenset({"lookup", "history", "set_token", "*"}) | {
    "statuses",
    "transaction_info",
    "refund_history",
    "extend",
    "consumption",
    "consumption_v1",
    "mass_extend",
    "mass_extend_status",
    "app_transaction",
    "finish",
    # The OCSP responder the certificates name.
    "ocsp",
}
ANY = "*"


@dataclass(frozen=True)
class Fault:
    """What goes wrong, for which requests, and how many times before it clears.

    `target` is an order ID or transaction ID in the request path ("*": any). An untrusted_chain
    fault may also target one transaction of a response, so only that one is signed by a chain
    nobody trusts while the others verify. An apple_error fault answers any of Apple's errors:
    `error_code`, with `http_status` by default the code's first three digits (4000183 is 400).
    """

    kind: str
    target: str = ANY
    endpoint: str = ANY
    times: int = 1
    retry_after_ms: int | None = None
    delay_seconds: float | None = None
    error_code: int | None = None
    http_status: int | None = None
    error_message: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind {self.kind!r}; one of {sorted(FAULT_KINDS)}.")
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"Unknown endpoint {self.endpoint!r}; one of {sorted(ENDPOINTS)}.")
        if self.kind == NOT_FOUND_RETRYABLE and self.endpoint not in ("set_token", ANY):
            raise ValueError("not_found_retryable is an answer of Set App Account Token only.")
        if self.kind == REVOKED_CERTIFICATE and (
            self.endpoint not in ("ocsp", ANY) or self.target not in ("leaf", "intermediate", ANY)
        ):
            raise ValueError(
                "revoked_certificate is an answer of the OCSP responder; target is 'leaf', "
                "'intermediate' or '*'."
            )
        if not isinstance(self.target, str) or not self.target:
            raise ValueError("target is an order ID, a transaction ID or '*'.")
        if isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1:
            raise ValueError("times is a whole number of requests, at least 1.")
        if self.retry_after_ms is not None and (
            isinstance(self.retry_after_ms, bool)
            or not isinstance(self.retry_after_ms, int)
            or self.retry_after_ms < 0
        ):
            raise ValueError("retry_after_ms is a whole number of milliseconds, 0 or more.")
        if self.delay_seconds is not None and (
            isinstance(self.delay_seconds, bool)
            or not isinstance(self.delay_seconds, int | float)
            or self.delay_seconds < 0
        ):
            raise ValueError("delay_seconds is a number of seconds, 0 or more.")
        self._check_apple_error()

    def _check_apple_error(self) -> None:
        if self.kind != APPLE_ERROR:
            if (self.error_code, self.http_status, self.error_message) != (None, None, None):
                raise ValueError("error_code, http_status and error_message go with apple_error.")
            return
        code = self.error_code
        if isinstance(code, bool) or not isinstance(code, int) or not 1000000 <= code <= 9999999:
            raise ValueError("apple_error needs error_code, one of Apple's 7-digit codes.")
        status = self.http_status
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
        ):
            raise ValueError("http_status is an HTTP error status, 400 to 599.")
        if self.error_message is not None and not isinstance(self.error_message, str):
            raise ValueError("error_message is text.")

    def applies_to(self, endpoint: str) -> bool:
        if self.kind == NOT_FOUND_RETRYABLE and endpoint != "set_token":
            return False
        if self.kind == REVOKED_CERTIFICATE:
            return endpoint == "ocsp"
        if endpoint == "ocsp":
            # A fault for any endpoint stays with the API; the responder takes its own only.
            return self.endpoint == "ocsp"
        return self.endpoint in (ANY, endpoint)


class FaultBook:
    """Pending faults, first injected first served; each request uses up at most one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take_for_request(self, endpoint: str, path_id: str) -> Fault | None:
        """The fault that replaces or delays this request's answer, used up once."""
        return self._take(
            lambda f: (
                f.kind != UNTRUSTED_CHAIN and f.applies_to(endpoint) and f.target in (ANY, path_id)
            )
        )

    def take_untrusted(
        self, endpoint: str, path_id: str, transaction_ids: Collection[str]
    ) -> Fault | None:
        """An untrusted_chain fault for this response, matched by path or by a transaction in it."""
        return self._take(
            lambda f: (
                f.kind == UNTRUSTED_CHAIN
                and f.applies_to(endpoint)
                and (f.target in (ANY, path_id) or f.target in transaction_ids)
            )
        )

    def _take(self, wanted: Callable[[Fault], bool]) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if wanted(fault):
                    if fault.times > 1:
                        self._faults[index] = replace(fault, times=fault.times - 1)
                    else:
                        del self._faults[index]
                    return fault
            return None
