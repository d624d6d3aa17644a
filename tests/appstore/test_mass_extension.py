"""Outage compensation at Apple through our client: a mass extension accepted and followed to
completion, and refused as Apple would."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest

from lookups.appstore.client import MassExtensionRequest
from lookups.appstore.errors import (
    InvalidEmptyStorefrontCountryCodeListError,
    InvalidExtendByDaysError,
    InvalidProductIdError,
    InvalidStorefrontCountryCodeError,
    StatusRequestNotFoundError,
)
from lookups.simulators.appstore.catalog import LIFETIME, PRO_MONTHLY


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
