"""Looking up an order, or a page of a purchase's history, at Apple: verified and recorded."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from lookups.appstore import AppStoreError, HistoryFilters, Transaction, VerificationError
from lookups.appstore.client import HistoryPage, OrderLookup
from lookups.appstore.errors import DeskRateHold
from lookups.models import App, CustomerAccount, Lookup, Purchase
from lookups.services.apps import PRODUCTION, apps_for, environments_of
from lookups.services.clients import (
    app_store_client,
    current_app,
    transaction_verifier,
    using_app,
)
from lookups.services.decoding import decode_transactions
from lookups.services.purchase_picture import (
    first_subscription,
    learn_purchases,
    order_subscription,
    seen_subscription,
)
from lookups.services.purchases import (
    is_uuid,
    latest_by_purchase,
    latest_transaction,
    newest_first,
)
from lookups.services.subscription_status import (
    StatusRead,
    one_time_statuses,
    read_statuses_in_background,
)

# Apps are asked at once; the threads live on, as their database connections do.
_APPS_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="app-lookup")
# Apple's TransactionIdNotFoundError: this app, in this environment, has no such transaction.
TRANSACTION_NOT_FOUND = 4040010


@dataclass(frozen=True)
class TransactionRow:
    """One signed transaction as the agent sees it: verified and decoded, or flagged."""

    transaction: Transaction | None
    problem: str = ""
    account: CustomerAccount | None = None
    # Whether this is the newest transaction of its purchase among those shown.
    is_latest: bool = False
    # The token the purchase carries now (its newest transaction's), which says whose it is.
    owner_token: str | None = None

    @property
    def verified(self) -> bool:
        return self.transaction is not None

    def as_record(self) -> dict[str, Any]:
        if self.transaction is None:
            return {"verified": False, "problem": self.problem}
        return {"verified": True, "payload": dict(self.transaction.raw)}


@dataclass(frozen=True)
class PurchaseRows:
    """One purchase of an order: the desk's picture with Apple's status, and its rows, newest
    first. The first row is the purchase's newest transaction."""

    original_transaction_id: str
    picture: Purchase | None
    rows: list[TransactionRow]

    @property
    def latest(self) -> TransactionRow:
        return self.rows[0]


@dataclass(frozen=True)
class LookupResult:
    lookup: Lookup
    rows: list[TransactionRow] = field(default_factory=list)
    error: AppStoreError | None = None
    revision: str = ""
    has_more: bool = False
    # The picture of each purchase shown, with Apple's status, by original transaction ID.
    purchases: dict[str, Purchase] = field(default_factory=dict)
    status_problem: str = ""

    @property
    def unverified_count(self) -> int:
        return sum(1 for row in self.rows if not row.verified)

    def by_purchase(self) -> list[PurchaseRows]:
        """The verified rows grouped by purchase, the purchase with the newest transaction first."""
        groups: dict[str, list[TransactionRow]] = {}
        for row in newest_first(self.rows):
            if row.transaction is not None and row.transaction.original_transaction_id:
                groups.setdefault(row.transaction.original_transaction_id, []).append(row)
        return [
            PurchaseRows(original_id, self.purchases.get(original_id), rows)
            for original_id, rows in groups.items()
        ]

    @property
    def unverified_rows(self) -> list[TransactionRow]:
        return [row for row in self.rows if not row.verified]


@dataclass(frozen=True)
class AppLookup:
    """One app's part of an order looked up in several: the app, and what Apple answered."""

    app: App
    result: LookupResult

    @property
    def environment(self) -> str:
        return self.result.lookup.environment


