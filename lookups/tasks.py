"""The background tasks' former home, kept so rows queued under these paths still run.

Each task lives beside the service that queues it now (the queue stores a task's module path,
so queued rows keep the path they were queued with until they have run):
- `apple_actions.engine.check_action`: the follow-up of any action at Apple;
- `adapty_delivery.deliver_to_adapty`, `notifications.apply_notifications`,
  `refund_requests.answer_refund_request_by_policy`, `sweeping.periodic_sweep`.
The three follow-ups below predate the engine; new ones are queued as `check_action`.
"""

from __future__ import annotations

from django.tasks import task

from lookups.services import consumption_follow_up, extending, settling
from lookups.services.adapty_delivery import deliver_to_adapty
from lookups.services.apple_actions.engine import GaveUp, check_action
from lookups.services.notifications import apply_notifications
from lookups.services.refund_requests import answer_refund_request_by_policy
from lookups.services.sweeping import periodic_sweep

sweep = periodic_sweep

__all__ = [
    "GaveUp",
    "answer_refund_request_by_policy",
    "apply_notifications",
    "check_action",
    "check_extension",
    "check_token_change",
    "deliver_to_adapty",
    "resend_consumption_answer",
    "sweep",
]


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
def resend_consumption_answer(answer_id: int) -> str:
    """Send a timed-out consumption answer again, unchanged, until Apple confirms it."""
    return consumption_follow_up.resend(answer_id)
