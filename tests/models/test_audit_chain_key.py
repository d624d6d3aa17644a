"""Nobody with only the database can forge the audit chain; the nightly check keeps its anchors.

Each forgery is done the way someone with write access to the database (and not the chain key)
would: plain SQL, triggers left on, hashes computed from what the database holds.
"""

from __future__ import annotations

import subprocess
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lookups.audit_chain import HASHED_FIELDS, chain_hash, every_field_of, unkeyed_chain_hash
from lookups.models import AuditChainHead, TokenChange
from tests.fixtures.rows import make_token_change
from tests.supportdesk.test_settings import PRODUCTION, run

pytestmark = pytest.mark.django_db

INSERT_REFUSED = "INSERT refused on lookups_tokenchange"
PLACE_REFUSED = "a row settles only where the chain head now is"


def settled(agent, account) -> TokenChange:
    change = make_token_change(agent, account)
    assert change.settle(TokenChange.Outcome.SUCCEEDED)
    return change


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit_log", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def insert_settled(agent, account, *, sequence: int, previous_hash: str, hash_: str) -> None:
    execute(
        "INSERT INTO lookups_tokenchange (request_id, agent_id, created_at, account_id, "
        "original_transaction_id, product_id, environment, order_id, token_after, "
        "ticket_reference, outcome, error_message, settled_at, chain_sequence, "
        "chain_previous_hash, chain_hash) VALUES (%s, %s, %s, %s, '42', 'com.example.premium', "
        "'Production', 'MK5TTTVWJH', %s, 'ZD-FORGED', 'succeeded', '', %s, %s, %s, %s)",
        [
            str(uuid.uuid4()),
            agent.pk,
            timezone.now(),
            account.pk,
            str(account.app_account_token),
            timezone.now(),
            sequence,
            previous_hash,
            hash_,
        ],
    )


def forge_settlement(change: TokenChange, *, sequence: int, previous_hash: str) -> str:
    """Settle a pending row by hand and move the head to it, hashing without the key."""
    now = timezone.now()
    row = TokenChange.objects.filter(pk=change.pk).values(*HASHED_FIELDS).get()
    row.update(outcome="succeeded", settled_at=now)
    forged = unkeyed_chain_hash(row, sequence=sequence, previous_hash=previous_hash)
    execute(
        "UPDATE lookups_auditchainhead SET last_sequence = %s, last_hash = %s WHERE id = 1",
        [sequence, forged],
    )
    execute(
        "UPDATE lookups_tokenchange SET outcome = 'succeeded', settled_at = %s, "
        "chain_sequence = %s, chain_previous_hash = %s, chain_hash = %s WHERE id = %s",
        [now, sequence, previous_hash, forged, change.pk],
    )
    return forged


# --- Only pending rows go in; only settling gives a place ----------------------------------------


@pytest.mark.parametrize("above_the_head", [1, 50])
def test_the_database_refuses_to_insert_a_settled_row(agent_user, customer_account, above_the_head):
    last = settled(agent_user, customer_account)

    with pytest.raises(IntegrityError, match=INSERT_REFUSED), transaction.atomic():
        insert_settled(
            agent_user,
            customer_account,
            sequence=1 + above_the_head,
            previous_hash=last.chain_hash,
            hash_="a" * 64,
        )

    assert TokenChange.objects.count() == 1
    assert verify().startswith("Checked 1 settled token changes: OK")


def test_a_row_can_not_take_a_place_the_head_did_not_give_it(agent_user, customer_account):
    last = settled(agent_user, customer_account)
    pending = make_token_change(agent_user, customer_account)

    with pytest.raises(IntegrityError, match=PLACE_REFUSED), transaction.atomic():
        execute(
            "UPDATE lookups_tokenchange SET outcome = 'succeeded', settled_at = %s, "
            "chain_sequence = 2, chain_previous_hash = %s, chain_hash = %s WHERE id = %s",
            [timezone.now(), last.chain_hash, "b" * 64, pending.pk],
        )

    # So linking goes on for everyone: the next settlement takes the place.
    assert pending.settle(TokenChange.Outcome.SUCCEEDED)
    assert pending.chain_sequence == 2
    assert verify().startswith("Checked 2 settled token changes: OK")


