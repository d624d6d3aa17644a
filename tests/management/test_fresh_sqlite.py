"""A new SQLite database loaded from fresh_sqlite.sql is the database the migrations make."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from lookups.management.fresh_sqlite import (
    SNAPSHOT,
    load_if_empty,
    migrate_new_file,
    migrations_to_apply,
)

LAST = "0342_action_rows_name_their_app"
_IN_LIST = re.compile(r"IN \(([^()]*)\)")
# Rows whose ids depend on the order things were made in: compared by what they name.
_BY_NAME = {
    "django_migrations": "SELECT app, name FROM django_migrations",
    "django_content_type": "SELECT app_label, model FROM django_content_type",
    "auth_permission": (
        "SELECT t.app_label, t.model, p.codename, p.name FROM auth_permission p "
        "JOIN django_content_type t ON t.id = p.content_type_id"
    ),
    "auth_group": "SELECT name FROM auth_group",
    # The settings' app, registered when the migration ran.
    "lookups_app": (
        "SELECT name, bundle_id, app_apple_id, uses_production, uses_sandbox, issuer_id, key_id, "
        "private_key_source, follows_settings, rate_limits FROM lookups_app"
    ),
    "auth_group_permissions": (
        "SELECT g.name, t.app_label, p.codename FROM auth_group_permissions gp "
        "JOIN auth_group g ON g.id = gp.group_id JOIN auth_permission p ON p.id = gp.permission_id "
        "JOIN django_content_type t ON t.id = p.content_type_id"
    ),
}


@pytest.fixture
def sqlite_connection(django_db_blocker):
    """A Django connection to an SQLite file of the test's own, beside the test database."""
    opened = []

    def connect(path: Path):
        opened.append(
            ConnectionHandler(
                {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}}
            )["default"]
        )
        return opened[-1]

    with django_db_blocker.unblock():
        yield connect
        for each in opened:
            each.close()


def same_in_any_order(sql: str | None) -> str | None:
    """Django writes `IN ('false','null','true')` in a set's order, which differs by process."""
    if sql is None:
        return None
    return _IN_LIST.sub(lambda found: f"IN ({','.join(sorted(found[1].split(',')))})", sql)


def contents(path: Path) -> dict[str, list]:
    """Every table, index and trigger as SQLite keeps it, and every row."""
    with closing(sqlite3.connect(path)) as database:
        schema = sorted(
            (kind, name, table, same_in_any_order(sql))
            for kind, name, table, sql in database.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            )
        )
        found = {"schema": schema}
        for kind, table, _, _ in schema:
            if kind == "table":
                query = _BY_NAME.get(table, f'SELECT * FROM "{table}"')
                found[table] = sorted(map(repr, database.execute(query)))
    return found


def test_a_database_loaded_from_the_file_and_migrated_is_the_one_migrating_makes(
    tmp_path, sqlite_connection
):
    migrated, loaded = tmp_path / "migrated.sqlite3", tmp_path / "loaded.sqlite3"
    migrate_new_file(migrated)

    fresh = sqlite_connection(loaded)
    assert load_if_empty(fresh)
    fresh.close()
    migrate_new_file(loaded)  # the migrations made after the file, if any

    assert contents(loaded) == contents(migrated)
    # The file holds what the migrations make: the roles, and the audit chain's first link.
    assert "('Support agents',)" in contents(loaded)["auth_group"]
    assert "lookups_auditchainhead" in SNAPSHOT.read_text()


def test_only_a_migration_without_its_row_is_left_to_apply(tmp_path, sqlite_connection):
    fresh = sqlite_connection(tmp_path / "new.sqlite3")
    everything = migrations_to_apply(fresh)
    assert ("lookups", "0001_initial") in everything and ("auth", "0001_initial") in everything

    load_if_empty(fresh)
    with closing(sqlite3.connect(tmp_path / "new.sqlite3")) as loaded:
        in_the_file = set(loaded.execute("SELECT app, name FROM django_migrations"))
    assert ("lookups", "0001_initial") in in_the_file
    # Nothing the file holds; only what was made after it (nothing, when it was just written).
    assert migrations_to_apply(fresh) == everything - in_the_file

    with fresh.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'lookups' AND name = %s", [LAST])
    assert migrations_to_apply(fresh) == everything - in_the_file | {("lookups", LAST)}


