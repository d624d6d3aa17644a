from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookups.services.account_import import (
    EXPECTED_HEADER,
    MAX_FILE_BYTES,
    MAX_ROWS,
    UnreadableFile,
    import_accounts,
)


class Command(BaseCommand):
    help = (
        f"Create or update customer accounts from a UTF-8 CSV file with the header "
        f"{EXPECTED_HEADER}. Rows are matched on external_id; bad rows are reported and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The CSV file to import.")
        parser.add_argument(
            "--max-rows",
            type=int,
            default=MAX_ROWS,
            help=f"Refuse a file with more rows than this (default {MAX_ROWS:,}).",
        )
        parser.add_argument(
            "--max-megabytes",
            type=int,
            default=MAX_FILE_BYTES // 1024 // 1024,
            help="Refuse a larger file (default %(default)s).",
        )

    def handle(
        self, *args: Any, path: Path, max_rows: int, max_megabytes: int, **options: Any
    ) -> None:
        def report_problem(line: int, message: str) -> None:
            self.stderr.write(f"line {line}: {message}")

        def report_progress(rows_read: int) -> None:
            self.stderr.write(f"{rows_read:,} rows read…")

        try:
            summary = import_accounts(
                path,
                report_problem=report_problem,
                report_progress=report_progress,
                max_bytes=max_megabytes * 1024 * 1024,
                max_rows=max_rows,
            )
        except UnreadableFile as e:
            raise CommandError(str(e)) from e
        self.stdout.write(str(summary))
