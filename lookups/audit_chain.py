"""The audit log's hash chain: how a settled row of the audit log is serialised and hashed.

Each settled row carries an HMAC-SHA256 over its own content, its place in the chain and the hash
of the row settled before it, so a row changed, removed or slipped in afterwards breaks the chain
where it happened. The key (settings.AUDIT_CHAIN_KEY) lives outside the database: write access to
the tables alone can't compute the hash of a row added to the end.

Every stored hash depends on exactly this serialisation and key: change neither without
re-chaining every row in a migration (0011 did so when the chain became keyed), or without a new
CHAIN_VERSION that leaves the rows settled before with the recipe they were settled with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The columns of lookups_tokenchange the hash covers, by attribute name.
HASHED_FIELDS = (
    "id",
    "request_id",
    "agent_id",
    "created_at",
    "account_id",
    "original_transaction_id",
    "product_id",
    "environment",
    "order_id",
    "token_before",
    "token_after",
    "ticket_reference",
    "lookup_id",
    "outcome",
    "error_code",
    "error_message",
    "settled_at",
)

# Subscription extensions settle into the same chain, one sequence for both kinds of row, so a
# verifier walking it sees every audited call to Apple in the order it settled. Their documents
# carry a "kind" (token change documents don't, so their stored hashes stay as they were).
EXTENSION_KIND = "subscription_extension"
EXTENSION_HASHED_FIELDS = (
    "id",
    "agent_id",
    "created_at",
    "environment",
    "original_transaction_id",
    "product_id",
    "extend_by_days",
    "reason_code",
    "ticket_reference",
    "renewal_date_before",
    "approved_by_id",
    "outcome",
    "error_code",
    "error_message",
    "effective_date",
    "settled_at",
)

# Answers to Apple's refund requests (Send Consumption Information) settle into it as well. The
# body sent to Apple is hashed as its canonical JSON text; `answered_by_id` empty is the policy.
CONSUMPTION_KIND = "consumption_answer"
CONSUMPTION_HASHED_FIELDS = (
    "id",
    "refund_request_id",
    "environment",
    "transaction_id",
    "answered_by_id",
    "created_at",
    "body",
    "outcome",
    "error_code",
    "error_message",
    "settled_at",
)

# Outage compensation (every active subscriber of a product extended at once) settles into it
# when Apple says the run is complete: the request, the second manager's approval, Apple's
# acceptance and the final counts in one document. Storefronts are hashed as written, comma-joined.
OUTAGE_KIND = "outage_compensation"
OUTAGE_HASHED_FIELDS = (
    "id",
    "requested_by_id",
    "created_at",
    "environment",
    "product_id",
    "storefronts",
    "extend_by_days",
    "reason_code",
    "note",
    "approved_by_id",
    "approved_at",
    "accepted_at",
    "outcome",
    "succeeded_count",
    "failed_count",
    "completed_at",
    "error_code",
    "error_message",
    "settled_at",
)

# Finish Transaction for a consumable an agent delivered by hand.
FINISH_KIND = "transaction_finish"
FINISH_HASHED_FIELDS = (
    "id",
    "agent_id",
    "created_at",
    "environment",
    "transaction_id",
    "original_transaction_id",
    "product_id",
    "order_id",
    "note",
    "outcome",
    "error_code",
    "error_message",
    "settled_at",
)

# The decision on a transfer (approved or rejected, by whom, when, and for an approval the token
# change that carries it to Apple) settles the transfer request itself into the chain. Decisions
# joined the chain with recipe version 2, so every decided transfer carries the usernames.
TRANSFER_KIND = "transfer_decision"
TRANSFER_HASHED_FIELDS = (
    "id",
    "request_id",
    "requested_by_id",
    "created_at",
    "environment",
    "original_transaction_id",
    "product_id",
    "order_id",
    "token_before",
    "account_id",
    "ticket_reference",
    "lookup_id",
    "status",
    "decided_by_id",
    "decided_at",
    "token_change_id",
)

FIELDS_OF_KIND = {
    None: HASHED_FIELDS,
    EXTENSION_KIND: EXTENSION_HASHED_FIELDS,
    CONSUMPTION_KIND: CONSUMPTION_HASHED_FIELDS,
    OUTAGE_KIND: OUTAGE_HASHED_FIELDS,
    FINISH_KIND: FINISH_HASHED_FIELDS,
    TRANSFER_KIND: TRANSFER_HASHED_FIELDS,
}

# The hash recipe rows settle with now. Version 2 adds the people's usernames as text at the
# moment the row settled (ids alone let a rename, or two usernames swapped, change who a row
# names), and the version itself. Version 3 adds the app the call was made for: its id, and the
# bundle ID Apple was called with, recorded as text at settling like the usernames (a row naming
# no app records the settings' bundle ID). Rows settled before keep their version (version 1:
# chain_version NULL) and their stored hashes: the verifier hashes each row by its own version.
CHAIN_VERSION = 3
# Per kind: the column that records a username at settling -> the column holding that user's id.
RECORDED_NAMES: dict[str | None, dict[str, str]] = {
    None: {"agent_username": "agent_id"},
    EXTENSION_KIND: {"agent_username": "agent_id", "approved_by_username": "approved_by_id"},
    CONSUMPTION_KIND: {"answered_by_username": "answered_by_id"},
    OUTAGE_KIND: {
        "requested_by_username": "requested_by_id",
        "approved_by_username": "approved_by_id",
    },
    FINISH_KIND: {"agent_username": "agent_id"},
    TRANSFER_KIND: {
        "requested_by_username": "requested_by_id",
        "decided_by_username": "decided_by_id",
    },
}
# A token change that carried out an approved transfer also records who asked for it.
TRANSFER_REQUESTER_NAME = "transfer_requested_by_username"
_VERSION_2_EXTRA = {
    None: ("agent_username", TRANSFER_REQUESTER_NAME, "chain_version"),
    EXTENSION_KIND: ("agent_username", "approved_by_username", "chain_version"),
    CONSUMPTION_KIND: ("answered_by_username", "chain_version"),
    OUTAGE_KIND: ("requested_by_username", "approved_by_username", "chain_version"),
    FINISH_KIND: ("agent_username", "chain_version"),
    TRANSFER_KIND: ("requested_by_username", "decided_by_username", "chain_version"),
}


# Every kind, from version 3: the app's id and the bundle ID recorded at settling.
RECORDED_APP = ("app_id", "app_bundle_id")


def fields_of(kind: str | None, version: int | None) -> tuple[str, ...]:
    """The columns a row of `kind` settled with hash recipe `version` (None: 1) is hashed over."""
    version = version or 1
    if version < 2:
        return FIELDS_OF_KIND[kind]
    if version < 3:
        return (*FIELDS_OF_KIND[kind], *_VERSION_2_EXTRA[kind])
    return (*FIELDS_OF_KIND[kind], *_VERSION_2_EXTRA[kind], *RECORDED_APP)


def every_field_of(kind: str | None) -> tuple[str, ...]:
    """The columns to read for a row of `kind` whatever its version."""
    return fields_of(kind, CHAIN_VERSION)


def canonical_document(
    row: Mapping[str, Any], *, sequence: int, previous_hash: str, kind: str | None = None
) -> bytes:
    """The bytes that are hashed: the row's hashed fields as sorted-key JSON, times in UTC."""
    document: dict[str, Any] = {
        name: _canonical_value(name, row[name])
        for name in fields_of(kind, row.get("chain_version"))
    }
    if kind is not None:
        document["kind"] = kind
    document["chain_sequence"] = sequence
    document["chain_previous_hash"] = previous_hash
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def chain_hash(
    row: Mapping[str, Any],
    *,
    sequence: int,
    previous_hash: str,
    key: bytes | None = None,
    kind: str | None = None,
) -> str:
    """The row's keyed hash; `key` is the desk's configured chain key unless given.

    `kind` is None for a token change, EXTENSION_KIND for a subscription extension and
    CONSUMPTION_KIND for an answer to a refund request.
    """
    document = canonical_document(row, sequence=sequence, previous_hash=previous_hash, kind=kind)
    return hmac.new(key or configured_key(), document, hashlib.sha256).hexdigest()


def unkeyed_chain_hash(row: Mapping[str, Any], *, sequence: int, previous_hash: str) -> str:
    """The chain's first form, a plain SHA-256: only migrations 0006 and 0011 still speak it."""
    document = canonical_document(row, sequence=sequence, previous_hash=previous_hash)
    return hashlib.sha256(document).hexdigest()


def configured_key() -> bytes:
    from django.conf import settings

    return settings.AUDIT_CHAIN_KEY.encode()


def _canonical_value(name: str, value: Any) -> str | int | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name}: a boolean has no place in the audit chain")
    if isinstance(value, int):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        # A JSON document (the consumption body) is hashed as one string, its keys sorted.
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        )
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name}: a naive datetime can't be placed in time")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"{name}: {type(value).__name__} has no canonical form")
