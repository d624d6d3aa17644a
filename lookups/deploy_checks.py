"""`manage.py check --deploy`: the app's database role must be one the audit log holds against.

The audit log's triggers stop a role that owns nothing; they can't stop its owner or a superuser,
and a role holding TRIGGER on the audit tables can attach triggers of its own to them, TRUNCATE
is one step from emptying them, and CREATE on their schema lets it put objects where names are
looked up. The README's GRANTs give none of these; this check fails when the connection has one.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError, connections

AUDIT_TABLES = (
    "lookups_tokenchange",
    "lookups_subscriptionextension",
    "lookups_consumptionanswer",
    "lookups_refusedlink",
    "lookups_transferrequest",
    "lookups_auditchainhead",
)
FORBIDDEN_PRIVILEGES = ("TRIGGER", "TRUNCATE")
HINT = "Connect as the app role of the README's Deploying section: it owns nothing and is granted "
HINT += "SELECT, INSERT, UPDATE, DELETE only."


def role_problems(cursor: Any) -> list[checks.CheckMessage]:
    """What is wrong with the role `cursor` is connected as; any DB-API cursor on PostgreSQL."""
    cursor.execute(
        "SELECT current_user, r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user"
    )
    role, superuser = cursor.fetchone()
    if superuser:
        return [
            checks.Error(
                f"The database role {role} is a superuser: the audit log can't hold against it.",
                hint=HINT,
                id="desk.E001",
            )
        ]
    problems: list[checks.CheckMessage] = []
    for table in AUDIT_TABLES:
        cursor.execute(
            "SELECT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE'), "
            "pg_catalog.has_table_privilege(c.oid, 'TRIGGER'), "
            "pg_catalog.has_table_privilege(c.oid, 'TRUNCATE') "
            "FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(%s)",
            [table],
        )
        found = cursor.fetchone()
        if found is None:
            continue  # not migrated yet
        owns, *held = found
        if owns:
            problems.append(
                checks.Error(
                    f"The database role {role} owns {table} (or is a member of its owner): "
                    "it can drop the audit log's triggers.",
                    hint=HINT,
                    id="desk.E002",
                )
            )
            continue
        granted = [name for name, has in zip(FORBIDDEN_PRIVILEGES, held, strict=True) if has]
        if granted:
            problems.append(
                checks.Error(
                    f"The database role {role} holds {' and '.join(granted)} on {table}.",
                    hint=f"REVOKE TRIGGER, TRUNCATE, REFERENCES ON ALL TABLES IN SCHEMA public "
                    f"FROM {role};",
                    id="desk.E003",
                )
            )
    cursor.execute("SELECT pg_catalog.has_schema_privilege(current_schema(), 'CREATE')")
    if cursor.fetchone()[0]:
        problems.append(
            checks.Error(
                f"The database role {role} may create objects in the tables' schema.",
                hint=f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role};",
                id="desk.E004",
            )
        )
    return problems


@checks.register(checks.Tags.security, deploy=True)
def app_database_role(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            return role_problems(cursor)
    except DatabaseError as unreachable:
        return [
            # Not a failure in itself: `check --deploy` also runs at build time, with no database.
            checks.Info(
                f"The database could not be reached, so its role was not checked: {unreachable}",
                hint="Run `manage.py check --deploy` where the app's DATABASE_URL connects.",
                id="desk.I005",
            )
        ]
