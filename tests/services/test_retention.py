"""Retention: old applied notifications and refused bodies go, in short batches; the audit stays."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from lookups.models import AppStoreNotification, QuarantinedNotification, TokenChange
from lookups.services import retention
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

State = AppStoreNotification.State


def notification(state: str, age_days: float) -> AppStoreNotification:
    row = AppStoreNotification.objects.create(
        notification_uuid=str(uuid.uuid4()),
        environment="Production",
        notification_type="DID_RENEW",
        payload={},
        state=state,
    )
    AppStoreNotification.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(days=age_days)
    )
    return row


def refused(age_days: float) -> QuarantinedNotification:
    row = QuarantinedNotification.objects.create(reason="signature", body="x", body_length=1)
    QuarantinedNotification.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(days=age_days)
    )
    return row


def test_applied_notifications_past_the_setting_are_deleted_and_the_rest_kept(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 180
    old_applied = notification(State.PROCESSED, 181)
    old_ignored = notification(State.IGNORED, 400)
    old_not_applied = notification(State.RECEIVED, 400)
    recent_applied = notification(State.PROCESSED, 179)

    deleted = retention.prune()

    left = set(AppStoreNotification.objects.values_list("pk", flat=True))
    assert left == {old_not_applied.pk, recent_applied.pk}
    assert old_applied.pk not in left and old_ignored.pk not in left
    assert deleted["applied notifications"] == 2


def test_the_retention_period_is_a_setting(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    notification(State.PROCESSED, 31)
    kept = notification(State.PROCESSED, 29)

    retention.prune()

    assert list(AppStoreNotification.objects.values_list("pk", flat=True)) == [kept.pk]


def test_refused_bodies_past_the_setting_are_deleted(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 180
    refused(200)
    kept = refused(10)

    deleted = retention.prune()

    assert list(QuarantinedNotification.objects.values_list("pk", flat=True)) == [kept.pk]
    assert deleted["refused notifications"] == 1


def test_rows_go_in_batches_of_the_set_size(settings):
    for _ in range(7):
        notification(State.PROCESSED, 365)
    batches = []
    real = retention._delete_batch

    def counted(rows, batch_rows):
        batches.append(real(rows, batch_rows))
        return batches[-1]

    retention._delete_batch = counted
    try:
        retention.prune(batch_rows=3, pause_seconds=0)
    finally:
        retention._delete_batch = real

    assert batches[:3] == [3, 3, 1]  # then the refused bodies: none
    assert not AppStoreNotification.objects.exists()


def test_the_audit_log_is_never_pruned(settings, agent_user, customer_account):
    settings.NOTIFICATION_RETENTION_DAYS = 1
    change = make_token_change(agent_user, customer_account)
    TokenChange.objects.filter(pk=change.pk).update(
        created_at=timezone.now() - timedelta(days=3650)
    )

    retention.prune_old_records.call()

    assert TokenChange.objects.filter(pk=change.pk).exists()
    audited = {TokenChange, *(model for model in _audit_models())}
    assert not audited & {prunable.rows(timezone.now()).model for prunable in retention.PRUNABLE}


def _audit_models():
    from lookups.models import ConsumptionAnswer, Lookup, SubscriptionExtension

    return [ConsumptionAnswer, Lookup, SubscriptionExtension]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_row_another_transaction_holds_is_skipped_not_waited_for(settings):
    held = notification(State.PROCESSED, 365)
    free = notification(State.PROCESSED, 365)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                AppStoreNotification.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        retention.prune(pause_seconds=0)
        took = time.monotonic() - started
    finally:
        release.set()
        holder.join()

    assert took < 5  # it did not wait out the holder's ten seconds
    left = set(AppStoreNotification.objects.values_list("pk", flat=True))
    assert left == {held.pk} and free.pk not in left
