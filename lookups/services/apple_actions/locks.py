"""Locks on the subjects of actions (a purchase, a refund case) and on agents with a limit.

A rule checked before a pending row is written holds only if nobody else checks it at the same
time: the check and the insert run in one transaction under the subject's lock, and the lock is
held until that transaction commits, so the next one sees the row. On PostgreSQL these are
transaction-scoped advisory locks, taken in sorted order so two actions never wait on each other;
on SQLite every write transaction is already alone (IMMEDIATE, see settings).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, transaction


def purchase_key(environment: str, original_transaction_id: str) -> str:
    return f"purchase:{environment}:{original_transaction_id}"


def agent_key(purpose: str, agent_id: int) -> str:
    return f"agent:{purpose}:{agent_id}"


def product_key(environment: str, product_id: str) -> str:
    return f"product:{environment}:{product_id}"


def transaction_key(environment: str, transaction_id: str) -> str:
    return f"transaction:{environment}:{transaction_id}"


def case_key(refund_request_id: int) -> str:
    return f"refund-request:{refund_request_id}"


@contextlib.contextmanager
def locked(*keys: str) -> Iterator[None]:
    """A transaction that holds every lock in `keys` until it ends."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for key in sorted(set(keys)):
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
        yield
