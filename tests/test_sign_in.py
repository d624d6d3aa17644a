"""Failed sign-ins: a username is locked out after five, from anywhere; one address is never
locked out for everyone; signed-in users are not touched; the address behind the proxy."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from lookups import sign_in
from tests.fixtures.pages import assert_strict_policy, sign_in_as

pytestmark = pytest.mark.django_db

# --- Failed sign-ins ---------------------------------------------------------------------------


def test_a_username_is_locked_out_after_five_failures_from_anywhere(staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert sign_in_as("river", staff["river"]).status_code == 302
    for n in range(4):
        failed = sign_in_as("river", "wrong", address=f"198.51.100.{n}")
        assert failed.status_code == 200 and "didn't match" in failed.text

    fifth = sign_in_as("river", "wrong", address="198.51.100.4")
    locked = sign_in_as("river", staff["river"], address="198.51.100.99")

    for response in (fifth, locked):
        assert response.status_code == 429
        assert "Too many failed sign-ins. Try again in 15 minutes" in response.text
        assert_strict_policy(response)
    # Another user signs in from that same address.
    assert sign_in_as("sky", staff["sky"], address="198.51.100.99").status_code == 302


def test_one_persons_typos_do_not_lock_out_everyone_at_that_address(staff):
    """A team behind one office address: five failures of others there stop nobody else."""
    for n in range(5):
        sign_in_as(f"guess{n}", "wrong", address="192.0.2.1")
    for _ in range(5):
        sign_in_as("sky", "wrong", address="192.0.2.1")

    assert sign_in_as("river", staff["river"], address="192.0.2.1").status_code == 302
    assert sign_in_as("sky", staff["sky"], address="192.0.2.1").status_code == 429


def test_lockouts_go_by_username_and_by_username_with_address(settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", ["username", "ip_address"]]


def test_the_sign_in_page_says_how_lockouts_work():
    page = Client().get(reverse("login")).text

    assert "After 5 mistyped passwords, that username is paused for 15 minutes" in page
    assert "Others signing in from the same address are not held back" in page
    assert "A manager can lift the pause" in page


def test_a_lockout_leaves_signed_in_sessions_alone(staff, agent_client, agent_user):
    for _ in range(6):
        sign_in_as(agent_user.username, "wrong")
    assert agent_client.get(reverse("lookups:look_up")).status_code == 200


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(rf, settings):
    settings.BEHIND_TLS_PROXY = True
    request = rf.get("/", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4", REMOTE_ADDR="10.0.0.2")
    assert sign_in.client_address(request) == "198.51.100.4"
    settings.BEHIND_TLS_PROXY = False
    assert sign_in.client_address(request) == "10.0.0.2"


def test_the_username_tried_is_cut_to_what_the_lockout_record_holds(rf):
    request = rf.post("/accounts/login/", {"username": "r" * 300})
    assert sign_in.attempted_username(request) == "r" * 255
    assert sign_in.attempted_username(request, {"username": "sky"}) == "sky"
    assert sign_in.attempted_username(rf.post("/accounts/login/", {})) is None
