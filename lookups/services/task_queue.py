"""Putting work on the task queue, and reading how the queue is doing.

The queue is django-tasks-db's table in the desk's own database, so work is queued in the same
transaction as the rows it is about: a task exists exactly when its row does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Min, When
from django.tasks import Task, TaskResult, TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from lookups.appstore.backoff import backoff_delay

# Any constant will do, as long as nothing else takes the same PostgreSQL advisory lock.
_SCHEDULING_LOCK = 0x5D5C_0011


def enqueue_at(task: Task, when: datetime | None, **kwargs: object) -> TaskResult:
    """Queue `task` to run at `when` (None: as soon as a worker is free).

    A backend that can't wait (the immediate one, in tests) runs it at once; every task checks
    for itself that its work is due, so running early does no harm.
    """
    if when is not None and task.get_backend().supports_defer:
        task = task.using(run_after=when)
    return task.enqueue(**kwargs)


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed try number `attempt` of some background work.

    Half the doubling step for sure plus up to half again at random ("equal jitter"): workers
    that failed together spread out, and a retry never comes straight back.
    """
    step = min(
        settings.TASK_RETRY_CAP_SECONDS, settings.TASK_RETRY_DELAY_SECONDS * 2 ** (attempt - 1)
    )
    return timedelta(seconds=step / 2 + backoff_delay(1, base_seconds=step / 2, cap_seconds=step))


@contextlib.contextmanager
def one_scheduler_at_a_time() -> Iterator[None]:
    """A transaction that no other process is inside at the same time.

    On SQLite every write transaction is already alone (IMMEDIATE, see settings). On PostgreSQL
    a transaction-scoped advisory lock does it, released at commit.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEDULING_LOCK])
        yield


def is_waiting(task: Task) -> bool:
    """Whether a run of `task` is queued and no worker has taken it yet.

    Asked on every notification Apple posts, so it is one indexed query (the queue's own partial
    index on waiting rows), written out rather than built by the ORM each time.
    """
    sql, params = waiting_query(task)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def waiting_query(task: Task) -> tuple[str, list[str]]:
    """`is_waiting`'s query and parameters: a row when a run of `task` waits for a worker."""
    table = connection.ops.quote_name(DBTaskResult._meta.db_table)
    # Only the model's own table name is spliced in; the values are parameters.
    sql = f"SELECT 1 FROM {table} WHERE status = %s AND task_path = %s LIMIT 1"  # noqa: S608
    return sql, [TaskResultStatus.READY, task.module_path]


def tasks_of(task: Task):
    """The queue's rows of one task function."""
    return DBTaskResult.objects.filter(task_path=task.module_path)


def waiting_tasks():
    """Tasks that could run now and that no worker has taken yet."""
    return DBTaskResult.objects.ready()


def oldest_wait(now: datetime | None = None) -> tuple[int, timedelta | None]:
    """How many tasks are waiting for a worker, and how long the longest has waited."""
    now = now or timezone.now()
    waiting = waiting_tasks()
    # A task queued for later has waited since it became due, not since it was queued.
    due_since = Case(When(run_after=get_date_max(), then="enqueued_at"), default="run_after")
    summary = waiting.aggregate(oldest=Min(due_since))
    count = waiting.count()
    if not count or summary["oldest"] is None:
        return count, None
    return count, max(now - summary["oldest"], timedelta(0))