def test_a_database_that_has_tables_is_left_alone(tmp_path, sqlite_connection):
    database = tmp_path / "used.sqlite3"
    with closing(sqlite3.connect(database)) as used:
        used.execute("CREATE TABLE kept (id integer)")
    assert not load_if_empty(sqlite_connection(database))
    with closing(sqlite3.connect(database)) as used:
        assert [name for (name,) in used.execute("SELECT name FROM sqlite_master")] == ["kept"]


@pytest.mark.django_db
def test_the_test_database_is_never_loaded_into():
    """SQLite with its tables, or PostgreSQL, which always migrates."""
    assert not load_if_empty(connection)


def test_a_file_that_fails_halfway_leaves_the_database_empty(tmp_path, sqlite_connection):
    broken = tmp_path / "broken.sql"
    broken.write_text("BEGIN TRANSACTION;\nCREATE TABLE made (id integer);\nNOT SQL;\nCOMMIT;\n")
    fresh = sqlite_connection(tmp_path / "new.sqlite3")
    with pytest.raises(sqlite3.Error):
        load_if_empty(fresh, broken)
    assert fresh.introspection.table_names() == []


def test_the_file_holds_nothing_of_the_machine_it_was_written_on(
    tmp_path, sqlite_connection, settings
):
    """The settings' app (its key's path) is written where the file is loaded, from the settings
    there, in the same transaction."""
    snapshot = SNAPSHOT.read_text()
    assert 'INSERT INTO "lookups_app"' not in snapshot
    assert "VALUES('lookups_app'" not in snapshot
    assert ("lookups", "0200_registered_apps") not in migrations_to_apply_after_loading(
        tmp_path / "probe.sqlite3", sqlite_connection
    )

    settings.APPSTORE_PRIVATE_KEY_PATH = str(tmp_path / "here" / "AuthKey.p8")
    settings.APPSTORE_BUNDLE_ID = "com.example.here"
    settings.APPSTORE_ENVIRONMENT = "Sandbox"
    fresh = sqlite_connection(tmp_path / "new.sqlite3")
    assert load_if_empty(fresh)
    with closing(sqlite3.connect(tmp_path / "new.sqlite3")) as loaded:
        apps = loaded.execute(
            "SELECT id, name, bundle_id, private_key_source, uses_production, uses_sandbox, "
            "follows_settings, rate_limits FROM lookups_app"
        ).fetchall()
    assert apps == [
        (
            1,
            "com.example.here",
            "com.example.here",
            str(tmp_path / "here" / "AuthKey.p8"),
            0,
            1,
            1,
            "{}",
        )
    ]


def test_a_file_from_before_the_apps_were_registered_leaves_the_app_to_its_migration(
    tmp_path, sqlite_connection
):
    older = tmp_path / "older.sql"
    older.write_text(
        "BEGIN TRANSACTION;\n"
        'CREATE TABLE "django_migrations" ("id" integer PRIMARY KEY, "app" varchar(255), '
        '"name" varchar(255), "applied" datetime);\n'
        "INSERT INTO \"django_migrations\" VALUES(1,'lookups','0120_managers_read_orders',"
        "'2026-01-01');\n"
        "COMMIT;\n"
    )
    fresh = sqlite_connection(tmp_path / "new.sqlite3")
    assert load_if_empty(fresh, older)
    assert ("lookups", "0200_registered_apps") in migrations_to_apply(fresh)


def migrations_to_apply_after_loading(path: Path, sqlite_connection) -> set[tuple[str, str]]:
    fresh = sqlite_connection(path)
    load_if_empty(fresh)
    return migrations_to_apply(fresh)
