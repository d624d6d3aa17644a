"""Apple's Retry-After pauses, kept in the database so a cache restart doesn't forget them."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from django.db import DatabaseError, transaction
from django.db.models import Q

from lookups.models import ApplePause

logger = logging.getLogger(__name__)


class DatabasePauses:
    """Where `SharedRateBudget` keeps each endpoint's pause besides the cache.

    Each read and write is a savepoint of its own: a database that fails here spoils no
    caller's transaction, and the cache still holds the pause for every worker.
    """

    def save(self, scope: str, endpoint: str, until: float) -> None:
        """Record a pause; a later end replaces an earlier one, never the reverse."""
        moment = datetime.fromtimestamp(until, tz=UTC)
        try:
            with transaction.atomic():
                _, created = ApplePause.objects.get_or_create(
                    scope=scope, endpoint=endpoint, defaults={"until": moment}
                )
                if not created:
                    ApplePause.objects.filter(
                        Q(until__lt=moment), scope=scope, endpoint=endpoint
                    ).update(until=moment)
        except DatabaseError as error:
            logger.warning("Apple's pause of %s was not kept in the database: %s", endpoint, error)

    def load(self, scope: str, now: float) -> dict[str, float] | None:
        """The pauses of `scope` still running at `now`, by endpoint, as Unix times.

        None when the database can't be read: the caller asks again a little later.
        """
        running = ApplePause.objects.filter(
            scope=scope, until__gt=datetime.fromtimestamp(now, tz=UTC)
        )
        # Inside a caller's transaction, a savepoint keeps a failure from spoiling it. Outside
        # one (a lookup's thread) a read needs no transaction: one would begin IMMEDIATE on
        # SQLite and wait for the write lock of the request that is waiting for this thread.
        reading = (
            transaction.atomic()
            if transaction.get_connection().in_atomic_block
            else contextlib.nullcontext()
        )
        try:
            with reading:
                return {pause.endpoint: pause.until.timestamp() for pause in running}
        except DatabaseError as error:
            logger.warning("Apple's pauses could not be read from the database: %s", error)
            return None
