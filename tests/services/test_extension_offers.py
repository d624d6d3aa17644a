"""Whether "Extend" is offered beside a purchase, and if not, the Apple rule in the way."""

from __future__ import annotations

import pytest

from lookups.models import Purchase
from lookups.services.extension_offers import extension_offers
from lookups.simulators.demo_data import (
    ORDER_FAMILY_SHARED,
    ORDER_NON_CONSUMABLE,
    ORDER_OFFER_CODE,
    PURCHASE_FAMILY_SHARED,
    PURCHASE_LIFETIME,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.links import look_up

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("appstore_settings")]


@pytest.fixture
def purchases(agent_client) -> list[Purchase]:
    for order_id in (ORDER_OFFER_CODE, ORDER_FAMILY_SHARED, ORDER_NON_CONSUMABLE):
        look_up(agent_client, order_id)
    return list(Purchase.objects.all())


def test_an_active_subscription_may_be_extended(purchases):
    offer = extension_offers(purchases)[PURCHASE_OFFER_CODE]
    assert offer.can_extend and offer.why_not == ""


def test_a_family_shared_subscription_says_apples_rule(purchases):
    offer = extension_offers(purchases)[PURCHASE_FAMILY_SHARED]
    assert not offer.can_extend
    assert "Family Shar" in offer.why_not


def test_what_is_not_a_subscription_has_no_offer_at_all(purchases):
    offers = extension_offers([*purchases, None])
    assert PURCHASE_LIFETIME not in offers
    assert set(offers) == {PURCHASE_OFFER_CODE, PURCHASE_FAMILY_SHARED}
