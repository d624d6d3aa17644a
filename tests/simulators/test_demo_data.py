"""The demo data's names say what the simulator holds: each order, purchase and customer."""

from __future__ import annotations

import pytest

from lookups.simulators import demo_data
from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    DEMO_ACCOUNTS,
    DEMO_ORDERS,
    LUKAS,
    LUKAS_FINISHED_CONSUMABLES,
    LUKAS_TRANSACTIONS,
    ORDER_TRANSACTIONS,
)

PURCHASES = {name: value for name, value in vars(demo_data).items() if name.startswith("PURCHASE_")}


def test_every_demo_order_names_its_transactions():
    assert set(ORDER_TRANSACTIONS) == set(DEMO_ORDERS)


@pytest.mark.parametrize("order_id", sorted(DEMO_ORDERS))
def test_each_order_holds_the_transactions_its_constant_names(simulator, order_id):
    assert simulator.order_transaction_ids(order_id) == list(ORDER_TRANSACTIONS[order_id])


@pytest.mark.parametrize("name", sorted(PURCHASES))
def test_each_named_purchase_is_an_original_transaction(simulator, name):
    payload = simulator.transaction(PURCHASES[name])
    assert payload["originalTransactionId"] == payload["transactionId"] == PURCHASES[name]


def test_lukas_bought_what_his_constants_name(simulator):
    for transaction_id in LUKAS_TRANSACTIONS:
        payload = simulator.transaction(transaction_id)
        assert payload["appTransactionId"] == APP_TRANSACTION_IDS[LUKAS]
    assert set(LUKAS_FINISHED_CONSUMABLES) < set(LUKAS_TRANSACTIONS)


def test_every_demo_customer_has_an_app_store_identity():
    assert {account["external_id"] for account in DEMO_ACCOUNTS} == set(APP_TRANSACTION_IDS)