def look_up_order_in_apps(agent, order_id: str) -> list[AppLookup]:
    """Look Up Order ID in every app the agent may see, at once, each app within its own budget.

    An order ID says nothing of its app: each app the agent may see is asked, in a thread of its
    own (Look Up Order ID exists in Production only), and every answer is recorded. With one app
    this is `look_up_order` itself. When the desk has seen a subscription of this order, its
    app's status read starts beside the lookups, as with one app.
    """
    visible = [(app, _order_environment(app)) for app in apps_for(agent)]
    if len(visible) == 1:
        [(app, environment)] = visible
        return [_in_app(app, look_up_order, agent, order_id, environment=environment)]
    started = time.monotonic()
    seen = seen_subscription(order_id, visible)
    status_reads = [_seen_status_read(seen, app, environment) for app, environment in visible]
    # This thread asks the app the desk saw the order in (else the first) itself, and the
    # pool the others: no hand-over to a thread and back for the answer most likely shown.
    own = next(
        (n for n, (app, _) in enumerate(visible) if _seen_in(seen, app)),
        0,
    )
    answers: list[Future] = [
        _APPS_POOL.submit(contextvars.copy_context().run, _ask_in_app, app, environment, order_id)
        if n != own
        else Future()
        for n, (app, environment) in enumerate(visible)
    ]
    answers[own].set_result(_ask_in_app(*visible[own], order_id))
    # Every answer is in before the write starts: no thread waits on this one's write lock
    # (SQLite's), and the verifying that follows shares the interpreter with no one.
    wait(answers)
    # Every app's answer is recorded in one write: the apps without the order first, their
    # records unsaved, then the app that found it, whose write (with its picture's, when that
    # changes) takes them along. One INSERT for the lookup, and a transaction only when the
    # picture changes, as with one app.
    records: list[Lookup] = []
    finding_last = sorted(range(len(visible)), key=lambda n: _found(answers[n]))
    asked: dict[int, AppLookup] = {}
    for n in finding_last:
        app, environment = visible[n]
        answered = {"answer": answers[n], "status_read": status_reads[n], "unsaved": records}
        asked[n] = _in_app(
            app,
            look_up_order,
            agent,
            order_id,
            environment=environment,
            started=started,
            **answered,
        )
    # Left unsaved when no app found the order: written here.
    Lookup.objects.bulk_create(records)
    return [asked[n] for n in range(len(visible))]


def _found(answer: Future[OrderLookup | AppStoreError]) -> bool:
    found = answer.result()
    return isinstance(found, OrderLookup) and found.found


def _seen_status_read(
    seen: tuple[str, int | None] | None, app: App, environment: str
) -> Future[StatusRead] | None:
    """The status read of the subscription the desk saw in this order, if it was this app's.

    A purchase learnt before apps were registered names none: it was the settings' app's.
    """
    if seen is None or not _seen_in(seen, app):
        return None
    with using_app(app, environment):
        return read_statuses_in_background(seen[0])


def _seen_in(seen: tuple[str, int | None] | None, app: App) -> bool:
    """Whether the subscription the desk saw was this app's (naming none: the settings' app)."""
    if seen is None:
        return False
    app_id = seen[1]
    return app_id == app.pk or (app_id is None and app.follows_settings)


def _ask_in_app(app: App, environment: str, order_id: str) -> OrderLookup | AppStoreError:
    with using_app(app, environment):
        try:
            return app_store_client().look_up_order(order_id)
        except AppStoreError as error:
            return error


def _in_app(app: App, look_up, agent, *args, environment: str = PRODUCTION, **options):
    with using_app(app, environment):
        return AppLookup(app, look_up(agent, *args, **options))


def shown_lookup(lookups: list[AppLookup]) -> AppLookup | None:
    """The app whose answer the page shows: one that found the order, else one that failed."""
    for wanted in (Lookup.Outcome.FOUND, Lookup.Outcome.FAILED, Lookup.Outcome.HELD):
        for app_lookup in lookups:
            if app_lookup.result.lookup.outcome == wanted:
                return app_lookup
    return lookups[0] if lookups else None


def _order_environment(app: App) -> str:
    """Production, where Look Up Order ID lives; an app only in Sandbox is asked there."""
    environments = environments_of(app)
    return PRODUCTION if PRODUCTION in environments else environments[0]


