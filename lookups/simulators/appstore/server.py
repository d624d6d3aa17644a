"""A local App Store Server API over real HTTP, answering the way Apple answers.

Serves Look Up Order ID, Get Transaction History (V1 and V2), Set App Account Token, Get All
Subscription Statuses, Get Transaction Info, Get Refund History V2, Extend a Subscription Renewal
Date and Send Consumption Information V2 with Apple's bearer-token check, Apple's status codes
and error bodies, and freshly signed transactions and renewal info. It sends App Store Server
Notifications V2 to a notification URL (the constructor's `notification_url`, or
`POST /simulator/notifications/url` with `{"url": ...}`), retried on a compressed schedule, and
serves Get Notification History, Request a Test Notification and Get Test Notification Status.
Every change the store announces (a renewal date extended, a refund request opened, granted or
declined) becomes the notification Apple would send, and `POST /simulator/life` moves the demo's
purchases through their life (renewals, billing retry, refunds, offer codes...; see `demo_life`).
Faults can be injected per request, from Python or over HTTP at /simulator/faults, so clients can
be tested against rate limits, outages, slow answers and untrusted signatures.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

from lookups.appstore.revocation import responder_url
from lookups.simulators.appstore import demo_life, errors, faults, ocsp_responder
from lookups.simulators.appstore.bearer import BearerCheck, load_public_key
from lookups.simulators.appstore.catalog import DEMO_APP_APPLE_ID, DEMO_BUNDLE_ID
from lookups.simulators.appstore.certificates import SigningChain, make_signing_chain
from lookups.simulators.appstore.demo_life import DemoLife, LifeError
from lookups.simulators.appstore.errors import ApiError, AppleError
from lookups.simulators.appstore.events import StoreEvent
from lookups.simulators.appstore.faults import Fault, FaultBook
from lookups.simulators.appstore.mass_extension import DEFAULT_DURATION_SECONDS, MassExtensions
from lookups.simulators.appstore.notifications import (
    DEFAULT_RETRY_DELAYS,
    NotificationOutbox,
    OutgoingNotification,
    sign_notification,
)
from lookups.simulators.appstore.rate_limits import HOUR_SECONDS, RateLimits
from lookups.simulators.appstore.signing import sign_jws
from lookups.simulators.appstore.store import TransactionStore
from lookups.simulators.http_server import BackgroundServer, TrackedHandler, json_or_none

logger = logging.getLogger(__name__)

DEFAULT_SLOW_SECONDS = 15.0
DEFAULT_RETRY_AFTER_MS = 1000
_PROXY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class AppStoreSimulator(BackgroundServer):
    """The App Store Server API on 127.0.0.1, with demo data, in a background thread.

    Use it as a context manager, or call start() and stop(). `requests` lists every API request
    received as (method, path), so tests can count a client's attempts; `request_times` holds
    when each arrived (UNIX seconds), in the same order.

    Notifications go to `notification_url` (None: kept, not sent) and are retried after each of
    `notification_retry_delays` seconds. `live({"action": ..., "original_transaction_id": ...})`
    (or `POST /simulator/life`) renews, fails a renewal (fail_renewal, enter_grace), expires,
    turns auto-renew off or on, refunds, revokes, redeems an offer code or asks for consumption
    data, as `demo_life` describes. Every notification goes out through `emit_notification`.
    """

    name = "App Store simulator"

    def __init__(
        self,
        *,
        bearer_public_key: object,
        issuer_id: str,
        key_id: str,
        bundle_id: str = DEMO_BUNDLE_ID,
        app_apple_id: int | None = DEMO_APP_APPLE_ID,
        environment: str = "Production",
        host: str = "127.0.0.1",
        port: int = 0,
        chain: SigningChain | None = None,
        notification_url: str | None = None,
        notification_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        rate_limits: bool = True,
        demo_data: Callable[[TransactionStore, int], None] | None = None,
        first_transaction_id: int = 2000000900000001,
    ) -> None:
        super().__init__(handler_class=_Handler, host=host, port=port)
        self.bundle_id = bundle_id
        self.app_apple_id = app_apple_id
        self.environment = environment
        self.chain = chain or make_signing_chain()
        # Same shape as the real chain, under a root no client has been told to trust.
        self.untrusted_chain = make_signing_chain()
        self.store = TransactionStore(
            bundle_id=bundle_id,
            environment=environment,
            demo_data=demo_data,
            first_transaction_id=first_transaction_id,
        )
        self.faults = FaultBook()
        self._bearer = BearerCheck(
            public_key=load_public_key(bearer_public_key),
            issuer_id=issuer_id,
            key_id=key_id,
            bundle_id=bundle_id,
        )
        self._log_lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        self.ocsp_requests = 0
        self._request_times: list[float] = []
        self.notifications = NotificationOutbox(
            url=notification_url, retry_delays=notification_retry_delays
        )
        self.life = DemoLife(self.store)
        # Apple's per-app, per-endpoint limits; off for benchmarks that measure the desk.
        self._rate_limits_on = rate_limits
        self.rate_limits = RateLimits(environment=environment, enabled=rate_limits)
        self.mass_extensions = MassExtensions(
            self.store, self.emit_notification, app_apple_id=app_apple_id
        )
        # The store's events are what Apple announces: each becomes a notification.
        self.store.add_listener(self._announce)
        # Every app this host serves, by environment and bundle ID; the bearer token's `bid`
        # picks one, and a path under /sandbox/ asks the Sandbox, as Apple's other host would.
        self.apps: dict[tuple[str, str], AppStoreSimulator] = {(environment, bundle_id): self}

    def add_app(
        self,
        *,
        bundle_id: str,
        app_apple_id: int | None,
        bearer_public_key: object,
        issuer_id: str,
        key_id: str,
        environment: str = "Production",
        demo_data: Callable[[TransactionStore, int], None] | None = None,
        first_transaction_id: int = 2000000900000001,
    ) -> AppStoreSimulator:
        """Serve another app, or another environment of an app, from this host.

        It has its own store, key, rate limits and notification URL; it shares this host's
        signing chain, OCSP responder and faults.
        """
        app = AppStoreSimulator(
            bearer_public_key=bearer_public_key,
            issuer_id=issuer_id,
            key_id=key_id,
            bundle_id=bundle_id,
            app_apple_id=app_apple_id,
            environment=environment,
            chain=self.chain,
            notification_retry_delays=self.notifications.retry_delays,
            rate_limits=self._rate_limits_on,
            demo_data=demo_data,
            first_transaction_id=first_transaction_id,
        )
        app.untrusted_chain = self.untrusted_chain
        app.faults = self.faults
        self.apps[(environment, bundle_id)] = app
        if self._server is not None:
            app.notifications.start()
        return app

    def app(self, bundle_id: str, environment: str = "Production") -> AppStoreSimulator:
        return self.apps[(environment, bundle_id)]

    def _others(self) -> list[AppStoreSimulator]:
        return [app for app in self.apps.values() if app is not self]

    def app_for(self, environment: str, authorization: str | None) -> AppStoreSimulator | None:
        """The app a request's bearer token names (`bid`), before its signature is checked."""
        _, _, token = (authorization or "").partition(" ")
        try:
            bundle_id = jwt.decode(token.strip(), options={"verify_signature": False}).get("bid")
        except jwt.PyJWTError:
            return None
        return self.apps.get((environment, bundle_id)) if isinstance(bundle_id, str) else None

    def start(self) -> AppStoreSimulator:
        super().start()
        self._name_ocsp_responder()
        self.notifications.start()
        for app in self._others():
            app.chain, app.untrusted_chain = self.chain, self.untrusted_chain
            app.notifications.start()
        return self

    @property
    def ocsp_url(self) -> str:
        return f"{self.url}/ocsp"

    def _name_ocsp_responder(self) -> None:
        """Certificates naming this simulator's OCSP responder, under the same root.

        The port is known only once the server listens, so the intermediate and the leaf are
        issued again (the root, which clients trust, stays) unless they already name it.
        """
        if responder_url(self.chain.leaf) != self.ocsp_url:
            self.chain = make_signing_chain(root=self.chain, ocsp_url=self.ocsp_url)
        if responder_url(self.untrusted_chain.leaf) != self.ocsp_url:
            self.untrusted_chain = make_signing_chain(
                root=self.untrusted_chain, ocsp_url=self.ocsp_url
            )

    def stop(self) -> None:
        for app in self._others():
            app.mass_extensions.reset()
            app.notifications.stop()
        self.mass_extensions.reset()
        self.notifications.stop()
        super().stop()

    # --- trust -----------------------------------------------------------------------------

    @property
    def root_pem(self) -> bytes:
        return self.chain.root_pem()

    def write_root(self, path: str | os.PathLike[str]) -> Path:
        """Write the root certificate the app must trust to verify this simulator's transactions."""
        return self.chain.write_root(path)

    # --- state for tests, demos and benchmarks ---------------------------------------------------

    def reset(self) -> None:
        """Demo data back, faults cleared, request log and notifications emptied, rate limits and
        mass extensions as they started; the same for every other app served here."""
        for app in self._others():
            app.reset()
        self.mass_extensions.reset()
        self.store.reset()
        self.life.reset()
        self.rate_limits.clear()
        self.rate_limits.enabled = self._rate_limits_on
        self.rate_limits.window_seconds = HOUR_SECONDS
        self.mass_extensions.duration_seconds = DEFAULT_DURATION_SECONDS
        self.notifications.clear()
        self.faults.clear()
        with self._log_lock:
            self._requests.clear()
            self._request_times.clear()
            self.ocsp_requests = 0

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._log_lock:
            return list(self._requests)

    @property
    def request_times(self) -> list[float]:
        with self._log_lock:
            return list(self._request_times)

    def inject_fault(
        self,
        kind: str,
        *,
        target: str = faults.ANY,
        endpoint: str = faults.ANY,
        times: int = 1,
        retry_after_ms: int | None = None,
        delay_seconds: float | None = None,
        error_code: int | None = None,
        http_status: int | None = None,
        error_message: str | None = None,
    ) -> Fault:
        """Make the next `times` matching requests fail (or, for "slow", answer late)."""
        fault = Fault(
            kind=kind,
            target=target,
            endpoint=endpoint,
            times=times,
            retry_after_ms=retry_after_ms,
            delay_seconds=delay_seconds,
            error_code=error_code,
            http_status=http_status,
            error_message=error_message,
        )
        self.faults.add(fault)
        return fault

    def pending_faults(self) -> list[Fault]:
        return self.faults.pending()

    def clear_faults(self) -> None:
        self.faults.clear()

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        """A transaction as it stands now (unsigned, without signedDate)."""
        return self.store.transaction(transaction_id)

    def order_transaction_ids(self, order_id: str) -> list[str]:
        return self.store.order_transaction_ids(order_id)

    def add_order(self, order_id: str, count: int, **options: Any) -> list[str]:
        """A new order of `count` subscription transactions (original, then renewals)."""
        return self.store.add_order(order_id, count, **options)

    def renew(self, original_transaction_id: str, *, purchase_date: int | None = None) -> str:
        """Bill a subscription's next period; returns the renewal's transaction ID."""
        return self.store.renew(original_transaction_id, purchase_date=purchase_date)

    def revoke(self, transaction_id: str, **options: Any) -> None:
        """Refund a transaction: it gains revocationDate, revocationReason and revocationType."""
        self.store.revoke(transaction_id, **options)

    # --- App Store Server Notifications -----------------------------------------------------

    @property
    def notification_url(self) -> str | None:
        return self.notifications.url

    def set_notification_url(self, url: str | None) -> None:
        """Where notifications are POSTed from now on; None sends nothing (history keeps them)."""
        self.notifications.set_url(url)

    def emit_notification(
        self,
        notification_type: str,
        subtype: str | None = None,
        *,
        transaction_id: str | None = None,
        data: dict[str, Any] | None = None,
        summary: dict[str, Any] | None = None,
        test_token: str | None = None,
        untrusted: bool = False,
        event: StoreEvent | None = None,
    ) -> OutgoingNotification:
        """Sign and send one notification as Apple would, and keep it for its history.

        With `transaction_id` the data carries that transaction signed and, for a subscription,
        its signed renewal info and status. `data` adds or replaces data fields (such as
        consumptionRequestReason); `summary` replaces data altogether (mass extensions).
        `untrusted` signs with a chain no client trusts, as a forger would; `event` is the
        store's event it announces.
        """
        chain = self.untrusted_chain if untrusted else self.chain
        signed_date = self.store.now_ms()
        body: dict[str, Any] | None = None
        customer = None
        if summary is None:
            body = {"bundleId": self.bundle_id, "bundleVersion": "1.0"}
            if self.app_apple_id is not None:
                body["appAppleId"] = self.app_apple_id
            body["environment"] = self.environment
            if transaction_id is not None:
                transaction = self.store.transaction(transaction_id)
                customer = transaction.get("appTransactionId")
                original_id = transaction["originalTransactionId"]
                body["signedTransactionInfo"] = sign_jws(
                    {**transaction, "signedDate": signed_date}, chain
                )
                subscription = self.store.subscription(original_id)
                if subscription is not None:
                    status, renewal_info = subscription
                    body["signedRenewalInfo"] = sign_jws(
                        {**renewal_info, "signedDate": signed_date}, chain
                    )
                    body["status"] = status
            body.update(data or {})
        notification_uuid, signed_payload = sign_notification(
            chain=chain,
            notification_type=notification_type,
            subtype=subtype,
            data=body,
            summary=summary,
            signed_date=signed_date,
        )
        return self.notifications.add(
            notification_uuid=notification_uuid,
            notification_type=notification_type,
            subtype=subtype,
            signed_payload=signed_payload,
            signed_date=signed_date,
            customer=customer,
            test_token=test_token,
            event=event,
        )

    def _announce(self, event: StoreEvent) -> None:
        """Send the notification Apple sends for one of the store's events."""
        self.emit_notification(
            event.notification_type,
            event.subtype,
            transaction_id=event.transaction_id,
            data=dict(event.details) or None,
            event=event,
        )

    def live(self, options: object) -> dict[str, Any]:
        """One step of the demo's life (see `demo_life`); raises LifeError when it can't happen."""
        return self.life.act(options, self.emit_notification, self.notifications.for_event)

    def _request_test_notification(self) -> dict[str, Any]:
        if self.notification_url is None:
            raise ApiError(errors.SERVER_NOTIFICATION_URL_NOT_FOUND)
        token = f"{uuid.uuid4()}_{self.store.now_ms()}"
        self.emit_notification("TEST", test_token=token)
        return {"testNotificationToken": token}

    def _test_notification_status(self, token: str) -> dict[str, Any]:
        if not _TEST_TOKEN.fullmatch(token):
            raise ApiError(errors.INVALID_TEST_NOTIFICATION_TOKEN)
        sent = self.notifications.by_test_token(token)
        if sent is None:
            raise ApiError(errors.TEST_NOTIFICATION_NOT_FOUND)
        return sent.history_item()

    def _notification_history(self, query: str, body: bytes) -> dict[str, Any]:
        tokens = parse_qs(query, keep_blank_values=True).get("paginationToken", [])
        if len(tokens) > 1:
            raise ApiError(errors.INVALID_PAGINATION_TOKEN)
        return self.notifications.history(
            json_or_none(body), tokens[0] if tokens else None, customer_of=self.store.customer_of
        )

    # --- serving -----------------------------------------------------------------------------

    def _record_ocsp(self) -> None:
        with self._log_lock:
            self.ocsp_requests += 1

    def _record(self, method: str, path: str) -> None:
        with self._log_lock:
            self._requests.append((method, path))
            self._request_times.append(time.time())

    def _sign(self, endpoint: str, path_id: str, transactions: list[dict[str, Any]]) -> list[str]:
        ids = [t["transactionId"] for t in transactions]
        fault = self.faults.take_untrusted(endpoint, path_id, ids)
        signed_date = int(time.time() * 1000)
        signed = []
        for transaction in transactions:
            untrusted = fault is not None and fault.target in (
                faults.ANY,
                path_id,
                transaction["transactionId"],
            )
            chain = self.untrusted_chain if untrusted else self.chain
            signed.append(sign_jws({**transaction, "signedDate": signed_date}, chain))
        return signed

    def _look_up_order(self, order_id: str) -> dict[str, Any]:
        transactions = self.store.look_up_order(order_id)
        if transactions is None:
            # OrderLookupStatus 1: Apple answers 200 and says only that the order is invalid.
            return {"status": 1}
        return {"status": 0, "signedTransactions": self._sign("lookup", order_id, transactions)}

    def _history(self, version: int, any_transaction_id: str, query: str) -> dict[str, Any]:
        params = parse_qs(query, keep_blank_values=True)
        page, transactions = self.store.history(any_transaction_id, params, version=version)
        body: dict[str, Any] = {
            "revision": page.revision,
            "hasMore": page.has_more,
            "bundleId": self.bundle_id,
        }
        if self.app_apple_id is not None:
            body["appAppleId"] = self.app_apple_id
        body["environment"] = self.environment
        body["signedTransactions"] = self._sign("history", any_transaction_id, transactions)
        return body

    # --- subscription statuses, transaction info, refunds, extensions, consumption -------------

    def _subscription_statuses(self, any_transaction_id: str, query: str) -> dict[str, Any]:
        params = parse_qs(query, keep_blank_values=True)
        groups = self.store.subscription_statuses(any_transaction_id, params)
        data = []
        for group, items in groups:
            signed = self._sign("statuses", any_transaction_id, [i["transaction"] for i in items])
            last_transactions = []
            for item, signed_transaction in zip(items, signed, strict=True):
                renewal = {**item["renewalInfo"], "signedDate": int(time.time() * 1000)}
                last_transactions.append(
                    {
                        "status": item["status"],
                        "originalTransactionId": item["originalTransactionId"],
                        "signedTransactionInfo": signed_transaction,
                        "signedRenewalInfo": sign_jws(renewal, self.chain),
                    }
                )
            data.append(
                {"subscriptionGroupIdentifier": group, "lastTransactions": last_transactions}
            )
        body: dict[str, Any] = {"environment": self.environment, "bundleId": self.bundle_id}
        if self.app_apple_id is not None:
            body["appAppleId"] = self.app_apple_id
        body["data"] = data
        return body

    def _transaction_info(self, transaction_id: str) -> dict[str, Any]:
        transaction = self.store.transaction_info(transaction_id)
        [signed] = self._sign("transaction_info", transaction_id, [transaction])
        return {"signedTransactionInfo": signed}

    def _app_transaction_info(self, any_transaction_id: str) -> dict[str, Any]:
        payload = self.store.app_transaction(any_transaction_id, app_apple_id=self.app_apple_id)
        signed = sign_jws({**payload, "signedDate": self.store.now_ms()}, self.chain)
        return {"signedAppTransactionInfo": signed}

    def _refund_history(self, any_transaction_id: str, query: str) -> dict[str, Any]:
        params = parse_qs(query, keep_blank_values=True)
        transactions, revision, has_more = self.store.refund_history(
            any_transaction_id, params.get("revision", [])
        )
        return {
            "signedTransactions": self._sign("refund_history", any_transaction_id, transactions),
            "revision": revision,
            "hasMore": has_more,
        }


