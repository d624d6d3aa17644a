"""`manage.py db_worker`: django-tasks-db's worker, which first makes sure a sweep, a pruning
of old notifications (lookups.services.retention) and the scheduled audit log check are queued.

So a deployment needs no cron: the sweep (lookups.tasks.sweep) queues the next one each time it
runs, and a worker starting on an empty queue starts the cycle.

A database that goes away (a restart, a failover, a network cut) doesn't stop the worker: it
waits for the database to come back, asking every DB_WORKER_RECONNECT_SECONDS, and goes on.
Only an outage longer than DB_WORKER_OUTAGE_PATIENCE_SECONDS ends it, with an error its
supervisor sees (`serve_demo` starts it again). A task cut off by the outage is the sweep's,
as with any worker that stopped mid-task.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from lookups.services.audit_checks import schedule_check
from lookups.services.retention import schedule_pruning
from lookups.services.sweeping import schedule_sweep

logger = logging.getLogger(__name__)


class Command(DatabaseWorkerCommand):
    help = "Run a background worker (django-tasks-db), with the periodic sweep and check queued."

    def handle(self, *args: Any, **options: Any) -> None:
        outage_began = last_failure = 0.0
        while True:
            try:
                schedule_sweep()
                # A first pruning soon after a worker starts; each queues the next a day later.
                schedule_pruning(delay=timedelta(minutes=10))
                schedule_check()
                super().handle(*args, **options)
                return
            except (OperationalError, InterfaceError) as error:
                now = time.monotonic()
                # Failures a few waits apart are one outage; a longer quiet ended the last one.
                if now - last_failure > 2 * settings.DB_WORKER_RECONNECT_SECONDS + 30:
                    outage_began = now
                last_failure = now
                if now - outage_began > settings.DB_WORKER_OUTAGE_PATIENCE_SECONDS:
                    raise
                logger.warning("The database can't be reached (%s); waiting for it.", error)
                _forget_connections()
                time.sleep(settings.DB_WORKER_RECONNECT_SECONDS)


def _forget_connections() -> None:
    """Drop the broken connections, so the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except (OperationalError, InterfaceError):
            connection.connection = None
    close_old_connections()
