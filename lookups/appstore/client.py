"""AppStoreClient: the App Store Server API endpoints a support desk needs.

One `requests.Session` keeps connections open between calls. Every call carries the cached bearer
token, has explicit connect and read timeouts, and runs inside a total time budget:

- 429: wait until Apple's `Retry-After` (UNIX milliseconds) when that is soon enough, else fail at
  once saying when to try again;
- GeneralInternalRetryableError, the `...Retryable` 404s and failed connections: retry with
  bounded exponential backoff and full jitter;
- anything else, a read timeout included (the request may be running at Apple), fails at once.

A `rate_limiter` shared by every worker (see `RateLimiter`) keeps the deployment within the rate
limit Apple gives each endpoint, and after a 429 holds every worker back until `Retry-After`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

import requests
import urllib3

from .auth import BearerTokenSigner, TokenStore
from .backoff import backoff_delay
from .consumption_v1 import ConsumptionInformationV1
from .errors import (
    AppStoreError,
    AppStoreTimeoutError,
    AppStoreUnavailableError,
    InvalidConsumptionInformationError,
    InvalidCustomerConsentedError,
    InvalidDeliveryStatusError,
    InvalidExtendByDaysError,
    InvalidExtendReasonCodeError,
    InvalidRequestIdentifierError,
    InvalidSampleContentProvidedError,
    InvalidStatusError,
    OrderLookupUnavailableError,
    RateLimitExceededError,
    UnreadableResponseError,
    error_for_response,
)
from .mass_extension import MassExtensionRequest, MassExtensionStatus
from .notification_history import (
    NotificationHistoryPage,
    NotificationHistoryQuery,
    SentNotification,
    history_page_from_body,
    sent_notification_from,
)

__all__ = ["ConsumptionInformationV1", "MassExtensionRequest", "MassExtensionStatus"]

PRODUCTION_URL = "https://api.storekit.apple.com"
SANDBOX_URL = "https://api.storekit-sandbox.apple.com"


@dataclass(frozen=True, slots=True)
class OrderLookup:
    """Look Up Order ID's answer: status 0 with transactions, or status 1 (no such order)."""

    status: int
    signed_transactions: tuple[str, ...]

    @property
    def found(self) -> bool:
        return self.status == 0


