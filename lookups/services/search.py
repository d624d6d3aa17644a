"""The one search box: customers, the purchases the desk has seen, and what to ask Apple.

Whatever is typed is read for its shape first (a token, a transaction ID, an order ID, an email,
anything else), and only the searches that shape can answer run, each on an index and each
limited. Searching never calls Apple: for an order ID or a transaction ID it only offers a
lookup, which the agent opens; a name or an email is never offered to Apple at all.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from lookups.forms import read_lookup_entry
from lookups.models import (
    CustomerAccount,
    CustomerNote,
    Purchase,
    SubscriptionExtension,
    TokenChange,
    TransferRequest,
)
from lookups.services.app_scope import EVERY_APP, AppScope

LIMIT = 10
TICKETS_SHOWN = 5
# Trigram indexes need three characters to narrow anything.
SHORTEST_CONTAINS = 3
SNIPPET = 80

# Ranks: the lower, the surer the match.
EXACT, TICKET, PREFIX, NOTE, CONTAINS = range(5)

_CODE = re.compile(r"[A-Za-z0-9]{8,14}")


@dataclass(frozen=True)
class AppleOffer:
    kind: str  # "order" or "transaction"
    value: str


@dataclass
class CustomerHit:
    account: CustomerAccount
    matched: str  # "email", "name", "account ID", "token", "ticket SD-1", "note", "purchase"
    rank: int
    detail: str = ""
    tickets: tuple[str, ...] = ()


@dataclass(frozen=True)
class PurchaseHit:
    purchase: Purchase
    matched: str  # "original transaction", "transaction", "appTransactionId", "order"
    account: CustomerAccount | None


@dataclass
class SearchResults:
    query: str
    customers: list[CustomerHit] = field(default_factory=list)
    purchases: list[PurchaseHit] = field(default_factory=list)
    apple: AppleOffer | None = None

    @property
    def empty(self) -> bool:
        return not (self.customers or self.purchases or self.apple)


def search(query: str, *, limit: int = LIMIT, apps: AppScope = EVERY_APP) -> SearchResults:
    """Customers and, of the apps in `apps`, purchases matching what was typed."""
    typed = " ".join(query.split())
    results = SearchResults(query=typed)
    if not typed:
        return results
    customers = _Customers(limit)
    token = _as_uuid(typed)
    if token is not None:
        customers.add(CustomerAccount.objects.filter(app_account_token=token), "token", EXACT)
        results.purchases = _purchases(Q(app_account_token=token), limit, "token", apps)
    elif "@" in typed:
        customers.add(CustomerAccount.objects.filter(email__iexact=typed), "email", EXACT)
        customers.add(CustomerAccount.objects.filter(email__istartswith=typed), "email", PREFIX)
    else:
        results.apple = offer = apple_offer(typed)
        if offer is not None and offer.kind == "transaction":
            results.purchases = _purchases_by_transaction(offer.value, limit, apps)
        elif offer is not None:
            results.purchases = _purchases(Q(order_id=offer.value), limit, "order", apps)
        _text_searches(customers, typed)
    for hit in results.purchases:
        if hit.account is not None:
            customers.put(CustomerHit(hit.account, f"purchase ({hit.matched})", EXACT))
    results.customers = customers.ranked()
    _add_tickets(results.customers)
    return results


def apple_offer(typed: str) -> AppleOffer | None:
    """What Apple could be asked for `typed`: only an order ID or a transaction ID.

    A bare code must hold a digit, or be typed in capitals, to pass for an order ID: "Maya",
    "mayapatel" or "Maya Patel" never do. A pasted receipt line naming one order still does.
    """
    entry = read_lookup_entry(typed)
    if entry is None:
        return None
    kind, value = entry
    if kind == "order" and _CODE.fullmatch(typed):
        has_digit = any(c.isdigit() for c in typed)
        if not (has_digit or typed.isupper()):
            return None
    return AppleOffer(kind, value)


def _text_searches(customers: _Customers, typed: str) -> None:
    accounts = CustomerAccount.objects
    customers.add(accounts.filter(external_id=typed), "account ID", EXACT)
    customers.add_tickets(typed)
    # Names hold no digits: an ID or a ticket needn't be looked for among them.
    is_name = not any(c.isdigit() for c in typed)
    if is_name:
        customers.add(accounts.filter(display_name__istartswith=typed), "name", PREFIX)
    customers.add(accounts.filter(email__istartswith=typed), "email", PREFIX)
    customers.add(accounts.filter(external_id__istartswith=typed), "account ID", PREFIX)
    if len(typed) < SHORTEST_CONTAINS:
        return
    customers.add_notes(typed)
    if is_name and not customers.full:
        customers.add(accounts.filter(display_name__icontains=typed), "name", CONTAINS)


class _Customers:
    """The customers found so far, each once, at the best rank it was found at."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.hits: dict[int, CustomerHit] = {}

    @property
    def full(self) -> bool:
        return len(self.hits) >= self.limit

    def put(self, hit: CustomerHit) -> None:
        known = self.hits.get(hit.account.pk)
        if known is None or hit.rank < known.rank:
            self.hits[hit.account.pk] = hit

    def add(self, accounts: QuerySet, matched: str, rank: int) -> None:
        if self.full:
            return
        # No ORDER BY: the index finds the first matches and stops; ranking is done here.
        for account in accounts.order_by()[: self.limit]:
            self.put(CustomerHit(account, matched, rank))

    def add_tickets(self, typed: str) -> None:
        found = _ticket_rows(Q(ticket_reference__iexact=typed), self.limit)
        by_account = {account_id: ticket for account_id, ticket in found if account_id}
        for account in CustomerAccount.objects.filter(pk__in=by_account) if by_account else []:
            self.put(CustomerHit(account, f"ticket {by_account[account.pk]}", TICKET))

    def add_notes(self, typed: str) -> None:
        if self.full:
            return
        notes = (
            CustomerNote.objects.filter(text__icontains=typed)
            .select_related("account")
            .order_by()[: self.limit]
        )
        for note in notes:
            self.put(CustomerHit(note.account, "note", NOTE, detail=_snippet(note.text, typed)))

    def ranked(self) -> list[CustomerHit]:
        hits = sorted(self.hits.values(), key=lambda h: (h.rank, h.account.display_name.lower()))
        return hits[: self.limit]


