"""The consumption answer: Send Consumption Information for a refund request.

Apple has no read-back for it: nothing at Apple says whether a timed-out answer arrived. Apple
takes the answer again while the refund request is open and goes by the latest one, so reading
back is sending the pending row's own body again, unchanged: a 202 settles it as succeeded, an
error retrying won't change as failed, a timeout or a retryable error leaves it for the next
ask. Once the case's deadline has passed, or every ask went unanswered, it settles as
unconfirmed: Apple may or may not have it, and the desk sends nothing late.

The rules of an answer (the case is open, answered once) are in
`lookups.services.refund_requests`.
"""

from __future__ import annotations

from datetime import datetime

from lookups.appstore import AppStoreError
from lookups.appstore.client import ConsumptionInformation
from lookups.appstore.errors import AppStoreTimeoutError
from lookups.models import ConsumptionAnswer, ConsumptionAnswerFollowUp, RefundRequest
from lookups.services.apple_actions.kind import FAILED, SUCCEEDED, ActionKind, Settled, StillUnknown
from lookups.services.clients import app_store_client


class ConsumptionAnswerKind(ActionKind):
    name = "consumption_answer"
    label = "consumption answer"
    audit_name = "consumption answer"
    model = ConsumptionAnswer
    follow_up_model = ConsumptionAnswerFollowUp
    request_id_field = "request_id"

    def describe(self, row) -> str:
        return f"refund request {row.refund_request_id}, transaction {row.transaction_id}"

    def call(self, row: ConsumptionAnswer) -> Settled:
        app_store_client().send_consumption_information(
            row.transaction_id, ConsumptionInformation.from_body(row.body)
        )
        return Settled(SUCCEEDED)

    def read_back(self, row: ConsumptionAnswer) -> Settled:
        try:
            return self.call(row)
        except AppStoreError as error:
            if isinstance(error, AppStoreTimeoutError) or error.retryable:
                raise StillUnknown(error.describe()) from None
            return Settled(FAILED, error.answered_code, error.describe())

    def after_success(self, row: ConsumptionAnswer) -> None:
        mark_answered(row.refund_request_id)

    def expired(self, row: ConsumptionAnswer, now: datetime) -> str | None:
        if now > row.refund_request.deadline:
            return "the refund request's deadline passed before Apple did"
        return None

    def on_give_up(self, row: ConsumptionAnswer, why: str) -> Settled:
        return Settled(
            ConsumptionAnswer.Outcome.UNCONFIRMED,
            None,
            f"Apple never confirmed this answer: {why.rstrip('.')}. "
            "It may or may not have reached Apple.",
        )


def mark_answered(refund_request_id: int) -> None:
    """Apple confirmed an answer to the case: it is no longer waiting for one."""
    RefundRequest.objects.filter(pk=refund_request_id, status=RefundRequest.Status.OPEN).update(
        status=RefundRequest.Status.ANSWERED
    )


KIND = ConsumptionAnswerKind()