def look_up_order(
    agent,
    order_id: str,
    *,
    answer: Future[OrderLookup | AppStoreError] | None = None,
    status_read: Future[StatusRead] | None = None,
    started: float | None = None,
    unsaved: list[Lookup] | None = None,
) -> LookupResult:
    """Look Up Order ID at Apple, verify every transaction, and record the lookup.

    `answer` is Apple's answer when it was asked already (in a thread, beside other apps);
    `unsaved` collects the records of the other apps asked: a record without the order joins
    them unsaved, and the order's record is written with them, in the picture's write.
    """
    started = time.monotonic() if started is None else started
    record = _new_record(agent, kind=Lookup.Kind.ORDER, order_id=order_id)
    # Apple's statuses are read in a thread: beside the lookup itself when the desk has seen a
    # subscription of this order before, else beside the verification of its transactions.
    seen = order_subscription(order_id) if answer is None else None
    if seen:
        status_read = read_statuses_in_background(seen)
    try:
        answer = app_store_client().look_up_order(order_id) if answer is None else answer.result()
        if isinstance(answer, AppStoreError):
            raise answer
    except AppStoreError as error:
        return _record_failure(record, error, started, unsaved=unsaved)
    if not answer.found:
        record.outcome = Lookup.Outcome.NOT_FOUND
        _save(record, [], started, unsaved=unsaved)
        return LookupResult(lookup=record)

    signed = list(answer.signed_transactions)
    if status_read is None:
        decoded, status_read = _decode_starting_status_read(signed)
    else:
        decoded = decode_transactions(signed)
    rows = _annotated(decoded, owner_from_latest=True)
    latest = latest_by_purchase(_verified(rows))
    if seen is not None and seen not in latest:
        # What the desk remembered is not this order's: ask with one of its own.
        own = first_subscription(latest)
        status_read = read_statuses_in_background(own) if own else None
    status = status_read.result() if status_read is not None else StatusRead([])
    record.outcome = Lookup.Outcome.FOUND if answer.found else Lookup.Outcome.NOT_FOUND
    # The picture and the record of what the agent was shown: committed together, once.
    learnt = learn_purchases(
        latest.values(),
        source=Purchase.Source.LOOKUP,
        order_id=order_id,
        statuses=[*one_time_statuses(latest.values()), *status.states],
        along=lambda: _save(record, rows, started, unsaved=unsaved, with_unsaved=True),
    )
    # Apple's status read names the customer's other subscriptions too: only this order's show.
    purchases = {key: learnt.purchases[key] for key in latest if key in learnt.purchases}
    return LookupResult(
        lookup=record, rows=rows, purchases=purchases, status_problem=status.problem
    )


def _decode_starting_status_read(
    signed: list[str],
) -> tuple[list[Transaction | VerificationError], Future[StatusRead] | None]:
    """Every transaction verified and decoded, Get All Subscription Statuses started as soon as
    one verified subscription is among them (its answer names every subscription of the
    customer, so one ID is enough), to run beside the verification of the rest.

    Each transaction is verified once: those before the first subscription one by one, the rest
    together.
    """
    verifier = transaction_verifier()
    decoded: list[Transaction | VerificationError] = []
    for n, item in enumerate(signed):
        try:
            txn = verifier.decode_transaction(item)
        except VerificationError as error:
            decoded.append(error)
            continue
        decoded.append(txn)
        if txn.is_subscription and txn.original_transaction_id:
            status_read = read_statuses_in_background(txn.original_transaction_id)
            return decoded + decode_transactions(signed[n + 1 :]), status_read
    return decoded, None


