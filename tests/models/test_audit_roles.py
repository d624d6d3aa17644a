"""The app's own database role can't rewrite the audit log, even with every privilege on it.

Production runs with two roles (README, "Deploying"): the owner runs `migrate`; the app role,
granted ALL on every table and sequence, serves pages and runs workers. These tests make such an
app role for real, connect as it and try every way the log was emptied or bent before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from lookups.models import AuditChainHead, ConsumptionAnswer, RefusedLink, TokenChange
from lookups.services.refused_links import record_refusal
from tests.fixtures.database_roles import connect_as, refused, verify
from tests.fixtures.rows import make_consumption_answer, make_token_change, make_transfer_request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_role(postgresql: None) -> Iterator[str]:
    """A login role granted everything on every table and sequence, but owning none of them."""
    name = f"supportdesk_app_{uuid.uuid4().hex[:10]}"
    database = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} LOGIN")
        cursor.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {name}')
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO {name}")
        cursor.execute(f"GRANT ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public TO {name}")
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")


@pytest.fixture
def as_app_role(app_role: str) -> Iterator[psycopg.Connection]:
    with connect_as(app_role) as app:
        yield app


@pytest.fixture
def settled_log(agent_user, make_account) -> list[TokenChange]:
    changes = []
    for _ in range(3):
        change = make_token_change(agent_user, make_account())
        assert change.settle(TokenChange.Outcome.SUCCEEDED)
        changes.append(change)
    return changes


EMPTY_THE_LOG_WITH_THE_FLUSH_FLAG = (
    "INSERT INTO lookups_auditlogflush (reason) VALUES ('flush')",
    "DELETE FROM lookups_tokenchange",
    "DELETE FROM lookups_auditchainhead",
    "DELETE FROM lookups_auditlogflush",
)


def test_the_app_role_can_not_empty_the_log_with_the_flush_flag(as_app_role, settled_log):
    error = refused(as_app_role, *EMPTY_THE_LOG_WITH_THE_FLUSH_FLAG)

    assert "DELETE refused on lookups_tokenchange" in str(error)
    assert TokenChange.objects.count() == 3
    assert verify().startswith("Checked 3 settled token changes: OK")


@pytest.mark.parametrize("table", ["lookups_tokenchange", "lookups_auditchainhead"])
def test_the_app_role_can_not_truncate_the_log_even_with_the_flush_flag(
    as_app_role, settled_log, table
):
    error = refused(
        as_app_role,
        "INSERT INTO lookups_auditlogflush (reason) VALUES ('flush')",
        f"TRUNCATE {table} CASCADE",
    )

    assert f"TRUNCATE refused on {table}" in str(error)
    assert verify().startswith("Checked 3 settled token changes: OK")


def test_the_app_role_can_not_delete_the_chain_head_with_the_flush_flag(as_app_role, settled_log):
    error = refused(
        as_app_role,
        "INSERT INTO lookups_auditlogflush (reason) VALUES ('flush')",
        "DELETE FROM lookups_auditchainhead",
    )

    assert "DELETE refused on lookups_auditchainhead" in str(error)
    assert AuditChainHead.objects.get().last_sequence == 3


def test_the_app_role_can_not_change_a_settled_row(as_app_role, settled_log):
    error = refused(
        as_app_role,
        "INSERT INTO lookups_auditlogflush (reason) VALUES ('flush')",
        f"UPDATE lookups_tokenchange SET ticket_reference = 'ZD-0' WHERE id = {settled_log[0].pk}",
    )

    assert "settled rows of the audit log never change" in str(error)
    assert verify().startswith("Checked 3 settled token changes: OK")


@pytest.mark.parametrize("sequence", [0, 2, 5])
def test_the_app_role_can_not_rewind_or_skip_the_chain_head(as_app_role, settled_log, sequence):
    error = refused(
        as_app_role, f"UPDATE lookups_auditchainhead SET last_sequence = {sequence} WHERE id = 1"
    )

    assert "the chain head only moves forward by one" in str(error)
    assert AuditChainHead.objects.get().last_sequence == 3


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE lookups_tokenchange DISABLE TRIGGER USER",
        "ALTER TABLE lookups_auditchainhead DISABLE TRIGGER ALL",
        "DROP TRIGGER lookups_tokenchange_never_deleted ON lookups_tokenchange",
        "DROP FUNCTION lookups_refuse_audit_log_removal() CASCADE",
        "CREATE OR REPLACE FUNCTION lookups_refuse_audit_log_removal() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END; $$",
        "SET session_replication_role = replica",
        "ALTER TABLE lookups_tokenchange OWNER TO CURRENT_USER",
    ],
)
def test_the_app_role_can_not_take_the_triggers_away(as_app_role, settled_log, statement):
    error = refused(as_app_role, statement)

    assert isinstance(error, psycopg.errors.InsufficientPrivilege)
    with pytest.raises(psycopg.Error):
        as_app_role.execute("DELETE FROM lookups_tokenchange")
    assert verify().startswith("Checked 3 settled token changes: OK")


def test_the_app_role_still_changes_a_pending_row(
    as_app_role, settled_log, agent_user, make_account
):
    """What the app role is for keeps working: a pending row may still change."""
    pending = make_token_change(agent_user, make_account())
    with as_app_role.transaction():
        as_app_role.execute(
            "UPDATE lookups_tokenchange SET ticket_reference = 'ZD-2' WHERE id = %s", [pending.pk]
        )

    assert TokenChange.objects.get(pk=pending.pk).ticket_reference == "ZD-2"


def test_the_owner_can_still_empty_the_log_with_flush(postgresql, settled_log):
    call_command("flush", interactive=False, verbosity=0)

    assert not TokenChange.objects.exists()
    assert verify().startswith("Checked 0 settled token changes: OK")


@pytest.fixture
def other_records(agent_user, manager_user, customer_account) -> dict[str, int]:
    """A settled consumption answer, a refused link and a decided transfer: their ids by table."""
    answer = make_consumption_answer(agent_user)
    assert answer.settle(ConsumptionAnswer.Outcome.SUCCEEDED)
    refused = record_refusal(
        agent_user,
        "2000000815627301",
        reason=RefusedLink.Reason.CHANGED_SINCE,
        message="Apple's token changed since the page was shown.",
    )
    transfer = make_transfer_request(agent_user, customer_account)
    assert transfer.settle_decision("rejected", manager_user, at=timezone.now())
    return {
        "lookups_consumptionanswer": answer.pk,
        "lookups_refusedlink": refused.pk,
        "lookups_transferrequest": transfer.pk,
    }


REWRITES = {
    "lookups_consumptionanswer": "error_message = 'Apple said no'",
    "lookups_refusedlink": "message = 'nothing happened'",
    "lookups_transferrequest": "status = 'approved'",
}


@pytest.mark.parametrize("table", sorted(REWRITES))
def test_the_app_role_can_not_rewrite_the_other_audit_records(as_app_role, other_records, table):
    error = refused(
        as_app_role, f"UPDATE {table} SET {REWRITES[table]} WHERE id = {other_records[table]}"
    )

    assert f"UPDATE refused on {table}" in str(error)


@pytest.mark.parametrize("table", sorted(REWRITES))
def test_the_app_role_can_not_remove_the_other_audit_records(as_app_role, other_records, table):
    flag = "INSERT INTO lookups_auditlogflush (reason) VALUES ('flush')"

    deleted = refused(as_app_role, flag, f"DELETE FROM {table}")
    truncated = refused(as_app_role, flag, f"TRUNCATE {table} CASCADE")

    assert f"DELETE refused on {table}" in str(deleted)
    assert f"TRUNCATE refused on {table}" in str(truncated)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone() == (1,)


def test_the_chain_check_still_holds_with_an_answer_in_it(as_app_role, other_records):
    # The answer and the transfer's decision.
    assert verify().startswith("Checked 2 settled ")
