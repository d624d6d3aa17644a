"""The desk's picture of each purchase as Apple last told it, fed only by verified transactions."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lookups.appstore import AppStoreError, RenewalInfo, Transaction, VerificationError
from lookups.appstore.transactions import ProductType
from lookups.models import Purchase, TokenChange
from lookups.services.apple_actions.acting_app import ActingApp, acting_as, app_to_act_on
from lookups.services.apple_actions.refusal import ActionRefused
from lookups.services.apple_reads import latest_transaction_at_apple
from lookups.services.apps import setup_of, using_app
from lookups.services.clients import current_app
from lookups.services.desk_links import current_link
from lookups.services.purchases import is_uuid, latest_by_purchase, recency

# How long the cache keeps which subscription an order holds (it never changes).
ORDER_REMEMBERED_SECONDS = 30 * 24 * 3600
# What this thread last read from the cache about an order, by key (None: the key held nothing):
# a lookup that learns the same thing again writes nothing back (one Redis round trip fewer).
_order_read = threading.local()
# What a lookup knows that a history page doesn't: the order the purchase came from.
_ALWAYS_UPDATED = ["latest_transaction", "product_id", "app_account_token", "learnt_at", "app"]
# What a status, from Apple's status read, a notification or a one-time purchase, writes.
_STATUS_FIELDS = [
    "status",
    "status_signed_at",
    "status_learnt_at",
    "status_source",
    "renewal_info",
    "auto_renew",
    "next_renewal_date",
    "next_renewal_product_id",
    "expiration_intent",
    "grace_period_ends_at",
    "revocation_date",
    "revocation_reason",
]


# The sources whose news the desk usually holds already: agents look the same order up again.
_OFTEN_HELD = frozenset({Purchase.Source.LOOKUP, Purchase.Source.HISTORY})


@dataclass(frozen=True)
class AppleStatus:
    """A purchase's status as Apple signed it, verified, to be written onto its picture."""

    original_transaction_id: str
    status: str
    signed_at: datetime | None
    source: str
    transaction: Transaction | None = None
    renewal: RenewalInfo | None = None


@dataclass(frozen=True)
class Learnt:
    # Every purchase written, as it now stands, by original transaction ID.
    purchases: dict[str, Purchase]
    # The original transaction IDs whose status was written (not older than the desk's).
    statuses_written: frozenset[str] = frozenset()


def learn_purchases(
    transactions: Iterable[Transaction],
    *,
    source: str,
    order_id: str = "",
    statuses: Iterable[AppleStatus] = (),
    along: Callable[[], None] | None = None,
) -> Learnt:
    """Update the picture of every purchase among these verified transactions, and write each
    status onto its purchase (one the desk doesn't know yet, and not among the transactions,
    is skipped).

    A purchase's picture moves only forward: an older page of history read later does not
    replace a newer transaction already known, and a status signed before the one the desk
    holds is ignored. The purchases are read locked, new ones stored first; then one write for
    each kind of change (transaction, status, both), whatever the number of purchases.

    `along` writes what goes with the picture (the lookup's record): in the picture's
    transaction when the picture changes; alone when the desk held all of it already, as most
    lookups find, so that a lookup's one write is one statement, without BEGIN and COMMIT.
    """
    latest = latest_by_purchase(transactions)
    statuses = {status.original_transaction_id: status for status in statuses}
    held = _held(latest, statuses, source=source, order_id=order_id)
    if held is not None:
        if along is not None:
            along()
        return held
    with transaction.atomic(savepoint=False):
        learnt = _learn(latest, statuses, source=source, order_id=order_id)
        if along is not None:
            along()
    return learnt


def _held(
    latest: dict[str, Transaction],
    statuses: dict[str, AppleStatus],
    *,
    source: str,
    order_id: str,
) -> Learnt | None:
    """What was learnt, when the picture held all of it already (nothing to write); else None."""
    if not latest and not statuses:
        return Learnt({})
    if order_id:
        _remember_order_subscription(order_id, latest)
    # Most lookups tell the desk what it holds already: then nothing is locked or written, so
    # agents looking up the same order don't queue behind each other's row locks. (A
    # notification or a read of a stale picture nearly always brings news: no extra read.)
    if source not in _OFTEN_HELD:
        return None
    stored = _stored(current_app()[1], [*latest, *statuses])
    return _all_held(stored, latest, statuses, order_id=order_id, source=source, now=timezone.now())


