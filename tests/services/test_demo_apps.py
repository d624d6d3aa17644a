"""The demo's two apps: the settings' app named for the demo, and Coach beside it."""

from __future__ import annotations

import pytest

from lookups.models import App
from lookups.services.adapty_keys import adapty_key_of
from lookups.services.demo_apps import create_demo_apps
from lookups.simulators.demo_apps import (
    COACH_ADAPTY_SECRET_KEY,
    COACH_APP_APPLE_ID,
    COACH_BUNDLE_ID,
)

pytestmark = pytest.mark.django_db


def test_coach_is_registered_beside_the_settings_app_once(settings):
    names = create_demo_apps()
    again = create_demo_apps()

    assert "Coach" in names and "Supportdesk Demo" in names
    assert sorted(again) == sorted(names)
    coach = App.objects.get(bundle_id=COACH_BUNDLE_ID)
    assert coach.app_apple_id == COACH_APP_APPLE_ID
    assert coach.uses_production and coach.uses_sandbox
    # One team key signs for every app: Coach names where the key is, never the key itself.
    assert coach.key_id == settings.APPSTORE_KEY_ID
    assert "PRIVATE KEY" not in coach.private_key_source


def test_an_app_renamed_in_the_admin_keeps_its_name():
    create_demo_apps()
    App.objects.filter(bundle_id=COACH_BUNDLE_ID).update(name="Coach Pro")

    names = create_demo_apps()

    assert "Coach Pro" in names and "Coach" not in names


def test_coach_sends_to_the_local_adapty_with_its_own_key_from_a_file(settings, tmp_path):
    settings.ADAPTY_SECRET_KEY = settings.ADAPTY_SIMULATOR_SECRET_KEY
    settings.VAR_DIR = tmp_path

    create_demo_apps()

    coach = App.objects.get(bundle_id=COACH_BUNDLE_ID)
    assert coach.adapty_key_source == str(tmp_path / "coach-adapty-key")
    assert adapty_key_of(coach) == COACH_ADAPTY_SECRET_KEY


def test_coach_stays_off_an_adapty_that_is_not_the_local_one(settings):
    settings.ADAPTY_SECRET_KEY = "secret_live_of_a_real_app"

    create_demo_apps()

    assert App.objects.get(bundle_id=COACH_BUNDLE_ID).adapty_key_source == ""
