"""Extend Subscription Renewal Dates for All Active Subscribers and its status, driven by Apple's
Python library: answered at once, worked through in the background, announced per subscription
and summed up at the end."""

from __future__ import annotations

import time
import uuid

import pytest
from appstoreserverlibrary.api_client import APIException
from appstoreserverlibrary.models.ExtendReasonCode import ExtendReasonCode
from appstoreserverlibrary.models.MassExtendRenewalDateRequest import (
    MassExtendRenewalDateRequest,
)

from lookups.simulators.appstore.catalog import DAY_MS, LIFETIME, PRO_MONTHLY
from lookups.simulators.appstore.events import RENEWAL_EXTENDED
from lookups.simulators.demo_data import PURCHASE_FREE_TRIAL


def mass_request(identifier: str, **options) -> MassExtendRenewalDateRequest:
    return MassExtendRenewalDateRequest(
        extendByDays=options.pop("days", 7),
        extendReasonCode=ExtendReasonCode.SERVICE_ISSUE_OR_OUTAGE,
        requestIdentifier=identifier,
        productId=options.pop("product_id", PRO_MONTHLY),
        **options,
    )


def wait_until_complete(apple_client, identifier: str, product_id: str = PRO_MONTHLY):
    deadline = time.monotonic() + 10
    seen = []
    while time.monotonic() < deadline:
        status = apple_client.get_status_of_subscription_renewal_date_extensions(
            identifier, product_id
        )
        seen.append(status)
        if status.complete:
            return status, seen
        time.sleep(0.05)
    raise AssertionError(f"The mass extension never completed: {seen[-1]}")


def test_it_extends_every_active_subscriber_in_the_background(
    apple_client, apple_verifier, simulator
):
    simulator.mass_extensions.duration_seconds = 0.5
    subscribers = simulator.store.active_subscriptions(PRO_MONTHLY, None)
    expires = {latest: simulator.transaction(latest)["expiresDate"] for _, latest in subscribers}
    identifier = str(uuid.uuid4())

    answer = apple_client.extend_renewal_date_for_all_active_subscribers(mass_request(identifier))

    assert answer.requestIdentifier == identifier
    first = apple_client.get_status_of_subscription_renewal_date_extensions(identifier, PRO_MONTHLY)
    assert first.complete is False and first.completeDate is None
    status, _ = wait_until_complete(apple_client, identifier)
    # The free trial can't be extended; every other active subscriber is, by 7 days.
    assert (status.succeededCount, status.failedCount) == (len(subscribers) - 1, 1)
    assert status.completeDate is not None
    for original_id, latest in subscribers:
        moved = simulator.transaction(latest)["expiresDate"] - expires[latest]
        assert moved == (0 if original_id == PURCHASE_FREE_TRIAL else 7 * DAY_MS)

    sent = simulator.notifications.all()
    kinds = [(n.notification_type, n.subtype) for n in sent]
    assert kinds.count((RENEWAL_EXTENDED, None)) == len(subscribers) - 1
    assert kinds.count(("RENEWAL_EXTENSION", "FAILURE")) == 1
    assert kinds[-1] == ("RENEWAL_EXTENSION", "SUMMARY")
    summary = apple_verifier.verify_and_decode_notification(sent[-1].signed_payload).summary
    assert summary.requestIdentifier == identifier
    assert summary.productId == PRO_MONTHLY
    assert (summary.succeededCount, summary.failedCount) == (len(subscribers) - 1, 1)
    failure = next(n for n in sent if n.subtype == "FAILURE")
    decoded = apple_verifier.verify_and_decode_notification(failure.signed_payload)
    info = apple_verifier.verify_and_decode_signed_transaction(decoded.data.signedTransactionInfo)
    assert info.originalTransactionId == PURCHASE_FREE_TRIAL


def test_it_keeps_to_the_storefronts_asked_for(apple_client, simulator):
    simulator.mass_extensions.duration_seconds = 0.2
    identifier = str(uuid.uuid4())
    apple_client.extend_renewal_date_for_all_active_subscribers(
        mass_request(identifier, storefrontCountryCodes=["USA", "GBR"])
    )
    status, _ = wait_until_complete(apple_client, identifier)
    assert (status.succeededCount, status.failedCount) == (2, 0)


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"days": 91}, 4000009),
        ({"product_id": LIFETIME}, 4000023),
        ({"product_id": "com.example.unknown"}, 4000023),
        ({"storefrontCountryCodes": []}, 4000027),
        ({"storefrontCountryCodes": ["usa"]}, 4000028),
    ],
)
def test_it_refuses_what_apple_refuses(apple_client, simulator, options, code):
    with pytest.raises(APIException) as refused:
        apple_client.extend_renewal_date_for_all_active_subscribers(
            mass_request(str(uuid.uuid4()), **options)
        )
    assert (refused.value.http_status_code, refused.value.raw_api_error) == (400, code)
    assert simulator.notifications.all() == []


def test_the_status_of_a_request_never_made_is_4040009(apple_client):
    with pytest.raises(APIException) as unknown:
        apple_client.get_status_of_subscription_renewal_date_extensions(
            str(uuid.uuid4()), PRO_MONTHLY
        )
    assert (unknown.value.http_status_code, unknown.value.raw_api_error) == (404, 4040009)
