"""A manager enrols an authenticator app and signs in with its code, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Screenshots
from tests.e2e.desk import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("appstore_settings")]
WELCOME = re.compile(r"^Welcome, ")


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    t0 = device.t0 - steps_ahead * device.step
    return f"{totp(device.bin_key, step=device.step, t0=t0, digits=device.digits):06d}"


def test_a_manager_enrols_and_signs_in_with_a_code(
    new_page: Callable[..., Page],
    manager_user: User,
    screenshots: Screenshots,
    browser_errors: list[str],
    settings,
) -> None:
    settings.SECOND_FACTOR_GROUPS = ["Managers", "superusers"]
    page = new_page()
    sign_in(page, manager_user.get_username(), landing="Set up a second step for signing in")
    key = page.locator("#totp-key").inner_text()
    device = TOTPDevice.objects.get(user=manager_user)
    assert device.key == key
    screenshots.take(page, "enrol")
    page.get_by_label("Code from your authenticator app").fill(code(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".recovery-code")).to_have_count(10)
    screenshots.take(page, "recovery-codes")
    page.get_by_role("link", name="Continue to the desk").click()
    expect(page.get_by_role("heading", name=WELCOME)).to_be_visible()

    again = new_page()
    sign_in(again, manager_user.get_username(), landing="Second step of signing in")
    again.get_by_label("Code from your authenticator app, or a recovery code").fill(
        code(TOTPDevice.objects.get(user=manager_user), steps_ahead=1)
    )
    again.get_by_role("button", name="Sign in").click()
    expect(again.get_by_role("heading", name=WELCOME)).to_be_visible()
    screenshots.take(again, "signed-in")
    assert browser_errors == []
