"""The same form posted again while its call to Apple is running: told so, then the outcome."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from lookups.models import TokenChange
from tests.fixtures.links import OFFER_CODE_PURCHASE, post_link, puts

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite's in-memory test database serves one request at a time",
    ),
]


def test_repeats_of_a_form_while_apple_is_slow_are_told_it_is_still_being_sent(
    agent_user, appstore_settings, simulator, maya
):
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=2.0)
    request_id = str(uuid.uuid4())
    first: dict[str, object] = {}

    def submit_first() -> None:
        client = Client()
        client.force_login(agent_user)
        try:
            first["response"] = post_link(client, OFFER_CODE_PURCHASE, maya, request_id=request_id)
        finally:
            connection.close()

    thread = threading.Thread(target=submit_first)
    thread.start()
    deadline = time.monotonic() + 10
    while puts(simulator) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert puts(simulator) == 1, "the first submission never reached Apple"

    client = Client()
    client.force_login(agent_user)
    repeats = [
        post_link(client, OFFER_CODE_PURCHASE, maya, request_id=request_id) for _ in range(5)
    ]
    thread.join(timeout=30)

    for repeat in repeats:
        assert repeat.status_code == 202
        assert "This link is still being sent; the page updates when Apple answers." in repeat.text
        assert "did not answer in time" not in repeat.text
    assert "Linked to <strong>Maya Patel</strong>" in first["response"].text
    change = TokenChange.objects.get()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED and puts(simulator) == 1
    # What the repeats' pages poll now shows the outcome.
    status = client.get(
        reverse("lookups:link_status", args=[change.pk]), headers={"HX-Request": "true"}
    )
    assert "Linked to <strong>Maya Patel</strong>" in status.text