def history_in_apps(agent, transaction_id: str, **options) -> AppLookup:
    """A page of a transaction's history from the app and environment that know it.

    A transaction ID says nothing of its app either: every app the agent may see is asked at
    once, in each environment it uses (Production and, where used, Sandbox). The page shown is
    the first that answered, else the first refusal other than "no such transaction".
    """
    places = [(app, env) for app in apps_for(agent) for env in environments_of(app)]
    if len(places) == 1:
        [(app, environment)] = places
        return _in_app(
            app, transaction_history, agent, transaction_id, environment=environment, **options
        )
    started = time.monotonic()
    pages = [
        _APPS_POOL.submit(
            contextvars.copy_context().run,
            _ask_history_in_app,
            app,
            environment,
            transaction_id,
            options,
        )
        for app, environment in places
    ]
    wait(pages)
    chosen = _first_telling([page.result() for page in pages])
    app, environment = places[chosen]
    return _in_app(
        app,
        transaction_history,
        agent,
        transaction_id,
        environment=environment,
        asked=pages[chosen],
        started=started,
        **options,
    )


def _first_telling(answers: list[HistoryPage | AppStoreError]) -> int:
    for n, answer in enumerate(answers):
        if not isinstance(answer, AppStoreError):
            return n
    for n, answer in enumerate(answers):
        if answer.answered_code != TRANSACTION_NOT_FOUND:
            return n
    return 0


def _ask_history_in_app(
    app: App, environment: str, transaction_id: str, options: dict
) -> HistoryPage | AppStoreError:
    with using_app(app, environment):
        try:
            return app_store_client().transaction_history(
                transaction_id,
                revision=options.get("revision"),
                filters=options["filters"],
                version=options.get("version", 2),
            )
        except AppStoreError as error:
            return error


def transaction_history(
    agent,
    transaction_id: str,
    *,
    filters: HistoryFilters,
    revision: str | None = None,
    version: int = 2,
    asked: Future[HistoryPage | AppStoreError] | None = None,
    started: float | None = None,
) -> LookupResult:
    """One page of Get Transaction History, verified, recorded like a lookup.

    `asked` is Apple's answer when it was asked already (in a thread, beside other apps).
    """
    started = time.monotonic() if started is None else started
    record = _new_record(
        agent, kind=Lookup.Kind.HISTORY, transaction_id=transaction_id, history_version=version
    )
    try:
        if asked is None:
            page = app_store_client().transaction_history(
                transaction_id, revision=revision, filters=filters, version=version
            )
        else:
            page = asked.result()
            if isinstance(page, AppStoreError):
                raise page
        transaction_verifier().check_app(bundle_id=page.bundle_id, app_apple_id=page.app_apple_id)
    except AppStoreError as error:
        return _record_failure(record, error, started)
    except VerificationError as error:
        record.outcome = Lookup.Outcome.FAILED
        record.error_message = f"The App Store's answer was for another app ({error.detail})."
        _save(record, [], started)
        return LookupResult(lookup=record)

    rows = _verify_and_annotate(page.signed_transactions)
    record.outcome = Lookup.Outcome.FOUND
    learnt = learn_purchases(
        _verified(rows),
        source=Purchase.Source.HISTORY,
        along=lambda: _save(record, rows, started),
    )
    rows = _owned_as_pictured(rows, learnt.purchases)
    return LookupResult(lookup=record, rows=rows, revision=page.revision, has_more=page.has_more)


def _owned_as_pictured(
    rows: list[TransactionRow], purchases: dict[str, Purchase]
) -> list[TransactionRow]:
    """Each row named by the customer its purchase belongs to now, as the order does.

    Apple sets a token on a purchase's current transaction only, and a page of history may not
    hold that transaction: the desk's picture, just brought up to date, knows its token.
    """
    owners = {
        original_id: str(purchase.app_account_token)
        for original_id, purchase in purchases.items()
        if purchase.app_account_token
    }
    accounts = CustomerAccount.objects.owners_of(owners.values())
    owned = []
    for row in rows:
        token = owners.get(row.transaction.original_transaction_id or "") if row.verified else None
        if token is None:
            owned.append(row)
            continue
        account = accounts.get(token.lower())
        owned.append(replace(row, account=account, owner_token=token))
    return owned


