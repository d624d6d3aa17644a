"""Apple's Retry-After pauses kept in the database, so a cache restart doesn't forget them."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from lookups.models import ApplePause
from lookups.services.apple_pauses import DatabasePauses

pytestmark = pytest.mark.django_db

SCOPE = "com.example.supportdesk:Production"


def test_a_pause_is_read_back_until_it_ends():
    pauses, now = DatabasePauses(), time.time()
    pauses.save(SCOPE, "lookup", now + 30)
    pauses.save(SCOPE, "history", now - 1)

    running = pauses.load(SCOPE, now)

    assert list(running) == ["lookup"] and running["lookup"] == pytest.approx(now + 30, abs=0.01)
    assert pauses.load(SCOPE, now + 31) == {}
    assert pauses.load("another.app:Sandbox", now) == {}


def test_a_later_end_replaces_an_earlier_one_never_the_reverse():
    pauses, now = DatabasePauses(), time.time()
    pauses.save(SCOPE, "lookup", now + 30)
    pauses.save(SCOPE, "lookup", now + 60)
    pauses.save(SCOPE, "lookup", now + 10)

    assert ApplePause.objects.count() == 1
    assert pauses.load(SCOPE, now)["lookup"] == pytest.approx(now + 60, abs=0.01)


def test_a_database_that_fails_spoils_no_callers_transaction(agent_user):
    pauses = DatabasePauses()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE lookups_applepause")
        pauses.save(SCOPE, "lookup", time.time() + 30)
        assert pauses.load(SCOPE, time.time()) is None
        # The caller's transaction is still usable after both failures.
        assert User.objects.filter(pk=agent_user.pk).exists()
        transaction.set_rollback(True)
    assert ApplePause.objects.count() == 0
