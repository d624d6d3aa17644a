"""Apple's refund requests: a case per CONSUMPTION_REQUEST, answered before its deadline.

Contract with the notifications service (it calls the two functions below with its stored
notification row). Each takes an object with `.payload`, the decoded JSON of Apple's signed
notification payload:

    payload["notificationType"]   "CONSUMPTION_REQUEST", "REFUND", "REFUND_DECLINED" or
                                  "REFUND_REVERSED" (others are ignored)
    payload["subtype"]            optional
    payload["notificationUUID"]   str, unique per notification
    payload["signedDate"]         int, milliseconds since the epoch
    payload["data"]["transaction"]              the decoded signedTransactionInfo (a dict; the
                                                stored notification row keeps it beside the
                                                payload as `.transaction`, which wins)
                                                with transactionId, originalTransactionId,
                                                productId, price, currency, appAccountToken,
                                                environment)
    payload["data"]["consumptionRequestReason"] for CONSUMPTION_REQUEST

Both are idempotent: the same notification delivered twice opens or closes once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.tasks import task
from django.utils import timezone

from lookups.appstore import AppStoreError, Notification, Transaction
from lookups.appstore.client import ConsumptionInformation
from lookups.appstore.transactions import DecodingError
from lookups.models import AppStoreNotification, ConsumptionAnswer, CustomerAccount, RefundRequest
from lookups.services.app_scope import EVERY_APP, AppScope
from lookups.services.apple_actions import ActionRefused, engine
from lookups.services.apple_actions.acting_app import refuse_unless_acted_on
from lookups.services.apple_actions.consumption_answer import KIND as CONSUMPTION_ANSWER
from lookups.services.apple_actions.locks import case_key, locked
from lookups.services.apps import current_app
from lookups.services.task_queue import enqueue_at

Status = RefundRequest.Status
# Apple waits this long for the answer to a CONSUMPTION_REQUEST.
ANSWER_WITHIN = timedelta(hours=12)
DECISIONS = {
    "REFUND": RefundRequest.Decision.REFUNDED,
    "REFUND_DECLINED": RefundRequest.Decision.DECLINED,
    "REFUND_REVERSED": RefundRequest.Decision.REVERSED,
}

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class StoredNotification(Protocol):
    payload: dict[str, Any]


def _transaction_of(notification: StoredNotification) -> Transaction:
    """The notification's decoded transaction: stored beside the payload, or inside its data."""
    stored = getattr(notification, "transaction", None)
    raw = stored or (notification.payload.get("data") or {}).get("transaction") or {}
    return Transaction.from_payload(raw)


class AnswerRefused(ActionRefused):
    """Nothing was sent to Apple; `message` says why."""


@dataclass(frozen=True)
class Answer:
    """What the agent (or the policy) tells Apple about the purchase."""

    customer_consented: bool
    delivery_status: str
    sample_content_provided: bool
    consumption_percentage: int | None = None
    refund_preference: str | None = None


def open_refund_request(notification: StoredNotification) -> RefundRequest | None:
    """Open the case a CONSUMPTION_REQUEST asks for; None for any other notification."""
    payload = notification.payload
    if payload.get("notificationType") != "CONSUMPTION_REQUEST":
        return None
    data = payload.get("data") or {}
    txn = _transaction_of(notification)
    requested_at = _signed_at(payload)
    token = txn.app_account_token
    transaction_id = txn.transaction_id or ""
    # Apple may have decided already (its decision can arrive first): the case opens decided.
    decided = _decision_signed_after(transaction_id, requested_at)
    try:
        with transaction.atomic():
            case = RefundRequest.objects.create(
                notification_uuid=payload["notificationUUID"],
                app=current_app()[0],
                environment=txn.environment or current_app()[1],
                transaction_id=transaction_id,
                original_transaction_id=txn.original_transaction_id or "",
                product_id=txn.product_id or "",
                price_milliunits=txn.price_milliunits,
                currency=txn.currency or "",
                account=CustomerAccount.objects.owner_of(token),
                reason=data.get("consumptionRequestReason") or "",
                requested_at=requested_at,
                deadline=requested_at + ANSWER_WITHIN,
                **_decision_fields(decided),
            )
    except IntegrityError:
        return RefundRequest.objects.get(notification_uuid=payload["notificationUUID"])
    if settings.REFUND_POLICY and not case.decision:
        _plan_policy_answer(case)
    return case


