"""The App Store client and verifier built once from the settings, and again when they change."""

from __future__ import annotations

import pytest

from lookups.services.clients import adapty_client, app_store_client, transaction_verifier
from lookups.simulators.demo_data import ORDER_OFFER_CODE

pytestmark = pytest.mark.django_db


def test_the_client_and_verifier_are_built_once(appstore_settings):
    assert app_store_client() is app_store_client()
    assert transaction_verifier() is transaction_verifier()


def test_a_changed_setting_builds_them_again_from_it(appstore_settings, simulator):
    before = app_store_client()

    appstore_settings.APPSTORE_TIMEOUT_SECONDS = 1.5

    after = app_store_client()
    assert after is not before
    assert after.look_up_order(ORDER_OFFER_CODE).signed_transactions


def test_the_client_reads_its_key_from_the_file_when_none_is_given(
    appstore_settings, appstore_private_key_pem, simulator, tmp_path
):
    key_file = tmp_path / "key.p8"
    key_file.write_text(appstore_private_key_pem)
    appstore_settings.APPSTORE_PRIVATE_KEY = ""
    appstore_settings.APPSTORE_PRIVATE_KEY_PATH = str(key_file)

    assert app_store_client().look_up_order(ORDER_OFFER_CODE).signed_transactions


def test_an_adapty_client_takes_the_settings_as_they_are_now(adapty_settings):
    adapty_settings.ADAPTY_BASE_URL = "http://127.0.0.1:9201"
    adapty_settings.ADAPTY_MAX_ATTEMPTS = 2
    first = adapty_client("secret_test_first")
    adapty_settings.ADAPTY_BASE_URL = "http://127.0.0.1:9202/"

    second = adapty_client("secret_test_second", "Coach's Adapty key (COACH_ADAPTY_KEY)")

    assert first.url.startswith("http://127.0.0.1:9201/") and first.max_attempts == 2
    assert second.url.startswith("http://127.0.0.1:9202/")
    # Each client sends with the key it was given: each app's own.
    assert (first.secret_key, second.secret_key) == ("secret_test_first", "secret_test_second")
    assert second.key_name == "Coach's Adapty key (COACH_ADAPTY_KEY)"
