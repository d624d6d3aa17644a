"""The background tasks, run by `manage.py db_worker`. Each calls one service and says what it did.

Every task is safe to run twice and after a crash: the services claim their row before acting.
"""

from __future__ import annotations

from django.tasks import task

from lookups.services import (
    adapty_delivery,
    audit_checks,
    consumption_follow_up,
    extending,
    notifications,
    refund_requests,
    settling,
    sweeping,
)


class GaveUp(Exception):
    """Raised by a task that has used all its attempts, so the queue records it as failed."""


@task()
def check_token_change(token_change_id: int) -> str:
    """Ask Apple which token a purchase carries and settle the pending change from it."""
    check = settling.check_token_change(token_change_id)
    if check.gave_up:
        raise GaveUp(check.summary)
    return check.summary


@task()
def check_extension(extension_id: str, attempt: int = 1) -> str:
    """Settle a timed-out extension from the subscription's renewal date at Apple."""
    return extending.check_extension(extension_id, attempt=attempt)


@task()
def answer_refund_request_by_policy(refund_request_id: int) -> str:
    """Answer a refund request nobody answered with the desk's configured policy."""
    return refund_requests.answer_by_policy(refund_request_id)


@task()
def resend_consumption_answer(answer_id: int) -> str:
    """Send a timed-out consumption answer again, unchanged, until Apple confirms it."""
    return consumption_follow_up.resend(answer_id)


@task()
def deliver_to_adapty(delivery_id: int) -> str:
    """Send one queued delivery to Adapty's "Set transaction"."""
    delivery = adapty_delivery.deliver(delivery_id)
    if delivery is None:
        return f"no Adapty delivery {delivery_id}"
    return f"Adapty delivery {delivery_id}: {delivery.outcome}"


@task()
def sweep() -> dict[str, int]:
    """Queue again the work a dead worker left, then queue the next sweep."""
    try:
        return dict(sweeping.sweep())
    finally:
        sweeping.schedule_sweep()


@task()
def apply_notifications() -> str:
    """Apply every stored App Store notification not applied yet to the purchase picture."""
    return f"{notifications.apply_waiting()} notifications applied"


@task()
def verify_audit_log() -> str:
    """Check the audit log's chain, record the run, then queue the next one."""
    try:
        run = audit_checks.run_check()
        return f"audit log check {run.outcome}: {run.message}"
    finally:
        audit_checks.schedule_check()