def test_the_append_only_triggers_include_the_insert_and_place_guards():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {name for (name,) in cursor.fetchall()}
    assert {
        "lookups_tokenchange_inserted_pending",
        "lookups_tokenchange_settles_at_the_head",
    } <= names


# --- The key: write access to the database can't extend the chain -------------------------------


def test_a_row_forged_at_the_end_with_the_head_moved_fails_verify(agent_user, customer_account):
    rows = [settled(agent_user, customer_account) for _ in range(2)]
    forged = forge_settlement(
        make_token_change(agent_user, customer_account),
        sequence=3,
        previous_hash=rows[1].chain_hash,
    )

    with pytest.raises(CommandError, match=r"\(sequence 3\) was changed after it settled"):
        verify()
    # An anchor taken before doesn't help the forger either.
    with pytest.raises(CommandError, match=r"\(sequence 3\)"):
        verify("--anchor", f"3:{forged}")


def test_the_chain_is_an_hmac_with_the_configured_key(agent_user, customer_account, settings):
    change = settled(agent_user, customer_account)
    row = TokenChange.objects.filter(pk=change.pk).values(*every_field_of(None)).get()
    place = {"sequence": 1, "previous_hash": change.chain_previous_hash}

    assert change.chain_hash == chain_hash(row, **place, key=settings.AUDIT_CHAIN_KEY.encode())
    assert change.chain_hash != unkeyed_chain_hash(row, **place)
    assert change.chain_hash != chain_hash(row, **place, key=b"another key of 32 characters....")


def test_verify_fails_when_the_key_is_not_the_one_the_chain_was_made_with(
    agent_user, customer_account, settings
):
    settled(agent_user, customer_account)
    settings.AUDIT_CHAIN_KEY = "a different key, also at least 32 characters"

    with pytest.raises(CommandError, match=r"\(sequence 1\) was changed after it settled"):
        verify()


def start_django(
    environment: dict[str, str], code: str = "import django; django.setup()"
) -> subprocess.CompletedProcess:
    return run(["-c", code], {**environment, "DJANGO_SETTINGS_MODULE": "supportdesk.settings"})


def test_production_refuses_to_start_without_a_chain_key():
    environment = {k: v for k, v in PRODUCTION.items() if not k.startswith("AUDIT_CHAIN_KEY")}
    result = start_django(environment)

    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEY" in result.stderr.splitlines()[-1]


def test_production_refuses_a_short_chain_key():
    result = start_django({**PRODUCTION, "AUDIT_CHAIN_KEY": "too-short"})

    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEY must be at least 32 characters" in result.stderr


def test_production_reads_the_chain_key_from_a_file(tmp_path):
    key_file = tmp_path / "audit-chain.key"
    key_file.write_text("a-key-kept-in-a-file-of-its-own-0123456789\n")
    environment = {k: v for k, v in PRODUCTION.items() if not k.startswith("AUDIT_CHAIN_KEY")}
    result = start_django(
        {**environment, "AUDIT_CHAIN_KEY_FILE": str(key_file)},
        code="import django; django.setup(); from django.conf import settings; "
        "print(len(settings.AUDIT_CHAIN_KEY))",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len("a-key-kept-in-a-file-of-its-own-0123456789"))


# --- The anchor file ----------------------------------------------------------------------------


@pytest.fixture
def anchor_file(tmp_path, settings) -> Path:
    path = tmp_path / "audit-anchors.txt"
    settings.AUDIT_ANCHOR_FILE = str(path)
    return path