_TEST_TOKEN = re.compile(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}_[0-9]{1,16}")


def _notification_route(path: str) -> tuple[str, str, int] | None:
    """The notification endpoints: history, a test notification, and its status."""
    if path == "/inApps/v1/notifications/history":
        return "notification_history", "", 1
    if path == "/inApps/v1/notifications/test":
        return "test_notification", "", 1
    prefix = "/inApps/v1/notifications/test/"
    if path.startswith(prefix) and "/" not in path[len(prefix) :] and path != prefix:
        return "test_notification_status", unquote(path[len(prefix) :]), 1
    return None


def _route(path: str) -> tuple[str, str, int] | None:
    """(endpoint, ID in the path, API version) for the endpoints the simulator serves."""
    if path.startswith("/inApps/v1/notifications/"):
        return _notification_route(path)
    parts = path.split("/")
    # ["", "inApps", "v1", "lookup", "{orderId}"]
    if len(parts) == 5 and parts[:2] == ["", "inApps"]:
        if parts[2] == "v1" and parts[3] == "lookup":
            return "lookup", unquote(parts[4]), 1
        if parts[2] in ("v1", "v2") and parts[3] == "history":
            return "history", unquote(parts[4]), int(parts[2][1])
    # ["", "inApps", "v1", "transactions", "{originalTransactionId}", "appAccountToken"]
    if (
        len(parts) == 6
        and parts[:4] == ["", "inApps", "v1", "transactions"]
        and parts[5] == "appAccountToken"
    ):
        return "set_token", unquote(parts[4]), 1
    return None


