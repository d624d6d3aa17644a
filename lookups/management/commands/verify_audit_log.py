from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import F

from lookups.audit_chain import (
    CONSUMPTION_KIND,
    EXTENSION_KIND,
    FINISH_KIND,
    GENESIS_HASH,
    OUTAGE_KIND,
    TRANSFER_KIND,
    chain_hash,
    every_field_of,
)
from lookups.models import (
    AuditChainHead,
    ConsumptionAnswer,
    OutageCompensation,
    SubscriptionExtension,
    TokenChange,
    TransactionFinish,
    TransferRequest,
)

CHAIN_FIELDS = ("chain_sequence", "chain_previous_hash", "chain_hash")


def parse_anchor(value: str) -> tuple[int, str]:
    match = re.fullmatch(r"(\d+):([0-9a-f]{64})", value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not SEQUENCE:HASH (a number, a colon, 64 hex digits)"
        )
    return int(match[1]), match[2]


def read_anchor_file(path: Path) -> list[tuple[int, str]]:
    """The heads earlier runs recorded: one `TIME SEQUENCE:HASH` line each."""
    if not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchors.append(parse_anchor(line.split()[-1]))
        except argparse.ArgumentTypeError as malformed:
            raise CommandError(f"{path}, line {number}: {malformed}") from None
    return anchors


def record_anchor(path: Path, sequence: int, hash_: str, recorded: list[tuple[int, str]]) -> None:
    """Append the head this run saw, unless the last line already says it."""
    if sequence == 0 or (recorded and recorded[-1] == (sequence, hash_)):
        return
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with path.open("a") as anchors:
        anchors.write(f"{at} {sequence}:{hash_}\n")
        anchors.flush()
        os.fsync(anchors.fileno())


class ChainBroken(Exception):
    """The chain does not hold; the message names where."""


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain in order, recompute every settled token change's hash, "
        "and fail naming the first row that was changed, removed or put out of order."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=2000, help="Rows read per query (default 2000)."
        )
        parser.add_argument(
            "--anchor",
            type=parse_anchor,
            action="append",
            default=[],
            metavar="SEQUENCE:HASH",
            help=(
                "A sequence and hash an earlier run printed, which must still be in the chain. "
                "Catches the newest rows being removed together with the head moved back."
            ),
        )

    def handle(
        self, *args: Any, chunk_size: int, anchor: list[tuple[int, str]], **options: Any
    ) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        anchor_file = Path(settings.AUDIT_ANCHOR_FILE) if settings.AUDIT_ANCHOR_FILE else None
        recorded = read_anchor_file(anchor_file) if anchor_file else []
        if anchor_file is None:
            self.stderr.write(
                "AUDIT_ANCHOR_FILE is not set: the newest rows removed together with the head "
                "would go unnoticed. Name a file outside the database for this check's anchors."
            )
        head_sequence, head_hash, checked = self._check(chunk_size, [*recorded, *anchor])
        if anchor_file is not None:
            record_anchor(anchor_file, head_sequence, head_hash, recorded)
        self.stdout.write(
            f"Checked {checked} settled token changes: OK (chain head {head_sequence}:{head_hash})"
        )

    def _check(self, chunk_size: int, anchor: list[tuple[int, str]]) -> tuple[int, str, int]:
        head = AuditChainHead.objects.filter(pk=AuditChainHead.ONLY_ROW).first()
        head_sequence, head_hash = (
            (head.last_sequence, head.last_hash) if head else (0, GENESIS_HASH)
        )
        anchors: dict[int, str] = {}
        for sequence, hash_ in anchor:
            if anchors.setdefault(sequence, hash_) != hash_:
                raise CommandError(
                    f"Two anchors for sequence {sequence} disagree: {anchors[sequence]} and "
                    f"{hash_}. One of them was not recorded by this check."
                )

        checked, previous = 0, {"id": None, "chain_hash": GENESIS_HASH}
        try:
            if head is None and any(
                model.objects.filter(chain_sequence__isnull=False).exists()
                for _kind, model, _fields in _CHAINED
            ):
                raise ChainBroken("The chain head is gone, but settled rows remain.")
            for row in self._chain(head_sequence, chunk_size):
                _check_row(row, expected_sequence=checked + 1, previous=previous)
                expected_anchor = anchors.pop(row["chain_sequence"], None)
                if expected_anchor is not None and expected_anchor != row["chain_hash"]:
                    raise ChainBroken(
                        f"{_name(row)} does not have the hash recorded for it earlier "
                        f"({expected_anchor})."
                    )
                checked, previous = checked + 1, row
            _check_end(checked, previous, head_sequence, head_hash)
            _check_nothing_beyond_the_head()
            _check_transfer_decisions()
            if anchors:
                missing = ", ".join(str(sequence) for sequence in sorted(anchors))
                raise ChainBroken(
                    f"The chain ends at sequence {checked}; recorded sequence {missing} is gone."
                )
        except ChainBroken as broken:
            raise CommandError(
                f"Audit log check FAILED after {checked} good rows: {broken}"
            ) from None
        return head_sequence, head_hash, checked

    def _chain(self, up_to: int, chunk_size: int) -> Iterator[dict[str, Any]]:
        """Every kind of settled row merged in one sequence, a window at a time."""
        after = 0
        while after < up_to:
            window = min(after + chunk_size, up_to)
            rows = [
                {**row, "kind": kind}
                for kind, model, fields in _CHAINED
                for row in model.objects.filter(
                    chain_sequence__gt=after, chain_sequence__lte=window
                ).values(*fields, *CHAIN_FIELDS)
            ]
            yield from sorted(rows, key=lambda row: row["chain_sequence"])
            after = window


