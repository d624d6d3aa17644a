"""The body sent to Adapty, built from the demo's signed App Store transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lookups.adapty import TransactionBodyError, transaction_body
from lookups.adapty.transaction_body import STOREFRONT_COUNTRIES
from lookups.appstore.transactions import Transaction
from lookups.simulators.demo_data import (
    CREDITS_UNFINISHED,
    OFFER_CODE_LATEST,
    PURCHASE_LIFETIME,
    PURCHASE_OFFER_CODE,
    PURCHASE_PAY_AS_YOU_GO,
    PURCHASE_REFUNDED,
    PURCHASE_SEASON_PASS,
    TRANSACTION_NOT_FOUND,
    UPGRADED_MONTHLY_LATEST,
)
from tests.fixtures.appstore_simulator import demo_transaction


def iso(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- The body -------------------------------------------------------------------------------


def test_a_subscription_bought_with_an_offer_code(simulator):
    payload = simulator.transaction(PURCHASE_OFFER_CODE)
    txn = Transaction.from_payload(payload)

    body = transaction_body(txn, now=txn.purchase_date + timedelta(days=1))

    assert body == {
        "purchase_type": "subscription",
        "store": "app_store",
        "environment": "Production",
        "store_product_id": "com.example.supportdesk.demo.pro.monthly",
        "store_transaction_id": PURCHASE_OFFER_CODE,
        "store_original_transaction_id": PURCHASE_OFFER_CODE,
        "is_family_shared": False,
        "price": {"country": "US", "currency": "USD", "value": Decimal(0)},
        "purchased_at": iso(payload["purchaseDate"]),
        "offer": {"category": "offer_code", "type": "free_trial", "id": "PROFREEMONTH"},
        "originally_purchased_at": iso(payload["originalPurchaseDate"]),
        "expires_at": iso(payload["expiresDate"]),
        "renew_status": True,
    }


def test_a_renewal_keeps_the_original_and_renews_only_while_its_period_runs(simulator):
    txn = demo_transaction(simulator, OFFER_CODE_LATEST)

    running = transaction_body(txn, now=txn.expires_date - timedelta(minutes=1))
    ended = transaction_body(txn, now=txn.expires_date + timedelta(minutes=1))

    assert running["store_transaction_id"] == OFFER_CODE_LATEST
    assert running["store_original_transaction_id"] == PURCHASE_OFFER_CODE
    assert running["originally_purchased_at"] < running["purchased_at"]
    assert "offer" not in running
    assert running["renew_status"] is True
    assert ended["renew_status"] is False


def test_a_pay_as_you_go_offer_in_pounds(simulator):
    body = transaction_body(demo_transaction(simulator, PURCHASE_PAY_AS_YOU_GO))

    assert body["offer"] == {
        "category": "offer_code",
        "type": "pay_as_you_go",
        "id": "BACKTOSCHOOL3",
    }
    assert body["price"] == {"country": "GB", "currency": "GBP", "value": Decimal("2.99")}


def test_a_non_consumable(simulator):
    body = transaction_body(demo_transaction(simulator, PURCHASE_LIFETIME))

    assert body["purchase_type"] == "one_time_purchase"
    assert (
        body["store_transaction_id"] == body["store_original_transaction_id"] == PURCHASE_LIFETIME
    )
    assert body["price"] == {"country": "DE", "currency": "EUR", "value": Decimal("149.99")}
    for subscription_only in ("expires_at", "originally_purchased_at", "renew_status"):
        assert subscription_only not in body
    assert "refunded_at" not in body and "cancellation_reason" not in body


def test_a_consumable_bought_twice_over(simulator):
    body = transaction_body(demo_transaction(simulator, CREDITS_UNFINISHED))

    assert body["purchase_type"] == "one_time_purchase"
    assert body["store_product_id"] == "com.example.supportdesk.demo.credits.10"
    assert body["price"]["value"] == Decimal("3.98")


def test_a_non_renewing_subscription_is_a_one_time_purchase(simulator):
    body = transaction_body(demo_transaction(simulator, PURCHASE_SEASON_PASS))

    assert body["purchase_type"] == "one_time_purchase"
    assert "expires_at" not in body


def test_a_refunded_purchase(simulator):
    payload = simulator.transaction(PURCHASE_REFUNDED)

    body = transaction_body(Transaction.from_payload(payload))

    assert body["refunded_at"] == iso(payload["revocationDate"])
    assert body["cancellation_reason"] == "refund"
    assert body["price"]["country"] == "CA"


def test_a_refunded_subscription_does_not_renew(simulator):
    payload = simulator.transaction(OFFER_CODE_LATEST)
    payload |= {"revocationDate": payload["purchaseDate"] + 60_000, "revocationReason": 0}
    txn = Transaction.from_payload(payload)

    body = transaction_body(txn, now=txn.purchase_date + timedelta(days=1))

    assert body["renew_status"] is False
    assert body["cancellation_reason"] == "refund"


def test_an_upgraded_subscription_does_not_renew(simulator):
    txn = demo_transaction(simulator, UPGRADED_MONTHLY_LATEST)

    body = transaction_body(txn, now=txn.purchase_date + timedelta(minutes=1))

    assert body["renew_status"] is False
    assert body["cancellation_reason"] == "upgraded"


@pytest.mark.parametrize(
    ("offer_type", "discount", "expected"),
    [
        (1, "FREE_TRIAL", {"category": "introductory", "type": "free_trial"}),
        (2, "PAY_UP_FRONT", {"category": "promotional", "type": "pay_up_front", "id": "OFFER"}),
        (4, "PAY_AS_YOU_GO", {"category": "win_back", "type": "pay_as_you_go", "id": "OFFER"}),
    ],
)
def test_each_kind_of_offer(simulator, offer_type, discount, expected):
    payload = simulator.transaction(OFFER_CODE_LATEST)
    payload |= {"offerType": offer_type, "offerDiscountType": discount}
    if offer_type != 1:
        payload["offerIdentifier"] = "OFFER"

    assert transaction_body(Transaction.from_payload(payload))["offer"] == expected


def test_an_offer_adapty_has_no_type_for_is_left_out(simulator):
    payload = simulator.transaction(PURCHASE_LIFETIME)
    payload |= {"offerType": 3, "offerDiscountType": "ONE_TIME", "offerIdentifier": "LAUNCH"}

    assert "offer" not in transaction_body(Transaction.from_payload(payload))


def test_a_one_time_purchase_is_sent_under_its_original_transaction_id(simulator):
    payload = simulator.transaction(PURCHASE_LIFETIME) | {"transactionId": TRANSACTION_NOT_FOUND}

    body = transaction_body(Transaction.from_payload(payload))

    assert (
        body["store_transaction_id"] == body["store_original_transaction_id"] == PURCHASE_LIFETIME
    )


def test_sandbox_is_named_and_other_environments_are_left_out(simulator):
    sandbox = simulator.transaction(PURCHASE_LIFETIME) | {"environment": "Sandbox"}
    xcode = simulator.transaction(PURCHASE_LIFETIME) | {"environment": "Xcode"}

    assert transaction_body(Transaction.from_payload(sandbox))["environment"] == "Sandbox"
    assert "environment" not in transaction_body(Transaction.from_payload(xcode))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"originalTransactionId": "1" * 51, "transactionId": "1" * 51}, "longer than the 50"),
        ({"storefront": "ATA"}, "storefront ATA is not in"),
        ({"price": None}, "carries no price"),
        ({"currency": None}, "carries no currency"),
        ({"productId": None}, "carries no product ID"),
    ],
)
def test_what_adapty_could_not_take_is_refused_before_sending(simulator, change, message):
    payload = simulator.transaction(PURCHASE_LIFETIME) | change

    with pytest.raises(TransactionBodyError, match=message):
        transaction_body(Transaction.from_payload(payload))


def test_a_subscription_without_an_expiry_is_refused(simulator):
    payload = simulator.transaction(OFFER_CODE_LATEST)
    del payload["expiresDate"]

    with pytest.raises(TransactionBodyError, match="no expiry date"):
        transaction_body(Transaction.from_payload(payload))


def test_every_storefront_country_is_a_two_letter_code():
    assert STOREFRONT_COUNTRIES["USA"] == "US" and STOREFRONT_COUNTRIES["JPN"] == "JP"
    assert all(len(a3) == 3 and len(a2) == 2 for a3, a2 in STOREFRONT_COUNTRIES.items())
    assert len(set(STOREFRONT_COUNTRIES.values())) == len(STOREFRONT_COUNTRIES)
