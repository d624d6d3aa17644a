"""Create and update customer accounts from the company's CSV export.

The file has a header row naming the columns external_id, email and name, and optionally
app_account_token, in any order. Rows are keyed by external_id, so running the same file twice
changes nothing the second time. A bad row is reported with its line number and skipped; the
rest of the file is still imported, a thousand rows per transaction.

An account's token is what Apple stores against its purchases, so the import never takes a
token away from one account to give it to another, and never changes the token of an account
that a purchase has been linked to from this desk. Both cases are reported as conflicts. The
desk can't see tokens the app set itself at purchase time: change a token only when the company's
own systems have changed it too.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from lookups.models import CustomerAccount, TokenChange

if TYPE_CHECKING:
    import _csv

REQUIRED_COLUMNS = ("external_id", "email", "name")
OPTIONAL_COLUMNS = ("app_account_token",)
EXPECTED_HEADER = ",".join(REQUIRED_COLUMNS) + "[," + ",".join(OPTIONAL_COLUMNS) + "]"

BATCH_SIZE = 1000
PROGRESS_EVERY = 10_000
# Larger files are refused before anything is read: split them and import the parts.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 1_000_000


def _max_length(name: str) -> int:
    return CustomerAccount._meta.get_field(name).max_length


class UnreadableFile(Exception):
    """The file can't be imported at all: missing, not UTF-8, or without the right header."""


class BadRow(Exception):
    """One row can't be imported; the message says why."""


@dataclass(frozen=True)
class AccountRow:
    line: int
    external_id: str
    email: str
    display_name: str
    app_account_token: uuid.UUID | None


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    conflicts: int = 0

    def __str__(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped {self.skipped}, conflicts {self.conflicts}"
        )


ReportProblem = Callable[[int, str], None]
ReportProgress = Callable[[int], None]


def import_accounts(
    path: Path,
    *,
    report_problem: ReportProblem,
    report_progress: ReportProgress,
    batch_size: int = BATCH_SIZE,
    progress_every: int = PROGRESS_EVERY,
    max_bytes: int = MAX_FILE_BYTES,
    max_rows: int = MAX_ROWS,
) -> ImportSummary:
    """Import the CSV file at `path`, or raise UnreadableFile before writing anything."""
    check_size(path, max_bytes)
    check_utf8(path, max_lines=max_rows + 1)
    accounts = AccountImport(report_problem, batch_size)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        columns = read_header(path, reader)
        for rows_read, (line, values) in enumerate(read_records(reader), start=1):
            if rows_read % progress_every == 0:
                report_progress(rows_read)
            accounts.add(line, values, columns)
    accounts.flush()
    return accounts.summary


