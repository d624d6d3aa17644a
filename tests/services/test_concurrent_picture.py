"""Two writers of one purchase's picture at the same moment: the newer transaction stays."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from lookups.appstore import Transaction
from lookups.models import Purchase
from lookups.services.purchase_picture import learn_purchases
from lookups.services.purchases import recency

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so there is no race to test",
    ),
]


def test_two_writers_of_a_new_purchase_take_turns_and_the_newer_transaction_stays(
    appstore_settings, simulator
):
    ids = simulator.add_order("RACE000001", 2)
    older, newer = (Transaction.from_payload(simulator.store.transaction(i)) for i in ids)
    assert recency(newer) > recency(older)
    newer_written, let_go = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def write(txn: Transaction, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                learn_purchases([txn], source=Purchase.Source.NOTIFICATION)
                if hold:
                    newer_written.set()
                    let_go.wait(10)
        except Exception as error:  # reported by the assertion below, whatever it is
            errors.append(error)
        finally:
            connection.close()

    # The newer transaction is written first and not yet committed when the older one arrives.
    first = threading.Thread(target=write, args=(newer,), kwargs={"hold": True})
    first.start()
    assert newer_written.wait(10)
    second = threading.Thread(target=write, args=(older,), kwargs={"hold": False})
    second.start()
    second.join(0.5)
    let_go.set()
    first.join(10)
    second.join(10)

    assert errors == []
    stored = Purchase.objects.get(original_transaction_id=older.original_transaction_id)
    assert stored.latest_transaction["transactionId"] == newer.raw["transactionId"]
