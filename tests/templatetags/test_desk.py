"""The desk's template filters: prices as the locale writes them, product names, moments and waits
in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from lookups.appstore import Transaction
from lookups.models import Product
from lookups.simulators.appstore.catalog import PRO_MONTHLY
from lookups.templatetags.desk import (
    TIMES,
    expiration_intent_label,
    in_minutes,
    moment,
    of,
    price_line,
    product_name,
    utc_time,
)


def transaction(**payload) -> Transaction:
    return Transaction.from_payload({"transactionId": "1", "originalTransactionId": "1", **payload})


@pytest.mark.parametrize(
    ("language", "quantity", "price", "currency", "expected"),
    [
        ("en-us", 2, 1990, "EUR", f"2 {TIMES} €1.99"),
        ("de", 2, 1990, "EUR", f"2 {TIMES} 1,99\xa0€"),
        ("en-us", 1, 1500000, "JPY", "¥1,500"),
        ("de", 1, 1500000, "JPY", "1.500\xa0¥"),
        ("en-us", 1, 9990, "USD", "$9.99"),
        ("en-gb", 1, 7990, "GBP", "£7.99"),
        ("en-us", 1, 0, "USD", "$0.00"),
        ("en-us", 3, 4990, "XTS", f"3 {TIMES} XTS4.99"),
    ],
)
def test_a_price_reads_as_the_locale_writes_its_currency(
    language, quantity, price, currency, expected
):
    txn = transaction(quantity=quantity, price=price, currency=currency)
    with translation.override(language):
        assert price_line(txn) == expected


def test_a_price_without_a_currency_is_still_a_number():
    with translation.override("en-us"):
        assert price_line(transaction(price=1990)) == "1.99"
    assert price_line(transaction()) == ""


@pytest.mark.django_db
def test_the_catalogue_names_products_and_falls_back_to_the_id():
    Product.objects.create(product_id=PRO_MONTHLY, display_name="Pro, monthly")
    names = Product.objects.names_for([PRO_MONTHLY, "com.example.unknown", None])
    assert names == {PRO_MONTHLY: "Pro, monthly"}
    assert product_name(PRO_MONTHLY, names) == "Pro, monthly"
    assert product_name("com.example.unknown", names) == "com.example.unknown"
    assert product_name(None, names) == "Unknown product"
    assert Product.objects.names_for([]) == {}


@pytest.mark.parametrize(
    ("wait", "said"),
    [(timedelta(minutes=15), "15 minutes"), (timedelta(seconds=20), "1 minute"), (None, "a while")],
)
def test_a_wait_is_said_in_whole_minutes(wait, said):
    assert in_minutes(wait) == said


def test_an_audit_moment_is_in_utc_to_the_second_and_says_so():
    moment_in_paris = datetime(2026, 12, 7, 8, 30, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert utc_time(moment_in_paris) == "2026-12-07 07:30:05 UTC"


def test_a_page_moment_is_in_the_agents_zone_and_names_it():
    with timezone.override(ZoneInfo("America/New_York")):
        assert moment(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)) == "2026-12-07 07:00 EST"
    assert moment(None) == "—"


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Paris", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("precision", ["", "seconds"])
def test_a_moment_reads_as_djangos_formatter_writes_the_desks_format(zone, precision):
    from django.utils import dateformat, formats

    shown = formats.get_format("DATETIME_FORMAT")
    if precision:
        shown = shown.replace("H:i", "H:i:s")
    with timezone.override(ZoneInfo(zone)):
        for at in (
            datetime(2026, 3, 29, 0, 59, 7, tzinfo=UTC),
            datetime(2026, 11, 2, 6, 5, tzinfo=UTC),
        ):
            assert moment(at, precision) == dateformat.format(timezone.localtime(at), shown)


def test_a_moment_in_the_hour_a_clock_repeats_still_names_its_zone():
    # Django's formatter leaves the zone out there; the desk says which of the two it was.
    with timezone.override(ZoneInfo("America/New_York")):
        assert moment(datetime(2026, 11, 1, 5, 5, tzinfo=UTC)) == "2026-11-01 01:05 EDT"
        assert moment(datetime(2026, 11, 1, 6, 5, tzinfo=UTC)) == "2026-11-01 01:05 EST"


def test_a_format_with_letters_strftime_lacks_is_left_to_django(settings):
    from lookups.templatetags.desk import _as_strftime

    assert _as_strftime("Y-m-d H:i T") == "%Y-%m-%d %H:%M %Z"
    assert _as_strftime("N j, Y") is None
    assert _as_strftime("\\a\\t H:i") is None


def test_apples_expiration_intent_in_words_and_an_unknown_one_said_as_such():
    assert expiration_intent_label(1) == "The customer cancelled it"
    assert expiration_intent_label(9) == "Reason 9, not known to the desk"
    assert expiration_intent_label(None) == ""


def test_one_entry_of_a_views_mapping_or_none():
    assert of({"2000": "offer"}, "2000") == "offer"
    assert of(None, "2000") is None


@pytest.mark.django_db
def test_a_purchase_reads_its_own_apps_name_for_a_product():
    from types import SimpleNamespace

    from lookups.models import App
    from lookups.templatetags.desk import app_product_name

    coach = App.objects.create(name="Coach", bundle_id="com.example.coach")
    Product.objects.create(product_id=PRO_MONTHLY, display_name="Pro, monthly")
    Product.objects.create(product_id=PRO_MONTHLY, display_name="Coach Pro", app=coach)
    names = Product.objects.names_in_apps([(coach.pk, PRO_MONTHLY), (None, PRO_MONTHLY)])

    of_coach = SimpleNamespace(app_id=coach.pk, product_id=PRO_MONTHLY)
    of_none = SimpleNamespace(app_id=None, product_id=PRO_MONTHLY)
    assert app_product_name(of_coach, names) == "Coach Pro"
    assert app_product_name(of_none, names) == "Pro, monthly"
    assert app_product_name(SimpleNamespace(app_id=None, product_id="x"), names) == "x"
