"""The lockouts page: a manager sees the usernames paused after failed sign-ins and lifts them;
nobody else may."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.fixtures.pages import sign_in_as

pytestmark = pytest.mark.django_db


def test_a_manager_sees_and_lifts_a_lockout(staff, manager_client):
    for _ in range(5):
        sign_in_as("river", "wrong", address="198.51.100.5")
    assert sign_in_as("river", staff["river"], address="198.51.100.6").status_code == 429

    listed = manager_client.get(reverse("lookups:lockouts"))
    lifted = manager_client.post(reverse("lookups:lockouts"), {"username": "river"})

    assert listed.status_code == 200 and "river" in listed.text
    assert lifted.status_code == 200 and "river may sign in again" in lifted.text
    assert sign_in_as("river", staff["river"], address="198.51.100.6").status_code == 302


def test_an_agent_can_not_lift_a_lockout(agent_client):
    assert agent_client.post(reverse("lookups:lockouts"), {"username": "river"}).status_code == 403
