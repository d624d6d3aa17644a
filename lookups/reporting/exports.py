"""CSV exports of lookups, token changes and customer accounts, streamed as they are read.

On PostgreSQL the database writes the file: COPY (SELECT ...) TO STDOUT WITH (FORMAT csv), every
cell formatted and spreadsheet-safe in SQL, streamed CHUNK_ROWS lines at a time as COPY sends
them; Python only turns each line's end into CRLF. Formatting and fetching through a cursor in
Python took 1.5 to 2.5 times COPY's own time on top of it, with the database idle while Python
worked and the other way round. On SQLite the rows are read in chunks through a cursor and
joined here, quoted the way Python's csv module quotes them (RFC 4180, only where needed); the
tests read both back with it. A million rows take no more memory than two thousand either way.
Every export is recorded in `Export`: the row is made when the export starts and completed when
the last row has gone. The benchmark (benchmarks/export_stream.py) holds this to 1.5 times
PostgreSQL's COPY.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, NotSupportedError, connections, models, transaction
from django.db.models import Func
from django.http import StreamingHttpResponse
from django.utils import timezone

from lookups.models import (
    CustomerAccount,
    CustomerNote,
    Export,
    Lookup,
    RefundRequest,
    SubscriptionExtension,
    TokenChange,
)
from lookups.services.app_scope import app_name_of

CHUNK_ROWS = 2000
# For COPY the planner weighs only the total cost, and for a long range it picks the plan that
# joins everything and sorts it (on disk) before the first row goes out: a quarter of a second
# to the first byte at a hundred thousand rows, seconds at millions, with the download idle
# while the database sorts and the database idle while Python sends. Without sorts it walks
# the created_at index in order: rows flow at once, and both work at the same time. A plan
# that costly also gets compiled first (JIT), tens of milliseconds more before the first row
# for no faster a stream. For the export's transaction only.
# The times' cells are cut from PostgreSQL's ISO text of them (see _COPY_TEMPLATES), so the
# export's transaction writes times in ISO whatever the connection's DateStyle. And no
# parallel workers: past a hundred thousand rows or so the planner hands the scan to two and
# merges their rows, a third more of the database's time in all (a million token changes:
# 7.7 CPU seconds against 5.5) spent on the same cores as the web worker sending the file; on
# a two-core machine the workers bought no faster a download.
FIRST_ROWS_AT_ONCE = (
    "SET LOCAL enable_sort = off; SET LOCAL jit = off; SET LOCAL DateStyle = 'ISO, YMD'; "
    "SET LOCAL max_parallel_workers_per_gather = 0"
)
AS_BEFORE = "RESET enable_sort; RESET jit; RESET DateStyle; RESET max_parallel_workers_per_gather"
BOM = "\ufeff"

# A spreadsheet reads a cell starting with one of these as a formula (tab and carriage return
# because some strip them first). A leading quote makes it text; the quote is all that changes.
FORMULA_TRIGGERS = "=+-@\t\r"
# A cell holding one of these is quoted, its quotes doubled.
QUOTED = ',"\r\n'

TEXT = "text"  # as stored, made safe for spreadsheets and quoted where needed
TIME = "time"  # ISO 8601 in UTC, to the second: 2026-11-23T15:04:05Z
UUID = "uuid"  # hyphenated hex
NUMBER = "number"  # digits, negative ones included: numbers are never text, never escaped
# The app's name through the row's app column, the settings' app's for a row naming none: text
# once named, the name of "none" read once per export, not once per row.
APP = "app"

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


# PostgreSQL's COPY writes the file itself: every cell in SQL, NULL for an empty one, so COPY
# leaves it empty rather than quoting it (""), and text a spreadsheet would run led by a quote.
# The database is the export's slowest part, so each cell costs it as little as it can: at
# 200,000 token changes these take its time from 1.9 to about 1.4 times that of COPY writing the
# bare columns.
# - Text is looked at by its first character's code: numbers compared, not strings.
# - A time is PostgreSQL's own ISO text of it, "2026-11-23 15:04:05.123456", cut to the second
#   with a T put in, cheaper than to_char's pattern.
# - NULL stays NULL through a cast, and a time, UUID or number is never an empty string.
_FORMULA_CODES = ", ".join(str(ord(char)) for char in FORMULA_TRIGGERS)
_COPY_TEMPLATES = {
    TEXT: (
        f"CASE WHEN ascii(%(expressions)s) IN ({_FORMULA_CODES}) "
        "THEN '''' || %(expressions)s ELSE NULLIF(%(expressions)s, '') END"
    ),
    TIME: "replace(left((%(expressions)s AT TIME ZONE 'UTC')::text, 19), ' ', 'T') || 'Z'",
    UUID: "(%(expressions)s)::text",
    NUMBER: "(%(expressions)s)::text",
}


class CopyCell(Func):
    """A column as COPY should write its CSV cell (PostgreSQL): NULL for an empty cell."""

    output_field = models.TextField()
    arity = 1

    def __init__(self, expression: Any, kind: str) -> None:
        super().__init__(expression, template=_COPY_TEMPLATES[kind])

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list]:
        # The template names its cell more than once: an expression with parameters (an app's
        # name for rows naming none) repeats them as often.
        sql, params = compiler.compile(self.source_expressions[0])
        template = self.extra["template"]
        return template % {"expressions": sql}, [*params] * template.count("%(expressions)s")


@dataclass(frozen=True)
class Column:
    header: str
    # A field path, or for a TEXT column an expression computed in SQL.
    path: Any
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

    def cells(self) -> list[tuple[Any, str]]:
        """Each column's path or expression and its kind, an app's name as a text expression."""
        return [
            (app_name_of(column.path), TEXT) if column.kind == APP else (column.path, column.kind)
            for column in self.columns
        ]

    def values(self, queryset: models.QuerySet) -> models.QuerySet:
        """The export's query: the columns as value tuples, oldest first.

        Joins are made in SQL, and every column comes back as the text of its cell.
        """
        return queryset.order_by("created_at", "pk").values_list(
            *(path if kind == TEXT else CsvText(path, kind) for path, kind in self.cells())
        )

    def rows(self, queryset: models.QuerySet) -> Generator[tuple]:
        """The rows, read through a server-side cursor CHUNK_ROWS at a time.

        On PostgreSQL the read is one transaction: outside one, Django declares the cursor
        WITH HOLD, and PostgreSQL then runs the whole query and stores its result before the
        first row goes out. (On SQLite a transaction would lock out writers instead.)
        Close the generator to end the transaction early.
        """
        rows = self.values(queryset).iterator(chunk_size=CHUNK_ROWS)
        if connections[queryset.db].vendor != "postgresql":
            yield from rows
            return
        with transaction.atomic(using=queryset.db):
            yield from rows

    def copied_chunks(self, queryset: models.QuerySet) -> Generator[tuple[bytes, int]]:
        """PostgreSQL: the rows as CSV written by COPY, CHUNK_ROWS lines a chunk, with counts.

        COPY sends each row as one message, ended by a line feed; the lines here end with CRLF
        as RFC 4180 (and Python's csv module) have them, and a line break inside a quoted cell
        stays as it was. One transaction, as with the cursor; close the generator to end it.
        """
        connection = connections[queryset.db]
        with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
            cursor.execute(FIRST_ROWS_AT_ONCE)
            with cursor.copy(
                f"COPY ({self.copy_query(queryset)}) TO STDOUT WITH (FORMAT csv)"
            ) as copy:
                yield from _crlf_chunks(copy, connection)
            # Inside an outer transaction (a test's), the settings would outlive this one.
            cursor.execute(AS_BEFORE)

    def copy_query(self, queryset: models.QuerySet) -> str:
        """PostgreSQL: the SELECT whose rows COPY writes, every cell formatted, oldest first."""
        cells = queryset.order_by("created_at", "pk").values_list(
            *(CopyCell(path, kind) for path, kind in self.cells())
        )
        sql, params = cells.query.sql_with_params()
        # Imported here, on PostgreSQL only: psycopg is most of a second of SQLite's start.
        from psycopg import ClientCursor

        connection = connections[queryset.db]
        connection.ensure_connection()
        # COPY takes no parameters: psycopg binds them into the statement on this side.
        return ClientCursor(connection.connection).mogrify(sql, params)

    def filename(self, qualifier: str) -> str:
        return f"{self.slug}_{qualifier}.csv"


def _crlf_chunks(copy: Any, connection: Any) -> Generator[tuple[bytes, int]]:
    """COPY's rows, CHUNK_ROWS at a time, each line ended with CRLF instead of its line feed.

    COPY sends each row as one message whose last byte is the line's end: a line break inside
    a quoted cell is never last. So the last byte goes, and the lines are joined with CRLF.
    """
    try:
        for rows in batched(copy, CHUNK_ROWS):
            yield b"\r\n".join([row[:-1] for row in rows]) + b"\r\n", len(rows)
    except GeneratorExit:
        # The client went away mid-copy: stop the server sending the rest.
        connection.connection.cancel_safe()
        raise


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
        # The name of the app asked (last, so the columns before keep their places); lookups
        # made before apps were registered were the settings' app's.
        Column("app", "app", APP),
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
        Column("app", "app", APP),
    ),
)


class AccountNotes(models.Expression):
    """Every note on the account, oldest first, one line each ("author: text"); "" if none.

    Written per database: SQLite before 3.44 can't order an aggregate, so it concatenates an
    ordered subquery instead.
    """

    output_field = models.TextField()

    def _parts(self) -> tuple[str, str, str]:
        users = get_user_model()._meta.db_table
        account = CustomerAccount._meta.db_table
        rows = (
            f'FROM {CustomerNote._meta.db_table} n JOIN "{users}" u ON u.id = n.author_id '
            f'WHERE n.account_id = "{account}"."id"'
        )
        return rows, "u.username || ': ' || n.text", "n.created_at, n.id"

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        rows, line, order = self._parts()
        if connection.vendor != "postgresql":
            raise NotSupportedError("CSV exports need PostgreSQL or SQLite.")
        return f"COALESCE((SELECT string_agg({line}, E'\\n' ORDER BY {order}) {rows}), '')", []

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        rows, line, order = self._parts()
        # Only the models' own table names go in: nothing typed by anyone.
        ordered = f"SELECT {line} AS line {rows} ORDER BY {order}"
        return f"COALESCE((SELECT group_concat(line, char(10)) FROM ({ordered})), '')", []  # noqa: S608


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
        Column("notes", AccountNotes()),
    ),
)

SUBSCRIPTION_EXTENSIONS = ExportTable(
    slug="extensions",
    table=Export.Table.SUBSCRIPTION_EXTENSIONS,
    model=SubscriptionExtension,
    has_agent=True,
    columns=(
        Column("id", "pk", UUID),
        Column("created_at", "created_at", TIME),
        Column("settled_at", "settled_at", TIME),
        Column("agent", "agent__username"),
        Column("outcome", "outcome"),
        Column("original_transaction_id", "original_transaction_id"),
        Column("product_id", "product_id"),
        Column("environment", "environment"),
        Column("extend_by_days", "extend_by_days", NUMBER),
        Column("reason_code", "reason_code", NUMBER),
        Column("ticket_reference", "ticket_reference"),
        Column("renewal_date_before", "renewal_date_before", TIME),
        Column("effective_date", "effective_date", TIME),
        Column("approved_by", "approved_by__username"),
        Column("error_code", "error_code", NUMBER),
        Column("error_message", "error_message"),
        Column("chain_sequence", "chain_sequence", NUMBER),
        Column("chain_hash", "chain_hash"),
        Column("app", "app", APP),
    ),
)

REFUND_REQUESTS = ExportTable(
    slug="refund-requests",
    table=Export.Table.REFUND_REQUESTS,
    model=RefundRequest,
    has_agent=False,
    columns=(
        Column("id", "pk", NUMBER),
        Column("created_at", "created_at", TIME),
        Column("requested_at", "requested_at", TIME),
        Column("deadline", "deadline", TIME),
        Column("transaction_id", "transaction_id"),
        Column("original_transaction_id", "original_transaction_id"),
        Column("product_id", "product_id"),
        Column("environment", "environment"),
        Column("reason", "reason"),
        Column("status", "status"),
        Column("decision", "decision"),
        Column("decided_at", "decided_at", TIME),
        Column("app", "app", APP),
    ),
)

TABLES: dict[str, ExportTable] = {
    table.slug: table
    for table in (
        LOOKUPS,
        TOKEN_CHANGES,
        CUSTOMER_ACCOUNTS,
        SUBSCRIPTION_EXTENSIONS,
        REFUND_REQUESTS,
    )
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
    with_bom: bool = True,
) -> StreamingHttpResponse:
    """Record the export, and answer with its CSV, written while the client downloads it.

    `with_bom` starts the file with UTF-8's byte order mark: without it Excel on Windows reads
    the file as the system's code page and "Müller" arrives as "MÃ¼ller".
    """
    record = Export.objects.create(user=user, table=table.table, filters=filters)
    response = StreamingHttpResponse(
        _recorded(record, table, queryset, with_bom=with_bom),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _recorded(
    record: Export, table: ExportTable, queryset: models.QuerySet, *, with_bom: bool
) -> Iterator[str | bytes]:
    # This runs after the view has returned, as the server sends each chunk, so the record is
    # completed here: with the row count once the last row is out, or with what went out before
    # the client went away or the database failed (and no finished_at).
    written = 0
    # Sent with the header, so the file starts with it and no chunk is added.
    prefix = BOM if with_bom else ""
    if connections[queryset.db].vendor == "postgresql":
        rows = table.copied_chunks(queryset)
        header = (_lines([table.headers]).encode(), 0)
        chunks: Iterator[tuple[str | bytes, int]] = itertools.chain([header], rows)
        prefix = prefix.encode()
    else:
        rows = table.rows(queryset)
        chunks = csv_chunks(table, rows)
    try:
        for text, count in chunks:
            written += count
            yield prefix + text
            prefix = prefix[:0]
    except BaseException:
        # End the read's transaction first, or its rollback would take the record with it.
        rows.close()
        with contextlib.suppress(DatabaseError):
            Export.objects.filter(pk=record.pk).update(row_count=written)
        raise
    Export.objects.filter(pk=record.pk).update(row_count=written, finished_at=timezone.now())


def csv_chunks(table: ExportTable, rows: Iterable[tuple]) -> Iterator[tuple[str, int]]:
    """The header line, then the rows CHUNK_ROWS at a time, each as (CSV text, rows in it)."""
    text_at = [n for n, column in enumerate(table.columns) if column.kind in (TEXT, APP)]
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

    The cells are looked at one by one only when the column holds one of the characters that
    matter somewhere: most columns of most chunks hold none, and a million rows have ten
    million text cells.
    """
    try:
        joined = "".join(values)
    except TypeError:  # a NULL
        values = ["" if value is None else value for value in values]
        joined = "".join(values)
    if any(char in joined for char in FORMULA_TRIGGERS):
        values = [
            "'" + value if value and value[0] in FORMULA_TRIGGERS else value for value in values
        ]
    if any(char in joined for char in QUOTED):
        values = [
            '"' + value.replace('"', '""') + '"'
            if "," in value or '"' in value or "\n" in value or "\r" in value
            else value
            for value in values
        ]
    return values
