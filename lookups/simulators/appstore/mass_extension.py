"""Extend Subscription Renewal Dates for All Active Subscribers, in the background as Apple does.

Apple answers the request at once with its requestIdentifier and works through the product's
active subscribers for hours: each subscription it extends gets RENEWAL_EXTENDED, each one it
can't RENEWAL_EXTENSION with subtype FAILURE, and the end RENEWAL_EXTENSION with subtype SUMMARY.
Here the whole run takes `duration_seconds` (a few seconds by default), spread evenly over the
subscribers. Get Status of Subscription Renewal Date Extensions reports the progress.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lookups.simulators.appstore import errors
from lookups.simulators.appstore.catalog import AUTO_RENEWABLE, PRODUCTS
from lookups.simulators.appstore.errors import ApiError
from lookups.simulators.appstore.store import TransactionStore, extension_request

RENEWAL_EXTENSION = "RENEWAL_EXTENSION"
FAILURE, SUMMARY = "FAILURE", "SUMMARY"
DEFAULT_DURATION_SECONDS = 3.0
_COUNTRY_CODE = re.compile(r"[A-Z]{3}")

# announce(notification_type, subtype, transaction_id=..., summary=...)
Announce = Callable[..., Any]


@dataclass
class _Run:
    request_identifier: str
    product_id: str
    days: int
    storefronts: list[str] | None
    succeeded: int = 0
    failed: int = 0
    complete_date: int | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "requestIdentifier": self.request_identifier,
            "complete": self.complete_date is not None,
        }
        if self.complete_date is not None:
            body["completeDate"] = self.complete_date
        body["succeededCount"] = self.succeeded
        body["failedCount"] = self.failed
        return body


class MassExtensions:
    """Every mass extension asked for since the last reset, each worked on by its own thread."""

    def __init__(
        self,
        store: TransactionStore,
        announce: Announce,
        *,
        app_apple_id: int | None,
        duration_seconds: float = DEFAULT_DURATION_SECONDS,
    ) -> None:
        self._store = store
        self._announce = announce
        self._app_apple_id = app_apple_id
        self.duration_seconds = duration_seconds
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, str], _Run] = {}
        self._stopping = threading.Event()

    def request(self, body: object) -> dict[str, str]:
        """Check the MassExtendRenewalDateRequest and start the run; a repeated identifier for
        the same product starts nothing new."""
        days, _reason, request_identifier = extension_request(body)
        assert isinstance(body, dict)
        product_id = body.get("productId")
        product = PRODUCTS.get(product_id) if isinstance(product_id, str) else None
        if product is None or product.type != AUTO_RENEWABLE:
            raise ApiError(errors.INVALID_PRODUCT_ID)
        storefronts = body.get("storefrontCountryCodes")
        if storefronts is not None:
            if not isinstance(storefronts, list):
                raise ApiError(errors.INVALID_STOREFRONT_COUNTRY_CODE)
            if not storefronts:
                raise ApiError(errors.INVALID_EMPTY_STOREFRONT_COUNTRY_CODE_LIST)
            if not all(isinstance(c, str) and _COUNTRY_CODE.fullmatch(c) for c in storefronts):
                raise ApiError(errors.INVALID_STOREFRONT_COUNTRY_CODE)
        assert isinstance(product_id, str)
        with self._lock:
            key = (product_id, request_identifier)
            if key not in self._runs:
                run = _Run(request_identifier, product_id, days, storefronts)
                run.thread = threading.Thread(
                    target=self._work, args=(run,), name="mass-extension", daemon=True
                )
                self._runs[key] = run
                run.thread.start()
        return {"requestIdentifier": request_identifier}

    def status(self, product_id: str, request_identifier: str) -> dict[str, Any]:
        if product_id not in PRODUCTS:
            raise ApiError(errors.INVALID_PRODUCT_ID)
        if not 1 <= len(request_identifier) <= 128:
            raise ApiError(errors.INVALID_REQUEST_IDENTIFIER)
        with self._lock:
            run = self._runs.get((product_id, request_identifier))
            if run is None:
                raise ApiError(errors.STATUS_REQUEST_NOT_FOUND)
            return run.status()

    def reset(self) -> None:
        """Stop every run still working and forget them all."""
        self._stopping.set()
        with self._lock:
            threads = [r.thread for r in self._runs.values() if r.thread is not None]
            self._runs.clear()
        for thread in threads:
            thread.join(timeout=5)
        self._stopping.clear()

    def _work(self, run: _Run) -> None:
        subscribers = self._store.active_subscriptions(run.product_id, run.storefronts)
        pause = self.duration_seconds / (len(subscribers) + 1)
        for original_id, latest_id in subscribers:
            if self._stopping.wait(pause):
                return
            if self._store.extend_one_of_many(original_id, run.days):
                with self._lock:
                    run.succeeded += 1
            else:
                with self._lock:
                    run.failed += 1
                self._announce(RENEWAL_EXTENSION, FAILURE, transaction_id=latest_id)
        if self._stopping.wait(pause):
            return
        with self._lock:
            run.complete_date = self._store.now_ms()
        summary: dict[str, Any] = {
            "requestIdentifier": run.request_identifier,
            "environment": self._store.environment,
        }
        if self._app_apple_id is not None:
            summary["appAppleId"] = self._app_apple_id
        summary["bundleId"] = self._store.bundle_id
        summary["productId"] = run.product_id
        if run.storefronts is not None:
            summary["storefrontCountryCodes"] = list(run.storefronts)
        summary["succeededCount"] = run.succeeded
        summary["failedCount"] = run.failed
        self._announce(RENEWAL_EXTENSION, SUMMARY, summary=summary)
