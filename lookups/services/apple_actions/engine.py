"""The engine every change at Apple goes through: pending row, call, settling, follow-up, rescue.

1. A kind's service writes the pending row under `locked(...)` (its rules checked there), and
   the row is committed before Apple is called: the audit log knows of the call first.
2. `perform` makes the call (`kind.call`) and settles the row into the hash chain with Apple's
   answer. Apple is called as the row's app in the row's environment (`acting_app.acting_for`),
   here and in `check` and `reconcile`. A timeout leaves the row pending and plans a follow-up
   for when the call budget and a margin have run out (`follow_up`).
3. `check` (the `check_action` task) asks Apple what became of the call (`kind.read_back`) and
   settles the row, or plans the next ask with backoff, APPLE_FOLLOW_UP_ATTEMPTS times at most.
4. `rescue_pending` (run by the sweep) follows up any pending row of any kind older than the
   call budget and margin that nobody follows up (its process died mid-call), and takes over
   checks a dead worker left overdue.
5. `reconcile` settles a pending row by hand (`manage.py reconcile_actions`).
Every step is safe to run twice: turns are claimed and rows settled by conditional UPDATEs.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from lookups.appstore import AppStoreError
from lookups.appstore.errors import AppStoreTimeoutError
from lookups.services.apple_actions.acting_app import acting_for
from lookups.services.apple_actions.consumption_answer import KIND as CONSUMPTION_ANSWER
from lookups.services.apple_actions.extension import KIND as EXTENSION
from lookups.services.apple_actions.kind import FAILED, ActionKind, Settled, StillUnknown
from lookups.services.apple_actions.link import KIND as LINK
from lookups.services.apple_actions.outage_compensation import KIND as OUTAGE_COMPENSATION
from lookups.services.apple_actions.transaction_finish import KIND as TRANSACTION_FINISH
from lookups.services.task_queue import enqueue_at, retry_delay

PENDING = "pending"
# Every kind of action at Apple, in a fixed order (the sweep's and the command's).
KINDS: tuple[ActionKind, ...] = (
    LINK,
    EXTENSION,
    CONSUMPTION_ANSWER,
    OUTAGE_COMPENSATION,
    TRANSACTION_FINISH,
)


def kinds() -> Iterator[ActionKind]:
    yield from KINDS


def kind_named(name: str) -> ActionKind:
    for kind in kinds():
        if kind.name == name:
            return kind
    raise LookupError(f"No kind of action at Apple is named {name!r}.")


def answer_wait() -> timedelta:
    """How long a call made now may still be waiting for Apple's answer (budget plus margin)."""
    return timedelta(
        seconds=settings.APPSTORE_CALL_BUDGET_SECONDS + settings.TOKEN_CHECK_MARGIN_SECONDS
    )


def first_check_time(now: datetime | None = None) -> datetime:
    """When a call that just timed out is first asked about again."""
    return (now or timezone.now()) + answer_wait()


def first_submission(kind: ActionKind, request_id: object) -> Any | None:
    """The row an earlier submission of the same form made, if any: a resubmit gets its answer.

    Asked before the rules, and again under the subject's lock and after a unique-key clash, so
    two submissions at once make one row and one call.
    """
    if request_id is None:
        return None
    return kind.model.objects.filter(**{kind.request_id_field: request_id}).first()


# --- The call ----------------------------------------------------------------------------------


def perform(kind: ActionKind, row: Any) -> Any:
    """Call Apple for a committed pending row and settle it; a timeout leaves it followed up."""
    try:
        with acting_for(row):
            settled = kind.call(row)
    except AppStoreTimeoutError:
        # Apple has the request and may still carry it out: nobody knows the outcome yet.
        follow_up(kind, row)
        return row
    except AppStoreError as error:
        settled = Settled(FAILED, error.answered_code, error.describe())
    if settled is None:
        # Apple took it and works on it: its progress is read from now on until it is done.
        follow_up(kind, row, first_check_at=timezone.now() + _next_check_in(kind, 0))
        return row
    settle(kind, row, settled)
    return row


