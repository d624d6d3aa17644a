"""The notification endpoint, with the simulator posting to a live desk over real HTTP."""

from __future__ import annotations

import json
import time

import pytest
import requests

from lookups.models import (
    AppStoreNotification,
    Purchase,
    QuarantinedNotification,
    RefusedNotificationCount,
)
from lookups.simulators.demo_data import PURCHASE_FREE_TRIAL, PURCHASE_OFFER_CODE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint(notification_endpoint) -> str:
    return notification_endpoint


def _posted(endpoint, simulator, *args, **kwargs):
    """Sign a notification as the simulator would and post it once (Apple retries a 400)."""
    simulator.set_notification_url(None)
    sent = simulator.emit_notification(*args, **kwargs)
    answer = requests.post(endpoint, json={"signedPayload": sent.signed_payload}, timeout=5)
    return sent, answer


def _sent(simulator, *args, **kwargs):
    sent = simulator.emit_notification(*args, **kwargs)
    assert simulator.notifications.wait_until_settled(timeout=10)
    return sent


def test_a_valid_notification_is_stored_and_applied(endpoint, simulator):
    sent = _sent(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    assert sent.delivered
    row = AppStoreNotification.objects.get(notification_uuid=sent.notification_uuid)
    assert row.notification_type == "DID_RENEW"
    assert row.original_transaction_id == PURCHASE_OFFER_CODE
    assert row.state == AppStoreNotification.State.PROCESSED and row.processed_at
    purchase = Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE)
    assert purchase.status_source == Purchase.StatusSource.NOTIFICATION
    assert purchase.learnt_from == Purchase.Source.NOTIFICATION
    assert purchase.status in {choice.value for choice in Purchase.Status}
    assert purchase.renewal_info is not None


def test_a_retry_of_the_same_notification_stores_nothing_twice(endpoint, simulator):
    sent = _sent(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    body = json.dumps({"signedPayload": sent.signed_payload})
    again = requests.post(endpoint, data=body, timeout=5)
    assert again.status_code == 200
    assert (
        AppStoreNotification.objects.filter(notification_uuid=sent.notification_uuid).count() == 1
    )


def test_a_tampered_payload_is_refused_and_quarantined(endpoint, simulator):
    simulator.set_notification_url(None)
    sent = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    header, payload, signature = sent.signed_payload.split(".")
    tampered = ".".join([header, payload[:-4] + "AAAA", signature])
    answer = requests.post(endpoint, json={"signedPayload": tampered}, timeout=5)
    assert answer.status_code == 400
    quarantined = QuarantinedNotification.objects.get()
    assert "Verification failed" in quarantined.reason and tampered[:100] in quarantined.body
    assert not AppStoreNotification.objects.exists()


def test_an_untrusted_chain_is_refused(endpoint, simulator):
    sent, answer = _posted(
        endpoint, simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE, untrusted=True
    )
    assert answer.status_code == 400
    assert not AppStoreNotification.objects.filter(
        notification_uuid=sent.notification_uuid
    ).exists()
    assert QuarantinedNotification.objects.filter(reason__contains="Verification failed").exists()


def test_a_notification_for_another_app_is_refused(endpoint, simulator):
    sent, answer = _posted(
        endpoint, simulator, "DID_RENEW", data={"appAppleId": 1}, transaction_id=None
    )
    assert answer.status_code == 400
    assert not AppStoreNotification.objects.filter(
        notification_uuid=sent.notification_uuid
    ).exists()
    assert "app_apple_id" in QuarantinedNotification.objects.get().reason


def test_a_notification_from_another_environment_is_refused(endpoint, simulator):
    sent, answer = _posted(endpoint, simulator, "DID_RENEW", data={"environment": "Sandbox"})
    assert answer.status_code == 400
    assert not AppStoreNotification.objects.filter(
        notification_uuid=sent.notification_uuid
    ).exists()
    assert "environment" in QuarantinedNotification.objects.get().reason


def test_an_unknown_type_is_stored_not_refused(endpoint, simulator):
    sent = _sent(simulator, "SOMETHING_APPLE_ADDS_LATER", transaction_id=PURCHASE_OFFER_CODE)
    assert sent.delivered
    row = AppStoreNotification.objects.get(notification_uuid=sent.notification_uuid)
    assert row.notification_type == "SOMETHING_APPLE_ADDS_LATER"


def test_an_oversized_body_is_refused_and_nothing_kept(endpoint):
    answer = requests.post(endpoint, data=b"{" + b" " * (64 * 1024) + b"}", timeout=5)
    assert answer.status_code == 413
    assert not AppStoreNotification.objects.exists()


def test_a_body_that_is_not_json_is_quarantined(endpoint):
    answer = requests.post(endpoint, data=b"not json", timeout=5)
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]
    assert QuarantinedNotification.objects.get().body == "not json"


