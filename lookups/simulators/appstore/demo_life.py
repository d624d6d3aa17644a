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
grace period, expiration intent) lives here, per original transaction, and goes into the signed
renewal info of every notification about a subscription.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lookups.simulators.appstore.catalog import (
    AUTO_RENEWABLE,
    DAY_MS,
    PRO_MONTHLY,
    PRODUCTS,
    STOREFRONTS,
)
from lookups.simulators.appstore.store import Offer, TransactionStore

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
_EXPIRATION_BILLING_ERROR = 2
_EXPIRATION_CUSTOMER_CANCELLED = 1
_ORDER_ALPHABET = string.ascii_uppercase + string.digits

# emit(notification_type, subtype, transaction_id=..., data=...) sends one notification.
Emit = Callable[..., Any]


class LifeError(Exception):
    """An action that cannot happen to this purchase; `status` is the control answer's HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RenewalState:
    auto_renew: bool = True
    billing_retry: bool = False
    grace_until: int | None = None
    expiration_intent: int | None = None
    expired: bool = False


class DemoLife:
    """Renewal state per subscription, and the actions that move a purchase through its life."""

    def __init__(self, store: TransactionStore) -> None:
        self.store = store
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._states: dict[str, RenewalState] = {}
            self._next_customer = 705000000000095001

    # --- renewal info --------------------------------------------------------------------------

    def state(self, original_transaction_id: str) -> RenewalState:
        with self._lock:
            return self._states.setdefault(original_transaction_id, RenewalState())

    def status(self, original_transaction_id: str) -> int | None:
        """Apple's subscription status: 1 active, 2 expired, 3 billing retry, 4 grace, 5 revoked."""
        latest = self.store.latest_transaction(original_transaction_id)
        if latest is None or latest.get("type") != AUTO_RENEWABLE:
            return None
        state = self.state(original_transaction_id)
        now = self.store.now_ms()
        if "revocationDate" in latest:
            return 5
        if state.expired:
            return 2
        if state.billing_retry:
            return 4 if state.grace_until is not None and state.grace_until > now else 3
        return 1 if latest.get("expiresDate", 0) > now else 2

    def renewal_info(self, original_transaction_id: str) -> dict[str, Any] | None:
        """The subscription's JWSRenewalInfoDecodedPayload (without signedDate), or None."""
        latest = self.store.latest_transaction(original_transaction_id)
        if latest is None or latest.get("type") != AUTO_RENEWABLE:
            return None
        state = self.state(original_transaction_id)
        product = PRODUCTS[latest["productId"]]
        info: dict[str, Any] = {
            "originalTransactionId": original_transaction_id,
            "autoRenewProductId": latest["productId"],
            "productId": latest["productId"],
            "autoRenewStatus": 1 if state.auto_renew else 0,
            "isInBillingRetryPeriod": state.billing_retry,
            "environment": self.store.environment,
            "recentSubscriptionStartDate": latest["originalPurchaseDate"],
            "currency": latest["currency"],
            "renewalPrice": product.prices.get(latest["currency"], latest["price"]),
        }
        if state.auto_renew and not state.expired and "revocationDate" not in latest:
            info["renewalDate"] = latest["expiresDate"]
        if state.expiration_intent is not None:
            info["expirationIntent"] = state.expiration_intent
        if state.grace_until is not None:
            info["gracePeriodExpiresDate"] = state.grace_until
        if latest.get("appAccountToken"):
            info["appAccountToken"] = latest["appAccountToken"]
        return info

    # --- actions -------------------------------------------------------------------------------

    def act(self, options: object, emit: Emit) -> dict[str, Any]:
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
            handler = getattr(self, f"_{action}")
            return {"action": action, "original_transaction_id": original_id} | handler(
                original_id, options, emit
            )

    def _renew(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        latest = self._subscription(original_id, may_be_expired=True)
        state = self.state(original_id)
        now = self.store.now_ms()
        self.store.end_period(latest["transactionId"], at=now)
        renewal = self.store.renew(original_id, purchase_date=now)
        was_expired, was_retrying = state.expired, state.billing_retry
        self._states[original_id] = RenewalState()
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
        state = self.state(original_id)
        if state.billing_retry:
            raise LifeError(409, "This subscription is already in billing retry.")
        if not state.auto_renew:
            raise LifeError(409, "Auto-renew is off, so Apple will not try to renew.")
        now = self.store.now_ms()
        self.store.end_period(latest["transactionId"], at=now)
        state.billing_retry = True
        state.expiration_intent = _EXPIRATION_BILLING_ERROR
        state.grace_until = now + GRACE_PERIOD_DAYS * DAY_MS if grace else None
        sent = emit(
            "DID_FAIL_TO_RENEW",
            "GRACE_PERIOD" if grace else None,
            transaction_id=latest["transactionId"],
        )
        return _answer(sent, latest["transactionId"])

    def _expire(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        latest = self._subscription(original_id)
        state = self.state(original_id)
        self.store.end_period(latest["transactionId"], at=self.store.now_ms())
        if state.billing_retry:
            subtype, intent = "BILLING_RETRY", _EXPIRATION_BILLING_ERROR
        else:
            subtype, intent = "VOLUNTARY", _EXPIRATION_CUSTOMER_CANCELLED
        self._states[original_id] = RenewalState(
            auto_renew=False, expired=True, expiration_intent=intent
        )
        return _answer(emit("EXPIRED", subtype, transaction_id=latest["transactionId"]), latest)

    def _auto_renew_off(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        return self._set_auto_renew(original_id, on=False, emit=emit)

    def _auto_renew_on(self, original_id: str, options: dict, emit: Emit) -> dict[str, Any]:
        return self._set_auto_renew(original_id, on=True, emit=emit)

    def _set_auto_renew(self, original_id: str, *, on: bool, emit: Emit) -> dict[str, Any]:
        latest = self._subscription(original_id)
        state = self.state(original_id)
        if state.auto_renew == on:
            raise LifeError(409, f"Auto-renew is already {'on' if on else 'off'}.")
        state.auto_renew = on
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
        self.store.revoke(target["transactionId"], reason=reason, revocation_type="REFUND_FULL")
        if target.get("type") == AUTO_RENEWABLE:
            self.state(original_id).auto_renew = False
        return _answer(emit("REFUND", None, transaction_id=target["transactionId"]), target)

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
        sent = emit(
            "CONSUMPTION_REQUEST",
            None,
            transaction_id=target["transactionId"],
            data={"consumptionRequestReason": reason},
        )
        return _answer(sent, target)

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
        state = self.state(original_id)
        if state.expired and not may_be_expired:
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
