"""A transaction decoded from Apple's payload: typed fields, values Apple adds later kept, and a
field of the wrong type refused."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from lookups.appstore import transactions
from lookups.appstore.transactions import (
    MAX_MOMENT_MS,
    MIN_MOMENT_MS,
    DecodingError,
    OfferType,
    OwnershipType,
    ProductType,
    Transaction,
)

PAYLOAD = {
    "transactionId": "2000000815627310",
    "originalTransactionId": "2000000815627301",
    "productId": "com.example.pro.monthly",
    "purchaseDate": 1_764_547_200_000,
    "type": "Auto-Renewable Subscription",
    "inAppOwnershipType": "PURCHASED",
    "offerType": 3,
    "price": 4990,
    "currency": "EUR",
    "quantity": 1,
    "isUpgraded": False,
}


def test_apples_fields_become_typed_values():
    transaction = Transaction.from_payload(PAYLOAD)

    assert transaction.purchase_date == datetime(2025, 12, 1, tzinfo=UTC)
    assert transaction.type is ProductType.AUTO_RENEWABLE and transaction.is_subscription
    assert transaction.price == Decimal("4.99") and transaction.currency == "EUR"
    assert transaction.is_offer_code and transaction.offer_type is OfferType.OFFER_CODE
    assert transaction.can_take_account_token and not transaction.is_revoked
    assert transaction.expires_date is None and transaction.app_account_token is None


def test_a_family_shared_purchase_cannot_take_an_account_token():
    shared = Transaction.from_payload({**PAYLOAD, "inAppOwnershipType": "FAMILY_SHARED"})
    assert shared.in_app_ownership_type is OwnershipType.FAMILY_SHARED
    assert not shared.can_take_account_token


def test_values_and_fields_apple_adds_later_are_kept():
    transaction = Transaction.from_payload(
        {**PAYLOAD, "type": "Something New", "offerType": 9, "advancedCommerceInfo": {"a": 1}}
    )

    assert transaction.type == "Something New" and not transaction.is_subscription
    assert transaction.offer_type == 9 and not transaction.is_offer_code
    assert transaction.unknown_fields == {"advancedCommerceInfo": {"a": 1}}


def test_a_null_field_reads_as_absent():
    assert Transaction.from_payload({**PAYLOAD, "price": None}).price is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("purchaseDate", "yesterday"),
        ("purchaseDate", 10**20),
        ("price", True),
        ("price", float("inf")),
        ("isUpgraded", "false"),
        ("productId", ["a"]),
        ("offerType", 2.5),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_by_name(key, value):
    with pytest.raises(DecodingError, match=key):
        Transaction.from_payload({**PAYLOAD, key: value})


def test_a_payload_that_is_not_an_object_is_refused():
    with pytest.raises(DecodingError):
        Transaction.from_payload(["not", "an", "object"])


def eager(payload: dict) -> dict:
    """Every field converted at once, by the converters themselves: what reading gives."""
    values = dict.fromkeys(transactions._ATTRIBUTES)
    for key, (attribute, convert) in transactions._FIELDS.items():
        if payload.get(key) is not None:
            values[attribute] = convert(key, payload[key])
    return values


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"type": "Something New", "offerType": 9, "revocationReason": 1, "isUpgraded": True},
        {"environment": "Sandbox", "offerDiscountType": "FREE_TRIAL", "expiresDate": 0},
        {"purchaseDate": MIN_MOMENT_MS, "expiresDate": MAX_MOMENT_MS, "currency": None},
        {"price": 4990.0, "transactionId": 2000000815627310},  # taken, converted at once
    ],
)
def test_fields_read_later_hold_what_converting_at_once_gives(overrides):
    payload = {**PAYLOAD, **overrides}
    transaction = Transaction.from_payload(payload)

    for attribute, value in eager(payload).items():
        assert getattr(transaction, attribute) == value
        assert type(getattr(transaction, attribute)) is type(value)
    assert transaction == Transaction.from_payload(payload)
    assert transaction.raw == payload


def test_a_field_is_converted_once_and_kept():
    transaction = Transaction.from_payload(PAYLOAD)
    assert transaction.purchase_date is transaction.purchase_date
    with pytest.raises(AttributeError, match="no attribute 'purchase_dates'"):
        transaction.purchase_dates  # noqa: B018


def test_a_transaction_stays_frozen_before_and_after_a_field_is_read():
    transaction = Transaction.from_payload(PAYLOAD)
    with pytest.raises(AttributeError):
        transaction.product_id = "other"  # type: ignore[misc]
    assert transaction.product_id == PAYLOAD["productId"]
    with pytest.raises(AttributeError):
        transaction.product_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("millis", "valid"),
    [
        (MIN_MOMENT_MS, True),
        (MIN_MOMENT_MS - 1, False),
        (MAX_MOMENT_MS, True),
        (MAX_MOMENT_MS + 1, False),
    ],
)
def test_the_time_range_taken_as_it_is_is_the_one_datetime_takes(millis, valid):
    # The check that lets a time be converted later agrees with converting it, at both ends.
    payload = {**PAYLOAD, "expiresDate": millis}
    assert transactions._takes_as_it_is(payload) is valid
    try:
        transactions._moment("expiresDate", millis)
    except DecodingError:
        converts = False
    else:
        converts = True
    assert converts is valid


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("purchaseDate", MAX_MOMENT_MS + 1),
        ("expiresDate", MIN_MOMENT_MS - 1),
        ("quantity", "1"),
        ("inAppOwnershipType", 1),
        ("offerType", "3"),
        ("offerType", False),
        ("currency", {"code": "EUR"}),
        ("isUpgraded", 0),
    ],
)
def test_a_wrong_value_is_refused_when_decoded_not_when_read(key, value):
    with pytest.raises(DecodingError, match=key):
        Transaction.from_payload({**PAYLOAD, key: value})


def test_a_copy_or_a_replacement_made_before_any_field_is_read_holds_every_field():
    transaction = Transaction.from_payload(PAYLOAD)
    changed = dataclasses.replace(transaction, quantity=2)
    copied = copy.copy(Transaction.from_payload(PAYLOAD))

    assert changed.quantity == 2 and changed.purchase_date == transaction.purchase_date
    assert copied == transaction and copied.offer_type is OfferType.OFFER_CODE
    assert hash(copied) == hash(transaction)


JSON_VALUES = [None, "text", 7, 0, True, 1.5, {}, [], MAX_MOMENT_MS, MIN_MOMENT_MS - 1]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_the_quick_check_of_a_payload_agrees_with_the_check_field_by_field(value):
    # Every known field with every kind of JSON value, and a field Apple might add later.
    for key in (*transactions._FIELDS, "fieldAddedLater"):
        payload = {**PAYLOAD, key: value}
        assert transactions._takes_as_it_is(payload) is (
            transactions._each_known_field_takes_its_value(payload)
        ), key


@pytest.mark.parametrize("value", JSON_VALUES)
def test_a_field_apple_adds_later_takes_any_value_as_it_is(value):
    assert transactions._takes_as_it_is({**PAYLOAD, "fieldAddedLater": value})
    assert not transactions._takes_as_it_is({**PAYLOAD, "fieldAddedLater": value, "quantity": "1"})


def test_a_payload_handed_over_is_kept_as_it_is_and_any_other_is_copied():
    payload = dict(PAYLOAD)
    kept = Transaction.from_payload(payload, handed_over=True)
    copied = Transaction.from_payload(payload)
    assert kept.raw == copied.raw

    payload["currency"] = "USD"
    assert kept.raw["currency"] == "USD" and copied.raw["currency"] == "EUR"
