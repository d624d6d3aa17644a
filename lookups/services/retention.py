"""Retention: old applied App Store notifications and refused bodies are deleted, a batch at a time.

Apple keeps a notification's history for 180 days (Get Notification History), and the desk's
copy of an applied one has done its work once the purchase picture holds it: past
NOTIFICATION_RETENTION_DAYS it is deleted. A notification not applied yet is never deleted, nor
is anything of the audit log (token changes, extensions, consumption answers, lookups): those
tables refuse deletes anyway.

Each batch is its own short transaction that deletes at most RETENTION_BATCH_ROWS rows, chosen
with SKIP LOCKED on PostgreSQL, so pruning never waits on a row an applier holds and holds its
own locks for a few milliseconds; a pause between batches leaves the database to the desk.
The task that runs it (`prune_old_records`, below) queues its own next run once a day.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from lookups.models import AppStoreNotification, QuarantinedNotification
from lookups.services.task_queue import enqueue_at, one_scheduler_at_a_time, tasks_of

PRUNE_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Prunable:
    """Rows of one table that may go once older than the retention period."""

    name: str
    rows: Callable[[datetime], models.QuerySet]


def _applied_notifications(cutoff: datetime) -> models.QuerySet:
    return AppStoreNotification.objects.filter(
        state__in=[AppStoreNotification.State.PROCESSED, AppStoreNotification.State.IGNORED],
        received_at__lt=cutoff,
    )


def _refused_notifications(cutoff: datetime) -> models.QuerySet:
    return QuarantinedNotification.objects.filter(received_at__lt=cutoff)


# What retention prunes. A sample of refused notifications kept elsewhere joins this list with
# its own query of rows older than the cutoff.
PRUNABLE: list[Prunable] = [
    Prunable("applied notifications", _applied_notifications),
    Prunable("refused notifications", _refused_notifications),
]


def cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)


def prune(
    now: datetime | None = None,
    *,
    batch_rows: int | None = None,
    pause_seconds: float | None = None,
) -> Counter[str]:
    """Delete every prunable row older than the retention period; the count by kind."""
    before = cutoff(now)
    batch_rows = batch_rows or settings.RETENTION_BATCH_ROWS
    pause = settings.RETENTION_PAUSE_SECONDS if pause_seconds is None else pause_seconds
    deleted: Counter[str] = Counter()
    for prunable in PRUNABLE:
        while True:
            count = _delete_batch(prunable.rows(before), batch_rows)
            deleted[prunable.name] += count
            if count < batch_rows:
                break
            time.sleep(pause)
    return +deleted


def _delete_batch(rows: models.QuerySet, batch_rows: int) -> int:
    """One short transaction: lock up to `batch_rows` rows nobody else holds, delete them."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            rows = rows.select_for_update(skip_locked=True)
        keys = list(rows.order_by("pk").values_list("pk", flat=True)[:batch_rows])
        if not keys:
            return 0
        # A raw delete: these tables have no dependants to collect, and no signals to send.
        return rows.model.objects.filter(pk__in=keys)._raw_delete(using=rows.db)


def schedule_pruning(*, delay: timedelta = PRUNE_EVERY) -> bool:
    """Queue the next pruning unless one is queued already. Returns whether this call queued it."""
    if not prune_old_records.get_backend().supports_defer:
        # The immediate backend would run it now, and it would queue itself again at once.
        return False
    with one_scheduler_at_a_time():
        if tasks_of(prune_old_records).filter(status=TaskResultStatus.READY).exists():
            return False
        enqueue_at(prune_old_records, timezone.now() + delay)
    return True


@task()
def prune_old_records() -> dict[str, int]:
    """Delete applied notifications past their retention, in short batches; queue the next run."""
    try:
        return dict(prune())
    finally:
        schedule_pruning()
