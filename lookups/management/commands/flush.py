"""Django's flush, which empties every table, the audit log's included.

The audit log's triggers (migration 0007) refuse to delete token changes or the chain head unless
a row in lookups_auditlogflush says a flush is under way. This command writes that row inside the
flush's own transaction and takes it out before committing, so no other connection ever sees it.
Django's test cases call flush to empty the database after every transaction=True test.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

FLAG_TABLE = "lookups_auditlogflush"


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        with connection.cursor() as cursor:
            guarded = FLAG_TABLE in connection.introspection.table_names(cursor)
        if not guarded:
            super().handle(**options)
            return

        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FLAG_TABLE} (reason) VALUES (%s)", ["flush"])  # noqa: S608
            super().handle(**options)
            cursor.execute(f"DELETE FROM {FLAG_TABLE}")  # noqa: S608
