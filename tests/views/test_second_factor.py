"""A second factor (django-otp: TOTP, with recovery codes) for the groups a setting names.

Managers and superusers by default; local mode (make run, the tests) names none, so the demo
logins and every other test's sign-in stay one step. These tests name them as production does.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _as_in_production(settings):
    settings.SECOND_FACTOR_GROUPS = ["Managers", "superusers"]


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the authenticator shows now, or `steps_ahead` 30-second steps later."""
    t0 = device.t0 - steps_ahead * device.step
    return f"{totp(device.bin_key, step=device.step, t0=t0, digits=device.digits):06d}"


def enrol(client: Client, user) -> list[str]:
    """Enrol `client`'s user with an authenticator; return the recovery codes shown once."""
    page = client.get(reverse("lookups:second_factor_enrol"))
    assert page.status_code == 200 and "otpauth://totp/" in page.text
    device = TOTPDevice.objects.get(user=user)
    done = client.post(reverse("lookups:second_factor_enrol"), {"code": code_for(device)})
    assert done.status_code == 200, done.text
    return re.findall(r'<li class="recovery-code">(\w+)</li>', done.text)


def test_a_manager_without_one_is_sent_to_enrol(manager_client):
    answer = manager_client.get(reverse("lookups:home"))

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("lookups:second_factor_enrol"))


def test_an_agent_is_not_asked(agent_client):
    assert agent_client.get(reverse("lookups:look_up")).status_code == 200


def test_enrolling_shows_recovery_codes_and_opens_the_desk(manager_client, manager_user):
    codes = enrol(manager_client, manager_user)

    assert len(codes) == 10
    assert manager_client.get(reverse("lookups:home")).status_code == 200


def test_next_sign_in_asks_for_the_code(manager_user):
    first = Client()
    first.force_login(manager_user)
    enrol(first, manager_user)
    device = TOTPDevice.objects.get(user=manager_user)

    again = Client()
    again.force_login(manager_user)
    asked = again.get(reverse("lookups:home"))
    # The next step's code: the one used to enrol can't be used twice.
    right = again.post(reverse("lookups:second_factor"), {"code": code_for(device, 1)})
    guessing = Client()
    guessing.force_login(manager_user)
    wrong = guessing.post(reverse("lookups:second_factor"), {"code": "000000"})

    assert asked["Location"].startswith(reverse("lookups:second_factor"))
    assert right.status_code == 302
    assert again.get(reverse("lookups:home")).status_code == 200
    assert wrong.status_code == 200 and "That code is not right" in wrong.text
    assert guessing.get(reverse("lookups:home")).status_code == 302


def test_a_recovery_code_works_once(manager_user):
    first = Client()
    first.force_login(manager_user)
    codes = enrol(first, manager_user)

    for expected in (302, 200):
        client = Client()
        client.force_login(manager_user)
        answer = client.post(reverse("lookups:second_factor"), {"code": codes[0]})
        assert answer.status_code == expected


def test_a_superuser_must_have_one_in_the_admin_too(superuser_client):
    answer = superuser_client.get(reverse("admin:index"))

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("lookups:second_factor_enrol"))