def truncate_newest_and_rewind_head(rows: list[TokenChange]) -> None:
    """What only the owner (or a superuser) can do: triggers off, newest row gone, head back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE lookups_tokenchange DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE lookups_auditchainhead DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER lookups_tokenchange_never_deleted")
            cursor.execute("DROP TRIGGER lookups_auditchainhead_moves_forward")
        cursor.execute("DELETE FROM lookups_tokenchange WHERE id = %s", [rows[-1].pk])
        cursor.execute(
            "UPDATE lookups_auditchainhead SET last_sequence = %s, last_hash = %s",
            [len(rows) - 1, rows[-2].chain_hash],
        )
        # The test's transaction is rolled back, triggers and all, on PostgreSQL and SQLite.


def test_verify_records_the_head_it_saw_in_the_anchor_file(
    agent_user, customer_account, anchor_file
):
    rows = [settled(agent_user, customer_account) for _ in range(2)]
    verify()
    verify()  # The same head isn't written twice.
    rows.append(settled(agent_user, customer_account))
    verify()

    recorded = [line.split()[-1] for line in anchor_file.read_text().splitlines()]
    assert recorded == [f"2:{rows[1].chain_hash}", f"3:{rows[2].chain_hash}"]


def test_verify_catches_the_newest_rows_removed_without_being_given_an_anchor(
    agent_user, customer_account, anchor_file
):
    rows = [settled(agent_user, customer_account) for _ in range(3)]
    verify()

    truncate_newest_and_rewind_head(rows)

    with pytest.raises(CommandError, match="recorded sequence 3 is gone"):
        verify()
    # A failed check records nothing.
    assert len(anchor_file.read_text().splitlines()) == 1


def test_verify_refuses_an_anchor_file_it_did_not_write(agent_user, customer_account, anchor_file):
    settled(agent_user, customer_account)
    anchor_file.write_text("2026-12-01T00:00:00Z one:abc\n")

    with pytest.raises(CommandError, match=r"audit-anchors\.txt, line 1"):
        verify()


def test_verify_says_when_no_anchor_file_is_named(settings):
    settings.AUDIT_ANCHOR_FILE = ""
    err = StringIO()
    call_command("verify_audit_log", stdout=StringIO(), stderr=err)
    assert "AUDIT_ANCHOR_FILE is not set" in err.getvalue()


# --- Rows settled before the key: re-chained by migration 0011 -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_rows_settled_before_the_key_are_re_chained_with_it(make_user, make_account):
    before = [("lookups", "0010_audit_log_owner_only")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("lookups")
    executor.migrate(before)
    try:
        agent, account = make_user("old-agent"), make_account()
        # Written with the model as it was then: later columns don't exist yet.
        old_model = executor.loader.project_state(before).apps.get_model("lookups", "TokenChange")
        old_change = old_model.objects.create(
            request_id=uuid.uuid4(),
            agent_id=agent.pk,
            account_id=account.pk,
            original_transaction_id="2000000999999001",
            product_id="com.example.premium.yearly",
            environment="Production",
            token_after=account.app_account_token,
            ticket_reference="ZD-1234",
        )
        # Settled the old way: the row first, then the head, with unkeyed hashes.
        row = old_model.objects.filter(pk=old_change.pk).values(*HASHED_FIELDS).get()
        now = timezone.now()
        row.update(outcome="failed", settled_at=now)
        unkeyed = unkeyed_chain_hash(row, sequence=1, previous_hash="0" * 64)
        execute(
            "UPDATE lookups_tokenchange SET outcome = 'failed', settled_at = %s, "
            "chain_sequence = 1, chain_previous_hash = %s, chain_hash = %s WHERE id = %s",
            [now, "0" * 64, unkeyed, old_change.pk],
        )
        execute(
            "INSERT INTO lookups_auditchainhead (id, last_sequence, last_hash) VALUES (1, 1, %s)"
            " ON CONFLICT (id) DO UPDATE SET last_sequence = 1, last_hash = %s",
            [unkeyed, unkeyed],
        )
    finally:
        MigrationExecutor(connection).migrate(latest)

    rechained = TokenChange.objects.get(pk=old_change.pk)
    assert rechained.chain_hash != unkeyed
    assert AuditChainHead.objects.get().last_hash == rechained.chain_hash
    assert settled(agent, account).chain_sequence == 2
    assert verify().startswith("Checked 2 settled token changes: OK")
