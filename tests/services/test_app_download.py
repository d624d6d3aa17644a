"""The customer's app download read from Apple and verified, or why it is not shown."""

from __future__ import annotations

import pytest

from lookups.services.app_download import app_download
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE, TRANSACTION_NOT_FOUND

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appstore_settings")]


def test_any_transaction_of_the_customer_gives_their_verified_download(simulator):
    download = app_download(PURCHASE_OFFER_CODE)

    assert download.error == "" and download.app is not None
    assert (
        download.app.app_transaction_id
        == simulator.transaction(PURCHASE_OFFER_CODE)["appTransactionId"]
    )


def test_apples_refusal_is_said_with_its_code(simulator):
    download = app_download(TRANSACTION_NOT_FOUND)
    assert download.app is None and "(Apple error 40400" in download.error


def test_an_answer_for_another_app_is_not_shown_and_names_the_failed_check(
    simulator, appstore_settings
):
    appstore_settings.APPSTORE_APP_APPLE_ID = 999

    download = app_download(PURCHASE_OFFER_CODE)

    assert download.app is None
    assert download.error.startswith("The App Store's answer could not be verified")
    assert download.error.endswith("(check failed: app_apple_id).")
