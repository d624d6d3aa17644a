"""Following up consumption answers Apple did not confirm: sending them again until it does.

Send Consumption Information has no read-back: nothing at Apple says whether a timed-out answer
arrived. Apple takes the answer again while the refund request is open and goes by the latest
one, so sending the pending row's own body again, unchanged, tells Apple nothing the row doesn't
already record. The rule:
- a 202 settles the answer as succeeded, and the case as answered;
- an error of Apple's that retrying won't change settles it as failed, with Apple's code;
- a timeout, a rate limit or a retryable error plans the next send with backoff;
- once the case's deadline has passed, or TOKEN_CHECK_ATTEMPTS resends went unanswered, the
  answer settles as unconfirmed: Apple may or may not have it, and the desk sends nothing late.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from lookups.appstore import AppStoreError
from lookups.appstore.client import ConsumptionInformation
from lookups.appstore.errors import AppStoreTimeoutError
from lookups.models import ConsumptionAnswer, ConsumptionAnswerFollowUp, RefundRequest
from lookups.services.clients import app_store_client
from lookups.services.settling import first_check_time
from lookups.services.task_queue import enqueue_at, retry_delay

Outcome = ConsumptionAnswer.Outcome


def follow_up(answer: ConsumptionAnswer, *, first_send_at: datetime | None = None) -> None:
    """Have a worker send this pending answer again from `first_send_at` on. Idempotent."""
    from lookups import tasks  # lookups.tasks imports this module

    first_send_at = first_send_at or first_check_time()
    with transaction.atomic():
        _, created = ConsumptionAnswerFollowUp.objects.get_or_create(
            answer=answer, defaults={"next_send_at": first_send_at}
        )
        if created:
            enqueue_at(tasks.resend_consumption_answer, first_send_at, answer_id=answer.pk)


def mark_answered(case: RefundRequest) -> None:
    """Apple confirmed an answer to the case: it is no longer waiting for one."""
    RefundRequest.objects.filter(pk=case.pk, status=RefundRequest.Status.OPEN).update(
        status=RefundRequest.Status.ANSWERED
    )


def resend(answer_id: int) -> str:
    """Send a timed-out answer's body to Apple again and settle it, or plan the next send.

    Safe to run twice and after a crash: a resend claims its turn by moving `next_send_at` in
    one conditional UPDATE, and settling is a single conditional UPDATE too.
    """
    follow = (
        ConsumptionAnswerFollowUp.objects.select_related("answer__refund_request")
        .filter(pk=answer_id)
        .first()
    )
    if follow is None:
        return f"consumption answer {answer_id} is not followed up"
    answer = follow.answer
    if answer.is_settled:
        return f"consumption answer {answer.pk} is already {answer.outcome}"
    now = timezone.now()
    if now > answer.refund_request.deadline:
        return _unconfirmed(answer, "the refund request's deadline passed before Apple did")
    if follow.resends >= settings.TOKEN_CHECK_ATTEMPTS:
        return _unconfirmed(answer, f"{follow.resends} sends again went unanswered")
    due = follow.next_send_at
    if due is not None and due > now:
        # Run early (the immediate backend): the turn stays open for the worker or the sweep.
        return f"consumption answer {answer.pk} is not due until {due:%H:%M:%S}"

    claimed = ConsumptionAnswerFollowUp.objects.filter(pk=follow.pk, next_send_at=due).update(
        resends=F("resends") + 1, last_sent_at=now, next_send_at=first_check_time(now)
    )
    if not claimed:
        return f"consumption answer {answer.pk} is being sent by another worker"
    follow.refresh_from_db()

    try:
        app_store_client().send_consumption_information(
            answer.transaction_id, ConsumptionInformation.from_body(answer.body)
        )
    except AppStoreError as error:
        if not (isinstance(error, AppStoreTimeoutError) or error.retryable):
            answer.settle(
                Outcome.FAILED, error_code=error.answered_code, error_message=error.describe()
            )
            return f"consumption answer {answer.pk}: failed ({error.describe()})"
        return _send_later(follow, error.describe())
    answer.settle(Outcome.SUCCEEDED)
    mark_answered(answer.refund_request)
    return f"consumption answer {answer.pk}: succeeded on send {follow.resends + 1}"


def _send_later(follow: ConsumptionAnswerFollowUp, why: str) -> str:
    from lookups import tasks  # lookups.tasks imports this module

    next_send_at = timezone.now() + retry_delay(follow.resends)
    with transaction.atomic():
        follow.last_error = why
        follow.next_send_at = next_send_at
        follow.save(update_fields=["last_error", "next_send_at"])
        enqueue_at(tasks.resend_consumption_answer, next_send_at, answer_id=follow.pk)
    return (
        f"consumption answer {follow.pk} not confirmed ({why}); "
        f"next send at {next_send_at:%H:%M:%S}"
    )


def _unconfirmed(answer: ConsumptionAnswer, why: str) -> str:
    ConsumptionAnswerFollowUp.objects.filter(pk=answer.pk).update(next_send_at=None)
    answer.settle(
        Outcome.UNCONFIRMED,
        error_message=(
            f"Apple never confirmed this answer: {why}. It may or may not have reached Apple."
        ),
    )
    return f"consumption answer {answer.pk}: {answer.outcome}"