def _learn(
    latest: dict[str, Transaction],
    statuses: dict[str, AppleStatus],
    *,
    source: str,
    order_id: str,
) -> Learnt:
    environment = current_app()[1]
    now = timezone.now()
    known = _locked(environment, [*latest, *statuses])
    if new := sorted(key for key in latest if key not in known):
        # Stored first (a row another writer stored meanwhile is kept), then locked like the
        # others, so two writers of a new purchase take turns as well.
        Purchase.objects.bulk_create(
            [
                _take(
                    Purchase(environment=environment, original_transaction_id=key),
                    latest[key],
                    order_id=order_id,
                    source=source,
                    now=now,
                )
                for key in new
            ],
            ignore_conflicts=True,
        )
        known.update(_locked(environment, new))
    learnt: dict[str, Purchase] = {}
    taken = set()
    for original_id, txn in latest.items():
        purchase = learnt[original_id] = known[original_id]
        # A newer transaction known already stays.
        if recency(Transaction.from_payload(purchase.latest_transaction)) <= recency(txn):
            _take(purchase, txn, order_id=order_id, source=source, now=now)
            taken.add(original_id)
    written = set()
    for original_id, status in statuses.items():
        purchase = learnt.get(original_id) or known.get(original_id)
        if purchase is not None and _apply_status(purchase, status, now):
            learnt[original_id] = purchase
            written.add(original_id)
    fields = [*_ALWAYS_UPDATED, "learnt_from", *(["order_id"] if order_id else [])]
    # Each purchase is written with only the fields it learnt: what another writer (a
    # notification, say) set meanwhile on the others is not put back.
    writes: dict[tuple[str, ...], list[Purchase]] = {}
    for key, purchase in sorted(learnt.items()):
        changed = (*(fields if key in taken else ()), *(_STATUS_FIELDS if key in written else ()))
        if changed:
            writes.setdefault(changed, []).append(purchase)
    for changed, purchases in writes.items():
        Purchase.objects.bulk_create(
            purchases,
            update_conflicts=True,
            unique_fields=["environment", "original_transaction_id"],
            update_fields=list(changed),
        )
    return Learnt(learnt, frozenset(written))


def _stored(environment: str, original_ids: list[str]) -> dict[str, Purchase]:
    return _by_original_id(
        Purchase.objects.filter(environment=environment, original_transaction_id__in=original_ids)
    )


def _by_original_id(purchases: Iterable[Purchase]) -> dict[str, Purchase]:
    """The purchases by original transaction ID; those of the app being served hold its row, so
    a page reading `purchase.app` (the lookup's extension offers) asks no query of its own."""
    app = current_app()[0]
    found = {}
    for purchase in purchases:
        if app is not None and purchase.app_id == app.pk:
            purchase.app = app
        found[purchase.original_transaction_id] = purchase
    return found


def _all_held(
    stored: dict[str, Purchase],
    latest: dict[str, Transaction],
    statuses: dict[str, AppleStatus],
    *,
    order_id: str,
    source: str,
    now: datetime,
) -> Learnt | None:
    """What was learnt, if the picture holds all of it already and was learnt recently; else None.

    Apple signs every answer anew, so "held" ignores when it was signed: a transaction is held
    when it is the purchase's latest (from the same order and source) or older than it, a
    status when the
    purchase has the same status, renewal info and revocation, signed no later. The picture is
    refreshed (`learnt_at`, the signing time) at the latest halfway through its freshness.
    """
    refresh_before = now - timedelta(seconds=settings.PURCHASE_FRESH_SECONDS / 2)
    for original_id, txn in latest.items():
        purchase = stored.get(original_id)
        if purchase is None:
            return None
        if recency(Transaction.from_payload(purchase.latest_transaction)) > recency(txn):
            continue  # an older page of history: the picture keeps its newer transaction
        if (
            purchase.learnt_at < refresh_before
            or purchase.learnt_from != source
            or (order_id and purchase.order_id != order_id)
            or not _same_payload(purchase.latest_transaction, txn.raw)
        ):
            return None
    for original_id, status in statuses.items():
        purchase = stored.get(original_id)
        if purchase is not None and not _status_held(purchase, status, refresh_before):
            return None
    held_statuses = frozenset(key for key in statuses if key in stored)
    return Learnt({key: stored[key] for key in [*latest, *held_statuses]}, held_statuses)


def _status_held(purchase: Purchase, status: AppleStatus, refresh_before: datetime) -> bool:
    held = purchase.status_signed_at
    renewal, txn = status.renewal, status.transaction
    return (
        held is not None
        and status.signed_at is not None
        and refresh_before <= held <= status.signed_at
        and (purchase.status, purchase.status_source) == (status.status, status.source)
        and (renewal is None or _same_payload(purchase.renewal_info, renewal.raw))
        and (
            txn is None
            or (purchase.revocation_date, purchase.revocation_reason)
            == (txn.revocation_date, _number(txn.revocation_reason))
        )
    )


