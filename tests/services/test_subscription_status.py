"""Apple's status of each purchase on the lookup page, read beside the lookup's verification."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.models import Purchase
from lookups.simulators.demo_data import (
    ORDER_BILLING_RETRY,
    ORDER_EXPIRED,
    ORDER_FREE_TRIAL,
    ORDER_GRACE_PERIOD,
    ORDER_LINKED_IN_APP,
    ORDER_NON_CONSUMABLE,
    ORDER_REFUNDED,
    ORDER_REVOKED_SUBSCRIPTION,
)

pytestmark = pytest.mark.django_db


def _look_up(client, order_id: str) -> str:
    response = client.get(reverse("lookups:look_up"), {"order_id": order_id})
    assert response.status_code == 200
    return response.text


def _status_of_order(order_id: str) -> Purchase:
    return Purchase.objects.get(order_id=order_id)


@pytest.mark.parametrize(
    ("order_id", "status", "words"),
    [
        (ORDER_LINKED_IN_APP, "active", "Active"),
        (ORDER_FREE_TRIAL, "active", "Active"),
        (ORDER_EXPIRED, "expired", "Expired"),
        (ORDER_BILLING_RETRY, "billing_retry", "Billing retry"),
        (ORDER_GRACE_PERIOD, "grace_period", "Grace period until"),
        (ORDER_REVOKED_SUBSCRIPTION, "revoked", "Revoked"),
    ],
)
def test_each_subscription_shows_apples_status(
    agent_client, appstore_settings, order_id, status, words
):
    page = _look_up(agent_client, order_id)
    assert f'class="badge status-badge status-{status}"' in page
    assert words in page
    purchase = _status_of_order(order_id)
    assert purchase.status == status
    assert purchase.status_source == Purchase.StatusSource.STATUS_READ
    assert purchase.renewal_info and purchase.status_learnt_at is not None


def test_an_expired_subscription_says_why_in_plain_words(agent_client, appstore_settings):
    page = _look_up(agent_client, ORDER_EXPIRED)
    assert "Why it expired: The customer cancelled it" in page
    assert "Auto-renew off" in page
    assert _status_of_order(ORDER_EXPIRED).expiration_intent == 1


def test_an_active_subscription_shows_auto_renew_and_the_next_renewal(
    agent_client, appstore_settings
):
    page = _look_up(agent_client, ORDER_FREE_TRIAL)
    purchase = _status_of_order(ORDER_FREE_TRIAL)
    assert purchase.auto_renew is True and purchase.next_renewal_date is not None
    assert "Auto-renew on" in page
    assert f"Renews {purchase.next_renewal_date:%Y-%m-%d}" in page
    assert purchase.next_renewal_product_id in page


def test_auto_renew_off_is_shown(agent_client, appstore_settings):
    page = _look_up(agent_client, ORDER_LINKED_IN_APP)
    assert _status_of_order(ORDER_LINKED_IN_APP).auto_renew is False
    assert "Auto-renew off" in page and "Renews " not in page


def test_the_grace_period_end_comes_from_the_signed_renewal_info(agent_client, appstore_settings):
    page = _look_up(agent_client, ORDER_GRACE_PERIOD)
    purchase = _status_of_order(ORDER_GRACE_PERIOD)
    assert purchase.grace_period_ends_at is not None
    assert purchase.renewal_info["gracePeriodExpiresDate"]
    assert f"Grace period until {purchase.grace_period_ends_at:%Y-%m-%d}" in page


@pytest.mark.parametrize(
    ("order_id", "status", "words"),
    [(ORDER_NON_CONSUMABLE, "owned", "Owned"), (ORDER_REFUNDED, "refunded", "Refunded")],
)
def test_one_time_purchases_show_owned_or_refunded(
    agent_client, appstore_settings, order_id, status, words
):
    page = _look_up(agent_client, order_id)
    assert f"status-{status}" in page and words in page
    assert _status_of_order(order_id).status == status


def test_an_older_status_does_not_replace_a_newer_one(agent_client, appstore_settings):
    _look_up(agent_client, ORDER_EXPIRED)
    purchase = _status_of_order(ORDER_EXPIRED)
    # As if a newer notification had already said it was active again.
    Purchase.objects.filter(pk=purchase.pk).update(
        status=Purchase.Status.ACTIVE, status_signed_at=purchase.status_signed_at.replace(year=2999)
    )
    _look_up(agent_client, ORDER_EXPIRED)
    assert _status_of_order(ORDER_EXPIRED).status == Purchase.Status.ACTIVE


def test_a_status_read_apple_refuses_is_told_and_the_lookup_still_shows(
    agent_client, appstore_settings, simulator
):
    simulator.inject_fault("internal_error", endpoint="statuses", times=5)
    page = _look_up(agent_client, ORDER_EXPIRED)
    assert "subscription status could not be read" in page
    assert "Order " + ORDER_EXPIRED in page
