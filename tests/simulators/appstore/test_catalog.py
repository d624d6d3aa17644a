"""The simulator's catalogue: products, storefronts and App Store billing's calendar months."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lookups.simulators.appstore import catalog


@pytest.mark.parametrize(
    ("start", "months", "then"),
    [
        (datetime(2026, 1, 31, 9, 30, tzinfo=UTC), 1, datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), 3, datetime(2027, 2, 15, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), -1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 5, 10, tzinfo=UTC), 12, datetime(2027, 5, 10, tzinfo=UTC)),
    ],
)
def test_a_month_later_is_the_same_day_or_the_months_last(start, months, then):
    assert catalog.from_ms(catalog.add_months(catalog.to_ms(start), months)) == then


def test_milliseconds_and_moments_round_trip_to_the_millisecond():
    moment = datetime(2026, 12, 7, 19, 40, 1, 123000, tzinfo=UTC)
    assert catalog.to_ms(moment) == 1_796_672_401_123
    assert catalog.from_ms(catalog.to_ms(moment)) == moment


def test_every_product_has_one_of_apples_types_and_subscriptions_a_group():
    types = {
        catalog.AUTO_RENEWABLE,
        catalog.NON_RENEWING,
        catalog.CONSUMABLE,
        catalog.NON_CONSUMABLE,
    }
    for product_id, product in catalog.PRODUCTS.items():
        assert product.type in types, product_id
        subscribed = product.type == catalog.AUTO_RENEWABLE
        assert (product.subscription_group is not None) is subscribed, product_id
    assert {catalog.PRO_MONTHLY, catalog.PRO_YEARLY} <= set(catalog.PRODUCTS)