@dataclass(frozen=True, slots=True)
class HistoryFilters:
    """Get Transaction History's query parameters; send the same ones with every revision."""

    start_date: datetime | None = None
    end_date: datetime | None = None
    product_ids: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()
    sort: str | None = None
    subscription_group_identifiers: tuple[str, ...] = ()
    in_app_ownership_type: str | None = None
    revoked: bool | None = None

    def query(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if self.start_date is not None:
            params.append(("startDate", str(_millis(self.start_date))))
        if self.end_date is not None:
            params.append(("endDate", str(_millis(self.end_date))))
        params += [("productId", value) for value in self.product_ids]
        params += [("productType", value) for value in self.product_types]
        if self.sort is not None:
            params.append(("sort", self.sort))
        params += [("subscriptionGroupIdentifier", v) for v in self.subscription_group_identifiers]
        if self.in_app_ownership_type is not None:
            params.append(("inAppOwnershipType", self.in_app_ownership_type))
        if self.revoked is not None:
            params.append(("revoked", "true" if self.revoked else "false"))
        return params


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page (up to 20 transactions) of Get Transaction History."""

    revision: str
    has_more: bool
    bundle_id: str | None
    app_apple_id: int | None
    environment: str | None
    signed_transactions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_base_seconds: float = 0.2
    backoff_cap_seconds: float = 2.0
    # Wait for a 429's Retry-After only when it is at most this far away.
    max_retry_after_seconds: float = 5.0
    # Everything one call may take, retries and waits included.
    call_budget_seconds: float = 20.0


# --- subscription statuses, transaction info, refunds, extensions, consumption ------------------

# Get All Subscription Statuses' `status`: 1 active, 2 expired, 3 billing retry, 4 billing grace
# period, 5 revoked.
SUBSCRIPTION_STATUSES = frozenset({1, 2, 3, 4, 5})
EXTEND_REASON_CODES = frozenset({0, 1, 2, 3})  # undeclared, satisfaction, other, service issue
DELIVERY_STATUSES = frozenset(
    {
        "DELIVERED",
        "UNDELIVERED_QUALITY_ISSUE",
        "UNDELIVERED_WRONG_ITEM",
        "UNDELIVERED_SERVER_OUTAGE",
        "UNDELIVERED_OTHER",
    }
)
REFUND_PREFERENCES = frozenset({"DECLINE", "GRANT_FULL", "GRANT_PRORATED"})


@dataclass(frozen=True, slots=True)
class LastTransaction:
    """One subscription's status with its latest signed transaction and renewal info."""

    status: int
    original_transaction_id: str | None
    signed_transaction_info: str | None
    signed_renewal_info: str | None


@dataclass(frozen=True, slots=True)
class SubscriptionGroupStatus:
    subscription_group_identifier: str | None
    last_transactions: tuple[LastTransaction, ...]


@dataclass(frozen=True, slots=True)
class SubscriptionStatuses:
    """Get All Subscription Statuses' answer: every subscription of the customer, by group."""

    environment: str | None
    bundle_id: str | None
    app_apple_id: int | None
    groups: tuple[SubscriptionGroupStatus, ...]


@dataclass(frozen=True, slots=True)
class RefundHistoryPage:
    """One page (up to 20) of Get Refund History V2: the customer's refunded transactions."""

    revision: str
    has_more: bool
    signed_transactions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RenewalExtension:
    """Extend a Subscription Renewal Date's answer; `effective_date` is the new renewal date."""

    original_transaction_id: str | None
    web_order_line_item_id: str | None
    success: bool
    effective_date: datetime | None


@dataclass(frozen=True, slots=True)
class ConsumptionInformation:
    """Send Consumption Information V2's body, checked against Apple's rules when built.

    `consumption_percentage` is in milli-percent (0 to 100000); Apple refuses the whole answer
    unless the customer consented to share it.
    """

    customer_consented: bool
    delivery_status: str
    sample_content_provided: bool
    consumption_percentage: int | None = None
    refund_preference: str | None = None

    def __post_init__(self) -> None:
        if self.customer_consented is not True:
            raise InvalidCustomerConsentedError()
        if self.delivery_status not in DELIVERY_STATUSES:
            raise InvalidDeliveryStatusError()
        if not isinstance(self.sample_content_provided, bool):
            raise InvalidSampleContentProvidedError()
        percentage = self.consumption_percentage
        if percentage is not None and (
            isinstance(percentage, bool)
            or not isinstance(percentage, int)
            or not 0 <= percentage <= 100_000
        ):
            raise InvalidConsumptionInformationError(
                agent_message="How much was consumed must be between 0 and 100%."
            )
        if self.refund_preference is not None and self.refund_preference not in (
            REFUND_PREFERENCES
        ):
            raise InvalidConsumptionInformationError(
                agent_message="The refund preference must be decline, full refund or prorated."
            )

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ConsumptionInformation:
        """The information a body built by `body()` carries, checked again."""
        return cls(
            customer_consented=body.get("customerConsented"),  # type: ignore[arg-type]
            delivery_status=body.get("deliveryStatus"),  # type: ignore[arg-type]
            sample_content_provided=body.get("sampleContentProvided"),  # type: ignore[arg-type]
            consumption_percentage=body.get("consumptionPercentage"),
            refund_preference=body.get("refundPreference"),
        )

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "customerConsented": True,
            "sampleContentProvided": self.sample_content_provided,
            "deliveryStatus": self.delivery_status,
        }
        if self.consumption_percentage is not None:
            body["consumptionPercentage"] = self.consumption_percentage
        if self.refund_preference is not None:
            body["refundPreference"] = self.refund_preference
        return body


