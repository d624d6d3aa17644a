"""The audit log's trigger functions read the database's own objects, never a session's.

PostgreSQL looks an unqualified name up along the session's search_path, and a session that puts
`pg_temp` first finds its own temporary tables before pg_catalog and before the desk's tables. The
functions of migrations 0007, 0010, 0011, 0016 and 0017 named `lookups_auditlogflush`,
`lookups_auditchainhead` and `pg_class` unqualified and fixed no search_path, so a role owning
nothing could make them read a temporary flush flag, a temporary `pg_class` saying it owns the
audit tables, or a temporary chain head. Every trigger function now:
- fixes its own search_path to pg_catalog, the desk's schema, and pg_temp last (PostgreSQL
  searches pg_temp for tables only where it is named, and never for functions or operators);
- names every table with its schema, and reads ownership from pg_catalog.pg_class.

The chain head gets an INSERT guard too: only its owner may insert it, except the very start of
the chain (sequence 0, the genesis hash) while no row of the log is settled, which is what the app
does on its first settlement. With removals owner-only as well, the head can't be taken out and
put back at an earlier place.

SQLite has no roles nor schemas: nothing changes there.
"""

# ruff: noqa: S608 (the schema is the connection's own, quoted; every other name a constant)

from __future__ import annotations

from django.db import migrations

from lookups.audit_chain import GENESIS_HASH

# Functions that name no table: they only need their search_path fixed.
NAMING_NO_TABLE = (
    "lookups_refuse_settled_tokenchange_update",
    "lookups_refuse_chain_head_rewind",
    "lookups_refuse_settled_tokenchange_insert",
    "lookups_refuse_refusedlink_update",
    "lookups_refuse_transferrequest_insert",
    "lookups_refuse_transferrequest_update",
)
CHAINED_TABLES = (
    "lookups_tokenchange",
    "lookups_subscriptionextension",
    "lookups_consumptionanswer",
)
HEAD = "lookups_auditchainhead"


def _function(schema: str, name: str, body: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {schema}.{name}() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, {schema}, pg_temp
    AS $$
    {body}
    $$
    """


def _owner_runs_it() -> str:
    """Whether the role running the statement holds the privileges of the table's real owner."""
    return (
        "pg_catalog.pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c "
        "WHERE c.oid = TG_RELID), 'USAGE')"
    )


def _at_the_head(schema: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM {schema}.{HEAD} h WHERE h.id = 1 "
        "AND h.last_sequence = NEW.chain_sequence AND h.last_hash = NEW.chain_hash)"
    )


def _functions(schema: str) -> list[str]:
    owner = _owner_runs_it()
    at_the_head = _at_the_head(schema)
    nothing_settled = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {schema}.{table} WHERE chain_sequence IS NOT NULL)"
        for table in CHAINED_TABLES
    )
    extension = "lookups_subscriptionextension"
    answer = "lookups_consumptionanswer"
    unsettled = "('pending', 'awaiting_approval')"
    return [
        _function(
            schema,
            "lookups_refuse_audit_log_removal",
            f"""
    BEGIN
        -- SECURITY INVOKER (the default): current_user is whoever runs the DELETE or TRUNCATE.
        IF EXISTS (SELECT 1 FROM {schema}.lookups_auditlogflush) AND {owner} THEN
            -- Ignored for TRUNCATE; for a DELETE, lets the row go.
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% refused on %: the audit log is append-only', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Only the owner of the audit tables can empty them, with manage.py flush.';
    END;
            """,
        ),
        _function(
            schema,
            "lookups_refuse_settlement_off_the_head",
            f"""
    BEGIN
        IF {at_the_head} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION
            'UPDATE refused on lookups_tokenchange: a row settles only where the chain head now is'
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('Token change %s asked for sequence %s.',
                                  OLD.id, NEW.chain_sequence);
    END;
            """,
        ),
        _function(
            schema,
            "lookups_refuse_extension_change",
            f"""
    BEGIN
        IF TG_OP = 'INSERT' THEN
            RAISE EXCEPTION 'INSERT refused on {extension}: an extension is written pending and joins the chain only by settling'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.outcome NOT IN {unsettled} THEN
            RAISE EXCEPTION 'UPDATE refused on {extension}: settled rows of the audit log never change'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.outcome NOT IN {unsettled} AND NOT {at_the_head} THEN
            RAISE EXCEPTION 'UPDATE refused on {extension}: a row settles only where the chain head now is'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
            """,  # noqa: E501 (the messages are kept whole, as tests and logs read them)
        ),
        _function(
            schema,
            "lookups_refuse_consumption_answer_change",
            f"""
    BEGIN
        IF TG_OP = 'INSERT' THEN
            RAISE EXCEPTION 'INSERT refused on {answer}: an answer is written pending and joins the chain only by settling'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF OLD.outcome <> 'pending' THEN
            RAISE EXCEPTION 'UPDATE refused on {answer}: settled rows of the audit log never change'
                USING ERRCODE = 'integrity_constraint_violation',
                      DETAIL = format('Consumption answer %s is already %s.', OLD.id, OLD.outcome);
        END IF;
        IF NEW.outcome <> 'pending' AND NOT {at_the_head} THEN
            RAISE EXCEPTION 'UPDATE refused on {answer}: a row settles only where the chain head now is'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END;
            """,  # noqa: E501
        ),
        _function(
            schema,
            "lookups_refuse_chain_head_insert",
            f"""
    BEGIN
        IF {owner} THEN
            RETURN NEW;
        END IF;
        IF NEW.last_sequence = 0 AND NEW.last_hash = '{GENESIS_HASH}' AND {nothing_settled} THEN
            -- The chain's start, which the app writes on its first settlement.
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'INSERT refused on {HEAD}: only the owner places the chain head'
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('The new head is at %s.', NEW.last_sequence);
    END;
            """,
        ),
        f"""
        CREATE TRIGGER lookups_auditchainhead_inserted_by_the_owner
        BEFORE INSERT ON {schema}.{HEAD}
        FOR EACH ROW EXECUTE FUNCTION {schema}.lookups_refuse_chain_head_insert()
        """,
        *(
            f"ALTER FUNCTION {schema}.{name}() SET search_path = pg_catalog, {schema}, pg_temp"
            for name in NAMING_NO_TABLE
        ),
    ]


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
    return schema_editor.quote_name(schema)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in _functions(_schema(schema_editor)):
        # No parameters: PL/pgSQL's own % placeholders must reach the database as written.
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _schema(schema_editor)
    schema_editor.execute(
        f"DROP TRIGGER lookups_auditchainhead_inserted_by_the_owner ON {schema}.{HEAD}",
        params=None,
    )
    schema_editor.execute(f"DROP FUNCTION {schema}.lookups_refuse_chain_head_insert()", params=None)
    # The qualified bodies stay: they work the same under any search_path.


class Migration(migrations.Migration):
    dependencies = [("lookups", "0051_search_indexes_on_postgresql")]

    operations = [migrations.RunPython(forwards, backwards)]
