"""Answers to refund requests are in the one audit chain and kept by the database; refused links
and transfer requests are kept by the database too."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lookups.audit_chain import CONSUMPTION_KIND, chain_hash, every_field_of
from lookups.models import ConsumptionAnswer, RefusedLink, TokenChange, TransferRequest
from lookups.services.refused_links import record_refusal
from tests.fixtures.audit_log import execute, head, trigger_names, triggers_off, verify
from tests.fixtures.rows import (
    make_consumption_answer,
    make_refund_request,
    make_token_change,
    make_transfer_request,
)

pytestmark = pytest.mark.django_db

Outcome = ConsumptionAnswer.Outcome
ANSWER_UPDATE_REFUSED = "UPDATE refused on lookups_consumptionanswer: settled rows"
TRIGGERS = {
    "lookups_consumptionanswer_inserted_pending",
    "lookups_consumptionanswer_never_deleted",
    "lookups_refusedlink_never_changed",
    "lookups_refusedlink_never_deleted",
    "lookups_transferrequest_inserted_open",
    "lookups_transferrequest_decided_once",
    "lookups_transferrequest_never_deleted",
}
SQLITE_ONLY = {
    "lookups_consumptionanswer_settled_rows_stay",
    "lookups_consumptionanswer_settles_at_the_head",
}
POSTGRESQL_ONLY = {
    "lookups_consumptionanswer_settles_once_at_the_head",
    "lookups_consumptionanswer_never_truncated",
    "lookups_refusedlink_never_truncated",
    "lookups_transferrequest_never_truncated",
}


def settled_answer(agent, outcome: str = Outcome.SUCCEEDED, **answer) -> ConsumptionAnswer:
    sent = make_consumption_answer(agent)
    assert sent.settle(outcome, **answer)
    return sent


def refusal(agent) -> RefusedLink:
    return record_refusal(
        agent,
        original_transaction_id="2000000815627301",
        reason=RefusedLink.Reason.CHANGED_SINCE,
        message="Apple's token changed since the page was shown.",
    )


def test_every_guard_exists_once_every_migration_has_run():
    extra = POSTGRESQL_ONLY if connection.vendor == "postgresql" else SQLITE_ONLY
    assert TRIGGERS | extra <= trigger_names()


# --- The chain ---------------------------------------------------------------------------------


def test_answers_settle_into_the_chain_with_token_changes(agent_user, customer_account):
    change = make_token_change(agent_user, customer_account)
    by_agent = settled_answer(agent_user)
    change.settle(TokenChange.Outcome.SUCCEEDED)
    by_policy = settled_answer(None, Outcome.FAILED, error_code=4000000, error_message="Bad.")

    assert [by_agent.chain_sequence, change.chain_sequence, by_policy.chain_sequence] == [1, 2, 3]
    assert by_policy.chain_previous_hash == change.chain_hash
    assert (head().last_sequence, head().last_hash) == (3, by_policy.chain_hash)
    row = ConsumptionAnswer.objects.filter(pk=by_policy.pk).values(
        *every_field_of(CONSUMPTION_KIND)
    )
    assert by_policy.chain_hash == chain_hash(
        row.get(), sequence=3, previous_hash=change.chain_hash, kind=CONSUMPTION_KIND
    )
    assert verify().startswith("Checked 3 settled ")


def test_a_pending_answer_has_no_place_in_the_chain(agent_user):
    sent = make_consumption_answer(agent_user)

    assert (sent.chain_sequence, sent.chain_hash) == (None, "")
    assert verify().startswith("Checked 0 settled ")


def test_a_second_settler_loses_and_sees_the_first_answer(agent_user):
    sent = make_consumption_answer(agent_user)
    other = ConsumptionAnswer.objects.get(pk=sent.pk)
    assert sent.settle(Outcome.UNCONFIRMED, error_message="Apple never confirmed it.")

    assert not other.settle(Outcome.SUCCEEDED)

    assert (other.outcome, other.chain_sequence) == (Outcome.UNCONFIRMED, 1)
    assert head().last_sequence == 1


@pytest.mark.parametrize(
    "change",
    [
        """body = '{"customerConsented": true, "deliveryStatus": "UNDELIVERED_OTHER"}'""",
        "outcome = 'failed'",
        "answered_by_id = NULL, by_policy = %(true)s",
        "transaction_id = '2000000000000001'",
    ],
)
def test_an_answer_changed_behind_the_triggers_back_breaks_the_chain(agent_user, change):
    answers = [settled_answer(agent_user) for _ in range(3)]

    with triggers_off("lookups_consumptionanswer"):
        execute(
            f"UPDATE lookups_consumptionanswer SET {change} WHERE id = %(id)s",
            {"id": answers[1].pk, "true": True},
        )

    with pytest.raises(CommandError) as failure:
        verify()
    assert f"consumption answer id={answers[1].pk} (sequence 2) was changed" in str(failure.value)


def test_a_deleted_answer_leaves_a_gap_the_check_names(agent_user):
    answers = [settled_answer(agent_user) for _ in range(3)]

    with triggers_off("lookups_consumptionanswer"):
        execute("DELETE FROM lookups_consumptionanswer WHERE id = %s", [answers[1].pk])

    with pytest.raises(CommandError, match="settled rows 2 to 2 are missing"):
        verify()


@pytest.mark.django_db(transaction=True)
def test_answers_settled_before_the_chain_took_them_join_its_end():
    before = [("lookups", "0016_extensions_and_refund_requests")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("lookups")
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        agent = old.get_model("auth", "User").objects.create(username="old-agent")
        case = old.get_model("lookups", "RefundRequest").objects.create(
            notification_uuid=str(uuid.uuid4()),
            environment="Production",
            transaction_id="2000000000000042",
            original_transaction_id="2000000000000042",
            requested_at=timezone.now(),
            deadline=timezone.now(),
        )
        answers = old.get_model("lookups", "ConsumptionAnswer").objects
        common = {"refund_request": case, "answered_by": agent, "body": {"a": 1}}
        later = answers.create(outcome="succeeded", settled_at=timezone.now(), **common)
        sooner = answers.create(
            outcome="failed", settled_at=timezone.now() - timedelta(minutes=5), **common
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    chained = dict(ConsumptionAnswer.objects.values_list("pk", "chain_sequence"))
    assert chained == {sooner.pk: 1, later.pk: 2}
    assert set(ConsumptionAnswer.objects.values_list("transaction_id", flat=True)) == {
        "2000000000000042"
    }
    assert verify().startswith("Checked 2 settled ")
    assert trigger_names() >= TRIGGERS


# --- The database refuses ----------------------------------------------------------------------


def test_the_database_refuses_to_change_a_settled_answer(agent_user):
    sent = settled_answer(agent_user)

    with pytest.raises(IntegrityError, match=ANSWER_UPDATE_REFUSED), transaction.atomic():
        execute(
            "UPDATE lookups_consumptionanswer SET error_message = 'quietly' WHERE id = %s",
            [sent.pk],
        )
    assert ConsumptionAnswer.objects.get(pk=sent.pk).error_message == ""


def test_the_database_refuses_a_settlement_off_the_chain_head(agent_user):
    sent = make_consumption_answer(agent_user)

    with pytest.raises(IntegrityError), transaction.atomic():
        execute(
            "UPDATE lookups_consumptionanswer SET outcome = 'succeeded', settled_at = %s, "
            "chain_sequence = 7, chain_previous_hash = %s, chain_hash = %s WHERE id = %s",
            [timezone.now(), "0" * 64, "a" * 64, sent.pk],
        )
    assert not ConsumptionAnswer.objects.get(pk=sent.pk).is_settled


def test_the_database_refuses_an_answer_inserted_settled(agent_user):
    case = make_refund_request()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsumptionAnswer.objects.create(
            refund_request=case,
            answered_by=agent_user,
            body={},
            outcome=Outcome.SUCCEEDED,
            settled_at=timezone.now(),
            chain_sequence=1,
            chain_previous_hash="0" * 64,
            chain_hash="a" * 64,
        )
    assert not ConsumptionAnswer.objects.exists()


@pytest.mark.parametrize("settle", [False, True], ids=["pending", "settled"])
def test_the_database_refuses_to_delete_an_answer(agent_user, settle):
    sent = settled_answer(agent_user) if settle else make_consumption_answer(agent_user)

    with pytest.raises(IntegrityError, match="DELETE refused"), transaction.atomic():
        execute("DELETE FROM lookups_consumptionanswer WHERE id = %s", [sent.pk])
    assert ConsumptionAnswer.objects.filter(pk=sent.pk).exists()


def test_the_database_refuses_to_change_or_delete_a_refused_link(agent_user):
    refused = refusal(agent_user)

    with (
        pytest.raises(IntegrityError, match="a refused link is never changed"),
        transaction.atomic(),
    ):
        execute("UPDATE lookups_refusedlink SET message = 'fine' WHERE id = %s", [refused.pk])
    with pytest.raises(IntegrityError, match="DELETE refused"), transaction.atomic():
        execute("DELETE FROM lookups_refusedlink WHERE id = %s", [refused.pk])
    assert RefusedLink.objects.get(pk=refused.pk).message.startswith("Apple's token changed")


def test_the_database_lets_an_open_transfer_be_decided_once(
    agent_user, manager_user, customer_account
):
    transfer = make_transfer_request(agent_user, customer_account)
    decision = "UPDATE lookups_transferrequest SET status = %s, decided_by_id = %s, "
    decision += "decided_at = %s WHERE id = %s"

    # The desk decides by settling the decision into the chain, in one UPDATE.
    assert transfer.settle_decision("rejected", manager_user, at=timezone.now())

    with (
        pytest.raises(IntegrityError, match="only the decision of an open request"),
        transaction.atomic(),
    ):
        execute(decision, ["approved", manager_user.pk, timezone.now(), transfer.pk])
    assert TransferRequest.objects.get(pk=transfer.pk).status == "rejected"


@pytest.mark.parametrize(
    "change",
    ["account_id = %(other)s", "ticket_reference = 'ZD-0'", "token_before = NULL"],
)
def test_the_database_refuses_to_change_what_an_open_transfer_asks_for(
    agent_user, customer_account, make_account, change
):
    transfer = make_transfer_request(agent_user, customer_account)

    with (
        pytest.raises(IntegrityError, match="only the decision of an open request"),
        transaction.atomic(),
    ):
        execute(
            f"UPDATE lookups_transferrequest SET {change} WHERE id = %(id)s",
            {"id": transfer.pk, "other": make_account().pk},
        )
    assert TransferRequest.objects.get(pk=transfer.pk).account == customer_account


def test_the_database_refuses_a_transfer_inserted_decided_or_deleted(
    agent_user, manager_user, customer_account
):
    with (
        pytest.raises(IntegrityError, match="a transfer request is written open"),
        transaction.atomic(),
    ):
        make_transfer_request(
            agent_user,
            customer_account,
            status="approved",
            decided_by=manager_user,
            decided_at=timezone.now(),
        )
    transfer = make_transfer_request(agent_user, customer_account, request_id=uuid.uuid4())
    with pytest.raises(IntegrityError, match="DELETE refused"), transaction.atomic():
        execute("DELETE FROM lookups_transferrequest WHERE id = %s", [transfer.pk])
    assert TransferRequest.objects.count() == 1
