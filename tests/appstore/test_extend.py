"""Extend a Subscription Renewal Date: our client against the simulator, which applies Apple's
eligibility rules and announces RENEWAL_EXTENDED."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lookups.appstore.errors import (
    FamilySharedSubscriptionExtensionIneligibleError,
    InvalidExtendByDaysError,
    InvalidExtendReasonCodeError,
    InvalidOriginalTransactionIdError,
    InvalidRequestIdentifierError,
    OriginalTransactionIdNotFoundError,
    SubscriptionExtensionIneligibleError,
    SubscriptionMaxExtensionError,
)
from lookups.simulators.appstore.events import RENEWAL_EXTENDED
from lookups.simulators.demo_data import (
    ORDER_BILLING_RETRY,
    ORDER_EXPIRED,
    ORDER_FAMILY_SHARED,
    ORDER_FREE_TRIAL,
    ORDER_GRACE_PERIOD,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    ORDER_REVOKED_SUBSCRIPTION,
)
from tests.fixtures.appstore_api import error_of


def original_of(simulator, order_id: str) -> str:
    return simulator.order_transaction_ids(order_id)[0]


def extend(client, original: str, *, days: int = 7, reason: int = 3, request: str = "ticket-1"):
    return client.extend_subscription_renewal_date(
        original, extend_by_days=days, extend_reason_code=reason, request_identifier=request
    )


def test_it_moves_the_renewal_date_and_announces_it(
    api_client, api_verifier, simulator, store_listener
):
    heard = []
    store_listener(heard.append)
    original = original_of(simulator, ORDER_OFFER_CODE)
    current = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    before = api_verifier.decode_transaction(api_client.get_transaction_info(current))

    answer = extend(api_client, original, days=10)

    assert answer.success is True
    assert answer.original_transaction_id == original
    assert answer.web_order_line_item_id == before.web_order_line_item_id
    assert answer.effective_date == before.expires_date + timedelta(days=10)
    after = api_verifier.decode_transaction(api_client.get_transaction_info(current))
    assert after.expires_date == answer.effective_date
    [group] = api_client.get_all_subscription_statuses(original).groups
    renewal = api_verifier.decode_renewal_info(group.last_transactions[0].signed_renewal_info)
    assert renewal.renewal_date == answer.effective_date
    [event] = simulator.store.events
    assert event.notification_type == RENEWAL_EXTENDED
    assert (event.original_transaction_id, event.transaction_id) == (original, current)
    assert heard == [event]
    assert simulator.requests[1] == ("PUT", f"/inApps/v1/subscriptions/extend/{original}")


def test_the_same_request_identifier_extends_once(api_client, simulator):
    original = original_of(simulator, ORDER_OFFER_CODE)
    first = extend(api_client, original, request="ticket-42")
    again = extend(api_client, original, request="ticket-42")

    assert again == first
    assert len(simulator.store.events) == 1
    assert len(simulator.store.renewal_state(original).extensions) == 1


def test_a_third_extension_within_a_year_is_refused(api_client, simulator):
    original = original_of(simulator, ORDER_OFFER_CODE)
    extend(api_client, original, request="a")
    extend(api_client, original, request="b")
    with pytest.raises(SubscriptionExtensionIneligibleError) as refused:
        extend(api_client, original, request="c")
    assert refused.value.answered_code == 4030004
    assert "extended twice in the past year" in refused.value.describe()
    assert len(simulator.store.events) == 2


@pytest.mark.parametrize(
    "order_id",
    [
        ORDER_FREE_TRIAL,
        ORDER_BILLING_RETRY,
        ORDER_GRACE_PERIOD,
        ORDER_EXPIRED,
        ORDER_REVOKED_SUBSCRIPTION,
        ORDER_NON_CONSUMABLE,
    ],
)
def test_apple_refuses_an_ineligible_subscription(api_client, signed_request, simulator, order_id):
    original = original_of(simulator, order_id)
    before = simulator.transaction(simulator.order_transaction_ids(order_id)[-1])

    with pytest.raises(SubscriptionExtensionIneligibleError) as refused:
        extend(api_client, original)

    assert refused.value.http_status == 403
    assert refused.value.describe().endswith("(Apple error 4030004)")
    assert simulator.transaction(simulator.order_transaction_ids(order_id)[-1]) == before
    assert simulator.store.events == []
    body = {"extendByDays": 5, "extendReasonCode": 1, "requestIdentifier": "raw"}
    response = signed_request("PUT", f"/inApps/v1/subscriptions/extend/{original}", json=body)
    assert error_of(response) == (
        403,
        4030004,
        "Forbidden - subscription state ineligible for extension.",
    )


def test_apple_refuses_a_family_shared_subscription(api_client, simulator):
    with pytest.raises(FamilySharedSubscriptionExtensionIneligibleError) as refused:
        extend(api_client, original_of(simulator, ORDER_FAMILY_SHARED))
    assert refused.value.answered_code == 4030007
    assert "Family Sharing" in refused.value.describe()


def test_unknown_and_malformed_purchases(api_client, simulator):
    with pytest.raises(OriginalTransactionIdNotFoundError):
        extend(api_client, "1999999999999999")
    renewal = simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1]
    with pytest.raises(OriginalTransactionIdNotFoundError):
        extend(api_client, renewal)
    with pytest.raises(InvalidOriginalTransactionIdError):
        extend(api_client, "not-a-number")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"days": 0}, InvalidExtendByDaysError),
        ({"days": 91}, InvalidExtendByDaysError),
        ({"reason": 4}, InvalidExtendReasonCodeError),
        ({"request": ""}, InvalidRequestIdentifierError),
        ({"request": "x" * 129}, InvalidRequestIdentifierError),
    ],
)
def test_our_client_refuses_a_bad_request_before_sending(api_client, simulator, options, error):
    with pytest.raises(error) as refused:
        extend(api_client, original_of(simulator, ORDER_OFFER_CODE), **options)
    assert refused.value.answered_code is None
    assert "Apple error" not in refused.value.describe()
    assert simulator.requests == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"extendByDays": 91, "extendReasonCode": 1, "requestIdentifier": "r"}, 4000009),
        ({"extendByDays": True, "extendReasonCode": 1, "requestIdentifier": "r"}, 4000009),
        ({"extendByDays": 5, "extendReasonCode": 7, "requestIdentifier": "r"}, 4000010),
        ({"extendByDays": 5, "extendReasonCode": 1, "requestIdentifier": "r" * 129}, 4000011),
        ({"extendByDays": 5, "extendReasonCode": 1}, 4000011),
        ("not an object", 4000000),
    ],
)
def test_the_simulator_checks_the_body_as_apple_does(signed_request, simulator, body, code):
    original = original_of(simulator, ORDER_OFFER_CODE)
    response = signed_request("PUT", f"/inApps/v1/subscriptions/extend/{original}", json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == code
    assert simulator.store.renewal_state(original).extensions == []


def test_maximum_extensions_reaches_the_agent_in_plain_words(api_client, simulator):
    simulator.inject_fault("apple_error", endpoint="extend", error_code=4030005)
    with pytest.raises(SubscriptionMaxExtensionError) as refused:
        extend(api_client, original_of(simulator, ORDER_OFFER_CODE))
    assert refused.value.describe() == (
        "This subscription has already had as many extensions as Apple allows. "
        "(Apple error 4030005)"
    )


def test_extensions_take_their_own_rate_budget(api_client, rate_limiter, simulator):
    extend(api_client, original_of(simulator, ORDER_OFFER_CODE))
    assert rate_limiter.endpoints == ["extend"]