def _new_record(agent, **fields) -> Lookup:
    """A lookup naming the app and environment it asked."""
    app, environment = current_app()
    return Lookup(agent=agent, app=app, environment=environment, **fields)


def recorded_transactions(lookup: Lookup) -> list[Transaction]:
    """The verified transactions a lookup showed the agent, as they were then."""
    return [
        Transaction.from_payload(record["payload"])
        for record in lookup.transactions
        if record.get("verified")
    ]


def _verified(rows: list[TransactionRow]) -> list[Transaction]:
    return [row.transaction for row in rows if row.transaction is not None]


def _verify_and_annotate(signed_transactions: Iterable[str]) -> list[TransactionRow]:
    """Verify and decode each transaction, and name the customer its token points to."""
    return _annotated(decode_transactions(list(signed_transactions)), owner_from_latest=False)


def _annotated(
    decoded: list[Transaction | VerificationError], *, owner_from_latest: bool
) -> list[TransactionRow]:
    """Rows of transactions already verified (or refused), each naming its token's customer.

    With `owner_from_latest` (an order, where every transaction of a purchase is shown), each
    row names the customer of its purchase's newest transaction: Apple sets a token on the
    purchase's current transaction only, and that is whose the purchase is.
    """
    verified = [item for item in decoded if isinstance(item, Transaction)]
    tokens = {txn.app_account_token for txn in verified if is_uuid(txn.app_account_token)}
    # Most purchases carry no token; building even an empty query costs more than verifying one.
    accounts = CustomerAccount.objects.owners_of(tokens)
    latest_of = latest_by_purchase(verified)
    latest = {id(txn) for txn in latest_of.values()}
    rows = []
    for item in decoded:
        if isinstance(item, VerificationError):
            rows.append(TransactionRow(transaction=None, problem=_verification_message(item)))
            continue
        owner = latest_of.get(item.original_transaction_id or "") if owner_from_latest else None
        token = (owner or item).app_account_token
        rows.append(
            TransactionRow(
                transaction=item,
                account=accounts.get((token or "").lower()),
                is_latest=id(item) in latest,
                owner_token=token,
            )
        )
    return rows


def _verification_message(error: VerificationError) -> str:
    if error.retryable:
        return (
            "Apple's certificate status service could not be reached, so this transaction "
            "could not be checked yet. Nothing says it is forged: look it up again in a minute "
            f"(check: {error.check})."
        )
    return (
        "This transaction's signature could not be verified, so it is not shown. "
        f"Do not act on it; report it to an administrator (check failed: {error.check})."
    )


def _record_failure(
    record: Lookup, error: AppStoreError, started: float, *, unsaved: list | None = None
) -> LookupResult:
    record.outcome = (
        Lookup.Outcome.HELD if isinstance(error, DeskRateHold) else Lookup.Outcome.FAILED
    )
    record.error_code = error.answered_code
    record.error_message = error.describe()
    _save(record, [], started, unsaved=unsaved)
    return LookupResult(lookup=record, error=error)


def _save(
    record: Lookup,
    rows: list[TransactionRow],
    started: float,
    *,
    unsaved: list[Lookup] | None = None,
    with_unsaved: bool = False,
) -> None:
    """Save the record, or add it to `unsaved`; `with_unsaved`, write them all, in one INSERT."""
    record.duration_ms = round((time.monotonic() - started) * 1000)
    record.transactions = [row.as_record() for row in rows]
    if unsaved is None:
        record.save()
        return
    unsaved.append(record)
    if with_unsaved:
        Lookup.objects.bulk_create(unsaved)
        unsaved.clear()


def latest_shown_transaction(
    lookup: Lookup | None, original_transaction_id: str
) -> Transaction | None:
    """The latest verified transaction of this purchase among those a lookup showed the agent."""
    if lookup is None:
        return None
    return latest_transaction(recorded_transactions(lookup), original_transaction_id)
