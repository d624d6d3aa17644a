"""The sweep: a periodic safety net for background work that no task is looking after any more.

A worker killed mid-task (or a process that died between writing a row and finishing with it)
leaves work behind: a pending action at Apple of any kind (a link, an extension, a consumption
answer) nobody follows up, a follow-up whose check is overdue (`apple_actions.engine`), an Adapty
delivery still queued, or "sent" long past any call's length, an App Store notification stored
but not applied. The sweep
finds them and queues them again, and marks the refund requests whose deadline passed with no
answer as missed, whether or not anyone opens the queue page. Every task is idempotent, so a
duplicate does no harm. Each sweep queues the next one (`schedule_sweep`), and `manage.py
db_worker` queues one when it starts, so the sweep needs no cron.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups.models import AdaptyDelivery, AppStoreNotification
from lookups.services import notification_door, notifications, refund_requests
from lookups.services.adapty_delivery import (
    adapty_call_budget,
    deliver_to_adapty,
    may_send_again,
    send_to_adapty,
)
from lookups.services.apple_actions import engine as apple_actions_engine
from lookups.services.task_queue import enqueue_at, one_scheduler_at_a_time, tasks_of


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped while running it."""


@task()
def periodic_sweep() -> dict[str, int]:
    """The task: queue again the work a dead worker left, then queue the next sweep."""
    try:
        return dict(sweep())
    finally:
        schedule_sweep()


def sweep() -> Counter[str]:
    """Queue again whatever background work was left behind; returns what it found, by kind."""
    now = timezone.now()
    overdue = now - timedelta(seconds=settings.SWEEP_OVERDUE_SECONDS)
    found: Counter[str] = Counter()
    with one_scheduler_at_a_time():
        found["abandoned tasks"] = _fail_abandoned_tasks(now)

        # Actions at Apple of every kind whose process died mid-call, or whose check is overdue.
        found.update(apple_actions_engine.rescue_pending(now, overdue))

        queued = AdaptyDelivery.objects.filter(
            outcome=AdaptyDelivery.Outcome.QUEUED, not_before__lt=overdue
        )
        for delivery in queued:
            still_queued = AdaptyDelivery.objects.filter(
                pk=delivery.pk,
                outcome=AdaptyDelivery.Outcome.QUEUED,
                not_before=delivery.not_before,
            )
            if still_queued.update(not_before=now):
                enqueue_at(deliver_to_adapty, None, delivery_id=delivery.pk)
                found["queued Adapty deliveries"] += 1

        found["Adapty deliveries cut off"] = _resend_cut_off_deliveries(now - adapty_call_budget())

        # Stored but never applied: the process died between storing and its task finishing.
        unapplied = AppStoreNotification.objects.filter(
            state=AppStoreNotification.State.RECEIVED, received_at__lt=overdue
        ).count()
        if unapplied:
            notifications.wake_applier()
            found["notifications not applied"] = unapplied

        found["refund requests missed"] = refund_requests.mark_missed(now)
        found["refused notification records pruned"] = notification_door.prune(now)
    return +found


def _resend_cut_off_deliveries(sent_before) -> int:
    """Deliveries "sent" longer ago than any call lasts: their worker died during the call.

    Whether Adapty recorded it is unknown, and sending it again is safe (Adapty keeps one record
    per store transaction), so the row is settled as failed and the next attempt queued, within
    ADAPTY_DELIVERY_ATTEMPTS; past that, the agent's retry button is left.
    """
    cut_off = AdaptyDelivery.objects.filter(
        outcome=AdaptyDelivery.Outcome.SENT,
        sent_at__lt=sent_before - timedelta(seconds=settings.SWEEP_OVERDUE_SECONDS),
    ).select_related("token_change__account", "agent")
    count = 0
    for delivery in cut_off:
        settled = AdaptyDelivery.objects.filter(
            pk=delivery.pk, outcome=AdaptyDelivery.Outcome.SENT
        ).update(
            outcome=AdaptyDelivery.Outcome.FAILED,
            settled_at=timezone.now(),
            error_message=(
                "The worker stopped while Adapty was being called, so its answer is unknown."
            ),
        )
        if settled and may_send_again(delivery):
            send_to_adapty(delivery.agent, delivery.token_change, attempt=delivery.attempt + 1)
        count += settled
    return count


def _fail_abandoned_tasks(now) -> int:
    """Mark tasks whose worker died mid-run as failed, so the queue shows them as they are."""
    started_before = now - timedelta(seconds=settings.TASKS_ABANDONED_AFTER_SECONDS)
    abandoned = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=started_before)
    )
    for result in abandoned:
        result.set_failed(
            WorkerLost(
                f"worker {', '.join(result.worker_ids) or '?'} stopped while running this task; "
                "the sweep queued its work again"
            )
        )
    return len(abandoned)


def schedule_sweep(*, delay: timedelta | None = None) -> bool:
    """Queue the next sweep unless one is already queued. Returns whether this call queued it.

    Two workers starting together (or a worker starting while a sweep runs) line up on one lock,
    so exactly one sweep waits in the queue at any time.
    """
    if not periodic_sweep.get_backend().supports_defer:
        # The immediate backend would run it now, and it would queue itself again at once.
        return False
    delay = delay if delay is not None else timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS)
    with one_scheduler_at_a_time():
        if tasks_of(periodic_sweep).filter(status=TaskResultStatus.READY).exists():
            return False
        enqueue_at(periodic_sweep, timezone.now() + delay)
    return True
