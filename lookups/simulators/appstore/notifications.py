"""App Store Server Notifications V2, sent the way Apple sends them, and kept for their history.

Every notification is signed once with the simulator's chain and kept with each attempt to
deliver it. Delivery runs in a background thread: `{"signedPayload": ...}` is POSTed to the
notification URL, only an HTTP 200 counts as delivered, and anything else is retried on the
schedule given (Apple waits about 1, 12, 24, 48 and 72 hours; the simulator takes the same
number of steps in seconds, or whatever a test sets). With no URL set nothing is sent, as with an
app that has none in App Store Connect, but the notification is still kept for Get Notification
History.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from lookups.simulators.appstore import errors
from lookups.simulators.appstore.certificates import SigningChain
from lookups.simulators.appstore.errors import ApiError
from lookups.simulators.appstore.events import StoreEvent
from lookups.simulators.appstore.signing import sign_jws

logger = logging.getLogger(__name__)

# Apple's 1, 12, 24, 48 and 72 hours after the first attempt, read as seconds.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 12.0, 24.0, 48.0, 72.0)
DELIVERY_TIMEOUT_SECONDS = 5.0
HISTORY_PAGE_SIZE = 20
HISTORY_DAYS = 180
_DAY_MS = 86_400_000

KNOWN_TYPES = frozenset(
    {
        "SUBSCRIBED",
        "OFFER_REDEEMED",
        "DID_RENEW",
        "DID_CHANGE_RENEWAL_STATUS",
        "DID_CHANGE_RENEWAL_PREF",
        "DID_FAIL_TO_RENEW",
        "GRACE_PERIOD_EXPIRED",
        "EXPIRED",
        "REFUND",
        "REFUND_DECLINED",
        "REFUND_REVERSED",
        "REVOKE",
        "CONSUMPTION_REQUEST",
        "RENEWAL_EXTENDED",
        "RENEWAL_EXTENSION",
        "PRICE_INCREASE",
        "ONE_TIME_CHARGE",
        "TEST",
    }
)
KNOWN_SUBTYPES = frozenset(
    {
        "INITIAL_BUY",
        "RESUBSCRIBE",
        "DOWNGRADE",
        "UPGRADE",
        "AUTO_RENEW_ENABLED",
        "AUTO_RENEW_DISABLED",
        "VOLUNTARY",
        "BILLING_RETRY",
        "PRICE_INCREASE",
        "GRACE_PERIOD",
        "PENDING",
        "ACCEPTED",
        "BILLING_RECOVERY",
        "PRODUCT_NOT_FOR_SALE",
        "SUMMARY",
        "FAILURE",
        "UNREPORTED",
    }
)


@dataclass(eq=False)
class OutgoingNotification:
    """One notification as the simulator keeps it: what was signed, and each delivery attempt."""

    notification_uuid: str
    notification_type: str
    subtype: str | None
    signed_payload: str
    signed_date: int
    sequence: int
    # The customer (appTransactionId) it is about, for the history's transactionId filter.
    customer: str | None = None
    test_token: str | None = None
    # The store's event it announces, if any.
    event: StoreEvent | None = None
    attempts: list[tuple[int, str]] = field(default_factory=list)
    delivered: bool = False
    # time.monotonic() of the next attempt; None when nothing more will be tried.
    next_attempt_at: float | None = None

    def history_item(self) -> dict[str, Any]:
        return {
            "signedPayload": self.signed_payload,
            "sendAttempts": [
                {"attemptDate": date, "sendAttemptResult": result} for date, result in self.attempts
            ],
        }

    def summary(self) -> dict[str, Any]:
        """What a trainer or a test wants to see, without decoding the payload."""
        return {
            "notificationUUID": self.notification_uuid,
            "notificationType": self.notification_type,
            "subtype": self.subtype,
            "signedDate": self.signed_date,
            "delivered": self.delivered,
            "pending": self.next_attempt_at is not None,
            **self.history_item(),
        }


def sign_notification(
    *,
    chain: SigningChain,
    notification_type: str,
    subtype: str | None,
    data: dict[str, Any] | None,
    summary: dict[str, Any] | None = None,
    signed_date: int,
) -> tuple[str, str]:
    """(notificationUUID, signedPayload) of a ResponseBodyV2DecodedPayload signed with `chain`."""
    notification_uuid = str(uuid.uuid4())
    payload: dict[str, Any] = {"notificationType": notification_type}
    if subtype:
        payload["subtype"] = subtype
    payload["notificationUUID"] = notification_uuid
    if data is not None:
        payload["data"] = data
    if summary is not None:
        payload["summary"] = summary
    payload["version"] = "2.0"
    payload["signedDate"] = signed_date
    return notification_uuid, sign_jws(payload, chain)


class NotificationOutbox:
    """Keeps every notification, delivers them in a background thread, answers their history."""

    def __init__(
        self,
        *,
        url: str | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout_seconds: float = DELIVERY_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = check_url(url)
        self.retry_delays = tuple(float(delay) for delay in retry_delays)
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        self._condition = threading.Condition()
        self._sent: list[OutgoingNotification] = []
        self._next_sequence = 1
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- configuration -----------------------------------------------------------------------

    @property
    def url(self) -> str | None:
        with self._condition:
            return self._url

    def set_url(self, url: str | None) -> None:
        """Where notifications go from now on; None stops sending (history keeps them)."""
        checked = check_url(url)
        with self._condition:
            self._url = checked
            self._condition.notify_all()

    # --- running -----------------------------------------------------------------------------

    def start(self) -> None:
        with self._condition:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._deliver_forever, name="appstore-notifications", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._condition:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._condition.notify_all()
        if thread is not None:
            thread.join(timeout=self.timeout_seconds + 5)

    def clear(self) -> None:
        """Forget every notification (the URL stays, as App Store Connect keeps it)."""
        with self._condition:
            self._sent.clear()
            self._condition.notify_all()

    def wait_until_settled(self, timeout: float = 10.0) -> bool:
        """Block until nothing is being sent or waiting for a retry; False if time ran out."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._in_flight or any(s.next_attempt_at is not None for s in self._sent):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    # --- keeping -----------------------------------------------------------------------------

    def add(
        self,
        *,
        notification_uuid: str,
        notification_type: str,
        subtype: str | None,
        signed_payload: str,
        signed_date: int,
        customer: str | None = None,
        test_token: str | None = None,
        event: StoreEvent | None = None,
    ) -> OutgoingNotification:
        with self._condition:
            sent = OutgoingNotification(
                notification_uuid=notification_uuid,
                notification_type=notification_type,
                subtype=subtype,
                signed_payload=signed_payload,
                signed_date=signed_date,
                sequence=self._next_sequence,
                customer=customer,
                test_token=test_token,
                event=event,
                next_attempt_at=time.monotonic() if self._url else None,
            )
            self._next_sequence += 1
            self._sent.append(sent)
            self._condition.notify_all()
            return sent

    def all(self) -> list[OutgoingNotification]:
        with self._condition:
            return list(self._sent)

    def by_test_token(self, token: str) -> OutgoingNotification | None:
        with self._condition:
            return next((s for s in self._sent if s.test_token == token), None)

    def for_event(self, event: StoreEvent) -> OutgoingNotification | None:
        """The notification that announced one of the store's events."""
        with self._condition:
            return next((s for s in reversed(self._sent) if s.event is event), None)

    # --- delivering --------------------------------------------------------------------------

    def _deliver_forever(self) -> None:
        while True:
            with self._condition:
                sent, url = self._next_due()
                if sent is None:
                    return
                self._in_flight += 1
            try:
                result = self._post(url, sent.signed_payload)
            finally:
                with self._condition:
                    self._in_flight -= 1
                    self._record(sent, result)
                    self._condition.notify_all()

    def _next_due(self) -> tuple[OutgoingNotification | None, str]:
        """Wait (holding the condition) for a notification due now; (None, "") on stop."""
        while not self._stopping:
            now = time.monotonic()
            pending = [s for s in self._sent if s.next_attempt_at is not None]
            if pending and self._url is None:
                # The URL was taken away: what was waiting will not be sent.
                for sent in pending:
                    sent.next_attempt_at = None
                self._condition.notify_all()
                continue
            due = min(pending, key=lambda s: (s.next_attempt_at, s.sequence), default=None)
            if due is not None and due.next_attempt_at <= now:
                due.next_attempt_at = None
                return due, self._url or ""
            self._condition.wait(None if due is None else due.next_attempt_at - now)
        return None, ""

    def _record(self, sent: OutgoingNotification, result: str) -> None:
        sent.attempts.append((int(self._clock() * 1000), result))
        if result == "SUCCESS":
            sent.delivered = True
            return
        retries_done = len(sent.attempts) - 1
        if retries_done < len(self.retry_delays) and sent in self._sent:
            sent.next_attempt_at = time.monotonic() + self.retry_delays[retries_done]

    def _post(self, url: str, signed_payload: str) -> str:
        """One delivery attempt, named with Apple's sendAttemptResult values."""
        try:
            response = requests.post(
                url,
                json={"signedPayload": signed_payload},
                timeout=self.timeout_seconds,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError:
            return "TLS_ISSUE"
        except requests.Timeout:
            return "TIMED_OUT"
        except requests.ConnectionError:
            return "NO_RESPONSE"
        except requests.RequestException:
            logger.exception("A notification to %s failed", url)
            return "OTHER"
        return "SUCCESS" if response.status_code == 200 else "UNSUCCESSFUL_HTTP_RESPONSE_CODE"

    # --- Get Notification History --------------------------------------------------------------

    def history(
        self,
        body: object,
        pagination_token: str | None,
        *,
        customer_of: Callable[[str], str | None],
    ) -> dict[str, Any]:
        """One page of Get Notification History; `customer_of(transaction_id)` finds a customer."""
        query = _HistoryQuery.from_body(body, now_ms=int(self._clock() * 1000))
        customer = None
        if query.transaction_id is not None:
            customer = customer_of(query.transaction_id)
            if customer is None:
                raise ApiError(errors.TRANSACTION_ID_NOT_FOUND)
        fingerprint = query.fingerprint()
        after = _decode_token(pagination_token, fingerprint) if pagination_token else None
        with self._condition:
            matching = [
                s
                for s in self._sent
                if query.matches(s)
                and (customer is None or s.customer == customer)
                and (after is None or (s.signed_date, s.sequence) > after)
            ]
            matching.sort(key=lambda s: (s.signed_date, s.sequence))
            page = matching[:HISTORY_PAGE_SIZE]
            items = [s.history_item() for s in page]
        last = (page[-1].signed_date, page[-1].sequence) if page else after
        return {
            "notificationHistory": items,
            "hasMore": len(matching) > HISTORY_PAGE_SIZE,
            "paginationToken": _encode_token(fingerprint, last),
        }


@dataclass(frozen=True)
class _HistoryQuery:
    start_date: int
    end_date: int
    notification_type: str | None
    notification_subtype: str | None
    transaction_id: str | None
    only_failures: bool

    @classmethod
    def from_body(cls, body: object, *, now_ms: int) -> _HistoryQuery:
        """Check the request body as Apple does, each bad field with its own error code."""
        if not isinstance(body, dict):
            raise ApiError(errors.GENERAL_BAD_REQUEST)
        start, end = body.get("startDate"), body.get("endDate")
        if not _is_millis(start):
            raise ApiError(errors.INVALID_START_DATE)
        if not _is_millis(end):
            raise ApiError(errors.INVALID_END_DATE)
        if start >= end:
            raise ApiError(errors.START_DATE_AFTER_END_DATE)
        if start < now_ms - HISTORY_DAYS * _DAY_MS:
            raise ApiError(errors.START_DATE_TOO_FAR_IN_PAST)
        notification_type = body.get("notificationType")
        subtype = body.get("notificationSubtype")
        if notification_type is not None and notification_type not in KNOWN_TYPES:
            raise ApiError(errors.INVALID_NOTIFICATION_TYPE)
        if subtype is not None and (notification_type is None or subtype not in KNOWN_SUBTYPES):
            raise ApiError(errors.INVALID_NOTIFICATION_TYPE)
        transaction_id = body.get("transactionId")
        if transaction_id is not None:
            if notification_type is not None:
                raise ApiError(errors.MULTIPLE_FILTERS_SUPPLIED)
            if not isinstance(transaction_id, str) or not transaction_id.isdigit():
                raise ApiError(errors.INVALID_TRANSACTION_ID)
        only_failures = body.get("onlyFailures", False)
        if not isinstance(only_failures, bool):
            raise ApiError(errors.GENERAL_BAD_REQUEST)
        return cls(
            start_date=start,
            # An end in the future means now, as at Apple.
            end_date=min(end, now_ms + 1),
            notification_type=notification_type,
            notification_subtype=subtype,
            transaction_id=transaction_id,
            only_failures=only_failures,
        )

    def matches(self, sent: OutgoingNotification) -> bool:
        if not self.start_date <= sent.signed_date < self.end_date:
            return False
        if self.notification_type is not None and sent.notification_type != self.notification_type:
            return False
        if self.notification_subtype is not None and sent.subtype != self.notification_subtype:
            return False
        # Apple counts a notification still being retried as a failure too.
        return not (self.only_failures and sent.delivered)

    def fingerprint(self) -> str:
        parts = [
            self.start_date,
            self.notification_type,
            self.notification_subtype,
            self.transaction_id,
            self.only_failures,
        ]
        digest = hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode("utf-8"))
        return digest.hexdigest()[:24]


def _is_millis(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _encode_token(fingerprint: str, position: tuple[int, int] | None) -> str:
    token = json.dumps({"q": fingerprint, "p": position}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode("utf-8")).rstrip(b"=").decode("ascii")


def _decode_token(token: str, fingerprint: str) -> tuple[int, int] | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        position, matches = decoded["p"], decoded["q"] == fingerprint
    except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error):
        raise ApiError(errors.INVALID_PAGINATION_TOKEN) from None
    if not matches:
        raise ApiError(errors.INVALID_PAGINATION_TOKEN)
    if position is None:
        return None
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in position)
    ):
        raise ApiError(errors.INVALID_PAGINATION_TOKEN)
    return (position[0], position[1])


def check_url(url: object) -> str | None:
    """A notification URL must be http(s) with a host; None means "no URL"."""
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        raise ValueError("The notification URL must be text.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("The notification URL must be an http:// or https:// URL with a host.")
    return url
