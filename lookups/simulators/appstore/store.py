"""The simulator's App Store: customers' transactions, orders, and what each endpoint does to them.

Transactions are plain dicts in Apple's JWSTransactionDecodedPayload field names, times in
milliseconds since the epoch; `signedDate` is added when a response signs them. Each customer is
known by their appTransactionId, which every one of their transactions carries.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from lookups.simulators.appstore import consumption, errors, subscriptions
from lookups.simulators.appstore.catalog import (
    AUTO_RENEWABLE,
    CONSUMABLE,
    DAY_MS,
    PRO_MONTHLY,
    PRODUCTS,
    STOREFRONTS,
    add_months,
)
from lookups.simulators.appstore.errors import ApiError
from lookups.simulators.appstore.events import (
    CONSUMPTION_REQUEST,
    REFUND,
    REFUND_DECLINED,
    RENEWAL_EXTENDED,
    EventListener,
    StoreEvent,
)
from lookups.simulators.appstore.history import (
    PAGE_SIZE,
    HistoryPage,
    HistoryQuery,
    decode_revision,
    encode_revision,
    page_after,
)
from lookups.simulators.appstore.subscriptions import RenewalState

CURRENT_APP_VERSION = "3.4"
_FIRST_VERSIONS = ("1.0", "1.2", "2.0", "2.3", "3.1")
_PLATFORMS = ("iOS", "iOS", "macOS", "iOS", "visionOS", "tvOS")
_NUMERIC = re.compile(r"[0-9]{1,30}")
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Offer:
    """The offer fields Apple puts on a transaction bought with an offer."""

    offer_type: int  # 1 introductory, 2 promotional, 3 offer code, 4 win-back
    identifier: str
    discount_type: str  # FREE_TRIAL, PAY_AS_YOU_GO, PAY_UP_FRONT
    period: str  # ISO 8601 duration, e.g. P1M
    price: int  # milliunits charged for this period


@dataclass
class _Entry:
    # Flat, as Apple's transaction payloads are (strings, numbers, booleans): `dict(payload)` is a
    # copy callers may change.
    payload: dict[str, Any]
    finished: bool = False
    upgraded_at: int | None = None

    @property
    def position(self) -> tuple[int, int]:
        """Apple's "recently modified date" (purchase, revocation or upgrade), then the ID."""
        modified = max(
            self.payload["purchaseDate"],
            self.payload.get("revocationDate", 0),
            self.upgraded_at or 0,
        )
        return (modified, int(self.payload["transactionId"]))


