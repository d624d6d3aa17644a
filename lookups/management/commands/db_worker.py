"""`manage.py db_worker`: django-tasks-db's worker, which first makes sure a sweep and the
scheduled audit log check are queued.

So a deployment needs no cron: the sweep (lookups.tasks.sweep) queues the next one each time it
runs, and a worker starting on an empty queue starts the cycle.
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from lookups.services.audit_checks import schedule_check
from lookups.services.sweeping import schedule_sweep


class Command(DatabaseWorkerCommand):
    help = "Run a background worker (django-tasks-db), with the periodic sweep and check queued."

    def handle(self, *args: Any, **options: Any) -> None:
        schedule_sweep()
        schedule_check()
        super().handle(*args, **options)
