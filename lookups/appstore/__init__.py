"""Apple's App Store Server API as a small library: no Django, plain values in, dataclasses out."""

from .client import AppStoreClient, HistoryFilters, HistoryPage, OrderLookup, RetryPolicy
from .errors import AppStoreError
from .notification_history import (
    NotificationHistoryPage,
    NotificationHistoryQuery,
    SentNotification,
)
from .notifications import Notification, NotificationData, NotificationSubtype, NotificationType
from .renewal_info import RenewalInfo
from .transactions import Transaction
from .verify import TransactionVerifier, VerificationError, load_root_certificates

__all__ = [
    "AppStoreClient",
    "AppStoreError",
    "HistoryFilters",
    "HistoryPage",
    "Notification",
    "NotificationData",
    "NotificationHistoryPage",
    "NotificationHistoryQuery",
    "NotificationSubtype",
    "NotificationType",
    "OrderLookup",
    "RenewalInfo",
    "RetryPolicy",
    "SentNotification",
    "Transaction",
    "TransactionVerifier",
    "VerificationError",
    "load_root_certificates",
]