class TransactionStore:
    """All state behind the simulated endpoints, guarded by one lock."""

    def __init__(
        self,
        *,
        bundle_id: str,
        environment: str,
        clock: Callable[[], float] = time.time,
        demo_data: Callable[[TransactionStore, int], None] | None = None,
        first_transaction_id: int = 2000000900000001,
    ) -> None:
        self.bundle_id = bundle_id
        self.environment = environment
        # Another app's demo, and its own range of new IDs: Apple's IDs are unique across apps.
        self._demo_data = demo_data
        self._first_transaction_id = first_transaction_id
        self._clock = clock
        self._lock = threading.RLock()
        self._listeners: list[EventListener] = []
        self._decision_timers: list[threading.Timer] = []
        self.reset()

    # --- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the demo data, dated relative to today."""
        from lookups.simulators.demo_data import load_demo_data

        with self._lock:
            for timer in self._decision_timers:
                timer.cancel()
            self._decision_timers = []
            # How long the App Store takes to decide a refund request once consumption
            # information has arrived: days at Apple, seconds here.
            self.refund_decision_seconds = 2.0
            self._renewals: dict[str, RenewalState] = {}
            self._events: list[StoreEvent] = []
            # transactionId -> the open refund request's reason and the consumption answers.
            self._refund_requests: dict[str, str] = {}
            self.consumption_answers: dict[str, list[dict[str, Any]]] = {}
            self._entries: dict[str, _Entry] = {}
            # Indexes, so bulk benchmark data doesn't make every request scan every transaction.
            self._by_customer: dict[str, list[_Entry]] = {}
            self._by_original: dict[str, list[_Entry]] = {}
            self._customers: dict[str, str] = {}  # appTransactionId -> storefront code
            self._orders: dict[str, list[str]] = {}
            self._next_transaction_id = self._first_transaction_id
            self._next_web_order_line_item_id = 2000000040000001
            self._next_app_transaction_id = 705000000000090001
            (self._demo_data or load_demo_data)(self, self.now_ms())

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        """A copy of a transaction as it stands, without signedDate; KeyError if unknown."""
        with self._lock:
            return dict(self._entries[transaction_id].payload)

    def order_transaction_ids(self, order_id: str) -> list[str]:
        with self._lock:
            return list(self._orders.get(order_id, ()))

    # --- building ------------------------------------------------------------------------------

    def add_customer(self, app_transaction_id: str, *, storefront: str) -> str:
        with self._lock:
            if storefront not in STOREFRONTS:
                raise ValueError(f"Unknown storefront {storefront!r}.")
            self._customers[app_transaction_id] = storefront
            return app_transaction_id

    def add_transaction(
        self,
        customer: str,
        *,
        product_id: str,
        purchase_date: int,
        transaction_id: str | None = None,
        original_transaction_id: str | None = None,
        transaction_reason: str = "PURCHASE",
        app_account_token: str | None = None,
        in_app_ownership_type: str = "PURCHASED",
        quantity: int = 1,
        offer: Offer | None = None,
        finished: bool = False,
        order_id: str | None = None,
        expires_date: int | None = None,
    ) -> str:
        """Record one transaction for `customer`, filling the fields Apple would, and return its ID.

        A renewal or upgrade names the subscription's `original_transaction_id`; everything else
        starts its own. Subscriptions get an expiry one billing period after the purchase.
        """
        with self._lock:
            product = PRODUCTS[product_id]
            storefront = STOREFRONTS[self._customers[customer]]
            transaction_id = transaction_id or self._allocate_transaction_id()
            if transaction_id in self._entries:
                raise ValueError(f"Transaction {transaction_id} already exists.")
            original_id = original_transaction_id or transaction_id
            original = self._entries.get(original_id)
            if original_transaction_id and original is None:
                raise ValueError(f"Original transaction {original_transaction_id} is unknown.")
            original_purchase_date = original.payload["purchaseDate"] if original else purchase_date

            payload: dict[str, Any] = {
                "transactionId": transaction_id,
                "originalTransactionId": original_id,
            }
            if product.type == AUTO_RENEWABLE:
                payload["webOrderLineItemId"] = str(self._next_web_order_line_item_id)
                self._next_web_order_line_item_id += 1
            payload["bundleId"] = self.bundle_id
            payload["productId"] = product_id
            if product.subscription_group:
                payload["subscriptionGroupIdentifier"] = product.subscription_group
            payload["purchaseDate"] = purchase_date
            payload["originalPurchaseDate"] = original_purchase_date
            if product.type == AUTO_RENEWABLE and product.period_months:
                payload["expiresDate"] = expires_date or add_months(
                    purchase_date, product.period_months
                )
            payload["quantity"] = quantity
            payload["type"] = product.type
            if app_account_token:
                payload["appAccountToken"] = app_account_token
            payload["inAppOwnershipType"] = in_app_ownership_type
            payload["environment"] = self.environment
            payload["transactionReason"] = transaction_reason
            payload["storefront"] = storefront.code
            payload["storefrontId"] = storefront.storefront_id
            payload["price"] = (
                offer.price if offer else product.prices[storefront.currency] * quantity
            )
            payload["currency"] = storefront.currency
            payload["appTransactionId"] = customer
            if offer:
                payload["offerType"] = offer.offer_type
                payload["offerIdentifier"] = offer.identifier
                payload["offerDiscountType"] = offer.discount_type
                payload["offerPeriod"] = offer.period

            entry = _Entry(payload, finished=finished)
            self._entries[transaction_id] = entry
            self._by_customer.setdefault(customer, []).append(entry)
            self._by_original.setdefault(original_id, []).append(entry)
            if order_id:
                self._orders.setdefault(order_id, []).append(transaction_id)
            if product.type == AUTO_RENEWABLE:
                # An upgrade or crossgrade renews as the product it moved to.
                state = self._renewals.setdefault(original_id, RenewalState(product_id))
                state.auto_renew_product_id = product_id
            return transaction_id

    def renew(self, original_transaction_id: str, *, purchase_date: int | None = None) -> str:
        """Bill the next period of a subscription; the renewal keeps the latest appAccountToken."""
        with self._lock:
            latest = self._latest_of(original_transaction_id)
            if latest is None or latest.payload["type"] != AUTO_RENEWABLE:
                raise ValueError(
                    f"{original_transaction_id} is not an auto-renewable subscription."
                )
            return self.add_transaction(
                latest.payload["appTransactionId"],
                product_id=latest.payload["productId"],
                purchase_date=purchase_date or latest.payload["expiresDate"],
                original_transaction_id=original_transaction_id,
                transaction_reason="RENEWAL",
                app_account_token=latest.payload.get("appAccountToken"),
                in_app_ownership_type=latest.payload["inAppOwnershipType"],
            )

    def revoke(
        self,
        transaction_id: str,
        *,
        revocation_date: int | None = None,
        reason: int = 0,
        revocation_type: str = "REFUND_FULL",
        revocation_percentage: int | None = None,
    ) -> None:
        """Refund or revoke a transaction, as the App Store does after a customer's refund.

        A refund carries revocationPercentage, the share refunded in milli-percent: all of it
        (100000) for a full refund, `revocation_percentage` for a prorated one.
        """
        with self._lock:
            payload = self._entries[transaction_id].payload
            payload["revocationDate"] = revocation_date or self.now_ms()
            payload["revocationReason"] = reason
            payload["revocationType"] = revocation_type
            if revocation_type == "REFUND_FULL":
                payload["revocationPercentage"] = consumption.FULL_PERCENTAGE
            elif revocation_type == "REFUND_PRORATED":
                payload["revocationPercentage"] = (
                    consumption.FULL_PERCENTAGE // 2
                    if revocation_percentage is None
                    else revocation_percentage
                )

    def mark_upgraded(self, transaction_id: str, *, upgraded_at: int) -> None:
        with self._lock:
            entry = self._entries[transaction_id]
            entry.payload["isUpgraded"] = True
            entry.upgraded_at = upgraded_at

    def add_order(
        self,
        order_id: str,
        count: int,
        *,
        product_id: str = PRO_MONTHLY,
        storefront: str = "USA",
    ) -> list[str]:
        """A new customer's subscription of `count` transactions under one order ID.

        The original comes first, then monthly (or yearly) renewals, the latest still current.
        Returns the transaction IDs, oldest first. Meant for benchmarks that need bulk data.
        """
        if count < 1:
            raise ValueError("An order holds at least one transaction.")
        with self._lock:
            if order_id in self._orders:
                raise ValueError(f"Order {order_id} already exists.")
            customer = self.add_customer(str(self._next_app_transaction_id), storefront=storefront)
            self._next_app_transaction_id += 1
            period = PRODUCTS[product_id].period_months or 1
            first = add_months(self.now_ms() - 2 * DAY_MS, -period * (count - 1))
            ids: list[str] = []
            for n in range(count):
                ids.append(
                    self.add_transaction(
                        customer,
                        product_id=product_id,
                        # Billing stays anchored on the first purchase's day of the month.
                        purchase_date=add_months(first, period * n),
                        original_transaction_id=ids[0] if ids else None,
                        transaction_reason="RENEWAL" if ids else "PURCHASE",
                        order_id=order_id,
                    )
                )
            return ids

    # --- endpoints -----------------------------------------------------------------------------

    def look_up_order(self, order_id: str) -> list[dict[str, Any]] | None:
        """Look Up Order ID: the order's transactions, or None for an unknown order."""
        with self._lock:
            ids = self._orders.get(order_id)
            if not ids:
                return None
            return [dict(self._entries[t].payload) for t in ids]

    def history(
        self,
        any_transaction_id: str,
        params: Mapping[str, Sequence[str]],
        *,
        version: int,
    ) -> tuple[HistoryPage, list[dict[str, Any]]]:
        """Get Transaction History V1 or V2 for the customer any of whose IDs is given."""
        if not _NUMERIC.fullmatch(any_transaction_id):
            raise ApiError(errors.INVALID_TRANSACTION_ID)
        query = HistoryQuery.from_params(params)
        revisions = params.get("revision", ())
        if len(revisions) > 1:
            raise ApiError(errors.INVALID_REQUEST_REVISION)
        with self._lock:
            customer = self._customer_of(any_transaction_id)
            if customer is None:
                raise ApiError(errors.TRANSACTION_ID_NOT_FOUND)
            candidates = [
                (entry.position, entry.payload["transactionId"])
                for entry in self._by_customer.get(customer, ())
                if (version == 2 or not _hidden_from_v1(entry)) and query.matches(entry.payload)
            ]
            page = page_after(
                candidates,
                query=query,
                fingerprint=query.fingerprint(version=version, customer=customer),
                revision=revisions[0] if revisions else None,
            )
            return page, [dict(self._entries[t].payload) for t in page.transaction_ids]

    def set_app_account_token(self, original_transaction_id: str, body: object) -> None:
        """Set App Account Token, refusing what Apple refuses with Apple's error codes.

        For an auto-renewable subscription the token goes on the current (latest) transaction,
        and renewals inherit it; earlier transactions keep what they had. A one-time purchase is
        its own original transaction and takes the token itself.
        """
        if not _NUMERIC.fullmatch(original_transaction_id):
            raise ApiError(errors.INVALID_TRANSACTION_ID)
        token = _app_account_token(body)
        with self._lock:
            entry = self._entries.get(original_transaction_id)
            if entry is None:
                if original_transaction_id in self._customers:
                    raise ApiError(errors.APP_TRANSACTION_ID_NOT_SUPPORTED)
                raise ApiError(errors.ORIGINAL_TRANSACTION_ID_NOT_FOUND)
            if entry.payload["originalTransactionId"] != original_transaction_id:
                raise ApiError(errors.TRANSACTION_ID_IS_NOT_ORIGINAL_TRANSACTION_ID)
            if entry.payload["inAppOwnershipType"] == "FAMILY_SHARED":
                raise ApiError(errors.FAMILY_TRANSACTION_NOT_SUPPORTED)
            target = entry
            if entry.payload["type"] == AUTO_RENEWABLE:
                target = self._latest_of(original_transaction_id) or entry
            target.payload["appAccountToken"] = token

    # --- subscriptions, extensions and refund requests ------------------------------------------

    def add_listener(self, listener: EventListener) -> None:
        """Call `listener` with every event from now on (it survives reset)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: EventListener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    @property
    def events(self) -> list[StoreEvent]:
        """Every event emitted since the last reset, oldest first."""
        with self._lock:
            return list(self._events)

    def renewal_state(self, original_transaction_id: str) -> RenewalState:
        """The live renewal state of a subscription, to change for a test or the demo."""
        with self._lock:
            return self._renewals[original_transaction_id]

    def set_renewal_state(self, original_transaction_id: str, **changes: Any) -> None:
        """Change what happens at a subscription's next renewal (auto_renew_status, ...)."""
        with self._lock:
            state = self._renewals[original_transaction_id]
            for name, value in changes.items():
                if not hasattr(state, name):
                    raise ValueError(f"Renewal state has no {name!r}.")
                setattr(state, name, value)

    def subscription_statuses(
        self, any_transaction_id: str, params: Mapping[str, Sequence[str]]
    ) -> list[tuple[str, list[dict[str, Any]]]]:
        """Get All Subscription Statuses: per subscription group, each subscription's status.

        Each item holds `status`, `originalTransactionId`, the latest `transaction` and its
        `renewalInfo` (both unsigned); `status=` filters keep only subscriptions in those states.
        """
        if not _NUMERIC.fullmatch(any_transaction_id):
            raise ApiError(errors.INVALID_TRANSACTION_ID)
        wanted: set[int] = set()
        for value in params.get("status", ()):
            known = value.isascii() and value.isdigit() and int(value) in subscriptions.STATUSES
            if not known:
                raise ApiError(errors.INVALID_STATUS)
            wanted.add(int(value))
        now = self.now_ms()
        with self._lock:
            customer = self._customer_of(any_transaction_id)
            if customer is None:
                raise ApiError(errors.TRANSACTION_ID_NOT_FOUND)
            groups: dict[str, list[dict[str, Any]]] = {}
            for original_id in sorted(self._originals_of(customer)):
                latest = self._latest_of(original_id)
                state = self._renewals.get(original_id)
                if latest is None or state is None:
                    continue
                status = subscriptions.subscription_status(latest.payload, state, now)
                if wanted and status not in wanted:
                    continue
                groups.setdefault(latest.payload["subscriptionGroupIdentifier"], []).append(
                    {
                        "status": status,
                        "originalTransactionId": original_id,
                        "transaction": dict(latest.payload),
                        "renewalInfo": self._renewal_info(original_id, latest, state, status),
                    }
                )
            return list(groups.items())

    def transaction_info(self, transaction_id: str) -> dict[str, Any]:
        """Get Transaction Info: one transaction as it stands."""
        if not _NUMERIC.fullmatch(transaction_id):
            raise ApiError(errors.INVALID_TRANSACTION_ID)
        with self._lock:
            entry = self._entries.get(transaction_id)
            if entry is None:
                raise ApiError(errors.TRANSACTION_ID_NOT_FOUND)
            return dict(entry.payload)

    def app_transaction(
        self, any_transaction_id: str, *, app_apple_id: int | None
    ) -> dict[str, Any]:
        """Get App Transaction Info: the customer's download of the app (unsigned).

        Known by any of the customer's transaction IDs or their appTransactionId. The first
        download came a few days before their first purchase; its platform and version follow
        from the customer, so the demo tells the same story every time.
        """
        if not _NUMERIC.fullmatch(any_transaction_id):
            raise ApiError(errors.INVALID_TRANSACTION_ID)
        with self._lock:
            customer = self._customer_of(any_transaction_id)
            if customer is None:
                raise ApiError(errors.TRANSACTION_ID_NOT_FOUND)
            purchases = [e.payload["purchaseDate"] for e in self._by_customer.get(customer, ())]
        first_purchase = min(purchases, default=self.now_ms())
        seed = int(customer)
        payload: dict[str, Any] = {"receiptType": self.environment}
        if app_apple_id is not None:
            payload["appAppleId"] = app_apple_id
        payload.update(
            bundleId=self.bundle_id,
            applicationVersion=CURRENT_APP_VERSION,
            receiptCreationDate=self.now_ms(),
            originalPurchaseDate=first_purchase - (1 + seed % 5) * DAY_MS,
            originalApplicationVersion=_FIRST_VERSIONS[seed % len(_FIRST_VERSIONS)],
            appTransactionId=customer,
            originalPlatform=_PLATFORMS[seed % len(_PLATFORMS)],
        )
        return payload

    def finish_transaction(self, transaction_id: str) -> None:
        """Finish Transaction: the app's server says it delivered the purchase."""
        with self._lock:
            self._transaction_entry(transaction_id).finished = True

    def is_finished(self, transaction_id: str) -> bool:
        with self._lock:
            return self._entries[transaction_id].finished

    def refund_history(
        self, any_transaction_id: str, revisions: Sequence[str]
    ) -> tuple[list[dict[str, Any]], str, bool]:
        """Get Refund History V2: the customer's refunded transactions by refund date, 20 a page."""
        if not _NUMERIC.fullmatch(any_transaction_id):
            raise ApiError(errors.INVALID_TRANSACTION_ID)
        if len(revisions) > 1:
            raise ApiError(errors.INVALID_REQUEST_REVISION)
        with self._lock:
            customer = self._customer_of(any_transaction_id)
            if customer is None:
                raise ApiError(errors.TRANSACTION_ID_NOT_FOUND)
            fingerprint = f"refunds:{customer}"
            after = decode_revision(revisions[0], fingerprint) if revisions else None
            refunded = sorted(
                ((e.payload["revocationDate"], int(e.payload["transactionId"])), e)
                for e in self._by_customer.get(customer, ())
                if "revocationDate" in e.payload
            )
            if after is not None:
                refunded = [(p, e) for p, e in refunded if p > after]
            page, has_more = refunded[:PAGE_SIZE], len(refunded) > PAGE_SIZE
            last = page[-1][0] if page else after
            revision = encode_revision(fingerprint, last)
            return [dict(e.payload) for _, e in page], revision, has_more

    def extend_renewal_date(self, original_transaction_id: str, body: object) -> dict[str, Any]:
        """Extend a Subscription Renewal Date, refusing what Apple refuses.

        Apple refuses a subscription in a free offer period, in billing retry or its grace period,
        expired or revoked, or already extended twice in the past 365 days (4030004), and a
        family-shared one (4030007). A request identifier seen before answers as it did then.
        """
        if not _NUMERIC.fullmatch(original_transaction_id):
            raise ApiError(errors.INVALID_ORIGINAL_TRANSACTION_ID)
        days, _reason, request_identifier = extension_request(body)
        now = self.now_ms()
        with self._lock:
            entry = self._entries.get(original_transaction_id)
            state = self._renewals.get(original_transaction_id)
            if entry is None or entry.payload["originalTransactionId"] != original_transaction_id:
                raise ApiError(errors.ORIGINAL_TRANSACTION_ID_NOT_FOUND)
            if state is None:
                raise ApiError(errors.SUBSCRIPTION_EXTENSION_INELIGIBLE)
            answered = state.extension_answers.get(request_identifier)
            if answered is not None:
                return dict(answered)
            answer, event = self._extend(original_transaction_id, days, now)
            state.extension_answers[request_identifier] = answer
        self._emit(event)
        return dict(answer)

    def _extend(
        self, original_transaction_id: str, days: int, now: int
    ) -> tuple[dict[str, Any], StoreEvent]:
        """Extend one subscription if Apple would, under the store's lock; raises ApiError."""
        state = self._renewals[original_transaction_id]
        latest = self._latest_of(original_transaction_id)
        assert latest is not None
        current = latest.payload
        if current["inAppOwnershipType"] == "FAMILY_SHARED":
            raise ApiError(errors.FAMILY_SHARED_SUBSCRIPTION_EXTENSION_INELIGIBLE)
        status = subscriptions.subscription_status(current, state, now)
        in_free_offer = current.get("offerDiscountType") == "FREE_TRIAL"
        if (
            status != subscriptions.ACTIVE
            or in_free_offer
            or state.extensions_in_year_before(now) >= subscriptions.MAX_EXTENSIONS_PER_YEAR
        ):
            raise ApiError(errors.SUBSCRIPTION_EXTENSION_INELIGIBLE)
        current["expiresDate"] += days * DAY_MS
        state.extensions.append((now, days))
        answer = {
            "originalTransactionId": original_transaction_id,
            "webOrderLineItemId": current["webOrderLineItemId"],
            "success": True,
            "effectiveDate": current["expiresDate"],
        }
        event = StoreEvent(
            RENEWAL_EXTENDED, None, current["transactionId"], original_transaction_id, now
        )
        return answer, event

    def active_subscriptions(
        self, product_id: str, storefronts: Sequence[str] | None
    ) -> list[tuple[str, str]]:
        """(original transaction ID, latest transaction ID) of each active subscription to
        `product_id` bought directly (family members follow their purchaser), optionally only
        in some storefronts; the subscribers a mass extension goes through."""
        now = self.now_ms()
        with self._lock:
            found = []
            for original_id, state in sorted(self._renewals.items()):
                latest = self._latest_of(original_id)
                if latest is None:
                    continue
                payload = latest.payload
                if (
                    payload["productId"] == product_id
                    and payload["inAppOwnershipType"] == "PURCHASED"
                    and (storefronts is None or payload["storefront"] in storefronts)
                    and subscriptions.subscription_status(payload, state, now)
                    == subscriptions.ACTIVE
                ):
                    found.append((original_id, payload["transactionId"]))
            return found

    def extend_one_of_many(self, original_transaction_id: str, days: int) -> bool:
        """One subscription of a mass extension: extended (and announced) or not, as Apple's
        eligibility rules say."""
        with self._lock:
            try:
                _answer, event = self._extend(original_transaction_id, days, self.now_ms())
            except ApiError:
                return False
        self._emit(event)
        return True

    def request_refund(
        self, transaction_id: str, *, reason: str = "UNINTENDED_PURCHASE"
    ) -> StoreEvent:
        """The customer asks Apple for a refund: Apple asks the app for consumption data."""
        with self._lock:
            payload = self._entries[transaction_id].payload
            self._refund_requests[transaction_id] = reason
            event = StoreEvent(
                CONSUMPTION_REQUEST,
                None,
                transaction_id,
                payload["originalTransactionId"],
                self.now_ms(),
                MappingProxyType({"consumptionRequestReason": reason}),
            )
        self._emit(event)
        return event

    def open_refund_requests(self) -> dict[str, str]:
        with self._lock:
            return dict(self._refund_requests)

    def send_consumption_information(
        self, transaction_id: str, body: object, *, version: int = 2
    ) -> None:
        """Send Consumption Information (V2, or the deprecated V1): check the body as Apple
        does and record it.

        When a refund request is open for the transaction, Apple's decision follows after
        `refund_decision_seconds`.
        """
        with self._lock:
            entry = self._transaction_entry(transaction_id)
            product_type = entry.payload["type"]
            family_shared = entry.payload["inAppOwnershipType"] == "FAMILY_SHARED"
        if version == 1:
            answer = consumption.check_v1(body)
        else:
            answer = consumption.check_v2(body, product_type=product_type)
        if family_shared:
            raise ApiError(errors.FAMILY_TRANSACTION_NOT_SUPPORTED)
        with self._lock:
            self.consumption_answers.setdefault(transaction_id, []).append(answer)
            if transaction_id not in self._refund_requests:
                return
            timer = threading.Timer(
                self.refund_decision_seconds, self.decide_refund_request, args=(transaction_id,)
            )
            timer.daemon = True
            self._decision_timers.append(timer)
        timer.start()

    def decide_refund_request(self, transaction_id: str) -> str | None:
        """Apple decides an open refund request now: REFUND or REFUND_DECLINED (None if closed).

        The demo App Store follows the app's answer: a refund when the app prefers one or the
        purchase was not delivered, otherwise a decline.
        """
        with self._lock:
            if self._refund_requests.pop(transaction_id, None) is None:
                return None
            answers = self.consumption_answers.get(transaction_id) or [{}]
            latest_answer = answers[-1]
            preference = latest_answer.get("refundPreference")
            delivered = latest_answer.get("deliveryStatus", "DELIVERED") == "DELIVERED"
            refund = preference in ("GRANT_FULL", "GRANT_PRORATED") or (
                preference is None and not delivered
            )
            if refund:
                kind = "REFUND_PRORATED" if preference == "GRANT_PRORATED" else "REFUND_FULL"
                event = self._refunded(
                    transaction_id,
                    revocation_type=kind,
                    reason=0,
                    percentage=self._prorated_share(transaction_id, latest_answer),
                )
            else:
                payload = self._entries[transaction_id].payload
                event = StoreEvent(
                    REFUND_DECLINED,
                    None,
                    transaction_id,
                    payload["originalTransactionId"],
                    self.now_ms(),
                )
        self._emit(event)
        return event.notification_type

    def refund(
        self, transaction_id: str, *, reason: int = 0, revocation_type: str = "REFUND_FULL"
    ) -> StoreEvent:
        """Apple grants a refund: the transaction is revoked and its subscription stops renewing."""
        with self._lock:
            event = self._refunded(transaction_id, revocation_type=revocation_type, reason=reason)
        self._emit(event)
        return event

    def _prorated_share(self, transaction_id: str, answer: Mapping[str, Any]) -> int:
        """What a prorated refund gives back: the unconsumed share the app reported, or for a
        subscription the unused part of its period (milli-percent)."""
        payload = self._entries[transaction_id].payload
        consumed = answer.get("consumptionPercentage")
        if consumed is not None:
            return consumption.FULL_PERCENTAGE - consumed
        expires, start = payload.get("expiresDate"), payload["purchaseDate"]
        if expires is None or expires <= start:
            return consumption.FULL_PERCENTAGE // 2
        unused = (expires - max(self.now_ms(), start)) / (expires - start)
        return max(0, min(consumption.FULL_PERCENTAGE, round(unused * consumption.FULL_PERCENTAGE)))

    def _refunded(
        self,
        transaction_id: str,
        *,
        revocation_type: str,
        reason: int,
        percentage: int | None = None,
    ) -> StoreEvent:
        self.revoke(
            transaction_id,
            reason=reason,
            revocation_type=revocation_type,
            revocation_percentage=percentage,
        )
        payload = self._entries[transaction_id].payload
        renewal = self._renewals.get(payload["originalTransactionId"])
        if renewal is not None:
            renewal.auto_renew_status = 0
        return StoreEvent(
            REFUND, None, transaction_id, payload["originalTransactionId"], self.now_ms()
        )

    def subscription(self, original_transaction_id: str) -> tuple[int, dict[str, Any]] | None:
        """A subscription's status and renewal info (unsigned), as Get All Subscription Statuses
        reports them; None for a purchase that is not an auto-renewable subscription."""
        now = self.now_ms()
        with self._lock:
            latest = self._latest_of(original_transaction_id)
            state = self._renewals.get(original_transaction_id)
            if latest is None or state is None:
                return None
            status = subscriptions.subscription_status(latest.payload, state, now)
            return status, self._renewal_info(original_transaction_id, latest, state, status)

    def _emit(self, event: StoreEvent) -> None:
        # Outside the store's lock: a listener may sign and send, and read the store to do it.
        with self._lock:
            self._events.append(event)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    def _originals_of(self, customer: str) -> set[str]:
        return {
            entry.payload["originalTransactionId"]
            for entry in self._by_customer.get(customer, ())
            if entry.payload["originalTransactionId"] in self._renewals
        }

    def _renewal_info(
        self, original_id: str, latest: _Entry, state: RenewalState, status: int
    ) -> dict[str, Any]:
        payload = latest.payload
        renews = state.auto_renew_status == 1 and status != subscriptions.REVOKED
        price = None
        if renews:
            product = PRODUCTS[state.auto_renew_product_id]
            price = product.prices.get(payload["currency"])
        # The current run of uninterrupted paid periods began with the original purchase here.
        return subscriptions.renewal_info(
            payload,
            state,
            environment=self.environment,
            renewal_price=price,
            recent_start=payload["originalPurchaseDate"],
        )

    # --- the demo's life (renewals, expiry) ----------------------------------------------------

    def latest_transaction(self, original_transaction_id: str) -> dict[str, Any] | None:
        """A copy of the subscription's (or one-time purchase's) latest transaction, or None."""
        with self._lock:
            latest = self._latest_of(original_transaction_id)
            return dict(latest.payload) if latest else None

    def end_period(self, transaction_id: str, *, at: int) -> None:
        """Bring a subscription period's expiresDate forward to `at` (the demo's clock jumps)."""
        with self._lock:
            payload = self._entries[transaction_id].payload
            if "expiresDate" in payload and payload["expiresDate"] > at:
                payload["expiresDate"] = at

    def customer_of(self, any_transaction_id: str) -> str | None:
        """The appTransactionId of the customer a transaction (or app transaction) belongs to."""
        with self._lock:
            return self._customer_of(any_transaction_id)

    # --- helpers -------------------------------------------------------------------------------

    def _customer_of(self, any_transaction_id: str) -> str | None:
        if any_transaction_id in self._customers:
            return any_transaction_id
        entry = self._entries.get(any_transaction_id)
        return entry.payload["appTransactionId"] if entry else None

    def _transaction_entry(self, transaction_id: str) -> _Entry:
        """A transaction an endpoint acts on, refused as Apple refuses a malformed ID, an
        appTransactionId or an unknown one."""
        if not _NUMERIC.fullmatch(transaction_id):
            raise ApiError(errors.INVALID_TRANSACTION_ID)
        entry = self._entries.get(transaction_id)
        if entry is None:
            if transaction_id in self._customers:
                raise ApiError(errors.APP_TRANSACTION_ID_NOT_SUPPORTED)
            raise ApiError(errors.TRANSACTION_ID_NOT_FOUND)
        return entry

    def _latest_of(self, original_transaction_id: str) -> _Entry | None:
        return max(
            self._by_original.get(original_transaction_id, ()),
            key=lambda e: (e.payload["purchaseDate"], int(e.payload["transactionId"])),
            default=None,
        )

    def _allocate_transaction_id(self) -> str:
        while str(self._next_transaction_id) in self._entries:
            self._next_transaction_id += 1
        allocated = str(self._next_transaction_id)
        self._next_transaction_id += 1
        return allocated


