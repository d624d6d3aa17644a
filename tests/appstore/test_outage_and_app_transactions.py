"""Our client's calls for outage compensation (mass extension and its status), the customer's
app download (Get App Transaction Info, verified), Finish Transaction and Consumption V1, against
the simulator over real HTTP."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest

from lookups.appstore.app_transactions import AppTransaction
from lookups.appstore.client import ConsumptionInformationV1, MassExtensionRequest
from lookups.appstore.errors import (
    AppTransactionIdNotSupportedError,
    ConsumptionPercentageAutoRenewableSubscriptionError,
    InvalidConsumptionInformationError,
    InvalidEmptyStorefrontCountryCodeListError,
    InvalidExtendByDaysError,
    InvalidProductIdError,
    InvalidRefundPreferenceError,
    InvalidStorefrontCountryCodeError,
    StatusRequestNotFoundError,
    TransactionIdNotFoundError,
)
from lookups.appstore.verify import VerificationError
from lookups.simulators.appstore.catalog import LIFETIME, PRO_MONTHLY
from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    CREDITS_UNFINISHED,
    LUKAS,
    ORDER_CONSUMABLES,
    ORDER_OFFER_CODE,
    TRANSACTION_NOT_FOUND,
)
from tests.fixtures.appstore_api import error_of


def outage(**changes) -> MassExtensionRequest:
    values = {
        "product_id": PRO_MONTHLY,
        "extend_by_days": 5,
        "extend_reason_code": 3,
        "request_identifier": str(uuid.uuid4()),
        **changes,
    }
    return MassExtensionRequest(**values)


def test_a_mass_extension_is_accepted_and_followed_to_completion(api_client, simulator):
    simulator.mass_extensions.duration_seconds = 0.3
    request = outage(storefront_country_codes=("USA", "GBR", "JPN"))

    assert api_client.extend_renewal_dates_for_all_active_subscribers(request) == (
        request.request_identifier
    )
    deadline = time.monotonic() + 10
    status = api_client.get_mass_extension_status(PRO_MONTHLY, request.request_identifier)
    assert status.complete is False and status.complete_date is None
    while not status.complete and time.monotonic() < deadline:
        time.sleep(0.05)
        status = api_client.get_mass_extension_status(PRO_MONTHLY, request.request_identifier)
    assert status.complete is True
    assert isinstance(status.complete_date, datetime)
    assert (status.succeeded_count, status.failed_count) == (3, 0)
    assert status.request_identifier == request.request_identifier
    assert api_client.rate_limiter.endpoints[:2] == ["mass_extend", "mass_extend_status"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"extend_by_days": 0}, InvalidExtendByDaysError),
        ({"extend_by_days": 91}, InvalidExtendByDaysError),
        ({"product_id": ""}, InvalidProductIdError),
        ({"storefront_country_codes": ()}, InvalidEmptyStorefrontCountryCodeListError),
        ({"storefront_country_codes": ("us",)}, InvalidStorefrontCountryCodeError),
    ],
)
def test_our_client_refuses_a_mass_extension_apple_would(changes, error):
    with pytest.raises(error) as refused:
        outage(**changes)
    assert refused.value.answered_code is None


def test_apples_refusal_of_a_mass_extension_reaches_the_agent(api_client):
    with pytest.raises(InvalidProductIdError) as refused:
        api_client.extend_renewal_dates_for_all_active_subscribers(outage(product_id=LIFETIME))
    assert refused.value.answered_code == 4000023
    with pytest.raises(StatusRequestNotFoundError) as unknown:
        api_client.get_mass_extension_status(PRO_MONTHLY, str(uuid.uuid4()))
    assert "(Apple error 4040009)" in unknown.value.describe()


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


def test_finish_transaction(api_client, simulator):
    assert api_client.finish_transaction(CREDITS_UNFINISHED) is None
    assert simulator.store.is_finished(CREDITS_UNFINISHED)
    with pytest.raises(AppTransactionIdNotSupportedError):
        api_client.finish_transaction(APP_TRANSACTION_IDS[LUKAS])


def test_consumption_information_v1(api_client, simulator):
    transaction_id = simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]
    information = ConsumptionInformationV1(
        customer_consented=True,
        consumption_status=2,
        platform=1,
        sample_content_provided=False,
        delivery_status=0,
        app_account_token="",
        account_tenure=3,
        play_time=0,
        lifetime_dollars_refunded=0,
        lifetime_dollars_purchased=2,
        user_status=1,
        refund_preference=1,
    )
    assert api_client.send_consumption_information_v1(transaction_id, information) is None
    assert simulator.store.consumption_answers[transaction_id] == [information.body()]
    with pytest.raises(InvalidConsumptionInformationError):
        ConsumptionInformationV1(**{**information.__dict__, "platform": 3})


def test_v2_refusals_have_their_own_classes(api_client, signed_request, simulator):
    subscription = simulator.order_transaction_ids(ORDER_OFFER_CODE)[0]
    body = {
        "customerConsented": True,
        "sampleContentProvided": False,
        "deliveryStatus": "DELIVERED",
        "consumptionPercentage": 10,
    }
    path = f"/inApps/v2/transactions/consumption/{subscription}"
    assert error_of(signed_request("PUT", path, json=body))[1] == (
        ConsumptionPercentageAutoRenewableSubscriptionError.error_code
    )
    assert InvalidRefundPreferenceError.error_code == 4000044
