"""A new SQLite database in one step: what the migrations leave in one, kept as SQL.

Replaying every migration on SQLite costs seconds of Python (Django renders the models again
after each operation); loading their result costs milliseconds. `serve_demo --prepare` loads
`fresh_sqlite.sql` into an empty SQLite database and then runs `migrate` as usual, which applies
the migrations made after the file was written and nothing else. `manage.py write_fresh_sqlite`
writes the file again; tests/management/test_fresh_sqlite.py builds a database both ways and
compares them. PostgreSQL, and any database that has tables, always migrates.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

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
