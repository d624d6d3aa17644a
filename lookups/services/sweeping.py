"""The sweep: a periodic safety net for background work that no task is looking after any more.

A worker killed mid-task (or a process that died between writing a row and finishing with it)
leaves work behind: a pending token change nobody follows up, a follow-up whose check is
overdue, an Adapty delivery still queued, or "sent" long past any call's length, an App Store
notification stored but not applied, a consumption answer nobody is sending again. The sweep
finds them and queues them again, and marks the refund requests whose deadline passed with no
answer as missed, whether or not anyone opens the queue page. Every task is idempotent, so a
duplicate does no harm. Each sweep queues the next one (`schedule_sweep`), and `manage.py
db_worker` queues one when it starts, so the sweep needs no cron.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups.models import (
    AdaptyDelivery,
    AppStoreNotification,
    ConsumptionAnswer,
    ConsumptionAnswerFollowUp,
    TokenChange,
    TokenChangeFollowUp,
)
from lookups.services import (
    consumption_follow_up,
    notification_door,
    notifications,
    refund_requests,
    settling,
)
from lookups.services.adapty_delivery import adapty_call_budget, may_send_again, send_to_adapty
from lookups.services.task_queue import enqueue_at, one_scheduler_at_a_time, tasks_of


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped while running it."""


def sweep() -> Counter[str]:
    """Queue again whatever background work was left behind; returns what it found, by kind."""
    from lookups import tasks  # lookups.tasks imports this module

    now = timezone.now()
    overdue = now - timedelta(seconds=settings.SWEEP_OVERDUE_SECONDS)
    found: Counter[str] = Counter()
    with one_scheduler_at_a_time():
        found["abandoned tasks"] = _fail_abandoned_tasks(now)

        # Pending past any call's length with no follow-up: the linking process died.
        unwatched = TokenChange.objects.filter(
            outcome=TokenChange.Outcome.PENDING,
            follow_up__isnull=True,
            created_at__lt=now - settling.answer_wait(),
        )
        for change in unwatched:
            settling.follow_up(change, first_check_at=now)
            found["pending changes without a follow-up"] += 1

        stalled = TokenChangeFollowUp.objects.filter(
            token_change__outcome=TokenChange.Outcome.PENDING,
            gave_up_at__isnull=True,
            next_check_at__lt=overdue,
        )
        for follow in stalled:
            # Conditional, so two sweeps can't both take the same overdue check over.
            if TokenChangeFollowUp.objects.filter(
                pk=follow.pk, next_check_at=follow.next_check_at
            ).update(next_check_at=now):
                enqueue_at(tasks.check_token_change, None, token_change_id=follow.pk)
                found["overdue checks"] += 1

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
                enqueue_at(tasks.deliver_to_adapty, None, delivery_id=delivery.pk)
                found["queued Adapty deliveries"] += 1

        found["Adapty deliveries cut off"] = _resend_cut_off_deliveries(now - adapty_call_budget())

        # Stored but never applied: the process died between storing and its task finishing.
        unapplied = AppStoreNotification.objects.filter(
            state=AppStoreNotification.State.RECEIVED, received_at__lt=overdue
        ).count()
        if unapplied:
            notifications.wake_applier()
            found["notifications not applied"] = unapplied

        found.update(_consumption_answers_left_behind(now, overdue))
        found["refund requests missed"] = refund_requests.mark_missed(now)
        found["refused notification records pruned"] = notification_door.prune(now)
    return +found


def _consumption_answers_left_behind(now, overdue) -> Counter[str]:
    """Pending answers with no follow-up (their process died mid-call), or an overdue one."""
    from lookups import tasks  # lookups.tasks imports this module

    found: Counter[str] = Counter()
    unwatched = ConsumptionAnswer.objects.filter(
        outcome=ConsumptionAnswer.Outcome.PENDING,
        follow_up__isnull=True,
        created_at__lt=now - (settling.first_check_time(now) - now),  # budget + margin
    )
    for answer in unwatched:
        consumption_follow_up.follow_up(answer, first_send_at=now)
        found["pending consumption answers without a follow-up"] += 1
    stalled = ConsumptionAnswerFollowUp.objects.filter(
        answer__outcome=ConsumptionAnswer.Outcome.PENDING, next_send_at__lt=overdue
    )
    for follow in stalled:
        if ConsumptionAnswerFollowUp.objects.filter(
            pk=follow.pk, next_send_at=follow.next_send_at
        ).update(next_send_at=now):
            enqueue_at(tasks.resend_consumption_answer, None, answer_id=follow.pk)
            found["overdue consumption answer resends"] += 1
    return found


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
    from lookups import tasks  # lookups.tasks imports this module

    if not tasks.sweep.get_backend().supports_defer:
        # The immediate backend would run it now, and it would queue itself again at once.
        return False
    delay = delay if delay is not None else timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS)
    with one_scheduler_at_a_time():
        if tasks_of(tasks.sweep).filter(status=TaskResultStatus.READY).exists():
            return False
        enqueue_at(tasks.sweep, timezone.now() + delay)
    return True
