"""The simulator sends App Store Server Notifications like Apple and keeps them for their history.

A small HTTP receiver stands in for the desk's notification URL; the simulator, our client and
Apple's own library talk to each other over real HTTP.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from lookups.appstore import (
    AppStoreClient,
    HistoryFilters,
    Notification,
    NotificationHistoryQuery,
    RetryPolicy,
    TransactionVerifier,
    VerificationError,
    load_root_certificates,
)
from lookups.appstore.errors import (
    InvalidNotificationTypeError,
    InvalidPaginationTokenError,
    InvalidTestNotificationTokenError,
    MultipleFiltersSuppliedError,
    RateLimitExceededError,
    ServerNotificationUrlNotFoundError,
    StartDateTooFarInPastError,
    TestNotificationNotFoundError,
    TransactionIdNotFoundError,
)
from lookups.simulators.appstore import AppStoreSimulator
from lookups.simulators.demo_data import (
    CREDITS_UNFINISHED,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    PURCHASE_FAMILY_SHARED,
    PURCHASE_LIFETIME,
    PURCHASE_LINKED_IN_APP,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.appstore_simulator import AppStoreCredentials

MAYA_SUBSCRIPTION = PURCHASE_OFFER_CODE
LUKAS_LIFETIME = PURCHASE_LIFETIME
EMMA_FAMILY_SHARED = PURCHASE_FAMILY_SHARED
LUKAS_CREDITS = CREDITS_UNFINISHED
FAST_RETRIES = (0.02, 0.02, 0.02, 0.02, 0.02)
TIMEOUT = 10


# --- a notification URL to send to ---------------------------------------------------------------


class Receiver:
    """The desk's notification endpoint, reduced to recording POSTs and answering as told."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.content_types: list[str | None] = []
        self._answers: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.posts.append(json.loads(body))
                    receiver.content_types.append(self.headers.get("Content-Type"))
                    status = receiver._answers.pop(0) if receiver._answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/appstore/notifications/"

    def answer_with(self, *statuses: int) -> None:
        with self._lock:
            self._answers = list(statuses)

    def payloads(self) -> list[str]:
        with self._lock:
            return [post["signedPayload"] for post in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(
        target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def notifying(simulator: AppStoreSimulator, receiver: Receiver) -> Iterator[AppStoreSimulator]:
    """The simulator sending to the receiver, retrying every few milliseconds."""
    outbox = simulator.notifications
    usual_delays = outbox.retry_delays
    outbox.retry_delays = FAST_RETRIES
    simulator.set_notification_url(receiver.url)
    yield simulator
    simulator.set_notification_url(None)
    outbox.wait_until_settled(TIMEOUT)
    outbox.retry_delays = usual_delays


@pytest.fixture
def quiet(simulator: AppStoreSimulator) -> AppStoreSimulator:
    """The simulator with no notification URL: everything is kept, nothing is sent."""
    simulator.set_notification_url(None)
    return simulator


@pytest.fixture
def client(simulator, appstore_credentials: AppStoreCredentials) -> Iterator[AppStoreClient]:
    client = AppStoreClient(
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        private_key_pem=appstore_credentials.private_key_pem,
        bundle_id=appstore_credentials.bundle_id,
        environment=appstore_credentials.environment,
        base_url=simulator.url,
        retry=RetryPolicy(backoff_base_seconds=0.01, backoff_cap_seconds=0.05),
    )
    yield client
    client.session.close()


@pytest.fixture
def verifier(appstore_credentials, simulator_root_path: Path) -> TransactionVerifier:
    return TransactionVerifier(
        load_root_certificates([simulator_root_path]),
        bundle_id=appstore_credentials.bundle_id,
        environment=appstore_credentials.environment,
        app_apple_id=appstore_credentials.app_apple_id,
    )


def settle(simulator: AppStoreSimulator) -> None:
    assert simulator.notifications.wait_until_settled(TIMEOUT), "deliveries never finished"


def life(simulator: AppStoreSimulator, action: str, expect: int = 200, **options) -> dict:
    response = requests.post(
        f"{simulator.url}/simulator/life", json={"action": action, **options}, timeout=TIMEOUT
    )
    assert response.status_code == expect, response.text
    return response.json()


def last_day() -> NotificationHistoryQuery:
    now = datetime.now(UTC)
    return NotificationHistoryQuery(start_date=now - timedelta(days=1), end_date=now + timedelta(1))


def history(client: AppStoreClient, query: NotificationHistoryQuery | None = None):
    return [
        n
        for page in client.iter_notification_history(query or last_day())
        for n in page.notifications
    ]


def sent_notification(
    simulator: AppStoreSimulator, verifier: TransactionVerifier, answer: dict
) -> Notification:
    """The notification a control action says it sent, as the simulator keeps it, verified."""
    uuid = answer["notification"]["notificationUUID"]
    kept = [s for s in simulator.notifications.all() if s.notification_uuid == uuid]
    assert len(kept) == 1
    decoded = verifier.decode_notification(kept[0].signed_payload)
    assert decoded.notification_uuid == uuid
    return decoded


def latest(client, verifier, original_transaction_id: str):
    """The newest transaction of a purchase according to Get Transaction History V2."""
    transactions = [
        verifier.decode_transaction(signed)
        for page in client.iter_transaction_history(
            original_transaction_id, filters=HistoryFilters(sort="DESCENDING")
        )
        for signed in page.signed_transactions
    ]
    mine = [t for t in transactions if t.original_transaction_id == original_transaction_id]
    return max(mine, key=lambda t: (t.purchase_date, int(t.transaction_id)))


def unsigned(verifier: TransactionVerifier, signed: tuple[str, ...]) -> list[dict]:
    """Transactions as Apple holds them, leaving out when each copy was signed."""
    decoded = [verifier.decode_transaction(s).raw for s in signed]
    return [{k: v for k, v in raw.items() if k != "signedDate"} for raw in decoded]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- delivery -----------------------------------------------------------------------------------


def test_it_posts_the_signed_payload_as_json_and_counts_a_200_as_delivered(
    notifying, receiver, client, verifier
):
    answer = life(notifying, "renew", original_transaction_id=MAYA_SUBSCRIPTION)
    settle(notifying)

    assert receiver.content_types == ["application/json"]
    assert list(receiver.posts[0]) == ["signedPayload"]
    decoded = verifier.decode_notification(receiver.payloads()[0])
    assert decoded.notification_uuid == answer["notification"]["notificationUUID"]
    [kept] = history(client)
    assert kept.signed_payload == receiver.payloads()[0]
    assert [a.result for a in kept.send_attempts] == ["SUCCESS"]
    assert kept.delivered


def test_it_retries_anything_but_200_and_stops_once_delivered(notifying, receiver, client):
    receiver.answer_with(500, 503, 201)
    notifying.emit_notification("TEST")
    settle(notifying)

    assert len(receiver.posts) == 4
    assert len(set(receiver.payloads())) == 1, "a retry resends the same notification"
    [kept] = history(client)
    assert [a.result for a in kept.send_attempts] == [
        "UNSUCCESSFUL_HTTP_RESPONSE_CODE",
        "UNSUCCESSFUL_HTTP_RESPONSE_CODE",
        "UNSUCCESSFUL_HTTP_RESPONSE_CODE",
        "SUCCESS",
    ]
    dates = [a.attempt_date for a in kept.send_attempts]
    assert dates == sorted(dates)


def test_it_gives_up_after_five_retries_and_history_lists_it_as_a_failure(
    notifying, receiver, client
):
    receiver.answer_with(*[500] * 10)
    notifying.emit_notification("TEST")
    settle(notifying)

    assert len(receiver.posts) == 6
    [failed] = history(client, NotificationHistoryQuery(**_window(), only_failures=True))
    assert len(failed.send_attempts) == 6
    assert not failed.delivered


def test_only_failures_leaves_out_what_was_delivered(notifying, receiver, client):
    receiver.answer_with(*[500] * 6)
    notifying.emit_notification("TEST")
    settle(notifying)
    notifying.emit_notification("TEST")
    settle(notifying)

    assert len(history(client)) == 2
    [failed] = history(client, NotificationHistoryQuery(**_window(), only_failures=True))
    assert failed.signed_payload == receiver.payloads()[0]


def test_an_unreachable_url_is_recorded_as_no_response(notifying, client):
    notifying.set_notification_url(f"http://127.0.0.1:{closed_port()}/nobody-home")
    notifying.emit_notification("TEST")
    settle(notifying)
    [kept] = history(client)
    assert [a.result for a in kept.send_attempts] == ["NO_RESPONSE"] * 6


def test_without_a_url_nothing_is_sent_but_history_keeps_it(quiet, receiver, client, verifier):
    answer = life(quiet, "auto_renew_off", original_transaction_id=MAYA_SUBSCRIPTION)
    settle(quiet)

    assert receiver.posts == []
    [kept] = history(client)
    assert kept.send_attempts == ()
    decoded = verifier.decode_notification(kept.signed_payload)
    assert decoded.notification_uuid == answer["notification"]["notificationUUID"]


def test_the_url_is_set_and_read_over_the_control_endpoint(quiet, receiver):
    url = f"{quiet.url}/simulator/notifications/url"
    assert requests.post(url, json={"url": "ftp://x"}, timeout=TIMEOUT).status_code == 400
    assert requests.post(url, json={"nothing": 1}, timeout=TIMEOUT).status_code == 400
    answer = requests.post(url, json={"url": receiver.url}, timeout=TIMEOUT)
    assert answer.json() == {"url": receiver.url}
    try:
        quiet.emit_notification("TEST")
        settle(quiet)
        listing = requests.get(f"{quiet.url}/simulator/notifications", timeout=TIMEOUT).json()
        assert listing["url"] == receiver.url
        assert [n["notificationType"] for n in listing["notifications"]] == ["TEST"]
        assert listing["notifications"][0]["delivered"] is True
        assert len(receiver.posts) == 1
    finally:
        requests.post(url, json={"url": None}, timeout=TIMEOUT)
    assert quiet.notification_url is None


def test_any_notification_can_be_sent_over_the_control_endpoint(quiet, verifier):
    url = f"{quiet.url}/simulator/notifications"
    answer = requests.post(
        url,
        json={
            "notification_type": "SOMETHING_NEW",
            "subtype": "SHINY",
            "transaction_id": LUKAS_LIFETIME,
        },
        timeout=TIMEOUT,
    )
    assert answer.status_code == 201
    [kept] = quiet.notifications.all()
    decoded = verifier.decode_notification(kept.signed_payload)
    assert (decoded.notification_type, decoded.subtype) == ("SOMETHING_NEW", "SHINY")
    assert decoded.notification_type.name == "UNKNOWN_SOMETHING_NEW"
    assert decoded.transaction.transaction_id == LUKAS_LIFETIME

    forged = requests.post(
        url, json={"notification_type": "REFUND", "untrusted": True}, timeout=TIMEOUT
    )
    assert forged.status_code == 201
    with pytest.raises(VerificationError) as refused:
        verifier.decode_notification(forged.json()["notification"]["signedPayload"])
    assert refused.value.check == "root"
    assert requests.post(url, json={"subtype": "X"}, timeout=TIMEOUT).status_code == 400
    unknown = {"notification_type": "REFUND", "transaction_id": "2000000999999999"}
    assert requests.post(url, json=unknown, timeout=TIMEOUT).status_code == 404


def test_stopping_the_simulator_stops_its_retries(appstore_credentials, receiver):
    simulator = AppStoreSimulator(
        bearer_public_key=appstore_credentials.private_key_pem,
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        notification_url=receiver.url,
        notification_retry_delays=(60.0,),
    )
    receiver.answer_with(500)
    with simulator:
        simulator.emit_notification("TEST")
        deadline = time.monotonic() + TIMEOUT
        [kept] = simulator.notifications.all()
        while not kept.attempts and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [s.next_attempt_at is not None for s in simulator.notifications.all()] == [True]
        thread = simulator.notifications._thread
    assert thread is not None and not thread.is_alive()
    assert len(receiver.posts) == 1


# --- Get Notification History --------------------------------------------------------------------


def _window(days: int = 1) -> dict:
    now = datetime.now(UTC)
    return {"start_date": now - timedelta(days=days), "end_date": now + timedelta(days=1)}


def test_history_comes_in_pages_of_20_following_the_pagination_token(quiet, client):
    for _ in range(23):
        quiet.emit_notification("TEST")
    pages = list(client.iter_notification_history(last_day()))
    assert [len(p.notifications) for p in pages] == [20, 3]
    assert [p.has_more for p in pages] == [True, False]
    payloads = [n.signed_payload for p in pages for n in p.notifications]
    assert payloads == [s.signed_payload for s in quiet.notifications.all()]


def test_history_filters_by_type_subtype_and_customer(quiet, client, verifier):
    life(quiet, "auto_renew_off", original_transaction_id=MAYA_SUBSCRIPTION)
    life(quiet, "auto_renew_on", original_transaction_id=MAYA_SUBSCRIPTION)
    life(quiet, "refund", original_transaction_id=LUKAS_LIFETIME)

    def types(**filters) -> list[tuple[str, str | None]]:
        found = history(client, NotificationHistoryQuery(**_window(), **filters))
        decoded = [verifier.decode_notification(n.signed_payload) for n in found]
        return [(d.notification_type, d.subtype) for d in decoded]

    assert len(types()) == 3
    assert types(notification_type="DID_CHANGE_RENEWAL_STATUS") == [
        ("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED"),
        ("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED"),
    ]
    assert types(
        notification_type="DID_CHANGE_RENEWAL_STATUS", notification_subtype="AUTO_RENEW_ENABLED"
    ) == [("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED")]
    # Any of the customer's transactions finds all of the customer's notifications.
    maya_renewal = quiet.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    assert len(types(transaction_id=maya_renewal)) == 2
    assert types(transaction_id=LUKAS_LIFETIME) == [("REFUND", None)]


def test_history_keeps_to_the_dates_asked_for(quiet, client):
    quiet.emit_notification("TEST")
    now = datetime.now(UTC)
    earlier = NotificationHistoryQuery(
        start_date=now - timedelta(days=3), end_date=now - timedelta(days=2)
    )
    assert history(client, earlier) == []
    assert len(history(client)) == 1


def test_history_refuses_what_apple_refuses(quiet, client, appstore_credentials):
    quiet.emit_notification("TEST")
    with pytest.raises(StartDateTooFarInPastError):
        history(client, NotificationHistoryQuery(**_window(days=181)))
    with pytest.raises(InvalidNotificationTypeError):
        history(client, NotificationHistoryQuery(**_window(), notification_type="NOPE"))
    with pytest.raises(TransactionIdNotFoundError):
        history(client, NotificationHistoryQuery(**_window(), transaction_id="2000000999999999"))
    with pytest.raises(InvalidPaginationTokenError):
        client.get_notification_history(last_day(), pagination_token="not-a-token")
    # A token belongs to the filters it was issued for.
    token = client.get_notification_history(last_day()).pagination_token
    other = NotificationHistoryQuery(**_window(), only_failures=True)
    with pytest.raises(InvalidPaginationTokenError):
        client.get_notification_history(other, pagination_token=token)


def test_type_and_transaction_together_are_refused_on_both_sides(quiet, client):
    with pytest.raises(ValueError, match="not both"):
        NotificationHistoryQuery(**_window(), notification_type="TEST", transaction_id="1")
    with pytest.raises(ValueError, match="needs its notification type"):
        NotificationHistoryQuery(**_window(), notification_subtype="SUMMARY")
    # Sent anyway, Apple answers 4000019.
    client_query = NotificationHistoryQuery(**_window(), notification_type="TEST")
    body = client_query.body() | {"transactionId": MAYA_SUBSCRIPTION}
    with pytest.raises(MultipleFiltersSuppliedError):
        client._call("notification_history", "POST", "/inApps/v1/notifications/history", json=body)


def test_the_client_counts_its_calls_under_their_own_rate_limit_names(
    notifying, appstore_credentials
):
    from django.core.cache.backends.locmem import LocMemCache

    from lookups.services.shared_rate_budget import SharedRateBudget

    cache = LocMemCache("notification-rate-tests", {})
    cache.clear()
    an_hour_ahead = time.time() + 3600  # one fixed second, so the budget never refills
    budget = SharedRateBudget(
        cache,
        {"test_notification": 1, "notification_history": 2},
        scope="notify",
        clock=lambda: an_hour_ahead,
    )
    client = AppStoreClient(
        issuer_id=appstore_credentials.issuer_id,
        key_id=appstore_credentials.key_id,
        private_key_pem=appstore_credentials.private_key_pem,
        bundle_id=appstore_credentials.bundle_id,
        base_url=notifying.url,
        rate_limiter=budget,
    )
    token = client.request_test_notification()
    with pytest.raises(RateLimitExceededError) as held_back:
        client.get_test_notification_status(token)
    assert held_back.value.http_status is None, "held back here, never sent to Apple"
    client.get_notification_history(last_day())
    client.get_notification_history(last_day())
    with pytest.raises(RateLimitExceededError):
        client.get_notification_history(last_day())
    sent = [path for _, path in notifying.requests]
    assert sent == ["/inApps/v1/notifications/test"] + ["/inApps/v1/notifications/history"] * 2


# --- the test notification ----------------------------------------------------------------------


def test_a_test_notification_reaches_the_url_and_reports_its_attempts(
    notifying, receiver, client, verifier
):
    token = client.request_test_notification()
    settle(notifying)

    status = client.get_test_notification_status(token)
    assert status.signed_payload == receiver.payloads()[0]
    assert [a.result for a in status.send_attempts] == ["SUCCESS"]
    decoded = verifier.decode_notification(status.signed_payload)
    assert decoded.notification_type == "TEST"
    assert decoded.transaction is None
    assert decoded.data.app_apple_id == notifying.app_apple_id


def test_a_test_notification_that_fails_shows_the_failure(notifying, receiver, client):
    receiver.answer_with(*[404] * 6)
    token = client.request_test_notification()
    settle(notifying)
    status = client.get_test_notification_status(token)
    assert not status.delivered
    assert {a.result for a in status.send_attempts} == {"UNSUCCESSFUL_HTTP_RESPONSE_CODE"}


def test_test_notification_errors_are_apples(quiet, client):
    with pytest.raises(ServerNotificationUrlNotFoundError):
        client.request_test_notification()
    with pytest.raises(InvalidTestNotificationTokenError):
        client.get_test_notification_status("not-a-token")
    with pytest.raises(TestNotificationNotFoundError):
        client.get_test_notification_status("0b9f7c1e-4b6a-4c8e-9d3f-2a1b0c9d8e7f_1700000000000")


# --- the demo's life ----------------------------------------------------------------------------


def test_renew_adds_a_renewal_and_sends_did_renew(notifying, receiver, client, verifier):
    before = latest(client, verifier, MAYA_SUBSCRIPTION)
    answer = life(notifying, "renew", original_transaction_id=MAYA_SUBSCRIPTION)
    settle(notifying)

    renewal = latest(client, verifier, MAYA_SUBSCRIPTION)
    assert renewal.transaction_id == answer["transaction_id"] != before.transaction_id
    assert renewal.transaction_reason == "RENEWAL"
    assert renewal.expires_date > datetime.now(UTC)
    decoded = verifier.decode_notification(receiver.payloads()[0])
    assert (decoded.notification_type, decoded.subtype) == ("DID_RENEW", None)
    assert decoded.transaction.transaction_id == renewal.transaction_id
    assert decoded.data.status == 1
    assert decoded.renewal_info.will_renew
    assert decoded.renewal_info.renewal_date == renewal.expires_date


def test_a_failed_renewal_goes_into_billing_retry_and_recovers(quiet, client, verifier):
    failed = sent_notification(
        quiet, verifier, life(quiet, "fail_renewal", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (failed.notification_type, failed.subtype) == ("DID_FAIL_TO_RENEW", None)
    assert failed.data.status == 3
    assert failed.renewal_info.is_in_billing_retry_period is True
    assert failed.renewal_info.expiration_intent == 2
    assert failed.renewal_info.grace_period_expires_date is None
    assert latest(client, verifier, MAYA_SUBSCRIPTION).expires_date <= datetime.now(UTC)
    life(quiet, "fail_renewal", expect=409, original_transaction_id=MAYA_SUBSCRIPTION)

    recovered = sent_notification(
        quiet, verifier, life(quiet, "renew", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (recovered.notification_type, recovered.subtype) == ("DID_RENEW", "BILLING_RECOVERY")
    assert recovered.renewal_info.is_in_billing_retry_period is False
    assert recovered.data.status == 1


def test_a_grace_period_then_expiry_in_billing_retry(quiet, client, verifier):
    grace = sent_notification(
        quiet, verifier, life(quiet, "enter_grace", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (grace.notification_type, grace.subtype) == ("DID_FAIL_TO_RENEW", "GRACE_PERIOD")
    assert grace.data.status == 4
    until = grace.renewal_info.grace_period_expires_date
    assert timedelta(days=15) < until - datetime.now(UTC) <= timedelta(days=16)

    expired = sent_notification(
        quiet, verifier, life(quiet, "expire", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (expired.notification_type, expired.subtype) == ("EXPIRED", "BILLING_RETRY")
    assert expired.data.status == 2
    assert expired.renewal_info.expiration_intent == 2
    assert not expired.renewal_info.will_renew


def test_auto_renew_off_then_voluntary_expiry_then_resubscribe(quiet, client, verifier):
    off = sent_notification(
        quiet, verifier, life(quiet, "auto_renew_off", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (off.notification_type, off.subtype) == (
        "DID_CHANGE_RENEWAL_STATUS",
        "AUTO_RENEW_DISABLED",
    )
    assert off.renewal_info.auto_renew_status == 0
    # Renewal info keeps the period's end as renewalDate; with auto-renew off no price is quoted.
    assert off.renewal_info.renewal_price is None
    life(quiet, "auto_renew_off", expect=409, original_transaction_id=MAYA_SUBSCRIPTION)

    expired = sent_notification(
        quiet, verifier, life(quiet, "expire", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (expired.notification_type, expired.subtype) == ("EXPIRED", "VOLUNTARY")
    assert expired.renewal_info.expiration_intent == 1
    assert latest(client, verifier, MAYA_SUBSCRIPTION).expires_date <= datetime.now(UTC)
    life(quiet, "auto_renew_on", expect=409, original_transaction_id=MAYA_SUBSCRIPTION)

    back = sent_notification(
        quiet, verifier, life(quiet, "renew", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (back.notification_type, back.subtype) == ("SUBSCRIBED", "RESUBSCRIBE")
    assert back.data.status == 1
    assert latest(client, verifier, MAYA_SUBSCRIPTION).expires_date > datetime.now(UTC)


def test_auto_renew_back_on(quiet, verifier):
    life(quiet, "auto_renew_off", original_transaction_id=MAYA_SUBSCRIPTION)
    on = sent_notification(
        quiet, verifier, life(quiet, "auto_renew_on", original_transaction_id=MAYA_SUBSCRIPTION)
    )
    assert (on.notification_type, on.subtype) == ("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED")
    assert on.renewal_info.will_renew


def test_refund_revokes_the_purchase_and_sends_refund(quiet, client, verifier):
    lifetime = LUKAS_LIFETIME
    answer = life(quiet, "refund", original_transaction_id=lifetime, revocation_reason=1)

    [looked_up] = client.look_up_order(ORDER_NON_CONSUMABLE).signed_transactions
    refunded = verifier.decode_transaction(looked_up)
    assert refunded.is_revoked
    assert refunded.revocation_reason == 1
    assert refunded.revocation_type == "REFUND_FULL"
    notification = sent_notification(quiet, verifier, answer)
    assert (notification.notification_type, notification.subtype) == ("REFUND", None)
    assert notification.transaction.revocation_date == refunded.revocation_date
    assert notification.renewal_info is None and notification.data.status is None
    life(quiet, "refund", expect=409, original_transaction_id=lifetime)


def test_refunding_a_subscription_marks_it_revoked(quiet, client, verifier):
    answer = life(quiet, "refund", original_transaction_id=MAYA_SUBSCRIPTION)
    notification = sent_notification(quiet, verifier, answer)
    assert notification.data.status == 5
    assert not notification.renewal_info.will_renew
    assert latest(client, verifier, MAYA_SUBSCRIPTION).is_revoked
    life(quiet, "renew", expect=409, original_transaction_id=MAYA_SUBSCRIPTION)


def test_revoke_takes_a_family_shared_purchase_away(quiet, client, verifier):
    shared = quiet.order_transaction_ids(ORDER_FAMILY_SHARED)[0]
    answer = life(quiet, "revoke", original_transaction_id=shared)

    revoked = [
        verifier.decode_transaction(s)
        for page in client.iter_transaction_history(shared, filters=HistoryFilters(revoked=True))
        for s in page.signed_transactions
    ]
    assert [t.transaction_id for t in revoked] == [answer["transaction_id"]]
    assert revoked[0].revocation_type == "FAMILY_REVOKE"
    notification = sent_notification(quiet, verifier, answer)
    assert notification.notification_type == "REVOKE"
    assert notification.transaction.is_family_shared
    refused = life(quiet, "revoke", expect=400, original_transaction_id=LUKAS_LIFETIME)
    assert "Family Sharing" in refused["error"]


def test_redeeming_an_offer_code_makes_a_new_unlinked_purchase(quiet, client, verifier):
    answer = life(quiet, "redeem_offer_code")

    [signed] = client.look_up_order(answer["order_id"]).signed_transactions
    purchase = verifier.decode_transaction(signed)
    assert purchase.transaction_id == answer["original_transaction_id"]
    assert purchase.is_offer_code
    assert purchase.app_account_token is None
    assert purchase.app_transaction_id == answer["app_transaction_id"]
    notification = sent_notification(quiet, verifier, answer)
    assert (notification.notification_type, notification.subtype) == (
        "OFFER_REDEEMED",
        "INITIAL_BUY",
    )
    assert notification.transaction.is_offer_code
    assert notification.renewal_info.app_account_token is None

    again = life(
        quiet,
        "redeem_offer_code",
        notification_type="SUBSCRIBED",
        app_transaction_id=answer["app_transaction_id"],
    )
    assert again["app_transaction_id"] == answer["app_transaction_id"]
    assert sent_notification(quiet, verifier, again).notification_type == "SUBSCRIBED"
    life(quiet, "redeem_offer_code", expect=404, app_transaction_id="705999999999999999")


def test_a_consumption_request_names_its_reason_and_changes_nothing(quiet, client, verifier):
    credits = quiet.order_transaction_ids(ORDER_CONSUMABLES)[1]
    before = client.look_up_order(ORDER_CONSUMABLES).signed_transactions
    answer = life(
        quiet, "consumption_request", original_transaction_id=credits, reason="FULFILLMENT_ISSUE"
    )
    notification = sent_notification(quiet, verifier, answer)
    assert notification.notification_type == "CONSUMPTION_REQUEST"
    assert notification.data.consumption_request_reason == "FULFILLMENT_ISSUE"
    assert notification.transaction.transaction_id == credits
    after = client.look_up_order(ORDER_CONSUMABLES).signed_transactions
    assert unsigned(verifier, after) == unsigned(verifier, before)
    life(quiet, "consumption_request", expect=400, original_transaction_id=credits, reason="X")


def test_the_life_endpoint_explains_what_it_cannot_do(quiet):
    assert "error" in life(quiet, "dance", expect=400)
    assert "error" in life(quiet, "renew", expect=400)
    assert "error" in life(quiet, "renew", expect=404, original_transaction_id="2000000999999999")
    not_a_subscription = life(quiet, "renew", expect=400, original_transaction_id=LUKAS_LIFETIME)
    assert "not an auto-renewable subscription" in not_a_subscription["error"]
    # A renewal's ID is not the purchase's original transaction ID.
    renewal = quiet.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    life(quiet, "renew", expect=404, original_transaction_id=renewal)
    for garbage in (
        [],
        "renew",
        {"action": ["renew"]},
        {"action": "renew", "original_transaction_id": 7},
    ):
        answer = requests.post(f"{quiet.url}/simulator/life", json=garbage, timeout=TIMEOUT)
        assert answer.status_code == 400 and "error" in answer.json()
    for options, expect in (
        ({"product_id": ["x"]}, 400),
        ({"storefront": "MARS"}, 400),
        ({"app_transaction_id": 5}, 404),
    ):
        assert "error" in life(quiet, "redeem_offer_code", expect=expect, **options)
    odd_reason = {"original_transaction_id": LUKAS_CREDITS, "reason": ["LEGAL"]}
    assert "error" in life(quiet, "consumption_request", expect=400, **odd_reason)
    odd_target = {"original_transaction_id": LUKAS_LIFETIME, "transaction_id": 5}
    assert "error" in life(quiet, "refund", expect=400, **odd_target)
    listing = requests.get(f"{quiet.url}/simulator/life", timeout=TIMEOUT).json()
    assert set(listing["actions"]) >= {"renew", "refund", "redeem_offer_code"}
    assert quiet.notifications.all() == []


def test_a_reset_forgets_the_life_and_its_notifications(quiet, client, verifier):
    life(quiet, "expire", original_transaction_id=MAYA_SUBSCRIPTION)
    quiet.reset()
    assert history(client) == []
    assert latest(client, verifier, MAYA_SUBSCRIPTION).expires_date > datetime.now(UTC)
    life(quiet, "auto_renew_off", original_transaction_id=MAYA_SUBSCRIPTION)


# --- Apple's own library ------------------------------------------------------------------------


ALL_ACTIONS = [
    ("auto_renew_off", MAYA_SUBSCRIPTION),
    ("auto_renew_on", MAYA_SUBSCRIPTION),
    ("enter_grace", MAYA_SUBSCRIPTION),
    ("renew", MAYA_SUBSCRIPTION),
    ("fail_renewal", MAYA_SUBSCRIPTION),
    ("expire", MAYA_SUBSCRIPTION),
    ("renew", MAYA_SUBSCRIPTION),
    ("refund", MAYA_SUBSCRIPTION),
    ("refund", LUKAS_LIFETIME),
    ("revoke", EMMA_FAMILY_SHARED),
    ("consumption_request", LUKAS_CREDITS),
    ("redeem_offer_code", None),
]


def apples_verifier(simulator: AppStoreSimulator):
    from appstoreserverlibrary.models.Environment import Environment
    from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier

    return SignedDataVerifier(
        [simulator.chain.root.public_bytes(serialization.Encoding.DER)],
        False,
        Environment.PRODUCTION,
        simulator.bundle_id,
        simulator.app_apple_id,
    )


def test_apples_verifier_accepts_every_notification_the_simulator_sends(
    notifying, receiver, verifier
):
    for action, original_id in ALL_ACTIONS:
        options = {"original_transaction_id": original_id} if original_id else {}
        life(notifying, action, **options)
    notifying.emit_notification("TEST")
    settle(notifying)

    apple = apples_verifier(notifying)
    received = receiver.payloads()
    assert len(received) == len(ALL_ACTIONS) + 1
    for signed in received:
        theirs = apple.verify_and_decode_notification(signed)
        ours = verifier.decode_notification(signed)
        assert theirs.notificationUUID == ours.notification_uuid
        assert theirs.rawNotificationType == ours.notification_type
        assert theirs.rawSubtype == ours.subtype
        assert theirs.data.appAppleId == ours.data.app_apple_id
        if theirs.data.signedTransactionInfo:
            transaction = apple.verify_and_decode_signed_transaction(
                theirs.data.signedTransactionInfo
            )
            assert transaction.transactionId == ours.transaction.transaction_id
        if theirs.data.signedRenewalInfo:
            renewal = apple.verify_and_decode_renewal_info(theirs.data.signedRenewalInfo)
            assert renewal.rawAutoRenewStatus == ours.renewal_info.auto_renew_status
            assert renewal.isInBillingRetryPeriod == ours.renewal_info.is_in_billing_retry_period


def apples_client(simulator: AppStoreSimulator, credentials: AppStoreCredentials):
    """Apple's client, unchanged, pointed at the simulator.

    Its constructor picks Apple's host from the environment and keeps it in `_base_url`; replacing
    that attribute is the way to reach another host in v3.1.
    """
    from appstoreserverlibrary.api_client import AppStoreServerAPIClient
    from appstoreserverlibrary.models.Environment import Environment

    client = AppStoreServerAPIClient(
        signing_key=credentials.private_key_pem.encode(),
        key_id=credentials.key_id,
        issuer_id=credentials.issuer_id,
        bundle_id=credentials.bundle_id,
        environment=Environment.PRODUCTION,
    )
    client._base_url = simulator.url
    return client


def test_apples_client_reads_notification_history_page_by_page(quiet, appstore_credentials):
    from appstoreserverlibrary.models.NotificationHistoryRequest import NotificationHistoryRequest
    from appstoreserverlibrary.models.NotificationTypeV2 import NotificationTypeV2

    for _ in range(21):
        quiet.emit_notification("TEST")
    life(quiet, "auto_renew_off", original_transaction_id=MAYA_SUBSCRIPTION)
    apple = apples_client(quiet, appstore_credentials)
    now = int(time.time() * 1000)
    request = NotificationHistoryRequest(startDate=now - 86_400_000, endDate=now + 60_000)

    first = apple.get_notification_history(None, request)
    second = apple.get_notification_history(first.paginationToken, request)
    assert (len(first.notificationHistory), first.hasMore) == (20, True)
    assert (len(second.notificationHistory), second.hasMore) == (2, False)
    sent = [item.signedPayload for item in first.notificationHistory + second.notificationHistory]
    assert sent == [s.signed_payload for s in quiet.notifications.all()]

    request.notificationType = NotificationTypeV2.DID_CHANGE_RENEWAL_STATUS
    [only] = apple.get_notification_history(None, request).notificationHistory
    decoded = apples_verifier(quiet).verify_and_decode_notification(only.signedPayload)
    assert decoded.rawSubtype == "AUTO_RENEW_DISABLED"
    assert only.sendAttempts == []


def test_apples_client_requests_a_test_notification_and_reads_its_status(
    notifying, receiver, appstore_credentials
):
    apple = apples_client(notifying, appstore_credentials)
    token = apple.request_test_notification().testNotificationToken
    settle(notifying)
    status = apple.get_test_notification_status(token)
    assert status.signedPayload == receiver.payloads()[0]
    assert [a.rawSendAttemptResult for a in status.sendAttempts] == ["SUCCESS"]
    decoded = apples_verifier(notifying).verify_and_decode_notification(status.signedPayload)
    assert decoded.rawNotificationType == "TEST"


# --- the store's events, announced --------------------------------------------------------------


def test_an_extension_is_posted_as_renewal_extended(notifying, receiver, client, verifier):
    answer = client.extend_subscription_renewal_date(
        PURCHASE_LINKED_IN_APP,
        extend_by_days=7,
        extend_reason_code=1,
        request_identifier="extension-for-a-service-outage",
    )
    settle(notifying)

    [posted] = [verifier.decode_notification(p) for p in receiver.payloads()]
    assert posted.notification_type == "RENEWAL_EXTENDED"
    assert posted.transaction.original_transaction_id == PURCHASE_LINKED_IN_APP
    assert posted.transaction.expires_date == answer.effective_date
    assert posted.renewal_info.renewal_date == answer.effective_date


def test_a_refund_request_from_the_demo_is_decided_after_consumption_information(
    quiet, client, verifier
):
    asked = life(quiet, "consumption_request", original_transaction_id=LUKAS_LIFETIME)
    request = sent_notification(quiet, verifier, asked)
    assert request.notification_type == "CONSUMPTION_REQUEST"
    assert quiet.store.open_refund_requests() == {LUKAS_LIFETIME: "UNINTENDED_PURCHASE"}

    assert quiet.store.decide_refund_request(LUKAS_LIFETIME) == "REFUND_DECLINED"
    declined = verifier.decode_notification(quiet.notifications.all()[-1].signed_payload)
    assert declined.notification_type == "REFUND_DECLINED"
    assert declined.transaction.transaction_id == LUKAS_LIFETIME
