"""What a kind of action at Apple supplies to the engine, and what Apple's answer settles into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.db import models

SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class Settled:
    """How an action ended at Apple, as its audit row records it.

    `extra` holds the settled values only this kind's row has (an extension's effective date).
    """

    outcome: str
    error_code: int | None = None
    error_message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class StillUnknown(Exception):
    """Apple could not tell what became of the action yet: the row stays pending for a later ask.

    The message says why in plain words; it is kept on the follow-up.
    """


class ActionKind:
    """One kind of change at Apple. The engine does everything but what is listed here.

    A kind names its audit row (`model`, a `SettledOnceRecord` whose open outcome is "pending",
    with `created_at`) and the follow-up kept beside it (`follow_up_model`, an `ActionFollowUp`
    whose primary key is the row's), and supplies:
    - `call(row)`: make the call to Apple for a pending row; return how it settles, or None when
      Apple took the request and works on it in the background (the row stays pending and is
      followed up at once: `read_back` settles it when Apple says it is done). Raise the
      App Store client's error: a timeout leaves the row pending and followed up, any other
      error settles it as failed with Apple's code.
    - `read_back(row)`: ask Apple what became of a call whose answer never arrived; return how
      it settles, or raise `StillUnknown`.
    - optionally `after_success(row)`, `expired(row, now)` and `on_give_up(row, why)`; a kind
      whose work runs for hours at Apple sets `follow_up_attempts` and `next_check_in(checks)`
      (how often its progress is read) instead of the engine's backoff.
    Its own rules (limits, who may act, which subject is locked) live in its module, in the
    function that writes the pending row under `engine.locked(...)`.
    """

    # The kind's name in queued tasks (stored in the queue: never rename one).
    name: ClassVar[str]
    # How the kind is spoken of: "link", "extension".
    label: ClassVar[str]
    # What its audit row is called: "token change".
    audit_name: ClassVar[str]
    model: ClassVar[type[models.Model]]
    follow_up_model: ClassVar[type[models.Model]]

    # The row's field holding the submitted form's request id (a resubmit gets the first row).
    request_id_field: ClassVar[str] = "pk"

    # How many asks before giving up; None: settings.APPLE_FOLLOW_UP_ATTEMPTS.
    follow_up_attempts: ClassVar[int | None] = None

    def next_check_in(self, checks: int) -> timedelta | None:
        """How long after ask number `checks` the next is due; None: the engine's backoff."""
        return None

    def describe(self, row: Any) -> str:
        """The row's subject, for a person reading the command's output."""
        return str(row)

    def call(self, row: Any) -> Settled | None:
        raise NotImplementedError

    def read_back(self, row: Any) -> Settled:
        raise NotImplementedError

    def after_success(self, row: Any) -> None:
        """What follows Apple's confirmation (an Adapty delivery, a case marked answered)."""

    def expired(self, row: Any, now: datetime) -> str | None:
        """Why asking Apple again has become pointless (a deadline passed); None while it isn't."""
        return None

    def on_give_up(self, row: Any, why: str) -> Settled | None:
        """How a row settles when the desk stops asking; None leaves it pending, for a person."""
        return None

    def __str__(self) -> str:
        return self.label
