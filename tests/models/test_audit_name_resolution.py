"""The audit log's triggers see the database's own objects, whatever a session puts before them.

PostgreSQL looks a name up along the session's search_path, and a session's temporary schema
comes before pg_catalog when the session names it first. An app role granted ALL PRIVILEGES but
owning nothing tries to make the triggers read its own temporary tables, functions and operators
instead of the real ones; the tables belong to an owner role that is not a superuser.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from django.db import connection

from lookups.deploy_checks import AUDIT_TABLES
from lookups.models import (
    AuditChainHead,
    ConsumptionAnswer,
    RefusedLink,
    SubscriptionExtension,
    TokenChange,
)
from lookups.services.refused_links import record_refusal
from tests.fixtures.database_roles import refused, verify
from tests.fixtures.rows import (
    make_consumption_answer,
    make_extension,
    make_token_change,
    make_transfer_request,
)

pytestmark = pytest.mark.django_db(transaction=True)

# The session's temporary schema first, then the real catalogue, then the tables.
TEMP_FIRST = "SET search_path = pg_temp, pg_catalog, public"


def shadow_the_catalogue(role: str) -> list[str]:
    """Statements that set a flush flag and a pg_class of the app role's own, owning everything."""
    oids = ", ".join(f"('{table}'::regclass::oid)" for table in AUDIT_TABLES)
    return [
        "CREATE TEMP TABLE lookups_auditlogflush (reason varchar(100))",
        "INSERT INTO pg_temp.lookups_auditlogflush VALUES ('flush')",
        "CREATE TEMP TABLE pg_class (oid oid, relowner oid)",
        f"INSERT INTO pg_temp.pg_class SELECT t.column1, r.oid "
        f"FROM (VALUES {oids}) AS t, pg_catalog.pg_roles r WHERE r.rolname = '{role}'",
        # Functions and operators are never looked up in pg_temp unless named with it; tried too.
        "CREATE FUNCTION pg_temp.pg_has_role(name, oid, text) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        TEMP_FIRST,
    ]


@pytest.fixture
def audit_rows(agent_user, manager_user, make_account) -> dict[str, object]:
    """A settled row of every audited kind, a refusal and a decided transfer."""
    change = make_token_change(agent_user, make_account())
    assert change.settle(TokenChange.Outcome.SUCCEEDED)
    extension = make_extension(agent_user)
    assert extension.settle(SubscriptionExtension.Outcome.SUCCEEDED)
    answer = make_consumption_answer(agent_user)
    assert answer.settle(ConsumptionAnswer.Outcome.SUCCEEDED)
    refusal = record_refusal(
        agent_user,
        "2000000815627301",
        reason=RefusedLink.Reason.CHANGED_SINCE,
        message="Apple's token changed since the page was shown.",
    )
    transfer = make_transfer_request(agent_user, make_account())
    return {
        "change": change,
        "extension": extension,
        "answer": answer,
        "refusal": refusal,
        "transfer": transfer,
    }


def counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        found = {}
        for table in AUDIT_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            found[table] = cursor.fetchone()[0]
    return found


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_a_temporary_flush_flag_and_pg_class_do_not_let_the_app_role_delete(
    as_all_privileges, all_privileges_role, audit_rows, table
):
    before = counts()

    error = refused(
        as_all_privileges,
        *shadow_the_catalogue(all_privileges_role),
        f"DELETE FROM public.{table}",
    )

    assert f"DELETE refused on {table}" in str(error)
    assert counts() == before
    assert verify().startswith("Checked 3 settled ")


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_a_temporary_flush_flag_and_pg_class_do_not_let_the_app_role_truncate(
    as_all_privileges, all_privileges_role, audit_rows, table
):
    before = counts()

    error = refused(
        as_all_privileges,
        *shadow_the_catalogue(all_privileges_role),
        f"TRUNCATE public.{table} CASCADE",
    )

    assert f"TRUNCATE refused on {table}" in str(error)
    assert counts() == before


FORGED_HASH = "f" * 64


def shadow_the_head(sequence: int) -> list[str]:
    return [
        "CREATE TEMP TABLE lookups_auditchainhead "
        "(id int, last_sequence bigint, last_hash varchar(64))",
        f"INSERT INTO pg_temp.lookups_auditchainhead VALUES (1, {sequence}, '{FORGED_HASH}')",
        TEMP_FIRST,
    ]


SETTLE_FORGED = {
    "lookups_tokenchange": "outcome = 'succeeded', settled_at = now()",
    "lookups_subscriptionextension": "outcome = 'succeeded', settled_at = now()",
    "lookups_consumptionanswer": "outcome = 'succeeded', settled_at = now()",
}