_CHAINED = (
    (None, TokenChange, every_field_of(None)),
    (EXTENSION_KIND, SubscriptionExtension, every_field_of(EXTENSION_KIND)),
    (CONSUMPTION_KIND, ConsumptionAnswer, every_field_of(CONSUMPTION_KIND)),
    (OUTAGE_KIND, OutageCompensation, every_field_of(OUTAGE_KIND)),
    (FINISH_KIND, TransactionFinish, every_field_of(FINISH_KIND)),
    (TRANSFER_KIND, TransferRequest, every_field_of(TRANSFER_KIND)),
)
_NAMES = {
    None: "token change",
    EXTENSION_KIND: "extension",
    CONSUMPTION_KIND: "consumption answer",
    OUTAGE_KIND: "outage compensation",
    FINISH_KIND: "transaction finish",
    TRANSFER_KIND: "transfer request",
}


def _check_row(row: dict[str, Any], *, expected_sequence: int, previous: dict[str, Any]) -> None:
    sequence = row["chain_sequence"]
    if sequence != expected_sequence:
        raise ChainBroken(
            f"{_name(row)} comes where sequence {expected_sequence} should be: "
            f"settled rows {expected_sequence} to {sequence - 1} are missing."
        )
    if row["chain_previous_hash"] != previous["chain_hash"]:
        raise ChainBroken(
            f"{_name(row)} does not follow the row before it: it records previous hash "
            f"{row['chain_previous_hash']}, but sequence {sequence - 1} hashes to "
            f"{previous['chain_hash']}."
        )
    recomputed = chain_hash(
        row, sequence=sequence, previous_hash=row["chain_previous_hash"], kind=row["kind"]
    )
    if recomputed != row["chain_hash"]:
        raise ChainBroken(f"{_name(row)} was changed after it settled: its hash does not match.")


def _check_nothing_beyond_the_head() -> None:
    """Fail on a settled row the chain has no place for.

    A settlement moves the head in the same transaction that gives its row a place, and the head
    never moves back, so a head read after the rows is at or past every row honestly settled.
    Rows past the head read before the walk are left for the next run; past this one, forged.
    """
    head = AuditChainHead.objects.filter(pk=AuditChainHead.ONLY_ROW).first()
    last_sequence = head.last_sequence if head else 0
    for kind, model, _fields in _CHAINED:
        beyond = (
            model.objects.filter(chain_sequence__gt=last_sequence)
            .order_by("chain_sequence")
            .values("id", "chain_sequence")
            .first()
        )
        if beyond is not None:
            beyond["kind"] = kind
            break
    if beyond is not None:
        raise ChainBroken(
            f"{_name(beyond)} is settled beyond the chain head ({last_sequence}): "
            "no settlement gave it that place."
        )


def _check_transfer_decisions() -> None:
    """Fail on a decided transfer whose decision is not a settled row of the chain.

    The desk decides a transfer by settling it into the chain (its hash, checked by the walk,
    covers the decision, the decider's username and the token change that carries an approval
    out), so "approved" or "rejected" written any other way has no place in the chain. An
    approval must name a token change of its approver's for the transfer's own request: a
    forged change, pending or not, can't be named by a decision the desk did not settle. That
    change settles into the chain by itself once Apple answers; until then it is pending.
    """
    decided = TransferRequest.objects.exclude(status=TransferRequest.Status.OPEN)
    unchained = decided.filter(chain_sequence__isnull=True).order_by("pk").first()
    if unchained is not None:
        raise ChainBroken(
            f"transfer request id={unchained.pk} is {unchained.status}, but its decision has "
            "no place in the chain: it was written without the desk deciding it."
        )
    approved = decided.filter(status=TransferRequest.Status.APPROVED)
    carried_out = approved.filter(
        token_change__request_id=F("request_id"), token_change__agent_id=F("decided_by_id")
    )
    forged = approved.exclude(pk__in=carried_out.values("pk")).order_by("pk").first()
    if forged is not None:
        raise ChainBroken(
            f"transfer request id={forged.pk} is approved, but no token change of its "
            "approver's for its request carries it out."
        )


def _check_end(checked: int, last: dict[str, Any], head_sequence: int, head_hash: str) -> None:
    if checked != head_sequence:
        raise ChainBroken(
            f"The chain head records {head_sequence} settled rows, but the chain ends at "
            f"sequence {checked}: the rows after it are missing."
        )
    if last["chain_hash"] != head_hash:
        raise ChainBroken(
            f"The chain head records hash {head_hash}, but {_name(last)} hashes to "
            f"{last['chain_hash']}."
        )


def _name(row: dict[str, Any]) -> str:
    what = _NAMES[row.get("kind")]
    return f"{what} id={row['id']} (sequence {row['chain_sequence']})"
