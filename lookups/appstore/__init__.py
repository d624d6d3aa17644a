"""Apple's App Store Server API as a small library: no Django, plain values in, dataclasses out."""

from .client import (
    AppStoreClient,
    ConsumptionInformation,
    HistoryFilters,
    HistoryPage,
    LastTransaction,
    OrderLookup,
    RefundHistoryPage,
    RenewalExtension,
    RetryPolicy,
    SubscriptionGroupStatus,
    SubscriptionStatuses,
)
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
    "ConsumptionInformation",
    "HistoryFilters",
    "HistoryPage",
    "LastTransaction",
    "Notification",
    "NotificationData",
    "NotificationHistoryPage",
    "NotificationHistoryQuery",
    "NotificationSubtype",
    "NotificationType",
    "OrderLookup",
    "RefundHistoryPage",
    "RenewalExtension",
    "RenewalInfo",
    "RetryPolicy",
    "SentNotification",
    "SubscriptionGroupStatus",
    "SubscriptionStatuses",
    "Transaction",
    "TransactionVerifier",
    "VerificationError",
    "load_root_certificates",
]
