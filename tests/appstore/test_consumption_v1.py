"""Send Consumption Information V1 through our client, and V2's refusals in their own classes."""

from __future__ import annotations

import pytest

from lookups.appstore.client import ConsumptionInformationV1
from lookups.appstore.errors import (
    ConsumptionPercentageAutoRenewableSubscriptionError,
    InvalidConsumptionInformationError,
    InvalidRefundPreferenceError,
)
from lookups.simulators.demo_data import (
    ORDER_CONSUMABLES,
    ORDER_OFFER_CODE,
)
from tests.fixtures.appstore_api import error_of


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
