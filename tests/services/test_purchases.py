"""The rules about a purchase in one place: which of its transactions is the latest, rows
newest first, and what passes for a token."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lookups.appstore import Transaction
from lookups.services.purchases import (
    is_uuid,
    latest_by_purchase,
    latest_transaction,
    newest_first,
    recency,
)

DAY_MS = 86_400_000


def txn(transaction_id: str | None, original: str | None = "100", day: int | None = 1):
    payload = {"transactionId": transaction_id, "originalTransactionId": original}
    if day is not None:
        payload["purchaseDate"] = 1_764_547_200_000 + day * DAY_MS
    return Transaction.from_payload(payload)


def test_the_latest_is_the_newest_purchase_then_the_highest_id():
    older, newer, same_day_higher = txn("105", day=1), txn("101", day=2), txn("102", day=2)
    assert latest_transaction([older, newer, same_day_higher], "100") is same_day_higher


def test_each_purchase_gets_its_own_latest_and_one_without_an_original_is_left_out():
    maya, oliver = txn("11", "10", day=3), txn("21", "20", day=1)
    latest = latest_by_purchase([txn("10", "10", day=1), maya, oliver, txn("99", None)])
    assert latest == {"10": maya, "20": oliver}
    assert latest_transaction([maya], "30") is None


def test_odd_ids_and_missing_dates_sort_first():
    dated, undated, odd = txn("5", day=1), txn("9", day=None), txn("٣", day=1)
    assert sorted([dated, undated, odd], key=recency) == [undated, odd, dated]


def test_rows_come_newest_first_and_an_undatable_one_last():
    rows = [SimpleNamespace(transaction=t) for t in (txn("1", day=1), None, txn("2", day=5))]
    assert [row.transaction for row in newest_first(rows)] == [
        rows[2].transaction,
        rows[0].transaction,
        None,
    ]


@pytest.mark.parametrize(
    ("value", "is_one"),
    [
        ("edecd7f3-d5da-4af1-bac2-76f3e3b367ef", True),
        ("DB0F2681-AC9A-4BF0-ADCE-E787AA6AF828", True),
        ("", False),
        (None, False),
        ("not-a-uuid", False),
    ],
)
def test_what_passes_for_a_token(value, is_one):
    assert is_uuid(value) is is_one