def _route_more(parts: list[str]) -> tuple[str, str, int] | None:
    """Get All Subscription Statuses, Get Transaction Info, Get Refund History V2, Extend a
    Subscription Renewal Date and Send Consumption Information V2."""
    if parts[:2] != ["", "inApps"]:
        return None
    if parts[2:6] == ["v1", "subscriptions", "extend", "mass"]:
        if len(parts) == 6:
            return "mass_extend", "", 1
        if len(parts) == 8:
            # The product ID and the request identifier, joined for the dispatcher.
            return "mass_extend_status", f"{unquote(parts[6])}\n{unquote(parts[7])}", 1
        return None
    if len(parts) == 6 and parts[2:5] == ["v1", "transactions", "appTransactions"]:
        return "app_transaction", unquote(parts[5]), 1
    if len(parts) == 6 and parts[2:4] == ["v1", "transactions"] and parts[5] == "finish":
        return "finish", unquote(parts[4]), 1
    if len(parts) == 6 and parts[2:5] == ["v1", "transactions", "consumption"]:
        return "consumption_v1", unquote(parts[5]), 1
    if len(parts) == 5 and parts[2] == "v1" and parts[3] == "subscriptions":
        return "statuses", unquote(parts[4]), 1
    if len(parts) == 5 and parts[2] == "v1" and parts[3] == "transactions":
        return "transaction_info", unquote(parts[4]), 1
    if len(parts) == 6 and parts[2:5] == ["v1", "subscriptions", "extend"]:
        return "extend", unquote(parts[5]), 1
    if len(parts) == 6 and parts[2:5] == ["v2", "refund", "lookup"]:
        return "refund_history", unquote(parts[5]), 2
    if len(parts) == 6 and parts[2:5] == ["v2", "transactions", "consumption"]:
        return "consumption", unquote(parts[5]), 2
    return None


