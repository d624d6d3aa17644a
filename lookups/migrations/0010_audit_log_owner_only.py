"""Only the owner of the audit tables can empty them; the app's own role never can.

Migration 0007 let a removal through whenever a row in lookups_auditlogflush said a flush was
under way, and any role that may INSERT into that table could write that row. Now a removal also
needs the current role to hold the privileges of the table's owner (the role that runs `migrate`,
or a superuser). The app role, even granted ALL PRIVILEGES on every table, owns none, and can't
take the triggers away either: disabling, dropping or replacing them is the owner's alone.

SQLite has no roles: whoever can write its file owns it, so nothing changes there.
"""

from __future__ import annotations

from django.db import migrations

OWNER_ONLY = """
CREATE OR REPLACE FUNCTION lookups_refuse_audit_log_removal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- SECURITY INVOKER (the default): current_user is whoever runs the DELETE or TRUNCATE.
    IF EXISTS (SELECT 1 FROM lookups_auditlogflush)
       AND pg_has_role(current_user,
                       (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        -- Ignored for TRUNCATE; for a DELETE, lets the row go.
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% refused on %: the audit log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Only the owner of the audit tables can empty them, with manage.py flush.';
END;
$$
"""

FLAG_ONLY = """
CREATE OR REPLACE FUNCTION lookups_refuse_audit_log_removal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM lookups_auditlogflush) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% refused on %: the audit log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
"""


def owner_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OWNER_ONLY, params=None)


def flag_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FLAG_ONLY, params=None)


class Migration(migrations.Migration):
    dependencies = [("lookups", "0009_admin_search_indexes")]

    operations = [migrations.RunPython(owner_only, flag_only)]
