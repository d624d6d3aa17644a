"""The agent's time zone from the browser's cookie, the poll answered before the database, and
Apple's notification posts answered before the signed-in machinery."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lookups.middleware import TIMEZONE_COOKIE, AgentTimezoneMiddleware, NotificationDoorMiddleware
from lookups.models import QuarantinedNotification
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


def _past_the_door(request):
    raise AssertionError(f"{request.method} {request.path} went on past the door")


@pytest.mark.django_db
def test_a_notification_post_goes_straight_to_its_view(settings):
    settings.TIME_ZONE = "UTC"
    timezone.activate("Asia/Tokyo")  # what an agent's page left on this thread
    request = RequestFactory().post(
        reverse("lookups:appstore_notifications"), data=b"not json", content_type="text/plain"
    )

    answer = NotificationDoorMiddleware(_past_the_door)(request)

    # The view itself refused it, counted and kept it: no session, user or lockout was asked.
    assert answer.status_code == 400
    assert answer["Content-Length"] == str(len(answer.content))
    assert QuarantinedNotification.objects.get().reason == "The body is not JSON."
    assert not hasattr(request, "session") and not hasattr(request, "user")
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.django_db
def test_a_post_to_an_app_url_goes_to_that_apps_view(client):
    url = reverse("lookups:app_notifications", args=[987654, "production"])
    request = RequestFactory().post(url, data=b"{}", content_type="application/json")

    with pytest.raises(Http404):  # answered 404 by the handler around the middleware
        NotificationDoorMiddleware(_past_the_door)(request)
    assert client.post(url, data=b"{}", content_type="application/json").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/appstore/notifications/"),
        ("post", "/appstore/notifications/12/production/extra/"),
        ("post", "/appstore/notifications/twelve/production/"),
        ("post", "/appstore/notifications-not/"),
        ("post", "/lookups/"),
    ],
)
def test_every_other_request_goes_the_ordinary_way(method, path):
    request = getattr(RequestFactory(), method)(path)

    answer = NotificationDoorMiddleware(lambda _: HttpResponse("ordinary"))(request)

    assert answer.content == b"ordinary"


def test_the_door_stands_after_the_https_redirect(settings):
    order = settings.MIDDLEWARE
    door = order.index("lookups.middleware.NotificationDoorMiddleware")
    assert order.index("django.middleware.security.SecurityMiddleware") < door
    assert door < order.index("django.contrib.sessions.middleware.SessionMiddleware")
