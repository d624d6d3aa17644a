"""CSV exports of lookups, token changes and customer accounts, streamed as they are read.

The database is read in chunks through a server-side cursor, and each chunk goes out as soon as
it is written, so a million rows take no more memory than two thousand. Every export is recorded
in `Export`: the row is made when the export starts and completed when the last row has gone.

The database also writes every value as text (times, UUIDs, numbers, empty for NULL), as its own
COPY would; Python only makes text cells safe for spreadsheets and joins the lines. Python's csv
module costs several times more per row than everything else together, so lines are joined here,
quoted the way it quotes (RFC 4180, only where needed); the tests read them back with it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any

from django.db import DatabaseError, NotSupportedError, models
from django.db.models import Func
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import CustomerAccount, Export, Lookup, TokenChange

CHUNK_ROWS = 2000

# A spreadsheet reads a cell starting with one of these as a formula (tab and carriage return
# because some strip them first). A leading quote makes it text; the quote is all that changes.
FORMULA_TRIGGERS = "=+-@\t\r"
# A cell holding one of these is quoted, its quotes doubled.
QUOTED = ',"\r\n'
# In a column's cells joined with NUL before each: a cell that starts with a trigger, any cell
# that needs quotes.
_STARTS_A_FORMULA = re.compile("\0[" + re.escape(FORMULA_TRIGGERS) + "]")
_NEEDS_QUOTES = re.compile("[" + re.escape(QUOTED) + "]")

TEXT = "text"  # as stored, made safe for spreadsheets and quoted where needed
TIME = "time"  # ISO 8601 in UTC, to the second: 2026-11-23T15:04:05Z
UUID = "uuid"  # hyphenated hex
NUMBER = "number"  # digits, negative ones included: numbers are never text, never escaped

_SQLITE_UUID = " || '-' || ".join(
    f"substr(%(expressions)s, {start}, {length})"
    for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
)
_TEMPLATES = {
    "postgresql": {
        TIME: "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        UUID: "(%(expressions)s)::text",
        NUMBER: "(%(expressions)s)::text",
    },
    # Django keeps times on SQLite as UTC text ("YYYY-MM-DD HH:MM:SS[.ffffff]") and UUIDs as
    # 32 hex digits.
    "sqlite": {
        TIME: "substr(%(expressions)s, 1, 10) || 'T' || substr(%(expressions)s, 12, 8) || 'Z'",
        UUID: _SQLITE_UUID,
        NUMBER: "CAST(%(expressions)s AS TEXT)",
    },
}


class CsvText(Func):
    """A time, UUID or number column as the text of its CSV cell, empty for NULL.

    Takes a column: the templates may name it more than once, and a column has no parameters.
    """

    output_field = models.TextField()
    arity = 1

    def __init__(self, expression: Any, kind: str) -> None:
        super().__init__(expression)
        self.kind = kind

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        templates = _TEMPLATES.get(connection.vendor)
        if templates is None:
            raise NotSupportedError("CSV exports need PostgreSQL or SQLite.")
        template = f"COALESCE({templates[self.kind]}, '')"
        return super().as_sql(compiler, connection, template=template, **extra_context)


@dataclass(frozen=True)
class Column:
    header: str
    path: str
    kind: str = TEXT


@dataclass(frozen=True)
class ExportTable:
    """One exportable table: its columns, in order, and the name its files and URLs carry."""

    slug: str
    table: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    has_agent: bool

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def values(self, queryset: models.QuerySet) -> models.QuerySet:
        """The export's query: the columns as value tuples, oldest first.

        Joins are made in SQL, and every column comes back as the text of its cell.
        """
        return queryset.order_by("created_at", "pk").values_list(
            *(
                column.path if column.kind == TEXT else CsvText(column.path, column.kind)
                for column in self.columns
            )
        )

    def rows(self, queryset: models.QuerySet) -> Iterator[tuple]:
        """The rows, read through a server-side cursor CHUNK_ROWS at a time."""
        return self.values(queryset).iterator(chunk_size=CHUNK_ROWS)

    def filename(self, qualifier: str) -> str:
        return f"{self.slug}_{qualifier}.csv"


LOOKUPS = ExportTable(
    slug="lookups",
    table=Export.Table.LOOKUPS,
    model=Lookup,
    has_agent=True,
    columns=(
        Column("id", "pk", NUMBER),
        Column("created_at", "created_at", TIME),
        Column("agent", "agent__username"),
        Column("kind", "kind"),
        Column("order_id", "order_id"),
        Column("transaction_id", "transaction_id"),
        Column("history_version", "history_version", NUMBER),
        Column("environment", "environment"),
        Column("outcome", "outcome"),
        Column("error_code", "error_code", NUMBER),
        Column("error_message", "error_message"),
        Column("duration_ms", "duration_ms", NUMBER),
    ),
)

TOKEN_CHANGES = ExportTable(
    slug="token-changes",
    table=Export.Table.TOKEN_CHANGES,
    model=TokenChange,
    has_agent=True,
    columns=(
        Column("id", "pk", NUMBER),
        Column("created_at", "created_at", TIME),
        Column("settled_at", "settled_at", TIME),
        Column("agent", "agent__username"),
        Column("outcome", "outcome"),
        Column("original_transaction_id", "original_transaction_id"),
        Column("product_id", "product_id"),
        Column("environment", "environment"),
        Column("order_id", "order_id"),
        Column("account_external_id", "account__external_id"),
        Column("account_email", "account__email"),
        Column("token_before", "token_before", UUID),
        Column("token_after", "token_after", UUID),
        Column("ticket_reference", "ticket_reference"),
        Column("lookup_id", "lookup_id", NUMBER),
        Column("error_code", "error_code", NUMBER),
        Column("error_message", "error_message"),
        Column("request_id", "request_id", UUID),
        # Where each settled row sits in the audit log's hash chain, to check it against.
        Column("chain_sequence", "chain_sequence", NUMBER),
        Column("chain_hash", "chain_hash"),
    ),
)

CUSTOMER_ACCOUNTS = ExportTable(
    slug="customer-accounts",
    table=Export.Table.CUSTOMER_ACCOUNTS,
    model=CustomerAccount,
    has_agent=False,
    columns=(
        Column("id", "pk", NUMBER),
        Column("created_at", "created_at", TIME),
        Column("updated_at", "updated_at", TIME),
        Column("external_id", "external_id"),
        Column("email", "email"),
        Column("display_name", "display_name"),
        Column("app_account_token", "app_account_token", UUID),
        Column("adapty_customer_user_id", "adapty_customer_user_id"),
    ),
)

TABLES: dict[str, ExportTable] = {
    table.slug: table for table in (LOOKUPS, TOKEN_CHANGES, CUSTOMER_ACCOUNTS)
}


def table_for_model(model: type[models.Model]) -> ExportTable:
    return next(table for table in TABLES.values() if table.model is model)


def stream_csv(
    user: Any,
    table: ExportTable,
    queryset: models.QuerySet,
    *,
    filters: dict[str, Any],
    filename: str,
) -> StreamingHttpResponse:
    """Record the export, and answer with its CSV, written while the client downloads it."""
    record = Export.objects.create(user=user, table=table.table, filters=filters)
    response = StreamingHttpResponse(
        _recorded(record, table, table.rows(queryset)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _recorded(record: Export, table: ExportTable, rows: Iterable[tuple]) -> Iterator[str]:
    # This runs after the view has returned, as the server sends each chunk, so the record is
    # completed here: with the row count once the last row is out, or with what went out before
    # the client went away or the database failed (and no finished_at).
    written = 0
    try:
        for text, count in csv_chunks(table, rows):
            written += count
            yield text
    except BaseException:
        with contextlib.suppress(DatabaseError):
            Export.objects.filter(pk=record.pk).update(row_count=written)
        raise
    Export.objects.filter(pk=record.pk).update(row_count=written, finished_at=timezone.now())


def csv_chunks(table: ExportTable, rows: Iterable[tuple]) -> Iterator[tuple[str, int]]:
    """The header line, then the rows CHUNK_ROWS at a time, each as (CSV text, rows in it)."""
    text_at = [n for n, column in enumerate(table.columns) if column.kind == TEXT]
    yield _lines([table.headers]), 0
    for chunk in batched(rows, CHUNK_ROWS):
        yield _lines(_with_safe_text(chunk, text_at)), len(chunk)


def _lines(rows: Iterable[Sequence[str]]) -> str:
    """CSV lines of rows that are never empty, every cell already text."""
    return "\r\n".join(map(",".join, rows)) + "\r\n"


def _with_safe_text(chunk: Sequence[tuple], text_at: list[int]) -> Iterable[Sequence[str]]:
    columns = list(zip(*chunk, strict=True))
    for n in text_at:
        columns[n] = safe_text_cells(columns[n])
    return zip(*columns, strict=True)


def safe_text_cells(values: Sequence[str | None]) -> Sequence[str]:
    """A column of text cells, each neutralised if a spreadsheet would run it, quoted if needed.

    Most columns of most chunks need neither: one scan of the column joined up tells, so the
    per-cell work is only done where it changes something.
    """
    if None in values:
        values = ["" if value is None else value for value in values]
    scan = "\0" + "\0".join(values)
    if _STARTS_A_FORMULA.search(scan):
        values = [
            "'" + value if value and value[0] in FORMULA_TRIGGERS else value for value in values
        ]
    if _NEEDS_QUOTES.search(scan):
        values = [
            '"' + value.replace('"', '""') + '"' if _NEEDS_QUOTES.search(value) else value
            for value in values
        ]
    return values
