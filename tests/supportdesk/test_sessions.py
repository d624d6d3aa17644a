"""Sessions (settings.SESSION_ENGINE): read from the cache on every signed-in page, with the
database behind it, and still expiring and revocable."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def orders_page(client):
    return client.get(reverse("lookups:look_up"))


def test_a_signed_in_page_reads_its_session_from_the_cache_and_writes_nothing(
    redis_trips, agent_client
):
    assert orders_page(agent_client).status_code == 200
    redis_trips.clear()

    with CaptureQueriesContext(connection) as queries:
        assert orders_page(agent_client).status_code == 200

    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
    session_trips = [c for c in redis_trips.commands if c in ("SET", "SETEX", "DEL")]
    assert session_trips == [], redis_trips.commands


def test_a_session_the_cache_lost_is_read_back_from_the_database(redis_trips, agent_client):
    cache.clear()  # Redis restarted empty

    assert orders_page(agent_client).status_code == 200


def test_signing_out_revokes_the_session_everywhere(redis_trips, agent_client):
    cookie = agent_client.cookies["sessionid"].value
    assert orders_page(agent_client).status_code == 200

    agent_client.post(reverse("logout"))

    agent_client.cookies["sessionid"] = cookie  # the old cookie, replayed
    assert orders_page(agent_client).status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()


def test_a_session_still_expires(redis_trips, agent_client):
    session = agent_client.session
    session.set_expiry(1)
    session.save()
    assert orders_page(agent_client).status_code == 200

    time.sleep(1.5)

    response = orders_page(agent_client)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
