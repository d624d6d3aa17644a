"""The audit log can't be quietly changed: the database refuses, and the hash chain tells."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lookups.audit_chain import GENESIS_HASH, canonical_document, chain_hash, every_field_of
from lookups.models import AuditChainHead, TokenChange
from tests.fixtures.audit_log import (
    execute,
    head,
    settled,
    trigger_names,
    verify,
)
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.django_db

UPDATE_REFUSED = "UPDATE refused on lookups_tokenchange: settled rows of the audit log never change"
DELETE_REFUSED = "DELETE refused on lookups_tokenchange: the audit log is append-only"
HEAD_REFUSED = "UPDATE refused on lookups_auditchainhead: the chain head only moves forward by one"

TRIGGERS = {
    "lookups_tokenchange_settled_rows_stay",
    "lookups_tokenchange_never_deleted",
    "lookups_auditchainhead_moves_forward",
    "lookups_auditchainhead_never_deleted",
}
POSTGRESQL_ONLY_TRIGGERS = {
    "lookups_tokenchange_never_truncated",
    "lookups_auditchainhead_never_truncated",
}


def skip_unless_concurrent_writers_wait() -> None:
    # Known only once the test database exists.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # A shared-cache in-memory database answers "table is locked" instead of waiting.
        pytest.skip("needs a database that lets concurrent writers wait (PostgreSQL)")


# --- The database refuses ----------------------------------------------------------------------


def test_every_append_only_trigger_exists_once_every_migration_has_run():
    # On SQLite a migration that rebuilds the table drops its triggers; this notices.
    expected = TRIGGERS | (POSTGRESQL_ONLY_TRIGGERS if connection.vendor == "postgresql" else set())
    assert expected <= trigger_names()


@pytest.mark.parametrize("outcome", [TokenChange.Outcome.SUCCEEDED, TokenChange.Outcome.FAILED])
def test_the_database_refuses_to_change_a_settled_row(agent_user, customer_account, outcome):
    change = settled(agent_user, customer_account, outcome)

    with pytest.raises(IntegrityError, match=UPDATE_REFUSED), transaction.atomic():
        execute(
            "UPDATE lookups_tokenchange SET error_message = %s WHERE id = %s",
            ["quietly rewritten", change.pk],
        )

    change.refresh_from_db()
    assert change.error_message == ""


def test_the_database_refuses_to_make_a_settled_row_pending_again(agent_user, customer_account):
    change = settled(agent_user, customer_account)
    with pytest.raises(IntegrityError, match=UPDATE_REFUSED), transaction.atomic():
        execute(
            "UPDATE lookups_tokenchange SET outcome = 'pending', settled_at = NULL, "
            "chain_sequence = NULL, chain_previous_hash = '', chain_hash = '' WHERE id = %s",
            [change.pk],
        )
    assert TokenChange.objects.get(pk=change.pk).outcome == TokenChange.Outcome.SUCCEEDED


def test_the_database_lets_a_pending_row_change_and_settle(agent_user, customer_account):
    change = make_token_change(agent_user, customer_account)

    execute(
        "UPDATE lookups_tokenchange SET ticket_reference = %s WHERE id = %s", ["ZD-77", change.pk]
    )
    # The head moves first, as settle() does: a row settles only where the head now is.
    execute("UPDATE lookups_auditchainhead SET last_sequence = 1, last_hash = %s", ["a" * 64])
    execute(
        "UPDATE lookups_tokenchange SET outcome = 'failed', error_code = 5000000, "
        "settled_at = %s, chain_sequence = 1, chain_previous_hash = %s, chain_hash = %s "
        "WHERE id = %s",
        [timezone.now(), GENESIS_HASH, "a" * 64, change.pk],
    )

    change.refresh_from_db()
    assert (change.ticket_reference, change.outcome, change.chain_sequence) == (
        "ZD-77",
        "failed",
        1,
    )


def test_the_database_refuses_a_settlement_that_leaves_the_chain_out(agent_user, customer_account):
    change = make_token_change(agent_user, customer_account)
    with pytest.raises(IntegrityError), transaction.atomic():
        execute(
            "UPDATE lookups_tokenchange SET outcome = 'succeeded', settled_at = %s WHERE id = %s",
            [timezone.now(), change.pk],
        )
    assert not TokenChange.objects.get(pk=change.pk).is_settled


@pytest.mark.parametrize("settle", [False, True], ids=["pending", "settled"])
def test_the_database_refuses_to_delete_a_token_change(agent_user, customer_account, settle):
    change = settled(agent_user, customer_account) if settle else None
    change = change or make_token_change(agent_user, customer_account)

    with pytest.raises(IntegrityError, match=DELETE_REFUSED), transaction.atomic():
        execute("DELETE FROM lookups_tokenchange WHERE id = %s", [change.pk])
    with pytest.raises(IntegrityError, match=DELETE_REFUSED), transaction.atomic():
        TokenChange.objects.filter(pk=change.pk)._raw_delete(connection.alias)

    assert TokenChange.objects.filter(pk=change.pk).exists()


@pytest.mark.parametrize("sequence", ["last_sequence - 1", "last_sequence + 2", "last_sequence"])
def test_the_database_moves_the_chain_head_forward_only(agent_user, customer_account, sequence):
    settled(agent_user, customer_account)
    settled(agent_user, customer_account)

    with pytest.raises(IntegrityError, match=HEAD_REFUSED), transaction.atomic():
        execute(
            f"UPDATE lookups_auditchainhead SET last_sequence = {sequence}, last_hash = %s",
            ["b" * 64],
        )
    removal_refused = "DELETE refused on lookups_auditchainhead"
    with pytest.raises(IntegrityError, match=removal_refused), transaction.atomic():
        execute("DELETE FROM lookups_auditchainhead")

    assert head().last_sequence == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
@pytest.mark.parametrize("table", ["lookups_tokenchange", "lookups_auditchainhead"])
def test_postgresql_refuses_to_truncate_the_audit_log(agent_user, customer_account, table):
    settled(agent_user, customer_account)
    # Foreign-key checks still pending in the test's transaction would refuse it first.
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    refused = f"TRUNCATE refused on {table}"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        execute(f"TRUNCATE {table} CASCADE")
    assert TokenChange.objects.count() == AuditChainHead.objects.count() == 1


# --- The hash chain ----------------------------------------------------------------------------


def test_each_settlement_extends_the_chain_in_settling_order(agent_user, customer_account):
    first, second, third = (make_token_change(agent_user, customer_account) for _ in range(3))
    for change in (second, third, first):
        change.settle(TokenChange.Outcome.SUCCEEDED)

    chain = list(TokenChange.objects.order_by("chain_sequence"))
    assert [c.pk for c in chain] == [second.pk, third.pk, first.pk]
    assert [c.chain_sequence for c in chain] == [1, 2, 3]
    assert chain[0].chain_previous_hash == GENESIS_HASH == "0" * 64
    assert chain[1].chain_previous_hash == chain[0].chain_hash
    assert chain[2].chain_previous_hash == chain[1].chain_hash
    assert (head().last_sequence, head().last_hash) == (3, chain[2].chain_hash)
    # The instance that settled knows what was stored.
    assert (first.chain_sequence, first.chain_hash) == (3, chain[2].chain_hash)


def test_a_rows_hash_covers_its_content_its_place_and_the_row_before(
    agent_user, customer_account, make_account
):
    earlier = settled(agent_user, customer_account)
    change = make_token_change(
        agent_user, make_account(), token_before=customer_account.app_account_token
    )
    change.settle(TokenChange.Outcome.FAILED, error_code=4000006, error_message="Invalid ID.")

    row = TokenChange.objects.filter(pk=change.pk).values(*every_field_of(None)).get()
    assert change.chain_hash == chain_hash(row, sequence=2, previous_hash=earlier.chain_hash)
    assert len(change.chain_hash) == 64

    document = canonical_document(row, sequence=2, previous_hash=earlier.chain_hash).decode()
    assert document.startswith('{"account_id":')
    assert f'"chain_previous_hash":"{earlier.chain_hash}","chain_sequence":2' in document
    assert f'"token_before":"{customer_account.app_account_token}"' in document
    assert '"error_code":4000006' in document and '"lookup_id":null' in document
    settled_at = change.settled_at.astimezone(UTC)
    assert f'"settled_at":"{settled_at:%Y-%m-%dT%H:%M:%S.%f}Z"' in document


def test_a_settler_that_loses_leaves_the_chain_alone(agent_user, customer_account):
    change = make_token_change(agent_user, customer_account)
    other = TokenChange.objects.get(pk=change.pk)
    assert change.settle(TokenChange.Outcome.SUCCEEDED)

    assert not other.settle(TokenChange.Outcome.FAILED)

    assert head().last_sequence == 1
    assert (other.chain_sequence, other.chain_hash) == (1, change.chain_hash)


@pytest.mark.django_db(transaction=True)
def test_concurrent_settlements_keep_the_chain_in_one_line(agent_user, make_account):
    skip_unless_concurrent_writers_wait()
    settlers = 8
    pks = [make_token_change(agent_user, make_account()).pk for _ in range(settlers)]
    barrier = threading.Barrier(settlers)
    errors: list[BaseException] = []

    def settle(pk: int) -> None:
        try:
            change = TokenChange.objects.get(pk=pk)
            barrier.wait(timeout=10)
            assert change.settle(TokenChange.Outcome.SUCCEEDED)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=settle, args=[pk]) for pk in pks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    sequences = sorted(TokenChange.objects.values_list("chain_sequence", flat=True))
    assert sequences == list(range(1, settlers + 1))
    assert verify().startswith(f"Checked {settlers} settled token changes: OK")


@pytest.mark.django_db(transaction=True)
def test_rows_settled_before_the_chain_existed_join_it_in_the_order_they_settled():
    before_chain = [("lookups", "0005_auditors_see_exports_and_adapty")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("lookups")
    executor.migrate(before_chain)
    try:
        old = executor.loader.project_state(before_chain).apps
        agent = old.get_model("auth", "User").objects.create(username="old-agent")
        account = old.get_model("lookups", "CustomerAccount").objects.create(
            external_id="old", email="old@example.com", display_name="Old"
        )
        now = timezone.now()
        common = {
            "agent": agent,
            "account": account,
            "product_id": "com.example.premium.yearly",
            "environment": "Production",
            "token_after": account.app_account_token,
            "ticket_reference": "ZD-OLD",
        }
        rows = old.get_model("lookups", "TokenChange").objects
        later = rows.create(
            request_id=uuid.uuid4(),
            original_transaction_id="1",
            outcome="succeeded",
            settled_at=now,
            **common,
        )
        sooner = rows.create(
            request_id=uuid.uuid4(),
            original_transaction_id="2",
            outcome="failed",
            error_code=5000000,
            settled_at=now - timedelta(hours=1),
            **common,
        )
        pending = rows.create(request_id=uuid.uuid4(), original_transaction_id="3", **common)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    assert dict(TokenChange.objects.values_list("pk", "chain_sequence")) == {
        sooner.pk: 1,
        later.pk: 2,
        pending.pk: None,
    }
    assert verify().startswith("Checked 2 settled token changes: OK")
    assert trigger_names() >= TRIGGERS
