"""The benchmark's bare endpoint: absent unless the benchmark turns it on."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.urls import clear_url_caches

import supportdesk.urls
from supportdesk.stack_limit import CREATE_TABLE, TABLE

pytestmark = pytest.mark.django_db
PATH = "/benchmark/stack-limit/"


@pytest.fixture
def mounted(settings):
    settings.BENCHMARK_STACK_LIMIT = True
    importlib.reload(supportdesk.urls)
    clear_url_caches()
    yield
    settings.BENCHMARK_STACK_LIMIT = False
    importlib.reload(supportdesk.urls)
    clear_url_caches()


def test_the_bare_endpoint_is_not_mounted_by_default(client):
    assert client.post(PATH, b"{}", content_type="application/json").status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark runs on PostgreSQL")
def test_mounted_it_stores_the_body_as_one_row(client, mounted):
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)

    answer = client.post(PATH, b'{"signedPayload": "x"}', content_type="application/json")

    assert answer.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body->>'signedPayload' FROM {TABLE}")
        assert cursor.fetchall() == [("x",)]
