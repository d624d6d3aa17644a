"""Outage compensations and finished transactions in the audit log: the database keeps them as it
keeps the other audited calls (migration 0080), and the chain's check reads them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from lookups.models import OutageCompensation, TransactionFinish
from tests.fixtures.audit_log import execute, verify

pytestmark = pytest.mark.django_db


def outage(manager) -> OutageCompensation:
    return OutageCompensation.objects.create(
        requested_by=manager,
        environment="Sandbox",
        product_id="com.example.pro",
        extend_by_days=3,
        reason_code=3,
        note="Down on Saturday",
    )


def finish(agent) -> TransactionFinish:
    return TransactionFinish.objects.create(
        agent=agent,
        environment="Sandbox",
        transaction_id="2000000843316691",
        original_transaction_id="2000000843316691",
        note="20 credits by hand",
    )


def test_both_settle_into_the_chain_and_the_check_reads_them(manager_user, make_user, agent_user):
    asked = outage(manager_user)
    assert asked.reject(make_user("second"))
    finished = finish(agent_user)
    assert finished.settle(TransactionFinish.Outcome.SUCCEEDED)

    assert (asked.chain_sequence, finished.chain_sequence) == (1, 2)
    assert verify().startswith("Checked 2 ")


@pytest.mark.parametrize("table", ["lookups_outagecompensation", "lookups_transactionfinish"])
def test_the_database_refuses_to_change_or_delete_a_settled_row(
    manager_user, make_user, agent_user, table
):
    if table == "lookups_outagecompensation":
        row = outage(manager_user)
        assert row.reject(make_user("second"))
    else:
        row = finish(agent_user)
        assert row.settle(TransactionFinish.Outcome.FAILED, error_message="no")

    with pytest.raises(IntegrityError, match="UPDATE refused"), transaction.atomic():
        execute(f"UPDATE {table} SET error_message = 'quietly' WHERE id = %s", [row.pk.hex])
    with pytest.raises(IntegrityError, match="DELETE refused"), transaction.atomic():
        execute(f"DELETE FROM {table} WHERE id = %s", [row.pk.hex])
    assert type(row).objects.get(pk=row.pk).error_message != "quietly"


def test_the_database_refuses_a_settlement_off_the_chain_head(agent_user):
    row = finish(agent_user)

    with pytest.raises(IntegrityError), transaction.atomic():
        execute(
            "UPDATE lookups_transactionfinish SET outcome = 'succeeded', settled_at = %s, "
            "chain_sequence = 7, chain_previous_hash = %s, chain_hash = %s WHERE id = %s",
            [timezone.now(), "0" * 64, "a" * 64, row.pk.hex],
        )
    assert not TransactionFinish.objects.get(pk=row.pk).is_settled


def test_an_approval_may_be_written_while_open(manager_user, make_user):
    row = outage(manager_user)

    OutageCompensation.objects.filter(pk=row.pk).update(
        outcome=OutageCompensation.Outcome.PENDING, approved_by=make_user("second")
    )

    assert OutageCompensation.objects.get(pk=row.pk).outcome == "pending"
