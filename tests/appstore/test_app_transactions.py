"""The customer's app download (Get App Transaction Info) read through our client and verified."""

from __future__ import annotations

from datetime import datetime

import pytest

from lookups.appstore.app_transactions import AppTransaction
from lookups.appstore.errors import (
    TransactionIdNotFoundError,
)
from lookups.appstore.verify import VerificationError
from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    CREDITS_UNFINISHED,
    LUKAS,
    TRANSACTION_NOT_FOUND,
)


def test_the_customers_app_download_is_read_and_verified(api_client, api_verifier):
    signed = api_client.get_app_transaction_info(CREDITS_UNFINISHED)
    app = api_verifier.decode_app_transaction(signed)

    assert isinstance(app, AppTransaction)
    assert app.app_transaction_id == APP_TRANSACTION_IDS[LUKAS]
    assert app.bundle_id == api_verifier.bundle_id
    assert app.receipt_type == "Production"
    assert app.original_platform in ("iOS", "macOS", "tvOS", "visionOS")
    assert app.original_application_version and app.application_version
    assert isinstance(app.original_purchase_date, datetime)


def test_a_tampered_app_download_is_refused(api_client, api_verifier):
    signed = api_client.get_app_transaction_info(CREDITS_UNFINISHED)
    header, _, signature = signed.split(".")
    with pytest.raises(VerificationError):
        api_verifier.decode_app_transaction(f"{header}.e30.{signature}")
    with pytest.raises(TransactionIdNotFoundError):
        api_client.get_app_transaction_info(TRANSACTION_NOT_FOUND)
