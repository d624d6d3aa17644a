"""Send Consumption Information V2: our client against the simulator, which checks the body as
Apple does, answers 202, and decides the open refund request a moment later."""

from __future__ import annotations

import threading

import pytest

from lookups.appstore.client import ConsumptionInformation
from lookups.appstore.errors import (
    InvalidConsumptionInformationError,
    InvalidCustomerConsentedError,
    InvalidDeliveryStatusError,
    InvalidSampleContentProvidedError,
    TransactionIdNotFoundError,
)
from lookups.simulators.appstore.events import CONSUMPTION_REQUEST, REFUND, REFUND_DECLINED
from lookups.simulators.demo_data import ORDER_CONSUMABLES, ORDER_NON_CONSUMABLE
from tests.fixtures.appstore_api import error_of

DELIVERED = ConsumptionInformation(
    customer_consented=True,
    delivery_status="DELIVERED",
    sample_content_provided=False,
    consumption_percentage=75_000,
    refund_preference="DECLINE",
)


def credits_pack(simulator) -> str:
    return simulator.order_transaction_ids(ORDER_CONSUMABLES)[0]


def decision_heard(store_listener) -> threading.Event:
    """Set once the simulator announces its refund decision."""
    decided = threading.Event()

    def hear(event) -> None:
        if event.notification_type in (REFUND, REFUND_DECLINED):
            decided.set()

    store_listener(hear)
    return decided


def test_it_is_accepted_and_recorded(api_client, simulator):
    transaction_id = credits_pack(simulator)
    assert api_client.send_consumption_information(transaction_id, DELIVERED) is None
    assert simulator.store.consumption_answers[transaction_id] == [
        {
            "customerConsented": True,
            "sampleContentProvided": False,
            "deliveryStatus": "DELIVERED",
            "consumptionPercentage": 75_000,
            "refundPreference": "DECLINE",
        }
    ]
    assert simulator.requests == [("PUT", f"/inApps/v2/transactions/consumption/{transaction_id}")]
    # Without an open refund request there is nothing for Apple to decide.
    assert simulator.store.events == []


def test_a_declined_refund_request(api_client, simulator, store_listener):
    simulator.store.refund_decision_seconds = 0.05
    decided = decision_heard(store_listener)
    transaction_id = credits_pack(simulator)
    simulator.store.request_refund(transaction_id, reason="UNSATISFIED_WITH_PURCHASE")

    api_client.send_consumption_information(transaction_id, DELIVERED)

    assert decided.wait(5)
    request, decision = simulator.store.events
    assert request.notification_type == CONSUMPTION_REQUEST
    assert request.details["consumptionRequestReason"] == "UNSATISFIED_WITH_PURCHASE"
    assert (decision.notification_type, decision.transaction_id) == (
        REFUND_DECLINED,
        transaction_id,
    )
    assert "revocationDate" not in simulator.transaction(transaction_id)
    assert simulator.store.open_refund_requests() == {}


def test_a_granted_refund_request_revokes_the_purchase(
    api_client, api_verifier, simulator, store_listener
):
    simulator.store.refund_decision_seconds = 0.05
    decided = decision_heard(store_listener)
    transaction_id = simulator.order_transaction_ids(ORDER_NON_CONSUMABLE)[0]
    simulator.store.request_refund(transaction_id)

    api_client.send_consumption_information(
        transaction_id,
        ConsumptionInformation(
            customer_consented=True,
            delivery_status="UNDELIVERED_SERVER_OUTAGE",
            sample_content_provided=True,
            refund_preference="GRANT_FULL",
        ),
    )

    assert decided.wait(5)
    assert simulator.store.events[-1].notification_type == REFUND
    transaction = api_verifier.decode_transaction(api_client.get_transaction_info(transaction_id))
    assert transaction.is_revoked
    assert transaction.revocation_type == "REFUND_FULL"
    refunds = api_client.get_refund_history(transaction_id).signed_transactions
    assert transaction_id in [api_verifier.decode_transaction(s).transaction_id for s in refunds]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"customer_consented": False}, InvalidCustomerConsentedError),
        ({"delivery_status": "LOST"}, InvalidDeliveryStatusError),
        ({"sample_content_provided": None}, InvalidSampleContentProvidedError),
        ({"consumption_percentage": 100_001}, InvalidConsumptionInformationError),
        ({"consumption_percentage": -1}, InvalidConsumptionInformationError),
        ({"refund_preference": "MAYBE"}, InvalidConsumptionInformationError),
    ],
)
def test_our_client_refuses_what_apple_would(options, error):
    values = {
        "customer_consented": True,
        "delivery_status": "DELIVERED",
        "sample_content_provided": False,
        **options,
    }
    with pytest.raises(error) as refused:
        ConsumptionInformation(**values)
    assert refused.value.answered_code is None
    assert "Apple error" not in refused.value.describe()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"customerConsented": False},
            (400, 4000035, "Invalid request. The customer consented field is invalid."),
        ),
        (
            {"deliveryStatus": "LOST"},
            (400, 4000036, "Invalid request. The delivery status field is invalid."),
        ),
        (
            {"sampleContentProvided": "no"},
            (400, 4000041, "Invalid request. The sample content provided field is invalid."),
        ),
        (
            {"consumptionPercentage": 100_001},
            (
                400,
                4000000,
                "Invalid request. The consumption percentage is outside the valid range.",
            ),
        ),
        (
            {"refundPreference": "MAYBE"},
            (400, 4000044, "Invalid request. The refund preference field is invalid."),
        ),
    ],
)
def test_the_simulator_checks_the_body_as_apple_does(signed_request, simulator, changes, expected):
    transaction_id = credits_pack(simulator)
    body = {**DELIVERED.body(), **changes}
    response = signed_request(
        "PUT", f"/inApps/v2/transactions/consumption/{transaction_id}", json=body
    )
    assert error_of(response) == expected
    assert simulator.store.consumption_answers == {}


def test_apple_error_codes_reach_the_agent(api_client, simulator):
    with pytest.raises(TransactionIdNotFoundError):
        api_client.send_consumption_information("1999999999999999", DELIVERED)
    simulator.inject_fault("apple_error", endpoint="consumption", error_code=4000035)
    with pytest.raises(InvalidCustomerConsentedError) as refused:
        api_client.send_consumption_information(credits_pack(simulator), DELIVERED)
    assert refused.value.describe() == (
        "Apple accepts consumption information only when the customer has consented to share "
        "it. (Apple error 4000035)"
    )


def test_consumption_takes_its_own_rate_budget(api_client, rate_limiter, simulator):
    api_client.send_consumption_information(credits_pack(simulator), DELIVERED)
    assert rate_limiter.endpoints == ["consumption"]
