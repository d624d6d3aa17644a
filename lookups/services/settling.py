"""Following up token changes Apple did not answer: asking it again until the change settles.

A link whose Set App Account Token call timed out stays pending: Apple may still carry it out.
`follow_up` has a worker read the purchase's token from Apple once the call budget has run out
(`check_token_change`, the way `reconcile_token_changes` does); a check that can't settle the
change is tried again later with backoff, TOKEN_CHECK_ATTEMPTS times at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from lookups.models import TokenChange, TokenChangeFollowUp
from lookups.services.adapty_delivery import adapty_enabled, send_to_adapty
from lookups.services.reconciling import Settlement, reconcile_token_change
from lookups.services.task_queue import enqueue_at, retry_delay


@dataclass(frozen=True)
class Check:
    """What one run of `check_token_change` did."""

    summary: str
    gave_up: bool = False


def answer_wait() -> timedelta:
    """How long a call made now may still be waiting for Apple's answer.

    The one rule for when a pending change may be read back from Apple: the worker's first check,
    the sweep and `reconcile_token_changes` all wait this long. The margin covers clocks that
    differ between machines and the moment settling takes.
    """
    return timedelta(
        seconds=settings.APPSTORE_CALL_BUDGET_SECONDS + settings.TOKEN_CHECK_MARGIN_SECONDS
    )


def first_check_time(now: datetime | None = None) -> datetime:
    """When a change whose call just timed out is first read from Apple again."""
    return (now or timezone.now()) + answer_wait()


def follow_up(change: TokenChange, *, first_check_at: datetime | None = None) -> None:
    """Have a worker ask Apple about this pending change, from `first_check_at` on. Idempotent."""
    from lookups import tasks  # lookups.tasks imports this module

    first_check_at = first_check_at or first_check_time()
    with transaction.atomic():
        _, created = TokenChangeFollowUp.objects.get_or_create(
            token_change=change, defaults={"next_check_at": first_check_at}
        )
        if created:
            enqueue_at(tasks.check_token_change, first_check_at, token_change_id=change.pk)


def check_token_change(token_change_id: int) -> Check:
    """Read the purchase's token from Apple and settle the change, or plan the next check.

    Safe to run twice and after a crash: a check claims its turn by moving `next_check_at` in
    one conditional UPDATE, so of two runs for the same turn one asks Apple and the other stops;
    settling itself is a single conditional UPDATE too (`TokenChange.settle`).
    """
    from lookups import tasks  # lookups.tasks imports this module

    follow = (
        TokenChangeFollowUp.objects.select_related("token_change")
        .filter(pk=token_change_id)
        .first()
    )
    if follow is None:
        return Check(f"token change {token_change_id} is not followed up")
    change = follow.token_change
    if change.is_settled:
        return Check(f"token change {change.pk} is already {change.outcome}")
    if follow.gave_up_at is not None:
        return Check(f"gave up on token change {change.pk} at {follow.gave_up_at:%H:%M}")
    now = timezone.now()
    due = follow.next_check_at
    if due is not None and due > now:
        # Run early (the immediate backend, or clocks apart): the turn stays open for the sweep.
        return Check(f"token change {change.pk} is not due until {due:%H:%M:%S}")
    if follow.checks >= settings.TOKEN_CHECK_ATTEMPTS:
        return _give_up(follow)

    # Held a call budget and the sweep's grace ahead, so a worker dying here leaves it overdue.
    held_until = first_check_time(now)
    claimed = TokenChangeFollowUp.objects.filter(
        pk=follow.pk, next_check_at=due, gave_up_at__isnull=True
    ).update(checks=F("checks") + 1, last_checked_at=now, next_check_at=held_until)
    if not claimed:
        return Check(f"token change {change.pk} is being checked by another worker")
    follow.refresh_from_db()

    try:
        reconciliation = reconcile_token_change(change)
    except Exception as error:
        # The queue records the traceback; the sweep starts the next check once the hold ends.
        _record(follow, last_error=f"Unexpected failure: {type(error).__name__}: {error}")
        raise

    if reconciliation.settlement != Settlement.LEFT_PENDING:
        _record(follow, last_error="", next_check_at=None)
        if reconciliation.settlement == Settlement.SUCCEEDED and adapty_enabled():
            send_to_adapty(change.agent, change)
        return Check(f"token change {change.pk}: {reconciliation.settlement}")

    if follow.checks >= settings.TOKEN_CHECK_ATTEMPTS:
        follow.last_error = reconciliation.detail
        return _give_up(follow)
    next_check_at = timezone.now() + retry_delay(follow.checks)
    with transaction.atomic():
        _record(follow, last_error=reconciliation.detail, next_check_at=next_check_at)
        enqueue_at(tasks.check_token_change, next_check_at, token_change_id=change.pk)
    return Check(
        f"token change {change.pk} left pending ({reconciliation.detail}); "
        f"check {follow.checks + 1} at {next_check_at:%H:%M:%S}"
    )


def _give_up(follow: TokenChangeFollowUp) -> Check:
    _record(follow, last_error=follow.last_error, next_check_at=None, gave_up_at=timezone.now())
    return Check(
        f"gave up on token change {follow.token_change_id} after {follow.checks} checks: "
        f"{follow.last_error or 'no answer from Apple'}",
        gave_up=True,
    )


def _record(follow: TokenChangeFollowUp, **fields: object) -> None:
    for name, value in fields.items():
        setattr(follow, name, value)
    follow.save(update_fields=list(fields))


@dataclass(frozen=True)
class WaitForApple:
    """How the desk's follow-up of a change Apple did not answer stands, in the agent's words."""

    change: TokenChange
    follow: TokenChangeFollowUp

    @property
    def since(self) -> str:
        return timezone.localtime(self.change.created_at).strftime("%H:%M")

    @property
    def checked(self) -> str:
        checks = self.follow.checks
        return {0: "not checked yet", 1: "checked once"}.get(checks, f"checked {checks} times")

    @property
    def gave_up(self) -> bool:
        return self.follow.gave_up_at is not None

    @property
    def stopped_at(self) -> str:
        stopped = self.follow.gave_up_at
        return timezone.localtime(stopped).strftime("%H:%M") if stopped else ""

    @property
    def last_error(self) -> str:
        return self.follow.last_error


def waiting_for_apple(change: TokenChange) -> WaitForApple | None:
    """The follow-up of this change, if the desk has had to ask Apple again about it."""
    follow = TokenChangeFollowUp.objects.filter(token_change=change).first()
    return WaitForApple(change, follow) if follow is not None else None


def waiting_sentence(change: TokenChange) -> str | None:
    """What an agent trying to change the same purchase is told; None if it isn't followed up."""
    wait = waiting_for_apple(change)
    if wait is None:
        return None
    who = f"{change.agent.get_username()}'s link of this purchase to {change.account.display_name}"
    if wait.gave_up:
        return (
            f"Apple never answered {who}: waiting for Apple since {wait.since}, {wait.checked}, "
            f"and the desk stopped asking at {wait.stopped_at} ({wait.last_error or 'no answer'})."
            " An administrator can settle it with manage.py reconcile_token_changes."
        )
    return (
        f"Apple has not answered {who} yet: waiting for Apple since {wait.since}, {wait.checked}."
        " The desk records Apple's answer by itself; look the order up again in a few minutes."
    )