def settle(kind: ActionKind, row: Any, settled: Settled) -> bool:
    """Settle the row into the chain, once; what follows a success runs for the winner only."""
    won = row.settle(
        settled.outcome,
        error_code=settled.error_code,
        error_message=settled.error_message,
        **settled.extra,
    )
    if won and row.outcome == "succeeded":
        kind.after_success(row)
    return won


# --- Following up ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """What one run of `check` did."""

    summary: str
    gave_up: bool = False


def follow_up(kind: ActionKind, row: Any, *, first_check_at: datetime | None = None) -> None:
    """Have a worker ask Apple about this pending row from `first_check_at` on. Idempotent."""
    first_check_at = first_check_at or first_check_time()
    with transaction.atomic():
        _, created = kind.follow_up_model.objects.get_or_create(
            pk=row.pk, defaults={"next_check_at": first_check_at}
        )
        if created:
            enqueue_at(check_action, first_check_at, kind=kind.name, action_id=str(row.pk))


def check(kind: ActionKind, action_id: object) -> Check:
    """Ask Apple what became of a pending row and settle it, or plan the next ask.

    A check claims its turn by moving `next_check_at` a call budget ahead in one conditional
    UPDATE: of two runs for the same turn one asks Apple, and a worker dying mid-check leaves
    the turn overdue for the sweep.
    """
    # The follow-up's primary key is its one-to-one to the row: both come in one query.
    to_row = kind.follow_up_model._meta.pk.name
    follow = kind.follow_up_model.objects.select_related(to_row).filter(pk=action_id).first()
    if follow is None:
        return Check(f"{kind.audit_name} {action_id} is not followed up")
    row = getattr(follow, to_row)
    if row.outcome != PENDING:
        return Check(f"{kind.audit_name} {row.pk} is already {row.outcome}")
    if follow.gave_up_at is not None:
        return Check(f"gave up on {kind.audit_name} {row.pk} at {follow.gave_up_at:%H:%M}")
    now = timezone.now()
    due = follow.next_check_at
    if due is not None and due > now:
        # Run early (the immediate backend, or clocks apart): the turn stays open for the sweep.
        return Check(f"{kind.audit_name} {row.pk} is not due until {due:%H:%M:%S}")
    if why := kind.expired(row, now):
        return _give_up(kind, follow, row, why)
    if follow.checks >= _attempts(kind):
        return _give_up(kind, follow, row, f"{follow.checks} asks went unanswered")

    claimed = kind.follow_up_model.objects.filter(
        pk=follow.pk, next_check_at=due, gave_up_at__isnull=True
    ).update(checks=F("checks") + 1, last_checked_at=now, next_check_at=first_check_time(now))
    if not claimed:
        return Check(f"{kind.audit_name} {row.pk} is being checked by another worker")
    follow.refresh_from_db()

    try:
        with acting_for(row):
            settled = kind.read_back(row)
    except StillUnknown as unknown:
        detail = str(unknown)
        if follow.checks >= _attempts(kind):
            follow.last_error = detail
            return _give_up(kind, follow, row, detail)
        next_check_at = timezone.now() + _next_check_in(kind, follow.checks)
        with transaction.atomic():
            _record(follow, last_error=detail, next_check_at=next_check_at)
            enqueue_at(check_action, next_check_at, kind=kind.name, action_id=str(row.pk))
        return Check(
            f"{kind.audit_name} {row.pk} left pending ({detail}); "
            f"check {follow.checks + 1} at {next_check_at:%H:%M:%S}"
        )
    except Exception as error:
        # The queue records the traceback; the sweep starts the next check once the hold ends.
        _record(follow, last_error=f"Unexpected failure: {type(error).__name__}: {error}")
        raise
    won = settle(kind, row, settled)
    _record(follow, last_error="", next_check_at=None)
    return Check(f"{kind.audit_name} {row.pk}: {row.outcome if won else 'settled elsewhere'}")


def _attempts(kind: ActionKind) -> int:
    return kind.follow_up_attempts or settings.APPLE_FOLLOW_UP_ATTEMPTS


