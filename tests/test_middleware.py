"""The agent's time zone from the browser's cookie, and the poll answered before the database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lookups.middleware import TIMEZONE_COOKIE, AgentTimezoneMiddleware
from lookups.services import live


@pytest.fixture(autouse=True)
def _desk_zone_after():
    yield
    timezone.deactivate()


def zone_seen_with(cookie: str | None) -> str:
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES[TIMEZONE_COOKIE] = cookie
    return AgentTimezoneMiddleware(lambda _: timezone.get_current_timezone_name())(request)


def test_times_are_shown_in_the_zone_the_browser_reports():
    assert zone_seen_with("Asia%2FTokyo") == "Asia/Tokyo"


@pytest.mark.parametrize("cookie", [None, "", "Not/AZone", "../../etc/passwd", "x" * 500])
def test_no_cookie_or_a_bad_one_shows_the_desks_own_zone(settings, cookie):
    zone_seen_with("Asia%2FTokyo")  # a previous request's zone must not stay active
    assert zone_seen_with(cookie) == settings.TIME_ZONE


@pytest.mark.django_db
def test_an_unchanged_pages_poll_touches_no_session_and_no_database(client, agent_user):
    topics = [live.REFUNDS]
    token = live.sign_topics(topics, agent_user.pk)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("lookups:live"), {"t": token, "v": live.stamp(topics)})

    assert response.status_code == 204
    assert len(queries) == 0
    assert "Set-Cookie" not in response


@pytest.mark.django_db
def test_a_changed_pages_poll_goes_on_to_the_view(client, agent_user):
    topics = [live.REFUNDS]
    token = live.sign_topics(topics, agent_user.pk)
    response = client.get(reverse("lookups:live"), {"t": token, "v": "an-old-stamp"})
    # The view wants a signed-in person: the middleware let it through to say so.
    assert response.status_code == 302
