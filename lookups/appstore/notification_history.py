"""Get Notification History and the test notification: the request body and Apple's answers.

Apple keeps every notification it tried to send (180 days back in Production) with each attempt's
result, so a desk that missed some can fetch them again. The signed payloads come back as sent;
verify them with `TransactionVerifier.decode_notification`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import UnreadableResponseError


@dataclass(frozen=True, slots=True)
class NotificationHistoryQuery:
    """The body of Get Notification History; send the same one with every paginationToken.

    Apple takes a type filter or a transaction filter, not both, and a subtype only with its type.
    """

    start_date: datetime
    end_date: datetime
    notification_type: str | None = None
    notification_subtype: str | None = None
    transaction_id: str | None = None
    only_failures: bool = False

    def __post_init__(self) -> None:
        for moment in (self.start_date, self.end_date):
            if moment.tzinfo is None:
                raise ValueError("notification history dates must be timezone-aware")
        if self.start_date >= self.end_date:
            raise ValueError("the start date must be before the end date")
        if self.notification_type and self.transaction_id:
            raise ValueError("filter by notification type or by transaction ID, not both")
        if self.notification_subtype and not self.notification_type:
            raise ValueError("a notification subtype needs its notification type")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "startDate": _millis(self.start_date),
            "endDate": _millis(self.end_date),
        }
        if self.notification_type:
            body["notificationType"] = self.notification_type
        if self.notification_subtype:
            body["notificationSubtype"] = self.notification_subtype
        if self.transaction_id:
            body["transactionId"] = self.transaction_id
        if self.only_failures:
            body["onlyFailures"] = True
        return body


@dataclass(frozen=True, slots=True)
class SendAttempt:
    """One try at delivering a notification; `result` is Apple's sendAttemptResult (SUCCESS...)."""

    attempt_date: datetime | None
    result: str | None

    @property
    def succeeded(self) -> bool:
        return self.result == "SUCCESS"


@dataclass(frozen=True, slots=True)
class SentNotification:
    """A notification as Apple keeps it: the signed payload and every attempt to deliver it."""

    signed_payload: str
    send_attempts: tuple[SendAttempt, ...]

    @property
    def delivered(self) -> bool:
        return any(attempt.succeeded for attempt in self.send_attempts)


@dataclass(frozen=True, slots=True)
class NotificationHistoryPage:
    """One page (up to 20 notifications) of Get Notification History."""

    notifications: tuple[SentNotification, ...]
    has_more: bool
    pagination_token: str | None


def history_page_from_body(body: dict[str, Any]) -> NotificationHistoryPage:
    items = body.get("notificationHistory")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise UnreadableResponseError(
            http_status=200, agent_message="The App Store's answer listed no notifications."
        )
    token = body.get("paginationToken")
    return NotificationHistoryPage(
        notifications=tuple(
            sent for sent in (sent_notification_from(item) for item in items) if sent is not None
        ),
        has_more=body.get("hasMore") is True,
        pagination_token=token if isinstance(token, str) and token else None,
    )


def sent_notification_from(item: object) -> SentNotification | None:
    """A history item or a test notification's status; None when it holds no signed payload."""
    if not isinstance(item, dict) or not isinstance(item.get("signedPayload"), str):
        return None
    attempts = item.get("sendAttempts")
    return SentNotification(
        signed_payload=item["signedPayload"],
        send_attempts=tuple(
            _attempt(attempt) for attempt in (attempts if isinstance(attempts, list) else [])
        ),
    )


def _attempt(item: object) -> SendAttempt:
    if not isinstance(item, dict):
        return SendAttempt(attempt_date=None, result=None)
    millis = item.get("attemptDate")
    result = item.get("sendAttemptResult")
    moment = None
    if isinstance(millis, int) and not isinstance(millis, bool):
        try:
            moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            moment = None
    return SendAttempt(attempt_date=moment, result=result if isinstance(result, str) else None)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
