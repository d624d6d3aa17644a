"""Locks on the subjects of actions: held by one transaction until it ends, on PostgreSQL by
advisory locks another connection can see; on SQLite the write transaction is alone anyway."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from lookups.models import CustomerAccount
from lookups.services.apple_actions import locks

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's"
)


def test_each_subject_has_its_own_key():
    keys = {
        locks.purchase_key("Production", "2000000815627301"),
        locks.purchase_key("Sandbox", "2000000815627301"),
        locks.agent_key("extend", 1),
        locks.agent_key("extend", 2),
        locks.product_key("Production", "com.example.pro"),
        locks.transaction_key("Production", "2000000815627301"),
        locks.case_key(1),
    }
    assert len(keys) == 7


def taken_elsewhere(key: str) -> bool:
    """Whether another connection finds `key` locked (it tries, and lets go at once)."""
    found: list[bool] = []

    def try_lock() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
                (got,) = cursor.fetchone()
                if got:
                    cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
                found.append(not got)
        finally:
            connections.close_all()

    thread = threading.Thread(target=try_lock)
    thread.start()
    thread.join(10)
    return found[0]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_lock_is_held_until_its_transaction_ends():
    purchase = locks.purchase_key("Production", "2000000815627301")
    agent = locks.agent_key("extend", 1)

    with locks.locked(purchase, agent, purchase):
        assert taken_elsewhere(purchase) and taken_elsewhere(agent)
        assert not taken_elsewhere(locks.purchase_key("Production", "2000000790112458"))

    assert not taken_elsewhere(purchase) and not taken_elsewhere(agent)


@pytest.mark.django_db(transaction=True)
def test_a_failure_inside_the_lock_rolls_its_transaction_back(customer_account):
    with pytest.raises(RuntimeError), locks.locked(locks.case_key(1)):
        CustomerAccount.objects.filter(pk=customer_account.pk).update(display_name="Changed")
        raise RuntimeError("the rule refused")

    customer_account.refresh_from_db()
    assert customer_account.display_name == "Jane Doe"
