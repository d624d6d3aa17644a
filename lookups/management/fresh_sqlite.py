"""A new SQLite database in one step: what the migrations leave in one, kept as SQL.

Replaying every migration on SQLite costs seconds of Python (Django renders the models again
after each operation); loading their result costs milliseconds. `serve_demo --prepare` loads
`fresh_sqlite.sql` into an empty SQLite database, and runs `migrate` only where a migration file
has no row in django_migrations (one made after the file was written, on any database).
`manage.py write_fresh_sqlite` writes the file again; tests/management/test_fresh_sqlite.py
builds a database both ways and compares them. PostgreSQL is never loaded into.
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

SNAPSHOT = Path(__file__).with_name("fresh_sqlite.sql")
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
    try:
        raw.executescript(snapshot.read_text())  # its own BEGIN ... COMMIT: all or nothing
    except sqlite3.Error:
        if raw.in_transaction:
            raw.rollback()
        raise
    return True


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
        statements = [_APPLIED.sub(rf"\1,{_NOW});", line) for line in database.iterdump()]
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