def _hidden_from_v1(entry: _Entry) -> bool:
    # V1 leaves out consumables the app has finished, unless they were refunded or revoked.
    payload = entry.payload
    return payload["type"] == CONSUMABLE and entry.finished and "revocationDate" not in payload


def _app_account_token(body: object) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("appAccountToken"), str):
        raise ApiError(errors.GENERAL_BAD_REQUEST)
    value = body["appAccountToken"]
    if not _CANONICAL_UUID.fullmatch(value):
        raise ApiError(errors.INVALID_APP_ACCOUNT_TOKEN_UUID)
    return str(uuid.UUID(value))


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def extension_request(body: object) -> tuple[int, int, str]:
    """extendByDays (1-90), extendReasonCode (0-3) and requestIdentifier (1-128 characters)."""
    if not isinstance(body, dict):
        raise ApiError(errors.GENERAL_BAD_REQUEST)
    days = body.get("extendByDays")
    if not _whole_number(days) or not 1 <= days <= 90:
        raise ApiError(errors.INVALID_EXTEND_BY_DAYS)
    reason = body.get("extendReasonCode")
    if not _whole_number(reason) or reason not in (0, 1, 2, 3):
        raise ApiError(errors.INVALID_EXTEND_REASON_CODE)
    identifier = body.get("requestIdentifier")
    if not isinstance(identifier, str) or not 1 <= len(identifier) <= 128:
        raise ApiError(errors.INVALID_REQUEST_IDENTIFIER)
    return days, reason, identifier
