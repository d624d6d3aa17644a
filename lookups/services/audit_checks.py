"""verify_audit_log on its own: run on a schedule (hourly by default) and when an auditor asks.

Each run is an AuditCheck row auditors read in the admin; a failure is logged as an error and
shown on every admin page to those who may read the runs. The command itself appends the head it
saw to AUDIT_ANCHOR_FILE, so the next run notices the newest rows removed with the head.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from io import StringIO

from django.conf import settings
from django.core.management import CommandError, call_command
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from lookups.models import AuditCheck
from lookups.services.task_queue import enqueue_at, one_scheduler_at_a_time, tasks_of

logger = logging.getLogger("lookups.audit")
_HEAD = re.compile(r"chain head (\d+):([0-9a-f]{64})")


def run_check(started_by=None) -> AuditCheck:
    run = AuditCheck.objects.create(started_by=started_by)
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err)
    except CommandError as failure:
        run.outcome, run.message = AuditCheck.Outcome.FAILED, str(failure)
        logger.error("%s", failure)
    else:
        run.outcome = AuditCheck.Outcome.OK
        run.message = " ".join([out.getvalue().strip(), err.getvalue().strip()]).strip()
        head = _HEAD.search(out.getvalue())
        if head:
            run.head_sequence, run.head_hash = int(head[1]), head[2]
        logger.info("Audit log check OK: %s", out.getvalue().strip())
    run.finished_at = timezone.now()
    run.save()
    return run


def latest_failure() -> AuditCheck | None:
    """The latest finished run, if it failed: the alarm."""
    latest = AuditCheck.objects.exclude(outcome=AuditCheck.Outcome.RUNNING).first()
    return latest if latest and latest.outcome == AuditCheck.Outcome.FAILED else None


def schedule_check() -> bool:
    """Queue the next scheduled run unless one waits already; says whether it queued one."""
    if not verify_audit_log.get_backend().supports_defer:
        return False  # the immediate backend would run it now, and it would queue itself again
    with one_scheduler_at_a_time():
        if tasks_of(verify_audit_log).filter(status=TaskResultStatus.READY).exists():
            return False
        delay = timedelta(minutes=settings.AUDIT_CHECK_INTERVAL_MINUTES)
        enqueue_at(verify_audit_log, timezone.now() + delay)
    return True


@task()
def verify_audit_log() -> str:
    """Check the audit log's chain, record the run, then queue the next one."""
    try:
        run = run_check()
        return f"audit log check {run.outcome}: {run.message}"
    finally:
        schedule_check()