def test_the_endpoint_takes_only_post(endpoint):
    assert requests.get(endpoint, timeout=5).status_code == 405


def test_an_older_notification_arriving_later_changes_nothing(endpoint, simulator):
    simulator.set_notification_url(None)
    older = simulator.emit_notification("DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    time.sleep(0.01)  # Apple's signedDate counts milliseconds: the second is signed later
    newer = simulator.emit_notification(
        "DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED", transaction_id=PURCHASE_OFFER_CODE
    )
    for sent in (newer, older):
        answer = requests.post(endpoint, json={"signedPayload": sent.signed_payload}, timeout=5)
        assert answer.status_code == 200
    rows = AppStoreNotification.objects.filter(
        notification_uuid__in=[older.notification_uuid, newer.notification_uuid]
    )
    assert rows.count() == 2
    purchase = Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE)
    newer_row = rows.get(notification_uuid=newer.notification_uuid)
    assert purchase.status_signed_at == newer_row.signed_date
    older_row = rows.get(notification_uuid=older.notification_uuid)
    assert older_row.signed_date < newer_row.signed_date
    assert "older" in older_row.outcome


def test_a_mass_extension_reaches_the_desk_as_apple_sends_it(endpoint, simulator):
    """Each RENEWAL_EXTENDED updates its purchase; FAILURE and SUMMARY are stored."""
    simulator.mass_extensions.duration_seconds = 0.3
    subscribers = simulator.store.active_subscriptions(
        "com.example.supportdesk.demo.pro.monthly", None
    )
    simulator.mass_extensions.request(
        {
            "extendByDays": 4,
            "extendReasonCode": 3,
            "requestIdentifier": "outage-2026-12-07",
            "productId": "com.example.supportdesk.demo.pro.monthly",
        }
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        n.subtype == "SUMMARY" for n in simulator.notifications.all()
    ):
        time.sleep(0.05)
    assert simulator.notifications.wait_until_settled(timeout=10)
    undelivered = [
        (n.notification_type, n.subtype, n.attempts)
        for n in simulator.notifications.all()
        if not n.delivered
    ]
    assert undelivered == [], list(QuarantinedNotification.objects.values_list("reason", flat=True))
    rows = AppStoreNotification.objects.all()
    kinds = sorted((r.notification_type, r.subtype or "") for r in rows)
    assert kinds.count(("RENEWAL_EXTENDED", "")) == len(subscribers) - 1
    assert ("RENEWAL_EXTENSION", "FAILURE") in kinds and ("RENEWAL_EXTENSION", "SUMMARY") in kinds
    states = {(r.notification_type, r.subtype): r.state for r in rows}
    assert states[("RENEWAL_EXTENDED", "")] == AppStoreNotification.State.PROCESSED
    assert states[("RENEWAL_EXTENSION", "FAILURE")] == AppStoreNotification.State.PROCESSED
    # Applied: a SUMMARY completes the desk's outage compensation of that request, if any.
    assert states[("RENEWAL_EXTENSION", "SUMMARY")] == AppStoreNotification.State.PROCESSED
    extended = [o for o, _ in subscribers if o != PURCHASE_FREE_TRIAL]
    for original_id, latest in subscribers:
        purchase = Purchase.objects.get(original_transaction_id=original_id)
        renews = int(purchase.next_renewal_date.timestamp() * 1000)
        assert (renews == simulator.transaction(latest)["expiresDate"]) is True
        assert purchase.status == Purchase.Status.ACTIVE
    assert len(extended) == len(subscribers) - 1


