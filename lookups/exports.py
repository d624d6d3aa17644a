"""CSV exports of lookups, token changes and customer accounts, streamed as they are read.

The database is read in chunks through a server-side cursor, and each chunk goes out as soon as
it is written, so a million rows take no more memory than two thousand. Every export is recorded
in `Export`: the row is made when the export starts and completed when the last row has gone.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from itertools import batched
from typing import Any

from django.db import DatabaseError, models
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import CustomerAccount, Export, Lookup, TokenChange

CHUNK_ROWS = 2000

# A spreadsheet reads a cell starting with one of these as a formula (tab and carriage return
# because some strip them first). A leading quote makes it text; the quote is all that changes.
FORMULA_TRIGGERS = "=+-@\t\r"

TEXT = "text"  # written as given, neutralised when a spreadsheet could run it
TIME = "time"  # ISO 8601 in UTC, to the second
PLAIN = "plain"  # numbers and UUIDs: nothing in them can start a formula


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
        """The export's query: the columns as value tuples, joins in SQL, oldest first."""
        return queryset.order_by("created_at", "pk").values_list(
            *(column.path for column in self.columns)
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
        Column("id", "pk", PLAIN),
        Column("created_at", "created_at", TIME),
        Column("agent", "agent__username"),
        Column("kind", "kind"),
        Column("order_id", "order_id"),
        Column("transaction_id", "transaction_id"),
        Column("history_version", "history_version", PLAIN),
        Column("environment", "environment"),
        Column("outcome", "outcome"),
        Column("error_code", "error_code", PLAIN),
        Column("error_message", "error_message"),
        Column("duration_ms", "duration_ms", PLAIN),
    ),
)

TOKEN_CHANGES = ExportTable(
    slug="token-changes",
    table=Export.Table.TOKEN_CHANGES,
    model=TokenChange,
    has_agent=True,
    columns=(
        Column("id", "pk", PLAIN),
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
        Column("token_before", "token_before", PLAIN),
        Column("token_after", "token_after", PLAIN),
        Column("ticket_reference", "ticket_reference"),
        Column("lookup_id", "lookup_id", PLAIN),
        Column("error_code", "error_code", PLAIN),
        Column("error_message", "error_message"),
        Column("request_id", "request_id", PLAIN),
        # Where each settled row sits in the audit log's hash chain, to check it against.
        Column("chain_sequence", "chain_sequence", PLAIN),
        Column("chain_hash", "chain_hash", PLAIN),
    ),
)

CUSTOMER_ACCOUNTS = ExportTable(
    slug="customer-accounts",
    table=Export.Table.CUSTOMER_ACCOUNTS,
    model=CustomerAccount,
    has_agent=False,
    columns=(
        Column("id", "pk", PLAIN),
        Column("created_at", "created_at", TIME),
        Column("updated_at", "updated_at", TIME),
        Column("external_id", "external_id"),
        Column("email", "email"),
        Column("display_name", "display_name"),
        Column("app_account_token", "app_account_token", PLAIN),
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
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    text_at = [n for n, column in enumerate(table.columns) if column.kind == TEXT]
    time_at = [n for n, column in enumerate(table.columns) if column.kind == TIME]

    writer.writerow(table.headers)
    yield _drain(buffer), 0
    for chunk in batched(rows, CHUNK_ROWS):
        writer.writerows(_cells(chunk, text_at, time_at))
        yield _drain(buffer), len(chunk)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cells(chunk: Sequence[tuple], text_at: list[int], time_at: list[int]) -> Iterable[tuple]:
    # Column by column: a comprehension per column costs a fraction of a call per cell, and a
    # million rows have ten million cells.
    columns = list(zip(*chunk, strict=True))
    for n in text_at:
        columns[n] = [
            "'" + value if value and value[0] in FORMULA_TRIGGERS else value for value in columns[n]
        ]
    for n in time_at:
        columns[n] = [
            None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for value in columns[n]
        ]
    return zip(*columns, strict=True)