class RateLimiter(Protocol):
    """A request budget per endpoint, shared by every worker.

    Endpoint names: "lookup", "history", "set_token", "statuses", "transaction_info",
    "refund_history", "extend", "consumption" (V2 and V1), "notification_history",
    "test_notification" (both test-notification calls), "mass_extend", "mass_extend_status",
    "app_transaction" and "finish".
    """

    def acquire(self, endpoint: str) -> None:
        """Take one request, or raise DeskRateHold saying when one will be free."""

    def blocked_until(self, endpoint: str, retry_at: datetime) -> None:
        """Apple answered 429: send nothing more to the endpoint before `retry_at`."""


def _session_for(base_url: str) -> requests.Session:
    """A session holding the environment's proxy and CA bundle for Apple's host, read once.

    requests otherwise reads them again on every request (a quarter of a call's own work), and
    a ~/.netrc entry for the host would replace the bearer token with a password.
    """
    session = requests.Session()
    environment = session.merge_environment_settings(base_url, {}, None, None, None)
    session.trust_env = False
    session.proxies = environment["proxies"]
    session.verify = environment["verify"]
    return session


class AppStoreClient:
    def __init__(
        self,
        *,
        issuer_id: str,
        key_id: str,
        private_key_pem: str | bytes,
        bundle_id: str,
        environment: str = "Production",
        base_url: str | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        token_store: TokenStore | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if environment not in ("Production", "Sandbox"):
            raise ValueError("environment must be Production or Sandbox")
        self.environment = environment
        self.base_url = (
            base_url or (PRODUCTION_URL if environment == "Production" else SANDBOX_URL)
        ).rstrip("/")
        self.signer = BearerTokenSigner(
            issuer_id=issuer_id,
            key_id=key_id,
            private_key_pem=private_key_pem,
            bundle_id=bundle_id,
            store=token_store,
        )
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.session = session or _session_for(self.base_url)
        self.session.headers["User-Agent"] = "Supportdesk/1.0"
        self._sleep = sleep
        self.rate_limiter = rate_limiter

    # --- endpoints ---------------------------------------------------------------------------

    def look_up_order(self, order_id: str) -> OrderLookup:
        """Look Up Order ID: `GET /inApps/v1/lookup/{orderId}` (Production only)."""
        if self.environment != "Production":
            raise OrderLookupUnavailableError()
        body = self._call("lookup", "GET", f"/inApps/v1/lookup/{_segment(order_id)}")
        status = body.get("status")
        if status not in (0, 1):
            raise UnreadableResponseError(
                http_status=200, agent_message="The App Store's answer had no lookup status."
            )
        return OrderLookup(status=status, signed_transactions=_signed_list(body))

    def transaction_history(
        self,
        any_transaction_id: str,
        *,
        revision: str | None = None,
        filters: HistoryFilters | None = None,
        version: int = 2,
    ) -> HistoryPage:
        """Get Transaction History: `GET /inApps/v{1,2}/history/{anyTransactionId}`, one page.

        V1 omits consumables the app has finished; V2 lists every product type in any state.
        """
        if version not in (1, 2):
            raise ValueError("version must be 1 or 2")
        params = (filters or HistoryFilters()).query()
        if revision is not None:
            params.append(("revision", revision))
        body = self._call(
            "history",
            "GET",
            f"/inApps/v{version}/history/{_segment(any_transaction_id)}",
            params=params,
        )
        app_apple_id = body.get("appAppleId")
        return HistoryPage(
            revision=str(body.get("revision", "")),
            has_more=body.get("hasMore") is True,
            bundle_id=body.get("bundleId"),
            app_apple_id=app_apple_id if isinstance(app_apple_id, int) else None,
            environment=body.get("environment"),
            signed_transactions=_signed_list(body),
        )

    def iter_transaction_history(
        self,
        any_transaction_id: str,
        *,
        filters: HistoryFilters | None = None,
        version: int = 2,
    ) -> Iterator[HistoryPage]:
        """Every page of Get Transaction History, following `revision` while `hasMore`."""
        revision: str | None = None
        while True:
            page = self.transaction_history(
                any_transaction_id, revision=revision, filters=filters, version=version
            )
            yield page
            if not page.has_more or not page.revision:
                return
            revision = page.revision

    def set_app_account_token(self, original_transaction_id: str, token: UUID | str) -> None:
        """Set App Account Token.

        `PUT /inApps/v1/transactions/{originalTransactionId}/appAccountToken`; Apple answers 200
        with an empty body.
        """
        path = f"/inApps/v1/transactions/{_segment(original_transaction_id)}/appAccountToken"
        self._call(
            "set_token", "PUT", path, json={"appAccountToken": str(token)}, expect_body=False
        )

    # --- subscription statuses, transaction info, refunds, extensions, consumption -------------

    def get_all_subscription_statuses(
        self, any_transaction_id: str, *, statuses: Iterable[int] = ()
    ) -> SubscriptionStatuses:
        """Get All Subscription Statuses: `GET /inApps/v1/subscriptions/{anyTransactionId}`.

        `statuses` (1 active, 2 expired, 3 billing retry, 4 grace period, 5 revoked) keeps only
        subscriptions in those states; none means all.
        """
        wanted = list(statuses)
        if any(s not in SUBSCRIPTION_STATUSES or isinstance(s, bool) for s in wanted):
            raise InvalidStatusError()
        body = self._call(
            "statuses",
            "GET",
            f"/inApps/v1/subscriptions/{_segment(any_transaction_id)}",
            params=[("status", str(s)) for s in wanted],
        )
        data = body.get("data") or []
        if not isinstance(data, list):
            raise UnreadableResponseError(
                http_status=200, agent_message="The App Store's answer listed no subscriptions."
            )
        groups = []
        for group in data:
            if not isinstance(group, dict):
                continue
            items = group.get("lastTransactions") or []
            groups.append(
                SubscriptionGroupStatus(
                    subscription_group_identifier=_optional_text(
                        group.get("subscriptionGroupIdentifier")
                    ),
                    last_transactions=tuple(
                        LastTransaction(
                            status=item["status"],
                            original_transaction_id=_optional_text(
                                item.get("originalTransactionId")
                            ),
                            signed_transaction_info=_optional_text(
                                item.get("signedTransactionInfo")
                            ),
                            signed_renewal_info=_optional_text(item.get("signedRenewalInfo")),
                        )
                        for item in items
                        if isinstance(item, dict) and type(item.get("status")) is int
                    ),
                )
            )
        app_apple_id = body.get("appAppleId")
        return SubscriptionStatuses(
            environment=_optional_text(body.get("environment")),
            bundle_id=_optional_text(body.get("bundleId")),
            app_apple_id=app_apple_id if type(app_apple_id) is int else None,
            groups=tuple(groups),
        )

    def get_transaction_info(self, transaction_id: str) -> str:
        """Get Transaction Info: `GET /inApps/v1/transactions/{transactionId}`.

        Returns the signed transaction (verify it before use).
        """
        body = self._call(
            "transaction_info", "GET", f"/inApps/v1/transactions/{_segment(transaction_id)}"
        )
        signed = body.get("signedTransactionInfo")
        if not isinstance(signed, str):
            raise UnreadableResponseError(
                http_status=200, agent_message="The App Store's answer held no transaction."
            )
        return signed

    def get_refund_history(
        self, any_transaction_id: str, *, revision: str | None = None
    ) -> RefundHistoryPage:
        """Get Refund History V2: `GET /inApps/v2/refund/lookup/{anyTransactionId}`, one page."""
        params = [("revision", revision)] if revision is not None else []
        body = self._call(
            "refund_history",
            "GET",
            f"/inApps/v2/refund/lookup/{_segment(any_transaction_id)}",
            params=params,
        )
        return RefundHistoryPage(
            revision=str(body.get("revision", "")),
            has_more=body.get("hasMore") is True,
            signed_transactions=_signed_list(body),
        )

    def iter_refund_history(self, any_transaction_id: str) -> Iterator[RefundHistoryPage]:
        """Every page of Get Refund History V2, following `revision` while `hasMore`."""
        revision: str | None = None
        while True:
            page = self.get_refund_history(any_transaction_id, revision=revision)
            yield page
            if not page.has_more or not page.revision:
                return
            revision = page.revision

    def extend_subscription_renewal_date(
        self,
        original_transaction_id: str,
        *,
        extend_by_days: int,
        extend_reason_code: int,
        request_identifier: str,
    ) -> RenewalExtension:
        """Extend a Subscription Renewal Date.

        `PUT /inApps/v1/subscriptions/extend/{originalTransactionId}` with 1 to 90 days, a reason
        (0 undeclared, 1 customer satisfaction, 2 other, 3 service issue or outage) and a unique
        request identifier of at most 128 characters: sending the same identifier again is the
        same request at Apple, so a retry never extends twice.
        """
        if isinstance(extend_by_days, bool) or not isinstance(extend_by_days, int):
            raise InvalidExtendByDaysError()
        if not 1 <= extend_by_days <= 90:
            raise InvalidExtendByDaysError()
        if isinstance(extend_reason_code, bool) or extend_reason_code not in EXTEND_REASON_CODES:
            raise InvalidExtendReasonCodeError()
        if not isinstance(request_identifier, str) or not 1 <= len(request_identifier) <= 128:
            raise InvalidRequestIdentifierError()
        body = self._call(
            "extend",
            "PUT",
            f"/inApps/v1/subscriptions/extend/{_segment(original_transaction_id)}",
            json={
                "extendByDays": extend_by_days,
                "extendReasonCode": extend_reason_code,
                "requestIdentifier": request_identifier,
            },
        )
        effective = body.get("effectiveDate")
        return RenewalExtension(
            original_transaction_id=_optional_text(body.get("originalTransactionId")),
            web_order_line_item_id=_optional_text(body.get("webOrderLineItemId")),
            success=body.get("success") is True,
            effective_date=(
                datetime.fromtimestamp(effective / 1000, tz=UTC) if type(effective) is int else None
            ),
        )

    def send_consumption_information(
        self, transaction_id: str, information: ConsumptionInformation
    ) -> None:
        """Send Consumption Information V2.

        `PUT /inApps/v2/transactions/consumption/{transactionId}`, answering Apple's
        CONSUMPTION_REQUEST within 12 hours; Apple answers 202 and decides the refund later.
        """
        self._call(
            "consumption",
            "PUT",
            f"/inApps/v2/transactions/consumption/{_segment(transaction_id)}",
            json=information.body(),
            expect_body=False,
        )

    def send_consumption_information_v1(
        self, transaction_id: str, information: ConsumptionInformationV1
    ) -> None:
        """Send Consumption Information V1 (deprecated by V2):
        `PUT /inApps/v1/transactions/consumption/{transactionId}`; Apple answers 202."""
        self._call(
            "consumption",
            "PUT",
            f"/inApps/v1/transactions/consumption/{_segment(transaction_id)}",
            json=information.body(),
            expect_body=False,
        )

    # --- outage compensation, the app download, finishing a purchase -------------------------

    def extend_renewal_dates_for_all_active_subscribers(self, request: MassExtensionRequest) -> str:
        """Extend Subscription Renewal Dates for All Active Subscribers:
        `POST /inApps/v1/subscriptions/extend/mass`. Apple answers at once with the request
        identifier and works for hours; follow it with `get_mass_extension_status` and the
        RENEWAL_EXTENSION notifications. Sending the same identifier again is the same request.
        """
        body = self._call(
            "mass_extend", "POST", "/inApps/v1/subscriptions/extend/mass", json=request.body()
        )
        identifier = body.get("requestIdentifier")
        if not isinstance(identifier, str) or not identifier:
            raise UnreadableResponseError(
                http_status=200, agent_message="The App Store's answer had no request reference."
            )
        return identifier

    def get_mass_extension_status(
        self, product_id: str, request_identifier: str
    ) -> MassExtensionStatus:
        """Get Status of Subscription Renewal Date Extensions:
        `GET /inApps/v1/subscriptions/extend/mass/{productId}/{requestIdentifier}`."""
        body = self._call(
            "mass_extend_status",
            "GET",
            f"/inApps/v1/subscriptions/extend/mass/{_segment(product_id)}/"
            f"{_segment(request_identifier)}",
        )
        return MassExtensionStatus.from_body(body)

    def get_app_transaction_info(self, any_transaction_id: str) -> str:
        """Get App Transaction Info: `GET /inApps/v1/transactions/appTransactions/{id}`.

        Returns the signed app transaction (verify it with `decode_app_transaction`).
        """
        body = self._call(
            "app_transaction",
            "GET",
            f"/inApps/v1/transactions/appTransactions/{_segment(any_transaction_id)}",
        )
        signed = body.get("signedAppTransactionInfo")
        if not isinstance(signed, str):
            raise UnreadableResponseError(
                http_status=200, agent_message="The App Store's answer held no app download."
            )
        return signed

    def finish_transaction(self, transaction_id: str) -> None:
        """Finish Transaction: `POST /inApps/v1/transactions/{transactionId}/finish`, telling
        Apple the purchase was delivered (by hand, for an agent)."""
        self._call(
            "finish",
            "POST",
            f"/inApps/v1/transactions/{_segment(transaction_id)}/finish",
            expect_body=False,
        )

    # --- App Store Server Notifications ------------------------------------------------------

    def get_notification_history(
        self, query: NotificationHistoryQuery, *, pagination_token: str | None = None
    ) -> NotificationHistoryPage:
        """Get Notification History: `POST /inApps/v1/notifications/history`, one page."""
        params = [("paginationToken", pagination_token)] if pagination_token else None
        body = self._call(
            "notification_history",
            "POST",
            "/inApps/v1/notifications/history",
            params=params,
            json=query.body(),
        )
        return history_page_from_body(body)

    def iter_notification_history(
        self, query: NotificationHistoryQuery
    ) -> Iterator[NotificationHistoryPage]:
        """Every page of Get Notification History, following `paginationToken` while `hasMore`."""
        token: str | None = None
        while True:
            page = self.get_notification_history(query, pagination_token=token)
            yield page
            if not page.has_more or not page.pagination_token:
                return
            token = page.pagination_token

    def request_test_notification(self) -> str:
        """Request a Test Notification: `POST /inApps/v1/notifications/test`; returns its token."""
        body = self._call("test_notification", "POST", "/inApps/v1/notifications/test")
        token = body.get("testNotificationToken")
        if not isinstance(token, str) or not token:
            raise UnreadableResponseError(
                http_status=200, agent_message="The App Store's answer had no test token."
            )
        return token

    def get_test_notification_status(self, test_notification_token: str) -> SentNotification:
        """Get Test Notification Status: `GET /inApps/v1/notifications/test/{token}`."""
        body = self._call(
            "test_notification",
            "GET",
            f"/inApps/v1/notifications/test/{_segment(test_notification_token)}",
        )
        sent = sent_notification_from(body)
        if sent is None:
            raise UnreadableResponseError(
                http_status=200, agent_message="The App Store's answer had no test notification."
            )
        return sent

    # --- plumbing ----------------------------------------------------------------------------

    def _call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json: dict[str, Any] | None = None,
        expect_body: bool = True,
    ) -> dict[str, Any]:
        policy = self.retry
        deadline = time.monotonic() + policy.call_budget_seconds
        attempt = 0
        previous: AppStoreError | None = None
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if previous is not None and remaining <= 0:
                raise previous
            # The token first: signing it (or waiting for another worker's) must not hold a share
            # of the rate budget, or the request could go out in a later second than it was
            # counted in.
            bearer = self.signer.token()
            self._take_budget(endpoint, deadline)
            remaining = deadline - time.monotonic()
            if remaining <= 0 and previous is not None:
                # Signing or waiting for the rate budget used up what was left: Apple said last.
                raise previous
            # requests refuses a timeout of zero or less; a spent budget still makes one try.
            remaining = max(remaining, 0.01)
            timeout = (min(self.timeout[0], remaining), min(self.timeout[1], remaining))
            try:
                return self._attempt(method, path, params, json, expect_body, timeout, bearer)
            except AppStoreError as error:
                if (
                    isinstance(error, RateLimitExceededError)
                    and error.retry_at is not None
                    and self.rate_limiter is not None
                ):
                    # Every worker now holds back until Retry-After, not only this one.
                    self.rate_limiter.blocked_until(endpoint, error.retry_at)
                if (
                    previous is not None
                    and timeout != self.timeout
                    and isinstance(error, AppStoreUnavailableError)
                ):
                    # The budget, not Apple, cut this retry short: report what Apple said last.
                    raise previous from error
                wait = self._wait_before_retry(error, attempt)
                if wait is None or time.monotonic() + wait >= deadline:
                    raise
                previous = error
                self._sleep(wait)

    def _take_budget(self, endpoint: str, deadline: float) -> None:
        """Wait for the shared rate limiter to let one request through, if the wait is short.

        Waiting here does not use up an attempt: nothing has been sent to Apple.
        """
        if self.rate_limiter is None:
            return
        while True:
            try:
                self.rate_limiter.acquire(endpoint)
                return
            except RateLimitExceededError as refusal:
                if refusal.retry_at is None:
                    raise
                wait = (refusal.retry_at - datetime.now(UTC)).total_seconds()
                if wait > self.retry.max_retry_after_seconds or time.monotonic() + wait >= deadline:
                    raise
                self._sleep(max(wait, 0.001))

    def _attempt(
        self, method, path, params, json, expect_body, timeout, bearer: str
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {bearer}"}
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=headers,
                timeout=timeout,
            )
        except requests.ConnectTimeout as exc:
            raise AppStoreUnavailableError() from exc
        except requests.Timeout as exc:
            raise AppStoreTimeoutError() from exc
        except requests.ConnectionError as exc:
            # A body that stops arriving after the headers comes as a ConnectionError.
            if exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError):
                raise AppStoreTimeoutError() from exc
            raise AppStoreUnavailableError() from exc
        except requests.RequestException as exc:
            raise AppStoreUnavailableError() from exc

        # Send Consumption Information answers 202 Accepted: Apple decides later.
        if response.status_code == 200 or (not expect_body and response.status_code == 202):
            if not expect_body:
                return {}
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise UnreadableResponseError(http_status=200)
            return body
        if response.status_code == 401:
            self.signer.invalidate()
        raise error_for_response(
            response.status_code, response.content, response.headers.get("Retry-After")
        )

    def _wait_before_retry(self, error: AppStoreError, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None to give up now."""
        policy = self.retry
        if attempt >= policy.max_attempts:
            return None
        if isinstance(error, RateLimitExceededError):
            if error.retry_at is None:
                return None
            wait = (error.retry_at - datetime.now(UTC)).total_seconds()
            return max(wait, 0.0) if wait <= policy.max_retry_after_seconds else None
        if not error.retryable:
            return None
        return backoff_delay(
            attempt,
            base_seconds=policy.backoff_base_seconds,
            cap_seconds=policy.backoff_cap_seconds,
        )


def _segment(value: str) -> str:
    """A path segment, escaped so input can never change the path."""
    if not value:
        raise ValueError("an identifier is required")
    return quote(value, safe="")


def _signed_list(body: dict[str, Any]) -> tuple[str, ...]:
    items = body.get("signedTransactions")
    if items is None:
        return ()
    if not isinstance(items, list):
        raise UnreadableResponseError(
            http_status=200, agent_message="The App Store's answer listed no transactions."
        )
    return tuple(item for item in items if isinstance(item, str))


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("history dates must be timezone-aware")
    return int(moment.timestamp() * 1000)
