"""verify_audit_log on its own: a scheduled task, its runs kept for auditors, an alarm on failure
(lookups/services/audit_checks.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups.models import AuditCheck, TokenChange
from lookups.services import audit_checks
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors")
    return tmp_path / "anchors"


@pytest.fixture
def settled(agent_user, make_account) -> TokenChange:
    change = make_token_change(agent_user, make_account())
    change.settle(TokenChange.Outcome.SUCCEEDED)
    return change


def break_the_chain(change: TokenChange) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the database refuses the rewrite there; SQLite lets a test step past")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER lookups_tokenchange_settled_rows_stay")
        cursor.execute(
            "UPDATE lookups_tokenchange SET ticket_reference = 'ZD-0' WHERE id = %s", [change.pk]
        )


def test_a_run_records_the_head_in_the_anchor_file_and_the_log(settled, anchor_file, caplog):
    with caplog.at_level(logging.INFO, logger="lookups.audit"):
        run = audit_checks.run_check()

    assert run.outcome == AuditCheck.Outcome.OK and run.finished_at
    assert (run.head_sequence, run.head_hash) == (1, settled.chain_hash)
    assert anchor_file.read_text().split()[-1] == f"1:{settled.chain_hash}"
    assert f"chain head 1:{settled.chain_hash}" in caplog.text


def test_a_failed_run_is_an_alarm(settled, anchor_file, caplog):
    break_the_chain(settled)

    with caplog.at_level(logging.ERROR, logger="lookups.audit"):
        run = audit_checks.run_check()

    assert run.outcome == AuditCheck.Outcome.FAILED
    assert "was changed after it settled" in run.message
    assert "Audit log check FAILED" in caplog.text


def test_the_task_runs_hourly_by_default_one_waiting_at_a_time(settings):
    settings.TASKS = DATABASE_BACKEND
    assert settings.AUDIT_CHECK_INTERVAL_MINUTES == 60

    assert audit_checks.schedule_check() is True
    assert audit_checks.schedule_check() is False

    (waiting,) = DBTaskResult.objects.filter(task_path=audit_checks.verify_audit_log.module_path)
    assert waiting.status == TaskResultStatus.READY
    assert waiting.run_after > timezone.now() + timedelta(minutes=59)


def test_the_task_records_a_run(settled, anchor_file):
    audit_checks.verify_audit_log.call()

    assert AuditCheck.objects.get().outcome == AuditCheck.Outcome.OK


def test_auditors_start_a_run_and_read_the_last_runs(auditor_client, auditor_user, settled):
    started = auditor_client.post(reverse("admin:lookups_auditcheck_run"))
    listed = auditor_client.get(reverse("admin:lookups_auditcheck_changelist"))

    assert started.status_code == 302
    run = AuditCheck.objects.get()
    assert run.started_by == auditor_user and run.outcome == AuditCheck.Outcome.OK
    assert listed.status_code == 200 and "OK" in listed.text


def test_auditors_see_the_alarm_in_the_admin(auditor_client, settled):
    break_the_chain(settled)
    audit_checks.run_check()

    index = auditor_client.get(reverse("admin:index"))
    listed = auditor_client.get(reverse("admin:lookups_auditcheck_changelist"))

    for page in (index, listed):
        assert "The last audit log check FAILED" in page.text
