"""Get Transaction History's query: parameter checks, filters, ordering and the revision token.

Apple pages by "recently modified date" (the later of the purchase and any revocation or
upgrade), and its revision marks where the last page ended. The simulator's revision is that
position plus a fingerprint of the query, so a later page asked with other filters is refused, and
a transaction modified while a client pages in ascending order comes round again, as Apple warns.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lookups.simulators.appstore import errors
from lookups.simulators.appstore.catalog import PRODUCT_TYPE_FILTERS
from lookups.simulators.appstore.errors import ApiError, AppleError

PAGE_SIZE = 20
ASCENDING, DESCENDING = "ASCENDING", "DESCENDING"
OWNERSHIP_TYPES = frozenset({"FAMILY_SHARED", "PURCHASED"})

# A transaction's place in the history: (recently modified date, numeric transaction ID).
Position = tuple[int, int]


@dataclass(frozen=True)
class HistoryQuery:
    start_date: int | None = None
    end_date: int | None = None
    product_ids: frozenset[str] = frozenset()
    product_types: frozenset[str] = frozenset()
    subscription_groups: frozenset[str] = frozenset()
    ownership_type: str | None = None
    revoked: bool | None = None
    sort: str = ASCENDING

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> HistoryQuery:
        """Check the query parameters as Apple does, each bad one with its own error code."""
        start_date = _timestamp(_single(params, "startDate", errors.INVALID_START_DATE))
        if start_date is None and "startDate" in params:
            raise ApiError(errors.INVALID_START_DATE)
        end_date = _timestamp(_single(params, "endDate", errors.INVALID_END_DATE))
        if end_date is None and "endDate" in params:
            raise ApiError(errors.INVALID_END_DATE)
        if start_date is not None and end_date is not None and start_date >= end_date:
            raise ApiError(errors.START_DATE_AFTER_END_DATE)

        product_ids = _non_empty(params.get("productId", ()), errors.INVALID_PRODUCT_ID)
        product_types = _non_empty(params.get("productType", ()), errors.INVALID_PRODUCT_TYPE)
        if not product_types <= set(PRODUCT_TYPE_FILTERS.values()):
            raise ApiError(errors.INVALID_PRODUCT_TYPE)
        groups = _non_empty(
            params.get("subscriptionGroupIdentifier", ()),
            errors.INVALID_SUBSCRIPTION_GROUP_IDENTIFIER,
        )

        sort = _single(params, "sort", errors.INVALID_SORT) or ASCENDING
        if sort not in (ASCENDING, DESCENDING):
            raise ApiError(errors.INVALID_SORT)

        ownership = _single(params, "inAppOwnershipType", errors.INVALID_IN_APP_OWNERSHIP_TYPE)
        if ownership is not None and ownership not in OWNERSHIP_TYPES:
            raise ApiError(errors.INVALID_IN_APP_OWNERSHIP_TYPE)

        revoked = _boolean(params, "revoked", errors.INVALID_REVOKED)
        # The deprecated excludeRevoked=true asks for what revoked=false asks for now.
        exclude_revoked = _boolean(params, "excludeRevoked", errors.INVALID_EXCLUDE_REVOKED)
        if exclude_revoked and revoked is None:
            revoked = False

        return cls(
            start_date=start_date,
            end_date=end_date,
            product_ids=product_ids,
            product_types=product_types,
            subscription_groups=groups,
            ownership_type=ownership,
            revoked=revoked,
            sort=sort,
        )

    def matches(self, transaction: Mapping[str, Any]) -> bool:
        """Every filter given must match; a repeated filter matches any of its values."""
        purchase_date = transaction.get("purchaseDate", 0)
        if self.start_date is not None and purchase_date < self.start_date:
            return False
        if self.end_date is not None and purchase_date >= self.end_date:
            return False
        if self.product_ids and transaction.get("productId") not in self.product_ids:
            return False
        product_type = PRODUCT_TYPE_FILTERS.get(transaction.get("type", ""))
        if self.product_types and product_type not in self.product_types:
            return False
        group = transaction.get("subscriptionGroupIdentifier")
        if self.subscription_groups and group not in self.subscription_groups:
            return False
        ownership = transaction.get("inAppOwnershipType")
        if self.ownership_type is not None and ownership != self.ownership_type:
            return False
        is_revoked = "revocationDate" in transaction
        return self.revoked is None or is_revoked == self.revoked

    def fingerprint(self, *, version: int, customer: str) -> str:
        """Identifies the query a revision belongs to; the revision itself is not part of it."""
        parts = [
            version,
            customer,
            self.start_date,
            self.end_date,
            sorted(self.product_ids),
            sorted(self.product_types),
            sorted(self.subscription_groups),
            self.ownership_type,
            self.revoked,
            self.sort,
        ]
        digest = hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode("utf-8"))
        return digest.hexdigest()[:24]


@dataclass(frozen=True)
class HistoryPage:
    transaction_ids: list[str]
    revision: str
    has_more: bool


def page_after(
    positions: Iterable[tuple[Position, str]],
    *,
    query: HistoryQuery,
    fingerprint: str,
    revision: str | None,
) -> HistoryPage:
    """The next page of matching transactions after the position the revision marks."""
    after = decode_revision(revision, fingerprint) if revision is not None else None
    descending = query.sort == DESCENDING
    ordered = sorted(positions, reverse=descending)
    if after is not None:
        ordered = [(p, t) for p, t in ordered if (p < after if descending else p > after)]
    page, has_more = ordered[:PAGE_SIZE], len(ordered) > PAGE_SIZE
    last = page[-1][0] if page else after
    return HistoryPage(
        transaction_ids=[t for _, t in page],
        revision=encode_revision(fingerprint, last),
        has_more=has_more,
    )


def encode_revision(fingerprint: str, position: Position | None) -> str:
    token = json.dumps({"q": fingerprint, "p": position}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_revision(revision: str, fingerprint: str) -> Position | None:
    try:
        padded = revision + "=" * (-len(revision) % 4)
        token = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        position = token["p"]
        matches = token["q"] == fingerprint
    except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error):
        raise ApiError(errors.INVALID_REQUEST_REVISION) from None
    if not matches:
        raise ApiError(errors.INVALID_REQUEST_REVISION)
    if position is None:
        return None
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in position)
    ):
        raise ApiError(errors.INVALID_REQUEST_REVISION)
    return (position[0], position[1])


def _single(params: Mapping[str, Sequence[str]], name: str, error: AppleError) -> str | None:
    values = params.get(name, ())
    if len(values) > 1:
        raise ApiError(error)
    return values[0] if values else None


def _timestamp(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _non_empty(values: Iterable[str], error: AppleError) -> frozenset[str]:
    values = frozenset(values)
    if any(not v.strip() for v in values):
        raise ApiError(error)
    return values


def _boolean(params: Mapping[str, Sequence[str]], name: str, error: AppleError) -> bool | None:
    value = _single(params, name, error)
    if value is None:
        return None
    # Apple's own Python library sends str(True), so the capitalised spelling must work too.
    if value.lower() not in ("true", "false"):
        raise ApiError(error)
    return value.lower() == "true"
