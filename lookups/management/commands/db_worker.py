"""`manage.py db_worker`: django-tasks-db's worker, which first makes sure a sweep is queued,
and a pruning of old notifications (lookups.services.retention).

So a deployment needs no cron: the sweep (lookups.tasks.sweep) queues the next one each time it
runs, and a worker starting on an empty queue starts the cycle.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from lookups.services.retention import schedule_pruning
from lookups.services.sweeping import schedule_sweep


class Command(DatabaseWorkerCommand):
    help = "Run a background worker (django-tasks-db), with the desk's periodic sweep queued."

    def handle(self, *args: Any, **options: Any) -> None:
        schedule_sweep()
        # A first pruning soon after a worker starts; each queues the next one a day later.
        schedule_pruning(delay=timedelta(minutes=10))
        super().handle(*args, **options)
