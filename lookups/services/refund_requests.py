"""Refund requests Apple asks the desk about (CONSUMPTION_REQUEST) and their outcome.

Not built yet: both functions are called by notification processing and do nothing for now.
"""

from __future__ import annotations

from lookups.models import AppStoreNotification


def open_refund_request(notification: AppStoreNotification) -> None:
    """A customer asked Apple for a refund and Apple asks for consumption information."""


def close_refund_request(notification: AppStoreNotification) -> None:
    """Apple decided a refund request (REFUND, REFUND_DECLINED, REFUND_REVERSED)."""
