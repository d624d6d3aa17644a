"""The simulator's App Store: customers' transactions, orders, and what each endpoint does to them.

Transactions are plain dicts in Apple's JWSTransactionDecodedPayload field names, times in
milliseconds since the epoch; `signedDate` is added when a response signs them. Each customer is
known by their appTransactionId, which every one of their transactions carries.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lookups.simulators.appstore import errors
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
from lookups.simulators.appstore.history import HistoryPage, HistoryQuery, page_after

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
    ) -> None:
        self.bundle_id = bundle_id
        self.environment = environment
        self._clock = clock
        self._lock = threading.RLock()
        self.reset()

    # --- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the demo data, dated relative to today."""
        from lookups.simulators.demo_data import load_demo_data

        with self._lock:
            self._entries: dict[str, _Entry] = {}
            # Indexes, so bulk benchmark data doesn't make every request scan every transaction.
            self._by_customer: dict[str, list[_Entry]] = {}
            self._by_original: dict[str, list[_Entry]] = {}
            self._customers: dict[str, str] = {}  # appTransactionId -> storefront code
            self._orders: dict[str, list[str]] = {}
            self._next_transaction_id = 2000000900000001
            self._next_web_order_line_item_id = 2000000040000001
            self._next_app_transaction_id = 705000000000090001
            load_demo_data(self, self.now_ms())

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        """A copy of a transaction as it stands, without signedDate; KeyError if unknown."""
        with self._lock:
            return copy.deepcopy(self._entries[transaction_id].payload)

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
                payload["expiresDate"] = add_months(purchase_date, product.period_months)
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
    ) -> None:
        """Refund or revoke a transaction, as the App Store does after a customer's refund."""
        with self._lock:
            payload = self._entries[transaction_id].payload
            payload["revocationDate"] = revocation_date or self.now_ms()
            payload["revocationReason"] = reason
            payload["revocationType"] = revocation_type

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
            return [copy.deepcopy(self._entries[t].payload) for t in ids]

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
            return page, [copy.deepcopy(self._entries[t].payload) for t in page.transaction_ids]

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

    # --- the demo's life (renewals, expiry) -----------------------------------------------------

    def latest_transaction(self, original_transaction_id: str) -> dict[str, Any] | None:
        """A copy of the subscription's (or one-time purchase's) latest transaction, or None."""
        with self._lock:
            latest = self._latest_of(original_transaction_id)
            return copy.deepcopy(latest.payload) if latest else None

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
