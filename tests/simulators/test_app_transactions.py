"""Get App Transaction Info, Finish Transaction and Send Consumption Information V1, driven by
Apple's Python library against the simulator."""

from __future__ import annotations

import pytest
from appstoreserverlibrary.api_client import APIException
from appstoreserverlibrary.models.ConsumptionRequestV1 import ConsumptionRequestV1

from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    CREDITS_UNFINISHED,
    LUKAS,
    ORDER_CONSUMABLES,
    TRANSACTION_NOT_FOUND,
)


def test_app_transaction_info_is_the_customers_download_signed(apple_client, apple_verifier):
    by_purchase = apple_client.get_app_transaction_info(CREDITS_UNFINISHED)
    by_customer = apple_client.get_app_transaction_info(APP_TRANSACTION_IDS[LUKAS])

    app = apple_verifier.verify_and_decode_app_transaction(by_purchase.signedAppTransactionInfo)
    again = apple_verifier.verify_and_decode_app_transaction(by_customer.signedAppTransactionInfo)
    assert app.appTransactionId == APP_TRANSACTION_IDS[LUKAS] == again.appTransactionId
    assert app.originalPlatform is not None and app.originalApplicationVersion
    assert app.originalPurchaseDate == again.originalPurchaseDate
    assert app.rawReceiptType == "Production"


def test_app_transaction_info_of_an_unknown_transaction_is_4040010(apple_client):
    with pytest.raises(APIException) as unknown:
        apple_client.get_app_transaction_info(TRANSACTION_NOT_FOUND)
    assert (unknown.value.http_status_code, unknown.value.raw_api_error) == (404, 4040010)


def test_finish_transaction_marks_it_finished(apple_client, simulator):
    assert simulator.store.is_finished(CREDITS_UNFINISHED) is False
    apple_client.finish_transaction(CREDITS_UNFINISHED)
    assert simulator.store.is_finished(CREDITS_UNFINISHED) is True
    assert simulator.requests[-1] == (
        "POST",
        f"/inApps/v1/transactions/{CREDITS_UNFINISHED}/finish",
    )


def test_finish_transaction_refuses_an_app_transaction_id(apple_client):
    with pytest.raises(APIException) as refused:
        apple_client.finish_transaction(APP_TRANSACTION_IDS[LUKAS])
    assert (refused.value.http_status_code, refused.value.raw_api_error) == (400, 4000048)


def test_consumption_information_v1(apple_client, simulator):
    transaction_id = simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]
    # Deprecated by V2, still offered by Apple's libraries.
    apple_client.send_consumption_data(
        transaction_id,
        ConsumptionRequestV1(
            customerConsented=True,
            rawConsumptionStatus=1,
            rawPlatform=1,
            sampleContentProvided=False,
            rawDeliveryStatus=0,
            appAccountToken="",
            rawAccountTenure=2,
            rawPlayTime=3,
            rawLifetimeDollarsRefunded=0,
            rawLifetimeDollarsPurchased=1,
            rawUserStatus=1,
            rawRefundPreference=2,
        ),
    )
    assert simulator.store.consumption_answers[transaction_id][0]["consumptionStatus"] == 1
