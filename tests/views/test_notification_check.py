"""The admin's Request a Test Notification page, with the simulator posting to a live desk."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from lookups.models import AppStoreNotification
from tests.fixtures.pages import HTMX

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "admin:lookups_appstorenotification_test"


def test_the_notifications_list_offers_the_test_to_superusers(superuser_client):
    page = superuser_client.get(reverse("admin:lookups_appstorenotification_changelist"))
    assert reverse(PAGE).encode() in page.content
    assert b"Request a test notification" in page.content


def test_requesting_one_shows_apple_s_attempts_and_its_arrival(
    notification_endpoint, simulator, superuser_client
):
    answer = superuser_client.post(reverse(PAGE))
    assert answer.status_code == 302 and answer.url.startswith(reverse(PAGE) + "?token=")
    assert simulator.notifications.wait_until_settled(timeout=10)
    page = superuser_client.get(answer.url)
    stored = AppStoreNotification.objects.get(notification_type="TEST")
    text = page.content.decode()
    assert "SUCCESS" in text
    assert 'id="test-notification-arrived"' in text and stored.notification_uuid in text
    # Arrived: nothing more to wait for, so the status stops polling.
    assert "every 2s" not in text


def test_until_it_arrives_the_status_polls_and_says_so(
    live_server, appstore_settings, simulator, superuser_client
):
    client = superuser_client
    simulator.set_notification_url(live_server.url + "/no-such-endpoint/")
    try:
        answer = client.post(reverse(PAGE))
        deadline = time.monotonic() + 10
        while True:
            fragment = client.get(answer.url, headers=HTMX).content.decode()
            if "UNSUCCESSFUL_HTTP_RESPONSE_CODE" in fragment or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        simulator.set_notification_url(None)
    assert "UNSUCCESSFUL_HTTP_RESPONSE_CODE" in fragment
    assert 'id="test-notification-not-arrived"' in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert "<html" not in fragment  # htmx gets the status alone


def test_apple_s_refusal_is_shown_in_plain_words_with_its_code(
    appstore_settings, simulator, superuser_client
):
    simulator.set_notification_url(None)
    page = superuser_client.post(reverse(PAGE))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Apple refused the request" in text and "(Apple error 4040007)" in text


def test_an_unknown_token_is_apple_s_error_with_its_code(
    appstore_settings, simulator, superuser_client
):
    token = "0b8a6b5c-3a8e-4a39-9a59-5c7fd0d6a1b2_1764590000000"
    page = superuser_client.get(reverse(PAGE), {"token": token})
    assert "(Apple error 4040008)" in page.content.decode()
