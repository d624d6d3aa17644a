"""How the desk's follow-up of a link Apple did not answer stands, in the agent's words.

The follow-up itself is the engine's (`lookups.services.apple_actions.engine`); the names below
are kept for the callers and queued tasks that speak of token changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from lookups.models import TokenChange, TokenChangeFollowUp
from lookups.services.apple_actions import engine
from lookups.services.apple_actions.engine import Check, answer_wait, first_check_time
from lookups.services.apple_actions.link import KIND as LINK

__all__ = ["Check", "answer_wait", "check_token_change", "first_check_time", "follow_up"]


def follow_up(change: TokenChange, *, first_check_at: datetime | None = None) -> None:
    """Have a worker ask Apple about this pending change, from `first_check_at` on. Idempotent."""
    engine.follow_up(LINK, change, first_check_at=first_check_at)


def check_token_change(token_change_id: int) -> Check:
    """Read the purchase's token from Apple and settle the change, or plan the next check."""
    return engine.check(LINK, token_change_id)


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
            " An administrator can settle it with manage.py reconcile_actions."
        )
    return (
        f"Apple has not answered {who} yet: waiting for Apple since {wait.since}, {wait.checked}."
        " The desk records Apple's answer by itself; look the order up again in a few minutes."
    )