# --- Bodies that are not notifications: answered with a 4xx, counted, a bounded sample kept ------

STRANGER = {"X-Forwarded-For": "198.51.100.7"}


@pytest.fixture(autouse=True)
def _behind_the_proxy(settings):
    """As deployed: the client's address is the last X-Forwarded-For entry."""
    settings.BEHIND_TLS_PROXY = True


def _tally(source: str = "198.51.100.7") -> RefusedNotificationCount:
    return RefusedNotificationCount.objects.get(source=source)


def test_deep_nesting_is_refused_and_recorded(endpoint):
    answer = requests.post(endpoint, data=b"[" * 20_000, headers=STRANGER, timeout=5)

    assert answer.status_code == 400
    assert _tally().refused == 1
    assert QuarantinedNotification.objects.get().source == "198.51.100.7"


def test_deep_nesting_inside_an_object_is_refused_and_recorded(endpoint):
    body = b'{"signedPayload": ' + b"[" * 20_000 + b"}"

    answer = requests.post(endpoint, data=body, headers=STRANGER, timeout=5)

    assert answer.status_code == 400
    assert _tally().refused == 1


@pytest.mark.parametrize(
    "body", [b'{"signedPayload": "a\x00b"}', b'{"signedPayload": "a\\u0000b"}', b"\x00" * 10]
)
def test_a_nul_byte_is_refused_and_recorded(endpoint, body):
    answer = requests.post(endpoint, data=body, headers=STRANGER, timeout=5)

    assert answer.status_code == 400
    sample = QuarantinedNotification.objects.get()
    assert "\x00" not in sample.body and sample.body_length == len(body)
    assert _tally().refused == 1


def test_an_oversized_body_is_counted(endpoint):
    answer = requests.post(endpoint, data=b"x" * (65 * 1024), headers=STRANGER, timeout=5)

    assert answer.status_code == 413
    assert _tally().refused == 1
    assert not QuarantinedNotification.objects.exists()


def test_a_flood_costs_no_more_than_its_answers(endpoint, simulator, settings, monkeypatch):
    """Hundreds of 60 KB bodies from one address: a few samples and one row of counts, and the
    address is answered 429 once past its limit; Apple, from another address, still gets in."""
    from lookups.services import notification_door

    # One window for the whole flood, however slow the machine: a minute's edge would open a new
    # allowance of refusals halfway through.
    monkeypatch.setattr(notification_door, "RATE_WINDOW_SECONDS", 3600)
    settings.NOTIFICATION_REFUSALS_PER_MINUTE = 20
    settings.NOTIFICATION_REFUSED_SAMPLES_PER_HOUR = 5
    garbage = b'{"signedPayload": "' + b"A" * (60 * 1024 - 40) + b'"}'

    with requests.Session() as session:
        answers = [
            session.post(endpoint, data=garbage, headers=STRANGER, timeout=5).status_code
            for _ in range(300)
        ]

    assert answers[:20] == [400] * 20
    assert set(answers[20:]) == {429}
    # An hour's edge during the flood would start a second row (and allow five more samples).
    hours = RefusedNotificationCount.objects.count()
    assert hours in (1, 2)
    assert QuarantinedNotification.objects.count() <= 5 * hours
    totals = [
        sum(getattr(row, name) for row in RefusedNotificationCount.objects.all())
        for name in ("refused", "rate_limited")
    ]
    assert totals == [20, 280]
    sent = _sent(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    assert sent.delivered


def test_old_counts_and_samples_are_pruned(endpoint, settings):
    from datetime import timedelta

    from django.utils import timezone

    from lookups.services.notification_door import prune

    requests.post(endpoint, data=b"not json", headers=STRANGER, timeout=5)
    settings.NOTIFICATION_REFUSED_KEEP_DAYS = 30
    RefusedNotificationCount.objects.update(hour=timezone.now() - timedelta(days=31))
    QuarantinedNotification.objects.update(received_at=timezone.now() - timedelta(days=31))
    requests.post(endpoint, data=b"not json", headers=STRANGER, timeout=5)

    assert prune() == 2

    assert _tally().refused == 1
    assert QuarantinedNotification.objects.count() == 1