def _next_check_in(kind: ActionKind, checks: int) -> timedelta:
    chosen = kind.next_check_in(checks)
    if chosen is not None:
        return chosen
    return retry_delay(checks) if checks else answer_wait()


def _give_up(kind: ActionKind, follow: Any, row: Any, why: str) -> Check:
    _record(follow, last_error=why, next_check_at=None, gave_up_at=timezone.now())
    settled = kind.on_give_up(row, why)
    if settled is not None:
        settle(kind, row, settled)
        return Check(f"{kind.audit_name} {row.pk}: {row.outcome} ({why})")
    return Check(
        f"gave up on {kind.audit_name} {row.pk} after {follow.checks} checks: {why}", gave_up=True
    )


def _record(follow: Any, **fields: object) -> None:
    for name, value in fields.items():
        setattr(follow, name, value)
    follow.save(update_fields=list(fields))


class GaveUp(Exception):
    """Raised by a task that has used all its attempts, so the queue records it as failed."""


@task()
def check_action(kind: str, action_id: str) -> str:
    """Ask Apple what became of a pending action whose answer never arrived, and settle it."""
    result = check(kind_named(kind), action_id)
    if result.gave_up:
        raise GaveUp(result.summary)
    return result.summary


# --- The sweep's rescue ------------------------------------------------------------------------


def rescue_pending(now: datetime, overdue: datetime) -> Counter[str]:
    """Follow up every pending row nobody follows up, and take over overdue checks.

    A row pending longer than a call can last with no follow-up lost its process mid-call
    (killed, or the database or the cache gone when it would have settled).
    """
    found: Counter[str] = Counter()
    for kind in kinds():
        pending = kind.model.objects.filter(outcome=PENDING)
        unwatched = pending.filter(follow_up__isnull=True, created_at__lt=now - answer_wait())
        for row in unwatched:
            follow_up(kind, row, first_check_at=now)
            found[f"pending {kind.label}s without a follow-up"] += 1
        stalled = kind.follow_up_model.objects.filter(
            pk__in=pending.values("pk"), gave_up_at__isnull=True, next_check_at__lt=overdue
        )
        for follow in stalled:
            # Conditional, so two sweeps can't both take the same overdue check over.
            if kind.follow_up_model.objects.filter(
                pk=follow.pk, next_check_at=follow.next_check_at
            ).update(next_check_at=now):
                enqueue_at(check_action, None, kind=kind.name, action_id=str(follow.pk))
                found[f"overdue {kind.label} checks"] += 1
    return found


# --- By hand -----------------------------------------------------------------------------------


class Settlement(enum.StrEnum):
    """What reconciling did to the row."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    # Someone else settled it meanwhile; this run changed nothing.
    SETTLED_ELSEWHERE = "settled elsewhere"
    # Apple could not be asked, or its answer not trusted: a later run tries again.
    LEFT_PENDING = "left pending"


@dataclass(frozen=True)
class Reconciliation:
    """What reconciling one pending row found, and what became of it."""

    kind: ActionKind
    row: Any
    settlement: Settlement
    detail: str

    @property
    def change(self) -> Any:
        return self.row


def reconcile(kind: ActionKind, row: Any) -> Reconciliation:
    """Settle a pending row now from what Apple shows (a person's command, not the queue)."""
    try:
        with acting_for(row):
            settled = kind.read_back(row)
    except StillUnknown as unknown:
        return Reconciliation(kind, row, Settlement.LEFT_PENDING, str(unknown))
    if settle(kind, row, settled):
        return Reconciliation(kind, row, Settlement(settled.outcome), settled.error_message)
    return Reconciliation(kind, row, Settlement.SETTLED_ELSEWHERE, f"already {row.outcome}")


def stranded(older_than: timedelta) -> Iterator[tuple[ActionKind, Any]]:
    """Pending rows of every kind older than `older_than`, oldest first within each kind."""
    cutoff = timezone.now() - older_than
    for kind in kinds():
        rows = kind.model.objects.filter(outcome=PENDING, created_at__lt=cutoff)
        for row in rows.order_by("created_at", "pk"):
            yield kind, row
