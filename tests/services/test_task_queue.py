"""The task queue: work queued for later or now, retries spread out, and how long the oldest
waiting work has waited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups.services import task_queue
from lookups.services.adapty_delivery import deliver_to_adapty
from lookups.services.sweeping import periodic_sweep
from tests.fixtures.background_work import DATABASE_BACKEND

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_queue(settings):
    settings.TASKS = DATABASE_BACKEND


def test_work_queued_for_later_waits_until_then_and_other_work_is_due_at_once():
    later = timezone.now() + timedelta(minutes=5)

    task_queue.enqueue_at(deliver_to_adapty, later, delivery_id=1)
    task_queue.enqueue_at(periodic_sweep, None)

    assert task_queue.tasks_of(deliver_to_adapty).get().run_after == later
    assert task_queue.is_waiting(periodic_sweep)
    assert list(task_queue.waiting_tasks().values_list("task_path", flat=True)) == [
        periodic_sweep.module_path
    ]


def test_nothing_is_waiting_once_a_worker_has_taken_it():
    task_queue.enqueue_at(periodic_sweep, None)
    DBTaskResult.objects.update(status="RUNNING")

    assert not task_queue.is_waiting(periodic_sweep)
    assert task_queue.oldest_wait() == (0, None)


def test_the_oldest_wait_counts_from_when_work_became_due():
    now = timezone.now()
    task_queue.enqueue_at(periodic_sweep, None)
    task_queue.enqueue_at(deliver_to_adapty, now - timedelta(minutes=7), delivery_id=2)
    task_queue.enqueue_at(deliver_to_adapty, now + timedelta(hours=1), delivery_id=3)

    count, oldest = task_queue.oldest_wait(now)

    assert count == 2  # the one due in an hour does not wait yet
    assert timedelta(minutes=7) <= oldest < timedelta(minutes=8)


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_a_retry_waits_at_least_half_its_step_and_never_past_the_cap(settings, attempt):
    settings.TASK_RETRY_DELAY_SECONDS = 10
    settings.TASK_RETRY_CAP_SECONDS = 60
    step = min(60, 10 * 2 ** (attempt - 1))

    delays = {task_queue.retry_delay(attempt) for _ in range(50)}

    assert all(timedelta(seconds=step / 2) <= d <= timedelta(seconds=step) for d in delays)
    assert len(delays) > 1  # jittered: workers that failed together spread out


def test_the_scheduling_transaction_commits_its_work():
    with task_queue.one_scheduler_at_a_time():
        task_queue.enqueue_at(periodic_sweep, None)
    assert task_queue.is_waiting(periodic_sweep)
