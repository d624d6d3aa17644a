"""Checking the notification URL end to end: Request a Test Notification, and whether it arrived.

Apple sends a TEST notification to the URL set in App Store Connect and keeps its send attempts
under the token it answered with. The desk's side of the check is the endpoint's own storage: a
TEST row with the same notificationUUID as the payload Apple reports.

No audit row is written. The audit log records changes to customers' purchases at Apple (token
changes, extensions, consumption answers); a test notification changes nothing a customer owns,
and its arrival is itself recorded, as the AppStoreNotification row the check looks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from lookups.appstore import AppStoreError, VerificationError
from lookups.appstore.notification_history import SendAttempt
from lookups.models import AppStoreNotification
from lookups.services.clients import app_store_client, transaction_verifier


@dataclass(frozen=True)
class NotificationCheck:
    token: str = ""
    requested_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class NotificationCheckReport:
    """What Apple says it tried, and what the desk's endpoint stored."""

    token: str
    send_attempts: tuple[SendAttempt, ...] = ()
    notification_uuid: str = ""
    stored: AppStoreNotification | None = None
    apple_error: str = ""
    unverified: str = ""
    # TEST notifications stored since the request, when Apple's answer can't name the one.
    stored_since: list[AppStoreNotification] = field(default_factory=list)

    @property
    def delivered_per_apple(self) -> bool:
        return any(attempt.succeeded for attempt in self.send_attempts)

    @property
    def arrived(self) -> bool:
        return self.stored is not None


def request_test_notification() -> NotificationCheck:
    """Ask Apple to send a TEST notification now; its error in plain words with the code."""
    requested_at = timezone.now()
    try:
        token = app_store_client().request_test_notification()
    except AppStoreError as error:
        return NotificationCheck(error=error.describe())
    return NotificationCheck(token=token, requested_at=requested_at)


def check_test_notification(
    token: str, *, since: datetime | None = None
) -> NotificationCheckReport:
    """Get Test Notification Status for `token`, matched with what the endpoint stored."""
    try:
        sent = app_store_client().get_test_notification_status(token)
    except AppStoreError as error:
        return NotificationCheckReport(
            token=token, apple_error=error.describe(), stored_since=_tests_since(since)
        )
    try:
        notification = transaction_verifier().decode_notification(sent.signed_payload)
    except VerificationError as error:
        return NotificationCheckReport(
            token=token,
            send_attempts=sent.send_attempts,
            unverified=f"Verification failed ({error.check}): {error.detail}",
            stored_since=_tests_since(since),
        )
    stored = AppStoreNotification.objects.filter(
        notification_uuid=notification.notification_uuid,
        environment=settings.APPSTORE_ENVIRONMENT,
    ).first()
    return NotificationCheckReport(
        token=token,
        send_attempts=sent.send_attempts,
        notification_uuid=notification.notification_uuid,
        stored=stored,
    )


def _tests_since(since: datetime | None) -> list[AppStoreNotification]:
    if since is None:
        return []
    return list(
        AppStoreNotification.objects.filter(
            notification_type="TEST",
            environment=settings.APPSTORE_ENVIRONMENT,
            received_at__gte=since,
        ).order_by("received_at")[:10]
    )
