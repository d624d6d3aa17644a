"""Request a Test Notification: the simulator sends it to a live desk, the check finds it stored."""

from __future__ import annotations

import time

import pytest

from lookups.models import AppStoreNotification
from lookups.services.notification_check import (
    check_test_notification,
    request_test_notification,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _first_attempt(token: str):
    """The check once Apple has tried at least once (the simulator sends from a thread)."""
    deadline = time.monotonic() + 10
    while True:
        report = check_test_notification(token)
        if report.send_attempts or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


def test_a_test_notification_arrives_and_is_matched_by_its_uuid(notification_endpoint, simulator):
    requested = request_test_notification()
    assert requested.token and not requested.error
    assert simulator.notifications.wait_until_settled(timeout=10)
    report = check_test_notification(requested.token, since=requested.requested_at)
    assert report.delivered_per_apple
    assert [attempt.result for attempt in report.send_attempts] == ["SUCCESS"]
    assert report.arrived
    stored = AppStoreNotification.objects.get(notification_type="TEST")
    assert report.stored == stored
    assert report.notification_uuid == stored.notification_uuid


def test_one_the_endpoint_never_got_shows_apple_s_failed_attempt(
    live_server, appstore_settings, simulator
):
    simulator.set_notification_url(live_server.url + "/no-such-endpoint/")
    try:
        requested = request_test_notification()
        report = _first_attempt(requested.token)
    finally:
        simulator.set_notification_url(None)
    assert report.send_attempts[0].result == "UNSUCCESSFUL_HTTP_RESPONSE_CODE"
    assert not report.delivered_per_apple
    assert not report.arrived and report.notification_uuid
    assert not AppStoreNotification.objects.exists()


def test_no_notification_url_at_apple_is_said_in_plain_words_with_its_code(
    appstore_settings, simulator
):
    simulator.set_notification_url(None)
    requested = request_test_notification()
    assert not requested.token
    assert "no notification URL" in requested.error
    assert "(Apple error 4040007)" in requested.error


def test_a_token_apple_does_not_know_is_said_with_its_code(appstore_settings, simulator):
    report = check_test_notification("0b8a6b5c-3a8e-4a39-9a59-5c7fd0d6a1b2_1764590000000")
    assert "(Apple error 4040008)" in report.apple_error
    assert not report.arrived
