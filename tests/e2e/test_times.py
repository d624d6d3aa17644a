"""One way to show a moment on every page: the agent's own time zone, saying which, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from lookups.models import CustomerAccount, TokenChange
from lookups.simulators.demo_data import MAYA
from tests.e2e.conftest import Screenshots
from tests.e2e.desk import sign_in
from tests.fixtures.rows import make_token_change, make_transfer_request, make_waiting_extension

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo_customers")]
NEW_YORK = ZoneInfo("America/New_York")


def test_a_new_york_manager_reads_new_york_time_on_approvals_and_transfers(
    new_page: Callable[..., Page],
    agent_user: User,
    manager_user: User,
    screenshots: Screenshots,
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    asked = {
        "/transfers/": make_transfer_request(agent_user, maya).created_at,
        "/extensions/": make_waiting_extension(agent_user).created_at,
    }

    page = new_page(timezone_id="America/New_York")
    sign_in(page, manager_user.get_username(), landing=re.compile(r"^Welcome, "))
    # The browser's zone reaches the desk in a cookie with the first page; read it from now on.
    for path, at in asked.items():
        page.goto(path)
        main = page.locator("main")
        in_new_york = at.astimezone(NEW_YORK)
        expect(main).to_contain_text(f"{in_new_york:%Y-%m-%d %H:%M} EST")
        # Neither New York's hour said to be UTC, nor UTC's hour shown to a New York reader.
        expect(main).not_to_contain_text(f"{in_new_york:%H:%M} UTC")
        expect(main).not_to_contain_text(f"{at.astimezone(UTC):%H:%M}")
        screenshots.take(page, path.strip("/"))


def test_the_admin_shows_every_moment_as_the_desk_does(
    new_page: Callable[..., Page],
    agent_user: User,
    auditor_user: User,
    screenshots: Screenshots,
) -> None:
    maya = CustomerAccount.objects.get(external_id=MAYA)
    change = make_token_change(agent_user, maya)
    change.settle(TokenChange.Outcome.SUCCEEDED)
    change.refresh_from_db()
    page = new_page(timezone_id="America/New_York")
    sign_in(page, auditor_user.get_username(), landing=re.compile(r"^Welcome, "))
    shown = {
        "/admin/lookups/tokenchange/": change.created_at,
        f"/admin/lookups/tokenchange/{change.pk}/change/": change.settled_at,
        "/admin/lookups/customeraccount/": maya.created_at,
        f"/admin/lookups/customeraccount/{maya.pk}/change/": maya.updated_at,
    }
    for path, at in shown.items():
        page.goto(path)
        main = page.locator("#content")
        # Audit rows add the second.
        expect(main).to_contain_text(
            re.compile(f"{at.astimezone(NEW_YORK):%Y-%m-%d %H:%M}(:\\d\\d)? EST")
        )
        # Django's own style ("Dec. 7, 2026, 1:49 p.m.") nowhere, nor a second style in UTC.
        expect(main).not_to_contain_text(re.compile(r"\b[ap]\.m\.|\d{2}:\d{2}:\d{2} UTC"))
        screenshots.take(page, path.strip("/").replace("/", "-"))
