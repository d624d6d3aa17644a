"""`manage.py db_worker` rides out a database outage instead of exiting with it.

PostgreSQL only: the worker reaches the test database through a relay that the test cuts.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from lookups import tasks
from tests.fixtures.database_outage import DatabaseRelay
from tests.fixtures.worker_process import database_url, start_worker, stop, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL behind a relay it can cut"
    ),
]


def test_a_worker_rides_out_a_database_outage_and_works_after_it(settings, tmp_path):
    log = tmp_path / "worker.log"
    database = connection.settings_dict
    relay = DatabaseRelay(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    relay.restore()
    through_relay = database_url({**database, "HOST": "127.0.0.1", "PORT": relay.port})
    settings.SWEEP_INTERVAL_SECONDS = 600
    worker = start_worker(log, DATABASE_URL=through_relay, DB_WORKER_RECONNECT_SECONDS="0.5")
    try:
        wait_for(lambda: "Starting worker" in log.read_text(), seconds=60, what="start", log=log)

        relay.cut()
        time.sleep(8)  # the worker polls the queue many times meanwhile
        assert worker.poll() is None, log.read_text()[-3000:]
        relay.restore()

        result = tasks.apply_notifications.enqueue()
        wait_for(
            lambda: DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL",
            seconds=60,
            what="the worker to run a task after the outage",
            log=log,
        )
    finally:
        stop(worker)
        relay.cut()
