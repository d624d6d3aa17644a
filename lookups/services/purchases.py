"""Rules about a purchase (all transactions sharing one originalTransactionId), in one place."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from lookups.appstore import Transaction

# Sorts before any purchase date Apple gives.
_NEVER = datetime.min.replace(tzinfo=UTC)


def recency(txn: Transaction) -> tuple[datetime, int]:
    """Sort key for "the latest transaction of a purchase": purchase date, then transaction ID.

    Every field of a transaction is optional, so missing or odd values sort first.
    """
    digits = txn.transaction_id or ""
    return (
        txn.purchase_date or _NEVER,
        int(digits) if digits.isascii() and digits.isdigit() else 0,
    )


def latest_by_purchase(transactions: Iterable[Transaction]) -> dict[str, Transaction]:
    """The latest transaction of each purchase among `transactions`, by originalTransactionId."""
    latest: dict[str, Transaction] = {}
    for txn in transactions:
        key = txn.original_transaction_id
        if key is None:
            continue
        current = latest.get(key)
        if current is None or recency(txn) > recency(current):
            latest[key] = txn
    return latest


def latest_transaction(
    transactions: Iterable[Transaction], original_transaction_id: str
) -> Transaction | None:
    """The latest of `transactions` that belongs to this purchase, or None."""
    return latest_by_purchase(
        txn for txn in transactions if txn.original_transaction_id == original_transaction_id
    ).get(original_transaction_id)


def newest_first[T](rows: Iterable[T]) -> list[T]:
    """Rows of transactions (anything with a `.transaction`), newest first by `recency`.

    A row whose signature failed has no transaction and goes last: it can't be dated.
    """
    return sorted(
        rows,
        key=lambda row: recency(row.transaction) if row.transaction is not None else (_NEVER, -1),
        reverse=True,
    )


def is_uuid(value: str | None) -> bool:
    if not value:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
