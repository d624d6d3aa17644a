"""The demo's life: what happens to a purchase after it is made, and the notification it brings.

Trainers (and tests) drive it with `POST /simulator/life` and a JSON body
`{"action": ..., "original_transaction_id": ...}`. Each action changes the simulator's App Store
the way Apple's would and sends the App Store Server Notification Apple would send:

- `renew`: the current period ends now and a renewal transaction starts; billing retry is over.
  DID_RENEW (subtype BILLING_RECOVERY after a failed renewal; SUBSCRIBED RESUBSCRIBE after expiry).
- `fail_renewal`: the period ends now and billing fails: billing retry, no grace period.
  DID_FAIL_TO_RENEW.
- `enter_grace`: as `fail_renewal`, with a 16-day billing grace period.
  DID_FAIL_TO_RENEW GRACE_PERIOD.
- `expire`: the subscription ends now and auto-renew goes off.
  EXPIRED BILLING_RETRY (after a failed renewal) or EXPIRED VOLUNTARY.
- `auto_renew_off`, `auto_renew_on`: the renewal info's autoRenewStatus.
  DID_CHANGE_RENEWAL_STATUS AUTO_RENEW_DISABLED or AUTO_RENEW_ENABLED.
- `refund`: the latest transaction (or the one in `transaction_id`) is revoked, REFUND_FULL, with
  `revocation_reason` 0 (default) or 1 (an issue with the app). REFUND.
- `revoke`: a family-shared purchase loses access, FAMILY_REVOKE. REVOKE.
- `redeem_offer_code`: a new customer (or the one in `app_transaction_id`) redeems a free-month
  offer code: a new order and subscription carrying no appAccountToken; no
  `original_transaction_id` needed. OFFER_REDEEMED INITIAL_BUY (or SUBSCRIBED INITIAL_BUY with
  `"notification_type": "SUBSCRIBED"`).
- `consumption_request`: nothing changes yet; the customer asked Apple for a refund of the latest
  transaction (or `transaction_id`), `reason` UNINTENDED_PURCHASE by default.
  CONSUMPTION_REQUEST with consumptionRequestReason.

The answer names the transaction concerned and the notification sent (its notificationUUID).
The simulator's clock cannot jump, so actions that end a billing period bring the current
transaction's `expiresDate` forward to now instead. Renewal state (auto-renew, billing retry,
grace period, expiration intent) is the store's, the same that Get All Subscription Statuses
reports; `refund` and `consumption_request` go through the store, whose events the simulator
announces, so a refund request opened here is decided after Send Consumption Information.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable
from typing import Any

from lookups.simulators.appstore import subscriptions
from lookups.simulators.appstore.catalog import (
    AUTO_RENEWABLE,
    DAY_MS,
    PRO_MONTHLY,
    PRODUCTS,
    STOREFRONTS,
)
from lookups.simulators.appstore.events import StoreEvent
from lookups.simulators.appstore.store import Offer, TransactionStore
from lookups.simulators.appstore.subscriptions import BILLING_ERROR, CUSTOMER_CANCELLED

GRACE_PERIOD_DAYS = 16
CONSUMPTION_REQUEST_REASONS = frozenset(
    {"UNINTENDED_PURCHASE", "FULFILLMENT_ISSUE", "UNSATISFIED_WITH_PURCHASE", "LEGAL", "OTHER"}
)
ACTIONS = {
    "renew": "Renew the subscription now",
    "fail_renewal": "Let the renewal fail into billing retry",
    "enter_grace": "Let the renewal fail into a billing grace period",
    "expire": "Let the subscription expire",
    "auto_renew_off": "Turn auto-renew off",
    "auto_renew_on": "Turn auto-renew back on",
    "refund": "Refund the latest transaction",
    "revoke": "Revoke a family-shared purchase",
    "redeem_offer_code": "Redeem an offer code (a new, unlinked purchase)",
    "consumption_request": "Ask for consumption data (a refund request)",
}
FREE_MONTH = Offer(3, "PROFREEMONTH", "FREE_TRIAL", "P1M", 0)
_ORDER_ALPHABET = string.ascii_uppercase + string.digits

# emit(notification_type, subtype, transaction_id=..., data=...) sends one notification;
# announced(event) is the notification the simulator sent for one of the store's events.
Emit = Callable[..., Any]
Announced = Callable[[StoreEvent], Any]


class LifeError(Exception):
    """An action that cannot happen to this purchase; `status` is the control answer's HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class DemoLife:
    """The actions that move a purchase through its life, on the store's renewal state."""

    def __init__(self, store: TransactionStore) -> None:
        self.store = store
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._next_customer = 705000000000095001

    def _status(self, original_id: str) -> int | None:
        subscription = self.store.subscription(original_id)
        return subscription[0] if subscription else None

    # --- actions -------------------------------------------------------------------------------

    def act(self, options: object, emit: Emit, announced: Announced) -> dict[str, Any]:
        """Carry out one action and send its notification; LifeError when it cannot happen."""
        action = options.get("action") if isinstance(options, dict) else None
        if not isinstance(action, str) or action not in ACTIONS:
            raise LifeError(
                400, f"Send a JSON object whose 'action' is one of: {', '.join(ACTIONS)}."
            )
        with self._lock:
            if action == "redeem_offer_code":
                return self._redeem_offer_code(options, emit)
            original_id = self._original_id(options)
            self._announced = announced
            handler = getattr(self, f"_{action}")
            return {"action": action, "original_transaction_id": original_id} | handler(
                original_id, options, emit
            )

    def _renew(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        latest = self._subscription(original_id, may_be_expired=True)
        was_expired = self._status(original_id) == subscriptions.EXPIRED
        was_retrying = self.store.renewal_state(original_id).in_billing_retry
        now = self.store.now_ms()
        self.store.end_period(latest["transactionId"], at=now)
        renewal = self.store.renew(original_id, purchase_date=now)
        self.store.set_renewal_state(
            original_id,
            auto_renew_status=1,
            in_billing_retry=False,
            grace_period_expires_date=None,
            expiration_intent=None,
        )
        if was_expired:
            kind = ("SUBSCRIBED", "RESUBSCRIBE")
        elif was_retrying:
            kind = ("DID_RENEW", "BILLING_RECOVERY")
        else:
            kind = ("DID_RENEW", None)
        return _answer(emit(*kind, transaction_id=renewal), renewal)

    def _fail_renewal(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        return self._fail(original_id, grace=False, emit=emit)

    def _enter_grace(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        return self._fail(original_id, grace=True, emit=emit)

    def _fail(self, original_id: str, *, grace: bool, emit: Emit) -> dict[str, Any]:
        latest = self._subscription(original_id)
        state = self.store.renewal_state(original_id)
        if state.in_billing_retry:
            raise LifeError(409, "This subscription is already in billing retry.")
        if state.auto_renew_status != 1:
            raise LifeError(409, "Auto-renew is off, so Apple will not try to renew.")
        now = self.store.now_ms()
        self.store.end_period(latest["transactionId"], at=now)
        self.store.set_renewal_state(
            original_id,
            in_billing_retry=True,
            expiration_intent=BILLING_ERROR,
            grace_period_expires_date=now + GRACE_PERIOD_DAYS * DAY_MS if grace else None,
        )
        sent = emit(
            "DID_FAIL_TO_RENEW",
            "GRACE_PERIOD" if grace else None,
            transaction_id=latest["transactionId"],
        )
        return _answer(sent, latest["transactionId"])

    def _expire(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        latest = self._subscription(original_id)
        self.store.end_period(latest["transactionId"], at=self.store.now_ms())
        if self.store.renewal_state(original_id).in_billing_retry:
            subtype, intent = "BILLING_RETRY", BILLING_ERROR
        else:
            subtype, intent = "VOLUNTARY", CUSTOMER_CANCELLED
        self.store.set_renewal_state(
            original_id,
            auto_renew_status=0,
            in_billing_retry=False,
            grace_period_expires_date=None,
            expiration_intent=intent,
        )
        return _answer(emit("EXPIRED", subtype, transaction_id=latest["transactionId"]), latest)

    def _auto_renew_off(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        return self._set_auto_renew(original_id, on=False, emit=emit)

    def _auto_renew_on(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        return self._set_auto_renew(original_id, on=True, emit=emit)

    def _set_auto_renew(self, original_id: str, *, on: bool, emit: Emit) -> dict[str, Any]:
        latest = self._subscription(original_id)
        if (self.store.renewal_state(original_id).auto_renew_status == 1) == on:
            raise LifeError(409, f"Auto-renew is already {'on' if on else 'off'}.")
        self.store.set_renewal_state(original_id, auto_renew_status=1 if on else 0)
        subtype = "AUTO_RENEW_ENABLED" if on else "AUTO_RENEW_DISABLED"
        sent = emit("DID_CHANGE_RENEWAL_STATUS", subtype, transaction_id=latest["transactionId"])
        return _answer(sent, latest)

    def _refund(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        target = self._target(original_id, options)
        if "revocationDate" in target:
            raise LifeError(409, "This transaction is already refunded.")
        reason = options.get("revocation_reason", 0)
        if reason not in (0, 1) or isinstance(reason, bool):
            raise LifeError(400, "revocation_reason is 0 (other) or 1 (an issue with the app).")
        event = self.store.refund(target["transactionId"], reason=reason)
        return _answer(self._announced(event), target)

    def _revoke(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        target = self._target(original_id, options)
        if target.get("inAppOwnershipType") != "FAMILY_SHARED":
            raise LifeError(
                400, "Apple sends REVOKE only for Family Sharing; use 'refund' for this purchase."
            )
        if "revocationDate" in target:
            raise LifeError(409, "This transaction is already revoked.")
        self.store.revoke(target["transactionId"], reason=0, revocation_type="FAMILY_REVOKE")
        return _answer(emit("REVOKE", None, transaction_id=target["transactionId"]), target)

    def _consumption_request(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        target = self._target(original_id, options)
        reason = options.get("reason", "UNINTENDED_PURCHASE")
        if not isinstance(reason, str) or reason not in CONSUMPTION_REQUEST_REASONS:
            raise LifeError(
                400, f"reason is one of: {', '.join(sorted(CONSUMPTION_REQUEST_REASONS))}."
            )
        event = self.store.request_refund(target["transactionId"], reason=reason)
        return _answer(self._announced(event), target)

    def _redeem_offer_code(self, options: dict, emit: Emit) -> dict[str, Any]:
        notification_type = options.get("notification_type", "OFFER_REDEEMED")
        if notification_type not in ("OFFER_REDEEMED", "SUBSCRIBED"):
            raise LifeError(400, "notification_type is OFFER_REDEEMED or SUBSCRIBED.")
        product_id = options.get("product_id", PRO_MONTHLY)
        if (
            not isinstance(product_id, str)
            or product_id not in PRODUCTS
            or PRODUCTS[product_id].type != AUTO_RENEWABLE
        ):
            raise LifeError(400, "product_id must name one of the demo's subscriptions.")
        customer = options.get("app_transaction_id")
        storefront = options.get("storefront", "USA")
        if not isinstance(storefront, str) or storefront not in STOREFRONTS:
            raise LifeError(400, f"storefront is one of: {', '.join(STOREFRONTS)}.")
        if customer is None:
            customer = str(self._next_customer)
            self._next_customer += 1
            self.store.add_customer(customer, storefront=storefront)
        elif not isinstance(customer, str) or self.store.customer_of(customer) != customer:
            raise LifeError(404, "No App Store customer has that app_transaction_id.")
        order_id = _new_order_id(self.store)
        transaction_id = self.store.add_transaction(
            customer,
            product_id=product_id,
            purchase_date=self.store.now_ms(),
            offer=FREE_MONTH,
            order_id=order_id,
        )
        sent = emit(notification_type, "INITIAL_BUY", transaction_id=transaction_id)
        return {
            "action": "redeem_offer_code",
            "original_transaction_id": transaction_id,
            "app_transaction_id": customer,
            "order_id": order_id,
        } | _answer(sent, transaction_id)

    # --- finding the purchase ------------------------------------------------------------------

    def _original_id(self, options: dict) -> str:
        original_id = options.get("original_transaction_id")
        if not isinstance(original_id, str) or not original_id:
            raise LifeError(400, "Name the purchase by its 'original_transaction_id'.")
        latest = self.store.latest_transaction(original_id)
        if latest is None or latest["originalTransactionId"] != original_id:
            raise LifeError(404, "No purchase has that original transaction ID.")
        return original_id

    def _subscription(self, original_id: str, *, may_be_expired: bool = False) -> dict[str, Any]:
        latest = self.store.latest_transaction(original_id)
        if latest is None or latest.get("type") != AUTO_RENEWABLE:
            raise LifeError(400, "This purchase is not an auto-renewable subscription.")
        if "revocationDate" in latest:
            raise LifeError(409, "This subscription was refunded or revoked.")
        if not may_be_expired and self._status(original_id) == subscriptions.EXPIRED:
            raise LifeError(409, "This subscription has expired; 'renew' resubscribes it.")
        return latest

    def _target(self, original_id: str, options: dict) -> dict[str, Any]:
        transaction_id = options.get("transaction_id")
        if transaction_id is not None and not isinstance(transaction_id, str):
            raise LifeError(400, "transaction_id is text.")
        if transaction_id is None:
            latest = self.store.latest_transaction(original_id)
            if latest is None:
                raise LifeError(404, "No purchase has that original transaction ID.")
            return latest
        try:
            target = self.store.transaction(transaction_id)
        except KeyError:
            raise LifeError(404, "No transaction has that transaction_id.") from None
        if target["originalTransactionId"] != original_id:
            raise LifeError(400, "That transaction belongs to another purchase.")
        return target


def _answer(sent: Any, transaction: dict[str, Any] | str) -> dict[str, Any]:
    transaction_id = transaction if isinstance(transaction, str) else transaction["transactionId"]
    return {
        "transaction_id": transaction_id,
        "notification": {
            "notificationUUID": sent.notification_uuid,
            "notificationType": sent.notification_type,
            "subtype": sent.subtype,
        },
    }


def _new_order_id(store: TransactionStore) -> str:
    while True:
        order_id = "M" + "".join(secrets.choice(_ORDER_ALPHABET) for _ in range(9))
        if not store.order_transaction_ids(order_id):
            return order_id
