"""A new SQLite database in one step: what the migrations leave in one, kept as SQL.

Replaying every migration on SQLite costs seconds of Python (Django renders the models again
after each operation); loading their result costs milliseconds. `serve_demo --prepare` loads
`fresh_sqlite.sql` into an empty SQLite database, and runs `migrate` only where a migration file
has no row in django_migrations (one made after the file was written, on any database).
`manage.py write_fresh_sqlite` writes the file again; tests/management/test_fresh_sqlite.py
builds a database both ways and compares them. PostgreSQL is never loaded into.

The file is the same on every machine: the settings' app (migration 0200 writes it from the
`APPSTORE_*` settings, its key's path among them) is left out, and written from this machine's
settings in the same transaction as the load.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

SNAPSHOT = Path(__file__).with_name("fresh_sqlite.sql")
# The one row the migrations write from this machine's settings: the settings' app, which names
# where its key is. The file holds none of it (nor its id's counter); loading writes it afresh.
_MACHINE_LOCAL = re.compile(
    r"""^INSERT INTO "(lookups_app"|sqlite_sequence" VALUES\('lookups_app')"""
)
_SETTINGS_APP_MIGRATION = "lookups.migrations.0200_registered_apps"
# A migration row's `applied` becomes the moment the file is loaded, as if migrated then.
_APPLIED = re.compile(r"""^(INSERT INTO "django_migrations" VALUES\(.*),'[^']*'\);$""")
_NOW = "strftime('%Y-%m-%d %H:%M:%f','now')"


def load_if_empty(connection: BaseDatabaseWrapper, snapshot: Path = SNAPSHOT) -> bool:
    """Fill an empty SQLite database from `snapshot`; False, doing nothing, for any other."""
    if connection.vendor != "sqlite" or not snapshot.exists():
        return False
    if connection.introspection.table_names():
        return False
    connection.ensure_connection()
    raw = connection.connection
    script = snapshot.read_text()
    if not script.rstrip().endswith("COMMIT;"):
        raise sqlite3.DatabaseError(f"{snapshot} does not end its transaction")
    try:
        # Its own BEGIN; the settings' app joins the transaction before its COMMIT: all or nothing.
        raw.executescript(script.rstrip().removesuffix("COMMIT;"))
        _register_the_settings_app(raw)
        raw.execute("COMMIT")
    except sqlite3.Error:
        if raw.in_transaction:
            raw.rollback()
        raise
    return True


def _register_the_settings_app(raw: sqlite3.Connection) -> None:
    """The settings' app as migration 0200 registers it, from this machine's settings, if the
    file holds that migration (else `migrate` runs it after loading)."""
    recorded = raw.execute(
        "SELECT 1 FROM django_migrations WHERE app = 'lookups' AND name = ?",
        [_SETTINGS_APP_MIGRATION.rpartition(".")[2]],
    ).fetchone()
    if recorded is None or raw.execute("SELECT 1 FROM lookups_app").fetchone():
        return
    row = {
        **importlib.import_module(_SETTINGS_APP_MIGRATION).the_settings_app(),
        "rate_limits": "{}",
        "created_at": timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    # Text columns later migrations added (blank by default, as AddField fills them).
    for _, column, kind, not_null, default, _ in raw.execute("PRAGMA table_info(lookups_app)"):
        if column not in row and not_null and default is None and kind.startswith("varchar"):
            row[column] = ""
    columns = ", ".join(f'"{column}"' for column in row)
    places = ", ".join("?" for _ in row)
    raw.execute(f"INSERT INTO lookups_app ({columns}) VALUES ({places})", list(row.values()))  # noqa: S608


def migrations_to_apply(connection: BaseDatabaseWrapper) -> set[tuple[str, str]]:
    """The migration files no row of django_migrations names, read from the folders without
    importing a migration (`migrate` would import all of them to find there is nothing to do).
    A migration that replaces others is never recorded under its own name, so it counts here:
    the answer may say "migrate" when there is nothing to do, never the other way round."""
    on_disk = set()
    for app in apps.get_app_configs():
        module, _ = MigrationLoader.migrations_module(app.label)
        try:
            package = importlib.import_module(module)
        except ImportError:
            continue
        for found in pkgutil.iter_modules(getattr(package, "__path__", [])):
            if not found.ispkg and found.name[0] not in "_~":
                on_disk.add((app.label, found.name))
    recorded = set()
    table = MigrationRecorder.Migration._meta.db_table
    if table in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(table)}")  # noqa: S608
            recorded = set(cursor.fetchall())
    return on_disk - recorded


def dump(path: Path) -> str:
    """The SQL that makes the SQLite database at `path` again: tables, rows, indexes, triggers."""
    with closing(sqlite3.connect(path)) as database:
        statements = [
            _APPLIED.sub(rf"\1,{_NOW});", line)
            for line in database.iterdump()
            if not _MACHINE_LOCAL.match(line)
        ]
    # Every table before any row, so a row never names a table that isn't there yet (Django's
    # connection checks foreign keys).
    begin, *rest = statements
    tables = [each for each in rest if each.startswith("CREATE TABLE")]
    return "\n".join([begin, *tables, *(each for each in rest if each not in tables)]) + "\n"


def migrate_new_file(path: Path) -> None:
    """Run every migration into a new SQLite file at `path`, in a process of its own."""
    environment = {
        **os.environ,
        "SUPPORTDESK_LOCAL": "true",
        "DATABASE_URL": f"sqlite:///{path}",
    }
    subprocess.run(  # noqa: S603 - this interpreter and this project's manage.py
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "-v", "0"],
        env=environment,
        check=True,
    )
