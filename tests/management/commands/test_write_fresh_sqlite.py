"""manage.py write_fresh_sqlite: the SQL that serve_demo --prepare loads into a new database."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing

from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader

from lookups.management.commands import write_fresh_sqlite


def test_it_writes_every_migration_and_the_file_makes_a_working_database(tmp_path, monkeypatch):
    written = tmp_path / "fresh.sql"
    monkeypatch.setattr(write_fresh_sqlite, "SNAPSHOT", written)
    output = io.StringIO()

    call_command("write_fresh_sqlite", stdout=output)

    sql = written.read_text()
    assert sql.startswith(write_fresh_sqlite.HEADER)
    assert str(written) in output.getvalue()
    with closing(sqlite3.connect(tmp_path / "loaded.sqlite3")) as loaded:
        loaded.executescript(sql.removeprefix(write_fresh_sqlite.HEADER))
        recorded = set(loaded.execute("SELECT app, name FROM django_migrations"))
        groups = {name for (name,) in loaded.execute("SELECT name FROM auth_group")}
    # Every migration on disk is in the file, the desk's roles with them.
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    assert on_disk <= recorded
    assert "Support agents" in groups