def close_refund_request(notification: StoredNotification) -> RefundRequest | None:
    """Record Apple's decision on the transaction's latest case; None when there is none."""
    payload = notification.payload
    decision = DECISIONS.get(payload.get("notificationType", ""))
    if decision is None:
        return None
    txn = _transaction_of(notification)
    decided_at = _signed_at(payload)
    # The latest case Apple asked about before it decided: a request signed after the decision
    # is about another refund, whatever order the two arrived in.
    case = (
        RefundRequest.objects.filter(
            transaction_id=txn.transaction_id or "", requested_at__lte=decided_at
        )
        .order_by("-requested_at")
        .first()
    )
    if case is None:
        return None
    if case.decision_notification_uuid == payload.get("notificationUUID"):
        return case
    if case.status == Status.OPEN and timezone.now() > case.deadline:
        case.status = Status.MISSED
    case.decision = decision
    case.decided_at = decided_at
    case.decision_notification_uuid = payload.get("notificationUUID") or ""
    case.save(update_fields=["status", "decision", "decided_at", "decision_notification_uuid"])
    return case


def _decision_signed_after(transaction_id: str, requested_at: datetime) -> Any:
    """Apple's decision on this transaction signed after the request, if the desk has it."""
    return (
        AppStoreNotification.objects.filter(
            notification_type__in=DECISIONS,
            signed_date__gte=requested_at,
            transaction__transactionId=transaction_id,
        )
        .order_by("signed_date")
        .first()
    )


def _decision_fields(decided: Any) -> dict[str, Any]:
    if decided is None:
        return {}
    return {
        "decision": DECISIONS[decided.notification_type],
        "decided_at": decided.signed_date,
        "decision_notification_uuid": decided.notification_uuid,
    }


def answer_refund_request(
    agent: User, case: RefundRequest, answer: Answer, request_id: uuid.UUID | None = None
) -> ConsumptionAnswer:
    """Send the agent's answer to Apple, audited: pending before the call, settled after.

    The same form submitted again (the same `request_id`) gets the first answer, with no call.
    """
    return _send(case, answer, agent=agent, request_id=request_id)


def answer_by_policy(refund_request_id: int) -> str:
    """The policy's answer to a case nobody answered, shortly before its deadline."""
    case = RefundRequest.objects.filter(pk=refund_request_id).first()
    policy = settings.REFUND_POLICY
    if case is None:
        return f"no refund request {refund_request_id}"
    if case.status != Status.OPEN or case.decision:
        return f"refund request {case.pk} is already {case.get_status_display().lower()}"
    if not policy:
        return f"no refund policy: refund request {case.pk} is left to the agents"
    due = case.deadline - timedelta(minutes=settings.REFUND_POLICY_MARGIN_MINUTES)
    if timezone.now() < due:
        # Run early (the immediate backend): an agent still has time to answer.
        return f"refund request {case.pk} is not due for the policy until {due:%H:%M}"
    if timezone.now() > case.deadline:
        mark_missed()
        return f"refund request {case.pk} missed its deadline"
    try:
        sent = _send(case, Answer(**policy), agent=None)
    except ActionRefused as refused:
        return f"refund request {case.pk}: {refused.message}"
    return f"refund request {case.pk} answered by the policy: {sent.outcome}"


@task()
def answer_refund_request_by_policy(refund_request_id: int) -> str:
    """The task: answer a refund request nobody answered with the desk's configured policy."""
    return answer_by_policy(refund_request_id)


def mark_missed(now: datetime | None = None) -> int:
    """Cases whose deadline passed unanswered are marked missed. Returns how many.

    The sweep runs it every minute or so; the queue page and the policy's task too. A case whose
    answer is still waiting for Apple's confirmation waits for its follow-up to settle it.
    """
    return (
        RefundRequest.objects.filter(status=Status.OPEN, deadline__lt=now or timezone.now())
        .exclude(answers__outcome=ConsumptionAnswer.Outcome.PENDING)
        .update(status=Status.MISSED)
    )


# The queue shows this many, the soonest deadlines first: each comes with its answer form.
QUEUE_LIMIT = 50


def _waiting(apps: AppScope = EVERY_APP) -> QuerySet[RefundRequest]:
    return RefundRequest.objects.filter(apps.rows(), status=Status.OPEN, decision="")


def open_cases(apps: AppScope = EVERY_APP) -> list[RefundRequest]:
    """The open cases of the apps in `apps`, the nearest deadline first."""
    mark_missed()
    return list(_waiting(apps).select_related("account").order_by("deadline")[:QUEUE_LIMIT])


def open_case_count(apps: AppScope = EVERY_APP) -> int:
    return _waiting(apps).count()


