from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookups.audit_chain import GENESIS_HASH, HASHED_FIELDS, chain_hash
from lookups.models import AuditChainHead, TokenChange

CHAIN_FIELDS = ("chain_sequence", "chain_previous_hash", "chain_hash")


def parse_anchor(value: str) -> tuple[int, str]:
    match = re.fullmatch(r"(\d+):([0-9a-f]{64})", value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not SEQUENCE:HASH (a number, a colon, 64 hex digits)"
        )
    return int(match[1]), match[2]


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
        # Read first: rows settled while we walk are left for the next run.
        head = AuditChainHead.objects.filter(pk=AuditChainHead.ONLY_ROW).first()
        head_sequence, head_hash = (
            (head.last_sequence, head.last_hash) if head else (0, GENESIS_HASH)
        )
        anchors = dict(anchor)

        checked, previous = 0, {"id": None, "chain_hash": GENESIS_HASH}
        try:
            if head is None and TokenChange.objects.filter(chain_sequence__isnull=False).exists():
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
            if anchors:
                missing = ", ".join(str(sequence) for sequence in sorted(anchors))
                raise ChainBroken(
                    f"The chain ends at sequence {checked}; recorded sequence {missing} is gone."
                )
        except ChainBroken as broken:
            raise CommandError(
                f"Audit log check FAILED after {checked} good rows: {broken}"
            ) from None

        self.stdout.write(
            f"Checked {checked} settled token changes: OK (chain head {head_sequence}:{head_hash})"
        )

    def _chain(self, up_to: int, chunk_size: int) -> Iterator[dict[str, Any]]:
        rows = (
            TokenChange.objects.filter(chain_sequence__isnull=False, chain_sequence__lte=up_to)
            .order_by("chain_sequence")
            .values(*HASHED_FIELDS, *CHAIN_FIELDS)
        )
        after = 0
        while True:
            chunk = list(rows.filter(chain_sequence__gt=after)[:chunk_size])
            yield from chunk
            if len(chunk) < chunk_size:
                return
            after = chunk[-1]["chain_sequence"]


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
    recomputed = chain_hash(row, sequence=sequence, previous_hash=row["chain_previous_hash"])
    if recomputed != row["chain_hash"]:
        raise ChainBroken(f"{_name(row)} was changed after it settled: its hash does not match.")


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
    return f"token change id={row['id']} (sequence {row['chain_sequence']})"