def _ticket_rows(match: Q, limit: int) -> list[tuple[int | None, str]]:
    """(account, ticket) pairs from every record that carries a ticket, in one query."""
    sources = [TokenChange, TransferRequest, SubscriptionExtension, CustomerNote]
    first, *rest = (
        model.objects.filter(match).order_by().values_list("account_id", "ticket_reference")
        for model in sources
    )
    return list(first.union(*rest).order_by()[: limit * len(sources)])


def _add_tickets(hits: list[CustomerHit]) -> None:
    """The tickets each customer appears in, for every customer shown, in one query."""
    if not hits:
        return
    rows = _ticket_rows(Q(account_id__in=[hit.account.pk for hit in hits]), 1000)
    tickets: dict[int, set[str]] = {}
    for account_id, ticket in rows:
        if ticket:
            tickets.setdefault(account_id, set()).add(ticket)
    for hit in hits:
        hit.tickets = tuple(sorted(tickets.get(hit.account.pk, ()))[:TICKETS_SHOWN])


def _purchases(match: Q, limit: int, matched: str, apps: AppScope) -> list[PurchaseHit]:
    # Both environments: a tester's Sandbox purchase is found too, labelled as such.
    found = list(
        Purchase.objects.filter(match, apps.rows_of_both_environments())
        .select_related("app")
        .order_by()[:limit]
    )
    return _with_accounts([(purchase, matched) for purchase in found])


def _purchases_by_transaction(digits: str, limit: int, apps: AppScope) -> list[PurchaseHit]:
    """The purchases an original, a latest or an app transaction ID names: one query, three
    indexes (PostgreSQL ORs them)."""
    found = (
        Purchase.objects.alias(
            latest_id=_json_text("transactionId"), app_transaction_id=_json_text("appTransactionId")
        )
        .filter(
            Q(original_transaction_id=digits) | Q(latest_id=digits) | Q(app_transaction_id=digits),
            apps.rows_of_both_environments(),
        )
        .select_related("app")
        .order_by()[:limit]
    )
    hits = []
    for purchase in found:
        if purchase.original_transaction_id == digits:
            matched = "original transaction"
        elif purchase.transaction.transaction_id == digits:
            matched = "transaction"
        else:
            matched = "appTransactionId"
        hits.append((purchase, matched))
    return _with_accounts(hits)


def _with_accounts(found: list[tuple[Purchase, str]]) -> list[PurchaseHit]:
    tokens = {purchase.app_account_token for purchase, _ in found if purchase.app_account_token}
    accounts = (
        {
            a.app_account_token: a
            for a in CustomerAccount.objects.filter(app_account_token__in=tokens)
        }
        if tokens
        else {}
    )
    found.sort(key=lambda item: item[0].learnt_at, reverse=True)
    return [
        PurchaseHit(purchase, matched, accounts.get(purchase.app_account_token))
        for purchase, matched in found
    ]


def _json_text(key: str) -> Cast:
    # Compared as text: a bare KT compares as JSON on SQLite, where the digits would be a
    # number. On PostgreSQL the cast is a no-op and the purchase_by_* indexes still serve it.
    return Cast(KT(f"latest_transaction__{key}"), TextField())


def _as_uuid(typed: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(typed)
    except ValueError:
        return None


def _snippet(text: str, typed: str) -> str:
    """About SNIPPET characters of `text` around where `typed` is found."""
    at = text.lower().find(typed.lower())
    start = max(0, at - SNIPPET // 3) if at >= 0 else 0
    piece = text[start : start + SNIPPET]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET < len(text) else "")