def recently_closed(
    *, days: int = 7, limit: int = 50, apps: AppScope = EVERY_APP
) -> list[RefundRequest]:
    """Cases answered, missed or decided lately, newest first, with who answered each.

    `answerer` is the agent's username, or empty when the policy answered or nobody did.
    """
    confirmed = ConsumptionAnswer.objects.filter(
        refund_request=OuterRef("pk"), outcome=ConsumptionAnswer.Outcome.SUCCEEDED
    )
    return list(
        RefundRequest.objects.filter(
            apps.rows(), requested_at__gte=timezone.now() - timedelta(days=days)
        )
        .exclude(status=Status.OPEN, decision="")
        .annotate(
            answerer=Subquery(confirmed.values("answered_by__username")[:1]),
            answered_by_policy=Exists(confirmed.filter(by_policy=True)),
        )
        .order_by("-requested_at")[:limit]
    )


def refunds_before(case: RefundRequest) -> int:
    """Earlier refunds Apple granted this customer's purchases, as the desk heard of them."""
    return (
        RefundRequest.objects.filter(
            original_transaction_id=case.original_transaction_id,
            decision=RefundRequest.Decision.REFUNDED,
        )
        .exclude(pk=case.pk)
        .count()
    )


def refund_counts(cases: list[RefundRequest]) -> dict[str, int]:
    """`refunds_before` of each of these cases at once, by original transaction ID."""
    refunded = (
        RefundRequest.objects.filter(
            original_transaction_id__in={case.original_transaction_id for case in cases},
            decision=RefundRequest.Decision.REFUNDED,
        )
        .exclude(pk__in=[case.pk for case in cases])
        .order_by()
        .values("original_transaction_id")
        .annotate(refunds=Count("pk"))
    )
    return {row["original_transaction_id"]: row["refunds"] for row in refunded}


def _send(
    case: RefundRequest, answer: Answer, *, agent, request_id: uuid.UUID | None = None
) -> ConsumptionAnswer:
    """Write the pending answer under the case's lock, then call Apple through the engine.

    Under the lock the case is read again: of agents answering at once, the first writes the
    answer, and the others are told it is answered (or being answered), with nothing sent.
    """
    if earlier := _first_submission(case, request_id):
        return earlier
    # Answered as the case's app, in its environment (the engine calls Apple as the row's).
    refuse_unless_acted_on(case.app, case.environment, agent)
    try:
        information = ConsumptionInformation(**answer.__dict__)
    except AppStoreError as error:
        raise AnswerRefused(error.describe(), status=400) from None
    try:
        with locked(case_key(case.pk)):
            if earlier := _first_submission(case, request_id):
                return earlier
            case.refresh_from_db()
            _refuse_unless_answerable(case)
            sent = ConsumptionAnswer.objects.create(
                refund_request=case,
                app=case.app,
                environment=case.environment,
                transaction_id=case.transaction_id,
                answered_by=agent,
                by_policy=agent is None,
                request_id=request_id,
                body=information.body(),
            )
    except IntegrityError:
        if earlier := _first_submission(case, request_id):
            return earlier
        raise AnswerRefused("An answer to this refund request is already being sent.") from None
    engine.perform(CONSUMPTION_ANSWER, sent)
    case.refresh_from_db()
    return sent


def _first_submission(
    case: RefundRequest, request_id: uuid.UUID | None
) -> ConsumptionAnswer | None:
    earlier = engine.first_submission(CONSUMPTION_ANSWER, request_id)
    if earlier is not None and earlier.refund_request_id != case.pk:
        raise AnswerRefused("This form was sent for another refund request.", status=400)
    return earlier


def _refuse_unless_answerable(case: RefundRequest) -> None:
    if case.decision or case.status != Status.OPEN:
        raise AnswerRefused(f"This refund request is {_state_of(case)}.")
    if timezone.now() > case.deadline:
        mark_missed()
        raise AnswerRefused("Apple's deadline for this refund request has passed.")
    earlier = (
        case.answers.filter(outcome__in=[ConsumptionAnswer.Outcome.PENDING, "succeeded"])
        .select_related("answered_by")
        .first()
    )
    if earlier is not None:
        who = earlier.answered_by.get_username() if earlier.answered_by else "The desk's policy"
        doing = "is answering" if earlier.outcome == "pending" else "has answered"
        raise AnswerRefused(f"{who} {doing} this refund request already: nothing was sent.")


def _state_of(case: RefundRequest) -> str:
    if case.decision:
        return f"decided by Apple ({case.get_decision_display().lower()})"
    return case.get_status_display().lower()


def _plan_policy_answer(case: RefundRequest) -> None:
    margin = timedelta(minutes=settings.REFUND_POLICY_MARGIN_MINUTES)
    enqueue_at(answer_refund_request_by_policy, case.deadline - margin, refund_request_id=case.pk)


def _signed_at(payload: dict[str, Any]) -> datetime:
    """When Apple signed the notification: events are ordered by it, not by arrival."""
    signed = Notification.from_payload(payload, data=None).signed_date
    if signed is None:
        raise DecodingError("signedDate is missing")
    return signed