def _same_payload(stored: dict | None, raw: Any) -> bool:
    """The same signed payload but for when Apple signed it."""
    if not stored:
        return False
    return {**stored, "signedDate": None} == {**raw, "signedDate": None}


def _locked(environment: str, original_ids: list[str]) -> dict[str, Purchase]:
    """The stored purchases among these, locked until the transaction ends (PostgreSQL; SQLite
    has one writer at a time anyway), in one order, so a notification applied at the same
    moment waits instead of being overwritten."""
    return _by_original_id(
        Purchase.objects.filter(environment=environment, original_transaction_id__in=original_ids)
        .order_by("original_transaction_id")
        .select_for_update()
    )


def _take(
    purchase: Purchase,
    txn: Transaction,
    *,
    order_id: str,
    source: str,
    now: datetime,
) -> Purchase:
    """The purchase with this transaction as its latest."""
    purchase.latest_transaction = dict(txn.raw)
    purchase.product_id = txn.product_id or ""
    purchase.app_account_token = _token(txn.app_account_token)
    purchase.order_id = order_id or purchase.order_id
    purchase.learnt_at = now
    purchase.learnt_from = source
    purchase.app = current_app()[0] or purchase.app
    return purchase


def _apply_status(purchase: Purchase, status: AppleStatus, now: datetime) -> bool:
    """Set the purchase's status from Apple's, unless it holds a newer one. True if set."""
    held = purchase.status_signed_at
    if status.signed_at and held and held > status.signed_at:
        return False
    purchase.status = status.status
    purchase.status_signed_at = status.signed_at
    purchase.status_learnt_at = now
    purchase.status_source = status.source
    renewal, txn = status.renewal, status.transaction
    if renewal is not None:
        purchase.renewal_info = dict(renewal.raw)
        purchase.auto_renew = renewal.will_renew if renewal.auto_renew_status is not None else None
        purchase.next_renewal_date = renewal.renewal_date
        purchase.next_renewal_product_id = renewal.auto_renew_product_id or ""
        purchase.expiration_intent = _number(renewal.expiration_intent)
        purchase.grace_period_ends_at = renewal.grace_period_expires_date
    if txn is not None:
        purchase.revocation_date = txn.revocation_date
        purchase.revocation_reason = _number(txn.revocation_reason)
    return True


def _number(value) -> int | None:
    return int(value) if value is not None else None


def order_subscription(order_id: str) -> str | None:
    """The original transaction ID of a subscription in this order, if a lookup has seen one.

    An order's purchases never change, so what a lookup learnt is kept in the cache too.
    """
    key = order_subscription_key(order_id)
    known = cache.get(key)
    _order_read.found = {key: known}
    if known is not None:
        return known
    found = (
        Purchase.objects.filter(
            environment=current_app()[1],
            order_id=order_id,
            latest_transaction__type=ProductType.AUTO_RENEWABLE,
        )
        .order_by()
        .values_list("original_transaction_id", flat=True)[:1]
    )
    return next(iter(found), None)


def seen_subscription(
    order_id: str, places: Iterable[tuple[Any, str]] = ()
) -> tuple[str, int | None] | None:
    """A subscription of this order a lookup has seen, and the app it was seen in (if named).

    What a lookup of one of `places` (app, environment) learnt is in the cache, all read at once;
    the picture is asked only when none of them holds it.
    """
    keys = {}
    for app, environment in places:
        with using_app(app, environment):
            keys[order_subscription_key(order_id)] = app.pk
    cached = cache.get_many(list(keys))
    # The app that finds the order then knows what its key held, and need not write it again.
    _order_read.found = {key: cached.get(key) for key in keys}
    for key, original_id in cached.items():
        return original_id, keys[key]
    found = (
        Purchase.objects.filter(
            environment="Production",
            order_id=order_id,
            latest_transaction__type=ProductType.AUTO_RENEWABLE,
        )
        .order_by()
        .values_list("original_transaction_id", "app_id")[:1]
    )
    return next(iter(found), None)


def first_subscription(latest: dict[str, Transaction]) -> str | None:
    """The original transaction ID of the first subscription among these purchases."""
    return next((key for key, txn in latest.items() if txn.is_subscription), None)


def _remember_order_subscription(order_id: str, latest: dict[str, Transaction]) -> None:
    key = order_subscription_key(order_id)
    read = getattr(_order_read, "found", None) or {}
    _order_read.found = None
    original_id = first_subscription(latest)
    if key in read and read[key] == original_id:
        return  # the cache holds it already (or holds nothing, rightly): read in this lookup
    if original_id is not None:
        cache.set(key, original_id, ORDER_REMEMBERED_SECONDS)
    else:
        cache.delete(key)


