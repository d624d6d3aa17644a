"""The database itself keeps the audit log append-only, whoever connects and however.

Triggers refuse:
- any UPDATE of a settled token change (a pending one may still be settled, chain fields and all);
- any DELETE of a token change, and on PostgreSQL any TRUNCATE of the table;
- moving the chain head anywhere but one settlement forward, or removing it.

The one way to empty these tables is `manage.py flush` (lookups/management/commands/flush.py),
which empties the whole database: it writes a row into lookups_auditlogflush inside its own
transaction and takes it out again before committing, and the triggers let removals through while
that row exists. Django's tests flush the database after every transaction=True test.

On SQLite, rebuilding lookups_tokenchange or lookups_auditchainhead (which Django does for many
schema changes there) drops these triggers: a later migration that does so must create them again.
tests/test_audit_log.py checks they exist after every migration has run.
"""

from __future__ import annotations

from django.db import migrations, models

UPDATE_REFUSED = "UPDATE refused on lookups_tokenchange: settled rows of the audit log never change"
DELETE_REFUSED = "DELETE refused on {table}: the audit log is append-only"
HEAD_REFUSED = "UPDATE refused on lookups_auditchainhead: the chain head only moves forward by one"

FLUSH_FLAG_TABLE = "CREATE TABLE lookups_auditlogflush (reason varchar(100) NOT NULL)"

POSTGRESQL = [
    FLUSH_FLAG_TABLE,
    f"""
    CREATE FUNCTION lookups_refuse_settled_tokenchange_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{UPDATE_REFUSED}'
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('Token change %s is already %s.', OLD.id, OLD.outcome);
    END;
    $$
    """,
    """
    CREATE TRIGGER lookups_tokenchange_settled_rows_stay
    BEFORE UPDATE ON lookups_tokenchange
    FOR EACH ROW WHEN (OLD.outcome <> 'pending')
    EXECUTE FUNCTION lookups_refuse_settled_tokenchange_update()
    """,
    """
    CREATE FUNCTION lookups_refuse_audit_log_removal() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM lookups_auditlogflush) THEN
            -- Ignored for TRUNCATE; for a DELETE, lets the row go.
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '% refused on %: the audit log is append-only', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$
    """,
    """
    CREATE TRIGGER lookups_tokenchange_never_deleted
    BEFORE DELETE ON lookups_tokenchange
    FOR EACH ROW EXECUTE FUNCTION lookups_refuse_audit_log_removal()
    """,
    """
    CREATE TRIGGER lookups_tokenchange_never_truncated
    BEFORE TRUNCATE ON lookups_tokenchange
    FOR EACH STATEMENT EXECUTE FUNCTION lookups_refuse_audit_log_removal()
    """,
    f"""
    CREATE FUNCTION lookups_refuse_chain_head_rewind() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{HEAD_REFUSED}'
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = format('The head is at %s; %s is not next.',
                                  OLD.last_sequence, NEW.last_sequence);
    END;
    $$
    """,
    """
    CREATE TRIGGER lookups_auditchainhead_moves_forward
    BEFORE UPDATE ON lookups_auditchainhead
    FOR EACH ROW WHEN (NEW.id <> OLD.id OR NEW.last_sequence <> OLD.last_sequence + 1)
    EXECUTE FUNCTION lookups_refuse_chain_head_rewind()
    """,
    """
    CREATE TRIGGER lookups_auditchainhead_never_deleted
    BEFORE DELETE ON lookups_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION lookups_refuse_audit_log_removal()
    """,
    """
    CREATE TRIGGER lookups_auditchainhead_never_truncated
    BEFORE TRUNCATE ON lookups_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION lookups_refuse_audit_log_removal()
    """,
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER lookups_auditchainhead_never_truncated ON lookups_auditchainhead",
    "DROP TRIGGER lookups_auditchainhead_never_deleted ON lookups_auditchainhead",
    "DROP TRIGGER lookups_auditchainhead_moves_forward ON lookups_auditchainhead",
    "DROP FUNCTION lookups_refuse_chain_head_rewind()",
    "DROP TRIGGER lookups_tokenchange_never_truncated ON lookups_tokenchange",
    "DROP TRIGGER lookups_tokenchange_never_deleted ON lookups_tokenchange",
    "DROP FUNCTION lookups_refuse_audit_log_removal()",
    "DROP TRIGGER lookups_tokenchange_settled_rows_stay ON lookups_tokenchange",
    "DROP FUNCTION lookups_refuse_settled_tokenchange_update()",
    "DROP TABLE lookups_auditlogflush",
]

FLUSH_UNDER_WAY = "EXISTS (SELECT 1 FROM lookups_auditlogflush)"

SQLITE = [
    FLUSH_FLAG_TABLE,
    f"""
    CREATE TRIGGER lookups_tokenchange_settled_rows_stay
    BEFORE UPDATE ON lookups_tokenchange
    FOR EACH ROW WHEN OLD.outcome <> 'pending'
    BEGIN SELECT RAISE(ABORT, '{UPDATE_REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER lookups_tokenchange_never_deleted
    BEFORE DELETE ON lookups_tokenchange
    FOR EACH ROW WHEN NOT {FLUSH_UNDER_WAY}
    BEGIN SELECT RAISE(ABORT, '{DELETE_REFUSED.format(table="lookups_tokenchange")}'); END
    """,
    f"""
    CREATE TRIGGER lookups_auditchainhead_moves_forward
    BEFORE UPDATE ON lookups_auditchainhead
    FOR EACH ROW WHEN NEW.id <> OLD.id OR NEW.last_sequence <> OLD.last_sequence + 1
    BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER lookups_auditchainhead_never_deleted
    BEFORE DELETE ON lookups_auditchainhead
    FOR EACH ROW WHEN NOT {FLUSH_UNDER_WAY}
    BEGIN SELECT RAISE(ABORT, '{DELETE_REFUSED.format(table="lookups_auditchainhead")}'); END
    """,
]

SQLITE_REVERSE = [
    "DROP TRIGGER lookups_auditchainhead_never_deleted",
    "DROP TRIGGER lookups_auditchainhead_moves_forward",
    "DROP TRIGGER lookups_tokenchange_never_deleted",
    "DROP TRIGGER lookups_tokenchange_settled_rows_stay",
    "DROP TABLE lookups_auditlogflush",
]

STATEMENTS = {"postgresql": (POSTGRESQL, POSTGRESQL_REVERSE), "sqlite": (SQLITE, SQLITE_REVERSE)}


def _statements(schema_editor, direction: int) -> list[str]:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(
            f"The audit log's append-only triggers are written for PostgreSQL and SQLite, "
            f"not {vendor}."
        )
    return STATEMENTS[vendor][direction]


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor, 0):
        # No parameters: PL/pgSQL's own % placeholders must reach the database as written.
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor, 1):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("lookups", "0006_audit_chain")]

    operations = [
        # On SQLite this rebuilds lookups_tokenchange, so it comes before the triggers.
        migrations.AddConstraint(
            model_name="tokenchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    outcome="pending",
                    chain_sequence__isnull=True,
                    chain_previous_hash="",
                    chain_hash="",
                )
                | (
                    models.Q(outcome__in=["succeeded", "failed"], chain_sequence__isnull=False)
                    & ~models.Q(chain_previous_hash="")
                    & ~models.Q(chain_hash="")
                ),
                name="tokenchange_chained_iff_settled",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
