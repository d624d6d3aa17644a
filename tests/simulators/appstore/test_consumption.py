"""Send Consumption Information V2's rules beyond the body's types, and V1, as Apple's pages say.

The percentage goes only with a delivered item and never on an auto-renewable subscription;
GRANT_PRORATED needs a percentage strictly between 0 and 100000; a family-shared transaction and
an appTransactionId are refused.
"""

from __future__ import annotations

import pytest

from lookups.simulators.demo_data import (
    APP_TRANSACTION_IDS,
    LUKAS,
    ORDER_CONSUMABLES,
    ORDER_FAMILY_SHARED,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
)
from tests.fixtures.appstore_api import error_of

V2 = "/inApps/v2/transactions/consumption/"
V1 = "/inApps/v1/transactions/consumption/"
BASE = {"customerConsented": True, "sampleContentProvided": False, "deliveryStatus": "DELIVERED"}
OUT_OF_RANGE = "Invalid request. The consumption percentage is outside the valid range."
UNDELIVERED = (
    "Invalid request. The consumption percentage must be zero for the provided delivery status."
)


@pytest.mark.parametrize(
    ("order", "changes", "expected"),
    [
        (
            ORDER_CONSUMABLES,
            {"deliveryStatus": "UNDELIVERED_OTHER", "consumptionPercentage": 5_000},
            (400, 4000000, UNDELIVERED),
        ),
        (
            ORDER_OFFER_CODE,
            {"consumptionPercentage": 10_000},
            (
                400,
                4000209,
                "Invalid request. The consumption percentage field is not supported for "
                "auto-renewable subscription transactions.",
            ),
        ),
        (
            ORDER_NON_CONSUMABLE,
            {"refundPreference": "GRANT_PRORATED", "consumptionPercentage": 0},
            (400, 4000000, OUT_OF_RANGE),
        ),
        (
            ORDER_NON_CONSUMABLE,
            {"refundPreference": "GRANT_PRORATED", "consumptionPercentage": 100_000},
            (400, 4000000, OUT_OF_RANGE),
        ),
        (ORDER_CONSUMABLES, {"consumptionPercentage": -1}, (400, 4000000, OUT_OF_RANGE)),
        (
            ORDER_CONSUMABLES,
            {"refundPreference": "MAYBE"},
            (400, 4000044, "Invalid request. The refund preference field is invalid."),
        ),
        (
            ORDER_FAMILY_SHARED,
            {},
            (
                400,
                4000185,
                "Invalid request. Family Sharing transactions aren't supported by this endpoint.",
            ),
        ),
    ],
)
def test_v2_refuses_what_apple_refuses(signed_request, simulator, order, changes, expected):
    transaction_id = simulator.order_transaction_ids(order)[0]
    response = signed_request("PUT", V2 + transaction_id, json={**BASE, **changes})
    assert error_of(response) == expected
    assert simulator.store.consumption_answers == {}


@pytest.mark.parametrize(
    ("order", "changes"),
    [
        (ORDER_CONSUMABLES, {"deliveryStatus": "UNDELIVERED_OTHER", "consumptionPercentage": 0}),
        (ORDER_OFFER_CODE, {"refundPreference": "GRANT_PRORATED"}),
        (ORDER_NON_CONSUMABLE, {"refundPreference": "GRANT_PRORATED", "consumptionPercentage": 1}),
        (ORDER_CONSUMABLES, {"consumptionPercentage": 100_000, "refundPreference": "DECLINE"}),
    ],
)
def test_v2_accepts_what_apple_accepts(signed_request, simulator, order, changes):
    transaction_id = simulator.order_transaction_ids(order)[0]
    response = signed_request("PUT", V2 + transaction_id, json={**BASE, **changes})
    assert response.status_code == 202
    assert len(simulator.store.consumption_answers[transaction_id]) == 1


def test_v2_refuses_an_app_transaction_id(signed_request, simulator):
    response = signed_request("PUT", V2 + APP_TRANSACTION_IDS[LUKAS], json=BASE)
    assert error_of(response) == (
        400,
        4000048,
        "Invalid request. App transactions aren't supported by this endpoint.",
    )


V1_BODY = {
    "customerConsented": True,
    "consumptionStatus": 1,
    "platform": 1,
    "sampleContentProvided": False,
    "deliveryStatus": 0,
    "appAccountToken": "",
    "accountTenure": 3,
    "playTime": 2,
    "lifetimeDollarsRefunded": 0,
    "lifetimeDollarsPurchased": 2,
    "userStatus": 1,
    "refundPreference": 2,
}


def test_v1_is_served_and_recorded(signed_request, simulator):
    transaction_id = simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]
    response = signed_request("PUT", V1 + transaction_id, json=V1_BODY)
    assert response.status_code == 202
    assert simulator.store.consumption_answers[transaction_id] == [V1_BODY]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"customerConsented": False}, 4000035),
        ({"consumptionStatus": 4}, 4000034),
        ({"platform": 3}, 4000039),
        ({"sampleContentProvided": None}, 4000041),
        ({"deliveryStatus": 6}, 4000036),
        ({"appAccountToken": "not-a-uuid"}, 4000033),
        ({"accountTenure": 8}, 4000032),
        ({"playTime": 8}, 4000040),
        ({"lifetimeDollarsRefunded": 8}, 4000038),
        ({"lifetimeDollarsPurchased": True}, 4000037),
        ({"userStatus": 5}, 4000042),
        ({"refundPreference": 4}, 4000044),
    ],
)
def test_v1_checks_each_field(signed_request, simulator, changes, code):
    transaction_id = simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]
    response = signed_request("PUT", V1 + transaction_id, json={**V1_BODY, **changes})
    assert (response.status_code, response.json()["errorCode"]) == (400, code)
    assert simulator.store.consumption_answers == {}