def order_subscription_key(order_id: str) -> str:
    """Where the cache keeps which subscription an order holds, for this app and environment."""
    app, environment = current_app()
    bundle_id = setup_of(app).bundle_id if app else settings.APPSTORE_BUNDLE_ID
    app = f"{bundle_id}:{environment}"
    return f"supportdesk:order-subscription:{app}:{order_id}"


def stored_purchase(original_transaction_id: str) -> Purchase | None:
    """The picture as it stands, however old: for showing, not for deciding."""
    return Purchase.objects.filter(
        environment=current_app()[1], original_transaction_id=original_transaction_id
    ).first()


def pictured_purchase(original_transaction_id: str) -> Purchase | None:
    """The picture shown beside an action: in the environment served, else the latest learnt in
    any (a Sandbox purchase is acted on in Sandbox). For showing, not for deciding."""
    return (
        stored_purchase(original_transaction_id)
        or Purchase.objects.filter(original_transaction_id=original_transaction_id)
        .order_by("-learnt_at", "-pk")
        .first()
    )


def pictures_of(rows: Iterable) -> dict[tuple[str, str], Purchase]:
    """The pictures of the purchases `rows` are about (anything with an `environment` and an
    `original_transaction_id`), each in the row's own environment: a Sandbox case shows its
    Sandbox purchase. One query, by (environment, original transaction ID)."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        wanted.setdefault(row.environment, set()).add(row.original_transaction_id)
    if not wanted:
        return {}
    where = Q()
    for environment, ids in wanted.items():
        where |= Q(environment=environment, original_transaction_id__in=ids)
    return {
        (purchase.environment, purchase.original_transaction_id): purchase
        for purchase in Purchase.objects.filter(where).select_related("app")
    }


def current_purchase(original_transaction_id: str) -> Purchase | None:
    """The purchase as Apple shows it now: the picture if fresh, else read from Apple again.

    None when Apple lists no purchase with this original transaction ID. Raises the client's
    `AppStoreError`, or `VerificationError` when Apple's answer can't be trusted.
    """
    purchase = stored_purchase(original_transaction_id)
    if purchase is not None and is_fresh(purchase):
        return purchase
    latest = latest_transaction_at_apple(original_transaction_id)
    if latest is None:
        return None
    learnt = learn_purchases([latest], source=Purchase.Source.APPLE_READ)
    return learnt.purchases.get(original_transaction_id) or stored_purchase(original_transaction_id)


def purchase_to_act_on(
    original_transaction_id: str, refused: type[ActionRefused], user: Any = None
) -> Purchase:
    """The purchase as Apple shows it now, read before an action on it, as its own app.

    The app and environment are its picture's (`acting_app.app_to_act_on`), and the purchase
    returned names them. Raises `refused` (nothing is sent) when Apple can't be read or trusted,
    or lists no such purchase; and ActionRefused, before Apple is read, for a purchase that
    can't be acted on (an environment its app does not use, its key unreadable, an app `user`
    may not see).
    """
    where = app_to_act_on(original_transaction_id, user)
    try:
        with acting_as(where):
            purchase = current_purchase(original_transaction_id)
    except AppStoreError as error:
        raise refused(
            f"Apple could not be read, so nothing was sent: {error.describe()}", status=502
        ) from None
    except VerificationError:
        raise refused(
            "Apple's answer could not be verified, so nothing was sent.", status=502
        ) from None
    if purchase is None:
        raise refused("Apple lists no purchase with this ID.", status=404)
    return named_app(purchase, where)


def named_app(purchase: Purchase, where: ActingApp) -> Purchase:
    """The purchase naming the app it was read as (an older picture may name none)."""
    if purchase.app_id is None and where.app is not None:
        purchase.app = where.app
    return purchase


def is_fresh(purchase: Purchase) -> bool:
    """Learnt recently, and no token change sent to Apple since (it may have moved the token)."""
    if purchase.learnt_at < timezone.now() - timedelta(seconds=settings.PURCHASE_FRESH_SECONDS):
        return False
    return not TokenChange.objects.filter(
        environment=purchase.environment,
        original_transaction_id=purchase.original_transaction_id,
        created_at__gte=purchase.learnt_at,
    ).exists()


def changed_outside_the_desk(purchase: Purchase) -> bool:
    """Whether Apple's token differs from the one the desk last set on this purchase.

    Someone set it in the app or another tool, or a call the desk recorded as failed (a
    reconcile that ran while it was still in flight) was carried out after all.
    """
    last = current_link(purchase.environment, purchase.original_transaction_id)
    return last is not None and last.token_after != purchase.app_account_token


def _token(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if is_uuid(value) else None