_METHODS = {"lookup": "GET", "history": "GET", "set_token": "PUT"}
_METHODS.update(
    statuses="GET", transaction_info="GET", refund_history="GET", extend="PUT", consumption="PUT"
)
_METHODS.update(
    notification_history="POST", test_notification="POST", test_notification_status="GET"
)
_METHODS.update(
    mass_extend="POST",
    mass_extend_status="GET",
    app_transaction="GET",
    finish="POST",
    consumption_v1="PUT",
)
# What Apple's front end answers for a path no endpoint serves, and for a wrong method.
_UNKNOWN_PATH = AppleError(404, 4040000, "Not found.")
_WRONG_METHOD = AppleError(405, 4050000, "Method not allowed.")


class _Handler(TrackedHandler):
    server_version = "AppStoreSimulator/1.0"

    # --- dispatch ------------------------------------------------------------------------------

    def _serve(self) -> None:
        simulator = self.server.simulator
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(400, b"")
            return
        if url.path.startswith("/simulator/"):
            self._control(url.path, body)
            return
        if url.path == "/ocsp" or url.path.startswith("/ocsp/"):
            self._answer_ocsp(url.path, body)
            return

        simulator._record(self.command, url.path)
        api_path, environment = url.path, simulator.environment
        if api_path.startswith("/sandbox/"):
            api_path, environment = api_path[len("/sandbox") :], "Sandbox"
        authorization = self.headers.get("Authorization")
        simulator = simulator.app_for(environment, authorization)
        if simulator is None or not simulator._bearer.accepts(authorization):
            self._send(401, b"")
            return
        route = _route(api_path) or _route_more(api_path.split("/"))
        if route is None:
            self._send_error(_UNKNOWN_PATH)
            return
        endpoint, path_id, version = route
        if self.command != _METHODS[endpoint]:
            self._send_error(_WRONG_METHOD, headers={"Allow": _METHODS[endpoint]})
            return
        retry_at = simulator.rate_limits.take(simulator.bundle_id, endpoint)
        if retry_at is not None:
            self._send_error(errors.RATE_LIMIT_EXCEEDED, headers={"Retry-After": str(retry_at)})
            return

        fault = simulator.faults.take_for_request(endpoint, path_id)
        if fault is not None:
            if fault.kind != faults.SLOW:
                self._send_fault(fault)
                return
            delay = DEFAULT_SLOW_SECONDS if fault.delay_seconds is None else fault.delay_seconds
            if self.server.simulator._stopping.wait(delay):
                self.close_connection = True
                return

        try:
            if endpoint == "lookup":
                self._send_json(200, simulator._look_up_order(path_id))
            elif endpoint == "history":
                self._send_json(200, simulator._history(version, path_id, url.query))
            elif endpoint == "statuses":
                self._send_json(200, simulator._subscription_statuses(path_id, url.query))
            elif endpoint == "transaction_info":
                self._send_json(200, simulator._transaction_info(path_id))
            elif endpoint == "refund_history":
                self._send_json(200, simulator._refund_history(path_id, url.query))
            elif endpoint == "extend":
                answer = simulator.store.extend_renewal_date(path_id, json_or_none(body))
                self._send_json(200, answer)
            elif endpoint in ("consumption", "consumption_v1"):
                simulator.store.send_consumption_information(
                    path_id, json_or_none(body), version=version
                )
                self._send(202, b"")
            elif endpoint == "mass_extend":
                self._send_json(200, simulator.mass_extensions.request(json_or_none(body)))
            elif endpoint == "mass_extend_status":
                product_id, request_identifier = path_id.split("\n", 1)
                answer = simulator.mass_extensions.status(product_id, request_identifier)
                self._send_json(200, answer)
            elif endpoint == "app_transaction":
                self._send_json(200, simulator._app_transaction_info(path_id))
            elif endpoint == "finish":
                simulator.store.finish_transaction(path_id)
                self._send(200, b"")
            elif endpoint == "notification_history":
                self._send_json(200, simulator._notification_history(url.query, body))
            elif endpoint == "test_notification":
                self._send_json(200, simulator._request_test_notification())
            elif endpoint == "test_notification_status":
                self._send_json(200, simulator._test_notification_status(path_id))
            else:
                simulator.store.set_app_account_token(path_id, json_or_none(body))
                self._send(200, b"")
        except ApiError as error:
            self._send_error(error.error)
        except Exception:
            logger.exception("The simulator failed answering %s %s", self.command, url.path)
            self._send_error(errors.GENERAL_INTERNAL)

    def _control(self, path: str, body: bytes) -> None:
        """Adds the demo's life and the notification URL to the shared control endpoints."""
        simulator = self.server.simulator
        if path == "/simulator/life" and self.command == "POST":
            try:
                self._send_json(200, simulator.live(json_or_none(body)))
            except LifeError as refusal:
                self._send_json(refusal.status, {"error": refusal.message})
        elif path == "/simulator/life" and self.command == "GET":
            self._send_json(200, {"actions": dict(demo_life.ACTIONS)})
        elif path == "/simulator/notifications/url" and self.command in ("POST", "PUT"):
            options = json_or_none(body)
            if not isinstance(options, dict) or "url" not in options:
                self._send_json(400, {"error": 'Send {"url": "http://..."} or {"url": null}.'})
                return
            # Each app has its own URL per environment, as in App Store Connect.
            app = simulator.apps.get(
                (
                    options.get("environment", simulator.environment),
                    options.get("bundle_id", simulator.bundle_id),
                )
            )
            if app is None:
                self._send_json(404, {"error": "No app here has that bundle_id and environment."})
                return
            try:
                app.set_notification_url(options["url"])
            except ValueError as problem:
                self._send_json(400, {"error": str(problem)})
                return
            self._send_json(200, {"url": app.notification_url})
        elif path == "/simulator/settings" and self.command in ("POST", "PUT"):
            self._change_settings(json_or_none(body))
        elif path == "/simulator/notifications" and self.command == "POST":
            self._send_custom_notification(json_or_none(body))
        elif path == "/simulator/notifications" and self.command == "GET":
            self._send_json(
                200,
                {
                    "url": simulator.notification_url,
                    "notifications": [s.summary() for s in simulator.notifications.all()],
                },
            )
        else:
            super()._control(path, body)

    def _answer_ocsp(self, path: str, body: bytes) -> None:
        """OCSP over HTTP (RFC 6960): a DER request POSTed, or base64 in the path of a GET."""
        simulator = self.server.simulator
        request = body
        if self.command == "GET" and path.startswith("/ocsp/"):
            try:
                request = base64.b64decode(unquote(path[len("/ocsp/") :]), validate=True)
            except ValueError:
                request = b""
        elif self.command != "POST":
            self._send(405, b"", headers={"Allow": "GET, POST"})
            return
        simulator._record_ocsp()
        chains = (simulator.chain, simulator.untrusted_chain)
        try:
            _request, which, *_ = ocsp_responder.find_certificate(request, chains)
        except (ValueError, ocsp_responder.UnknownCertificate):
            which = ""
        fault = simulator.faults.take_for_request("ocsp", which) if which else None
        if fault is not None and fault.kind == faults.SLOW:
            delay = DEFAULT_SLOW_SECONDS if fault.delay_seconds is None else fault.delay_seconds
            if simulator._stopping.wait(delay):
                self.close_connection = True
                return
        elif fault is not None and fault.kind != faults.REVOKED_CERTIFICATE:
            self._send_fault(fault)
            return
        revoked = (
            {which} if fault is not None and fault.kind == faults.REVOKED_CERTIFICATE else set()
        )
        answer = ocsp_responder.answer(request, chains, revoked=revoked)
        self._send(200, answer, content_type="application/ocsp-response")

    def _change_settings(self, options: object) -> None:
        """Rate limits on or off and their window, and how long a mass extension runs."""
        simulator = self.server.simulator
        numbers = ("rate_limit_window_seconds", "mass_extension_seconds")
        if (
            not isinstance(options, dict)
            or not set(options) <= {"rate_limits", *numbers}
            or not isinstance(options.get("rate_limits", True), bool)
            or not all(
                isinstance(options.get(n, 1), int | float)
                and not isinstance(options.get(n, 1), bool)
                and 0 < options.get(n, 1) <= 86_400
                for n in numbers
            )
        ):
            self._send_json(
                400,
                {
                    "error": "Send any of rate_limits (true or false), rate_limit_window_seconds "
                    "and mass_extension_seconds (seconds, up to a day)."
                },
            )
            return
        limits, extensions = simulator.rate_limits, simulator.mass_extensions
        for app in simulator.apps.values():
            app.rate_limits.enabled = options.get("rate_limits", limits.enabled)
            app.rate_limits.window_seconds = options.get(
                "rate_limit_window_seconds", limits.window_seconds
            )
            app.mass_extensions.duration_seconds = options.get(
                "mass_extension_seconds", extensions.duration_seconds
            )
        self._send_json(
            200,
            {
                "rate_limits": limits.enabled,
                "rate_limit_window_seconds": limits.window_seconds,
                "mass_extension_seconds": extensions.duration_seconds,
            },
        )

    def _send_custom_notification(self, options: object) -> None:
        """Any notification, even one Apple has not invented yet, or one signed by a stranger."""
        simulator = self.server.simulator
        allowed = {"notification_type", "subtype", "transaction_id", "data", "untrusted"}
        if (
            not isinstance(options, dict)
            or not isinstance(options.get("notification_type"), str)
            or not isinstance(options.get("subtype", ""), str | None)
            or not isinstance(options.get("transaction_id", ""), str | None)
            or not set(options) <= allowed
        ):
            self._send_json(
                400,
                {"error": f"Send a JSON object with a 'notification_type' and any of {allowed}."},
            )
            return
        try:
            sent = simulator.emit_notification(
                options["notification_type"],
                options.get("subtype"),
                transaction_id=options.get("transaction_id"),
                data=options.get("data") if isinstance(options.get("data"), dict) else None,
                untrusted=options.get("untrusted") is True,
            )
        except KeyError:
            self._send_json(404, {"error": "No transaction has that transaction_id."})
            return
        self._send_json(201, {"notification": sent.summary()})

    def _send_fault(self, fault: Fault) -> None:
        if fault.kind == faults.RATE_LIMIT:
            offset = (
                DEFAULT_RETRY_AFTER_MS if fault.retry_after_ms is None else fault.retry_after_ms
            )
            # Apple's Retry-After is a UNIX time in milliseconds, not a number of seconds.
            retry_at = int(time.time() * 1000) + offset
            self._send_error(errors.RATE_LIMIT_EXCEEDED, headers={"Retry-After": str(retry_at)})
        elif fault.kind == faults.RETRYABLE_ERROR:
            self._send_error(errors.GENERAL_INTERNAL_RETRYABLE)
        elif fault.kind == faults.INTERNAL_ERROR:
            self._send_error(errors.GENERAL_INTERNAL)
        elif fault.kind == faults.NOT_FOUND_RETRYABLE:
            self._send_error(errors.ORIGINAL_TRANSACTION_ID_NOT_FOUND_RETRYABLE)
        elif fault.kind == faults.APPLE_ERROR and fault.error_code is not None:
            self._send_error(
                errors.apple_error(
                    fault.error_code, status=fault.http_status, message=fault.error_message
                )
            )
        elif fault.kind == faults.NOT_JSON:
            self._send(502, _PROXY_PAGE, content_type="text/html")

    def _send_error(self, error: AppleError, *, headers: dict[str, str] | None = None) -> None:
        self._send_json(error.status, error.body(), headers=headers)