@pytest.mark.parametrize("table", sorted(SETTLE_FORGED))
def test_a_temporary_chain_head_does_not_let_a_row_settle_off_the_head(
    as_all_privileges, agent_user, make_account, audit_rows, table
):
    pending = {
        "lookups_tokenchange": lambda: make_token_change(agent_user, make_account()),
        "lookups_subscriptionextension": lambda: make_extension(agent_user),
        "lookups_consumptionanswer": lambda: make_consumption_answer(agent_user),
    }[table]()

    error = refused(
        as_all_privileges,
        *shadow_the_head(99),
        f"UPDATE public.{table} SET {SETTLE_FORGED[table]}, chain_sequence = 99, "
        f"chain_previous_hash = '{FORGED_HASH}', chain_hash = '{FORGED_HASH}' "
        f"WHERE id = '{pending.pk}'",
    )

    assert "a row settles only where the chain head now is" in str(error)
    assert AuditChainHead.objects.get().last_sequence == 3


def test_the_app_role_can_not_put_the_head_back_by_deleting_and_inserting_it(
    as_all_privileges, all_privileges_role, audit_rows
):
    error = refused(
        as_all_privileges,
        *shadow_the_catalogue(all_privileges_role),
        "DELETE FROM public.lookups_auditchainhead",
        f"INSERT INTO public.lookups_auditchainhead VALUES (1, 1, '{FORGED_HASH}')",
    )

    assert "refused on lookups_auditchainhead" in str(error)
    assert AuditChainHead.objects.get().last_sequence == 3


def test_the_app_role_can_not_insert_a_head_anywhere_but_at_the_start(
    as_owner, as_all_privileges, audit_rows
):
    """The owner removes the head (as a broken restore might); the app role can't put one back
    at a place of its choosing, only at the start while nothing is settled."""
    with as_owner.transaction():
        as_owner.execute("INSERT INTO lookups_auditlogflush VALUES ('restore')")
        as_owner.execute("DELETE FROM lookups_auditchainhead")
        as_owner.execute("DELETE FROM lookups_auditlogflush")

    at_one = refused(
        as_all_privileges,
        f"INSERT INTO public.lookups_auditchainhead VALUES (1, 1, '{FORGED_HASH}')",
    )
    at_the_start = refused(
        as_all_privileges,
        f"INSERT INTO public.lookups_auditchainhead VALUES (1, 0, '{'0' * 64}')",
    )

    assert "INSERT refused on lookups_auditchainhead" in str(at_one)
    assert "INSERT refused on lookups_auditchainhead" in str(at_the_start)
    assert not AuditChainHead.objects.exists()


def test_the_app_role_still_starts_the_chain_of_an_empty_log(as_owner, as_all_privileges):
    with as_owner.transaction():
        as_owner.execute("INSERT INTO lookups_auditlogflush VALUES ('restore')")
        as_owner.execute("DELETE FROM lookups_auditchainhead")
        as_owner.execute("DELETE FROM lookups_auditlogflush")

    with as_all_privileges.transaction():
        as_all_privileges.execute(
            f"INSERT INTO public.lookups_auditchainhead VALUES (1, 0, '{'0' * 64}')"
        )

    assert AuditChainHead.objects.get().last_sequence == 0


def test_the_owner_still_empties_the_log(as_owner, audit_rows):
    with as_owner.transaction():
        as_owner.execute("INSERT INTO lookups_auditlogflush VALUES ('flush')")
        for table in AUDIT_TABLES:
            as_owner.execute(f"TRUNCATE {table} CASCADE")
            as_owner.execute(f"DELETE FROM {table}")
        as_owner.execute("DELETE FROM lookups_auditlogflush")

    assert set(counts().values()) == {0}


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE FUNCTION public.pg_has_role(name, oid, text) RETURNS boolean "
        "LANGUAGE sql AS 'SELECT true'",
        "CREATE TABLE public.pg_class (oid oid, relowner oid)",
        "CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, "
        "FUNCTION = pg_catalog.texteq)",
        "CREATE SCHEMA lookups_shadow",
    ],
)
def test_the_app_role_can_not_put_objects_where_the_triggers_look(as_all_privileges, statement):
    error = refused(as_all_privileges, statement)

    assert isinstance(error, psycopg.errors.InsufficientPrivilege)


def test_every_trigger_function_fixes_its_search_path_with_pg_temp_last(owner_role):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT p.proname, p.proconfig
            FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND c.relname LIKE 'lookups\\_%'
            """
        )
        functions = cursor.fetchall()

    assert len(functions) >= 10
    for name, config in functions:
        assert config, f"{name} sets no search_path"
        (search_path,) = [item for item in config if item.startswith("search_path=")]
        assert search_path.split("=", 1)[1].replace('"', "").split(", ") == [
            "pg_catalog",
            "public",
            "pg_temp",
        ], name


def test_no_trigger_function_names_a_table_without_its_schema(owner_role):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT p.proname, p.prosrc
            FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
            WHERE NOT t.tgisinternal
            """
        )
        functions = cursor.fetchall()

    for name, source in functions:
        for table in re.findall(r"\b(?:FROM|JOIN)\s+([\w.\"]+)", source, flags=re.IGNORECASE):
            assert "." in table, f"{name} names {table} without its schema"