def check_size(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise UnreadableFile(f"{path}: {e.strerror or e}") from e
    if size > max_bytes:
        raise UnreadableFile(
            f"{path} is {size / 1024 / 1024:.1f} MB, more than the {max_bytes / 1024 / 1024:.0f} "
            "MB one import takes; split it into smaller files and import each."
        )


def check_utf8(path: Path, *, max_lines: int | None = None) -> None:
    """Refuse a file that isn't UTF-8 before importing any of it, naming the first bad line.

    With `max_lines`, a longer file (the header counts) is refused too.
    """
    try:
        with path.open("rb") as f:
            for number, raw_line in enumerate(f, start=1):
                if max_lines is not None and number > max_lines:
                    raise UnreadableFile(
                        f"{path} has more than {max_lines - 1:,} rows, more than one import "
                        "takes; split it into smaller files and import each."
                    )
                try:
                    raw_line.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise UnreadableFile(
                        f"{path}: line {number} is not UTF-8 (byte {e.start + 1}); "
                        "save the file as UTF-8 and try again."
                    ) from e
    except OSError as e:
        raise UnreadableFile(f"{path}: {e.strerror or e}") from e


def read_records(reader: _csv.Reader) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """Yield each non-blank record after the header with the line it starts on."""
    line = reader.line_num + 1
    while True:
        try:
            values: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            values = e
        if isinstance(values, csv.Error) or any(value.strip() for value in values):
            yield line, values
        line = reader.line_num + 1


def read_header(path: Path, reader: _csv.Reader) -> dict[str, int]:
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise UnreadableFile(
            f"{path} is empty; its first line must be {EXPECTED_HEADER}."
        ) from None
    except csv.Error as e:
        raise UnreadableFile(f"{path}: the header can't be read as CSV ({e}).") from e

    problems = []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append("missing " + ", ".join(missing))
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        problems.append("unknown " + ", ".join(repr(name) for name in unknown))
    repeated = sorted({name for name in header if header.count(name) > 1} - set(unknown))
    if repeated:
        problems.append("repeated " + ", ".join(repeated))
    if problems:
        raise UnreadableFile(
            f"{path}: the header is wrong ({'; '.join(problems)}); "
            f"its first line must be {EXPECTED_HEADER}."
        )
    return {name: position for position, name in enumerate(header)}


def parse_row(line: int, values: list[str] | csv.Error, columns: dict[str, int]) -> AccountRow:
    if isinstance(values, csv.Error):
        raise BadRow(f"not valid CSV ({values})")
    if len(values) != len(columns):
        raise BadRow(f"expected {len(columns)} fields, found {len(values)}")
    if any("\x00" in value for value in values):
        # No database text column takes a NUL; it is never part of a real name or address.
        raise BadRow("a field holds a NUL character")

    external_id = values[columns["external_id"]].strip()
    email = values[columns["email"]].strip()
    display_name = values[columns["name"]].strip()
    raw_token = values[columns["app_account_token"]].strip() if len(columns) > 3 else ""

    if not external_id:
        raise BadRow("external_id is empty")
    if len(external_id) > _max_length("external_id"):
        raise BadRow(f"external_id is longer than {_max_length('external_id')} characters")
    if not email:
        raise BadRow("email is empty")
    if len(email) > _max_length("email"):
        raise BadRow(f"email is longer than {_max_length('email')} characters")
    try:
        validate_email(email)
    except ValidationError:
        raise BadRow(f"email {email!r} is not a valid email address") from None
    if not display_name:
        raise BadRow("name is empty")
    if len(display_name) > _max_length("display_name"):
        raise BadRow(f"name is longer than {_max_length('display_name')} characters")

    token = None
    if raw_token:
        try:
            token = uuid.UUID(raw_token)
        except ValueError:
            raise BadRow(f"app_account_token {raw_token!r} is not a UUID") from None

    return AccountRow(line, external_id, email, display_name, token)


def token_conflict(
    *,
    external_id: str,
    token: uuid.UUID,
    current: uuid.UUID | None,
    owner: str | None,
    linked: bool,
) -> str | None:
    """Why an account may not take this token, or None: the one rule for imports and the admin.

    `owner` is the external_id of the account that has the token now, if any; `linked` says
    whether a purchase has been linked to the account from this desk.
    """
    if owner is not None and owner != external_id:
        return f"app_account_token {token} belongs to external_id {owner!r}"
    if current is not None and token != current and linked:
        return (
            f"external_id {external_id!r} has purchases linked to its "
            f"app_account_token {current}, so it can't change to {token}"
        )
    return None


def token_conflict_for(account_pk: int | None, external_id: str, token: uuid.UUID) -> str | None:
    """token_conflict for one account as the database has it now (the admin's form)."""
    current = None
    linked = False
    if account_pk is not None:
        current = (
            CustomerAccount.objects.filter(pk=account_pk)
            .values_list("app_account_token", flat=True)
            .first()
        )
        linked = TokenChange.objects.filter(account_id=account_pk).exists()
    owner = (
        CustomerAccount.objects.filter(app_account_token=token)
        .exclude(pk=account_pk)
        .values_list("external_id", flat=True)
        .first()
    )
    return token_conflict(
        external_id=external_id, token=token, current=current, owner=owner, linked=linked
    )


class AccountImport:
    """Collects parsed rows and writes them a batch at a time, reporting problems in line order."""

    def __init__(self, report_problem: ReportProblem, batch_size: int) -> None:
        self.report_problem = report_problem
        self.batch_size = batch_size
        self.summary = ImportSummary()
        self.batch: list[AccountRow] = []
        self.problems: list[tuple[int, str]] = []
        # Within one file the first row for an external ID or a token wins.
        self.line_of_external_id: dict[str, int] = {}
        self.claim_of_token: dict[uuid.UUID, tuple[str, int]] = {}

    def add(self, line: int, values: list[str] | csv.Error, columns: dict[str, int]) -> None:
        try:
            row = parse_row(line, values, columns)
            first_line = self.line_of_external_id.setdefault(row.external_id, line)
            if first_line != line:
                raise BadRow(
                    f"external_id {row.external_id!r} already appeared on line {first_line}"
                )
        except BadRow as e:
            self.problems.append((line, str(e)))
            self.summary.skipped += 1
        else:
            self.batch.append(row)

        if len(self.batch) >= self.batch_size or len(self.problems) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.write_batch(self.batch)
        for line, message in sorted(self.problems):
            self.report_problem(line, message)
        self.batch, self.problems = [], []

    def conflict(self, row: AccountRow, message: str) -> None:
        self.problems.append((row.line, f"conflict: {message}; row not imported"))
        self.summary.conflicts += 1

    def write_batch(self, rows: list[AccountRow]) -> None:
        with transaction.atomic():
            # Plain rows, not model instances: most accounts in a rerun are unchanged.
            existing = {
                account.external_id: account
                for account in CustomerAccount.objects.filter(
                    external_id__in=[row.external_id for row in rows]
                ).values_list(
                    "pk", "external_id", "email", "display_name", "app_account_token", named=True
                )
            }
            tokens = [row.app_account_token for row in rows if row.app_account_token]
            owner_of_token = dict(
                CustomerAccount.objects.filter(app_account_token__in=tokens).values_list(
                    "app_account_token", "external_id"
                )
            )
            replacing = [
                existing[row.external_id].pk
                for row in rows
                if row.app_account_token
                and row.external_id in existing
                and existing[row.external_id].app_account_token != row.app_account_token
            ]
            linked = set(
                TokenChange.objects.filter(account_id__in=replacing).values_list(
                    "account_id", flat=True
                )
            )

            to_create: list[CustomerAccount] = []
            to_update: list[CustomerAccount] = []
            now = timezone.now()
            for row in rows:
                account = existing.get(row.external_id)
                current = account.app_account_token if account else None
                token = row.app_account_token or current or uuid.uuid4()

                conflict = token_conflict(
                    external_id=row.external_id,
                    token=token,
                    current=current,
                    owner=owner_of_token.get(row.app_account_token),
                    linked=account is not None and account.pk in linked,
                )
                if conflict is not None:
                    self.conflict(row, conflict)
                    continue
                if row.app_account_token is not None:
                    claim = self.claim_of_token.setdefault(token, (row.external_id, row.line))
                    if claim[0] != row.external_id:
                        self.conflict(
                            row,
                            f"app_account_token {token} is already given to external_id "
                            f"{claim[0]!r} on line {claim[1]}",
                        )
                        continue

                if account is None:
                    to_create.append(
                        CustomerAccount(
                            external_id=row.external_id,
                            email=row.email,
                            display_name=row.display_name,
                            app_account_token=token,
                        )
                    )
                elif (account.email, account.display_name, current) == (
                    row.email,
                    row.display_name,
                    token,
                ):
                    self.summary.unchanged += 1
                else:
                    to_update.append(
                        CustomerAccount(
                            pk=account.pk,
                            email=row.email,
                            display_name=row.display_name,
                            app_account_token=token,
                            updated_at=now,
                        )
                    )

            CustomerAccount.objects.bulk_create(to_create)
            CustomerAccount.objects.bulk_update(
                to_update, ["email", "display_name", "app_account_token", "updated_at"]
            )
        self.summary.created += len(to_create)
        self.summary.updated += len(to_update)
