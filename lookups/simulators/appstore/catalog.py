"""The demo app's in-app products, App Store storefronts, and billing-period arithmetic."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# The demo app, as App Store Connect names it.
DEMO_BUNDLE_ID = "com.example.supportdesk.demo"
DEMO_APP_APPLE_ID = 1234567890

# JWSTransactionDecodedPayload `type` values, and the history filter's name for each.
AUTO_RENEWABLE = "Auto-Renewable Subscription"
NON_RENEWING = "Non-Renewing Subscription"
CONSUMABLE = "Consumable"
NON_CONSUMABLE = "Non-Consumable"
PRODUCT_TYPE_FILTERS = {
    AUTO_RENEWABLE: "AUTO_RENEWABLE",
    NON_RENEWING: "NON_RENEWABLE",
    CONSUMABLE: "CONSUMABLE",
    NON_CONSUMABLE: "NON_CONSUMABLE",
}

PRO_GROUP = "21482391"
PRO_MONTHLY = "com.example.supportdesk.demo.pro.monthly"
PRO_YEARLY = "com.example.supportdesk.demo.pro.yearly"
LIFETIME = "com.example.supportdesk.demo.lifetime"
CREDITS_10 = "com.example.supportdesk.demo.credits.10"
CREDITS_50 = "com.example.supportdesk.demo.credits.50"
SEASON_PASS = "com.example.supportdesk.demo.seasonpass"

# The studio's second app, sold beside the first under the same team.
COACH_BUNDLE_ID = "com.example.supportdesk.coach"
COACH_APP_APPLE_ID = 1234567891
COACH_GROUP = "21482399"
COACH_MONTHLY = "com.example.supportdesk.coach.monthly"


@dataclass(frozen=True)
class Product:
    product_id: str
    type: str
    # Prices in milliunits of each currency, as Apple reports them (9.99 USD is 9990).
    prices: dict[str, int] = field(default_factory=dict)
    subscription_group: str | None = None
    period_months: int | None = None


PRODUCTS = {
    p.product_id: p
    for p in [
        Product(
            PRO_MONTHLY,
            AUTO_RENEWABLE,
            {"USD": 9990, "GBP": 7990, "EUR": 9990, "JPY": 1500000, "CAD": 12990, "AUD": 14990},
            subscription_group=PRO_GROUP,
            period_months=1,
        ),
        Product(
            PRO_YEARLY,
            AUTO_RENEWABLE,
            {
                "USD": 79990,
                "GBP": 69990,
                "EUR": 79990,
                "JPY": 12000000,
                "CAD": 99990,
                "AUD": 119990,
            },
            subscription_group=PRO_GROUP,
            period_months=12,
        ),
        Product(
            LIFETIME,
            NON_CONSUMABLE,
            {"USD": 149990, "GBP": 129990, "EUR": 149990, "JPY": 22000000, "CAD": 199990},
        ),
        Product(CREDITS_10, CONSUMABLE, {"USD": 1990, "GBP": 1790, "EUR": 1990, "JPY": 300000}),
        Product(CREDITS_50, CONSUMABLE, {"USD": 7990, "GBP": 6990, "EUR": 7990, "JPY": 1200000}),
        Product(SEASON_PASS, NON_RENEWING, {"USD": 14990, "EUR": 14990}),
        Product(
            COACH_MONTHLY,
            AUTO_RENEWABLE,
            {"USD": 4990, "GBP": 3990, "EUR": 4990},
            subscription_group=COACH_GROUP,
            period_months=1,
        ),
    ]
}


@dataclass(frozen=True)
class Storefront:
    code: str
    storefront_id: str
    currency: str


# Apple's storefront identifiers for the countries the demo customers live in.
STOREFRONTS = {
    s.code: s
    for s in [
        Storefront("USA", "143441", "USD"),
        Storefront("GBR", "143444", "GBP"),
        Storefront("DEU", "143443", "EUR"),
        Storefront("FRA", "143442", "EUR"),
        Storefront("JPN", "143462", "JPY"),
        Storefront("CAN", "143455", "CAD"),
        Storefront("AUS", "143460", "AUD"),
    ]
}

DAY_MS = 86_400_000


def add_months(timestamp_ms: int, months: int) -> int:
    """The same moment `months` calendar months later (or earlier), as App Store billing does."""
    moment = from_ms(timestamp_ms)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return to_ms(moment.replace(year=year, month=month, day=day))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(timestamp_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=timestamp_ms)
