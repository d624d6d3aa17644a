"""Which open pages a saved row concerns: its topics are bumped once the change is committed
(lookups/services/live.py), so a page polling then reads the change."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save

from lookups.models import (
    AppStoreNotification,
    ConsumptionAnswer,
    Purchase,
    RefundRequest,
    SubscriptionExtension,
    TokenChange,
    TransferRequest,
)
from lookups.services import live


def _bump_after_commit(*topics: str) -> None:
    transaction.on_commit(lambda: live.bump(*topics))


def _purchase_changed(sender, instance, **kwargs) -> None:
    topics = [live.purchase_topic(instance.original_transaction_id)]
    if getattr(instance, "account_id", None):
        topics.append(live.account_topic(instance.account_id))
    if sender is SubscriptionExtension or sender is TransferRequest:
        topics.append(live.APPROVALS)
    _bump_after_commit(*topics)


def _refund_changed(sender, instance, **kwargs) -> None:
    case = instance.refund_request if sender is ConsumptionAnswer else instance
    topics = [live.REFUNDS, live.purchase_topic(case.original_transaction_id)]
    if case.account_id:
        topics.append(live.account_topic(case.account_id))
    _bump_after_commit(*topics)


def connect() -> None:
    for model in (Purchase, TokenChange, AppStoreNotification, SubscriptionExtension):
        post_save.connect(_purchase_changed, sender=model, dispatch_uid=f"live-{model.__name__}")
    post_save.connect(_purchase_changed, sender=TransferRequest, dispatch_uid="live-transfer")
    for model in (RefundRequest, ConsumptionAnswer):
        post_save.connect(_refund_changed, sender=model, dispatch_uid=f"live-{model.__name__}")
