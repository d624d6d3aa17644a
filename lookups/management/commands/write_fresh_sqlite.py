"""`python manage.py write_fresh_sqlite`: write lookups/management/fresh_sqlite.sql again."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from lookups.management.fresh_sqlite import SNAPSHOT, dump, migrate_new_file

HEADER = "-- Written by `manage.py write_fresh_sqlite` (see lookups/management/fresh_sqlite.py).\n"


class Command(BaseCommand):
    help = (
        "Migrate a new SQLite file and keep the result as the SQL that serve_demo --prepare loads "
        "into an empty database (after new migrations, so fewer of them are replayed)."
    )

    def handle(self, *args: object, **options: object) -> None:
        with tempfile.TemporaryDirectory() as directory:
            database = Path(directory) / "fresh.sqlite3"
            migrate_new_file(database)
            SNAPSHOT.write_text(HEADER + dump(database))
        self.stdout.write(f"Wrote {SNAPSHOT}")
