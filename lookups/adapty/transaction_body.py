"""The body of Adapty's "Set transaction", built from a verified Apple transaction. No Django."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from lookups.appstore.transactions import (
    Environment,
    OfferDiscountType,
    OfferType,
    Transaction,
)

MAX_TRANSACTION_ID_LENGTH = 50


class TransactionBodyError(ValueError):
    """The Apple transaction can't be described to Adapty; the message says why, for the agent."""


_OFFER_CATEGORIES = {
    OfferType.INTRODUCTORY: "introductory",
    OfferType.PROMOTIONAL: "promotional",
    OfferType.OFFER_CODE: "offer_code",
    OfferType.WIN_BACK: "win_back",
}
_OFFER_TYPES = {
    OfferDiscountType.FREE_TRIAL: "free_trial",
    OfferDiscountType.PAY_AS_YOU_GO: "pay_as_you_go",
    OfferDiscountType.PAY_UP_FRONT: "pay_up_front",
}

# Apple names a storefront's country in ISO 3166-1 alpha-3 ("USA"); Adapty's price country is a
# two-letter code ("US" in Adapty's own example). Every country with an App Store storefront.
STOREFRONT_COUNTRIES = MappingProxyType(
    {
        "AFG": "AF", "AGO": "AO", "AIA": "AI", "ALB": "AL", "ARE": "AE", "ARG": "AR", "ARM": "AM",
        "ATG": "AG", "AUS": "AU", "AUT": "AT", "AZE": "AZ", "BEL": "BE", "BEN": "BJ", "BFA": "BF",
        "BGR": "BG", "BHR": "BH", "BHS": "BS", "BIH": "BA", "BLR": "BY", "BLZ": "BZ", "BMU": "BM",
        "BOL": "BO", "BRA": "BR", "BRB": "BB", "BRN": "BN", "BTN": "BT", "BWA": "BW", "CAN": "CA",
        "CHE": "CH", "CHL": "CL", "CHN": "CN", "CIV": "CI", "CMR": "CM", "COD": "CD", "COG": "CG",
        "COL": "CO", "CPV": "CV", "CRI": "CR", "CYM": "KY", "CYP": "CY", "CZE": "CZ", "DEU": "DE",
        "DMA": "DM", "DNK": "DK", "DOM": "DO", "DZA": "DZ", "ECU": "EC", "EGY": "EG", "ESP": "ES",
        "EST": "EE", "FIN": "FI", "FJI": "FJ", "FRA": "FR", "FSM": "FM", "GAB": "GA", "GBR": "GB",
        "GEO": "GE", "GHA": "GH", "GMB": "GM", "GNB": "GW", "GRC": "GR", "GRD": "GD", "GTM": "GT",
        "GUY": "GY", "HKG": "HK", "HND": "HN", "HRV": "HR", "HUN": "HU", "IDN": "ID", "IND": "IN",
        "IRL": "IE", "IRQ": "IQ", "ISL": "IS", "ISR": "IL", "ITA": "IT", "JAM": "JM", "JOR": "JO",
        "JPN": "JP", "KAZ": "KZ", "KEN": "KE", "KGZ": "KG", "KHM": "KH", "KNA": "KN", "KOR": "KR",
        "KWT": "KW", "LAO": "LA", "LBN": "LB", "LBR": "LR", "LBY": "LY", "LCA": "LC", "LKA": "LK",
        "LTU": "LT", "LUX": "LU", "LVA": "LV", "MAC": "MO", "MAR": "MA", "MDA": "MD", "MDG": "MG",
        "MDV": "MV", "MEX": "MX", "MKD": "MK", "MLI": "ML", "MLT": "MT", "MMR": "MM", "MNE": "ME",
        "MNG": "MN", "MOZ": "MZ", "MRT": "MR", "MSR": "MS", "MUS": "MU", "MWI": "MW", "MYS": "MY",
        "NAM": "NA", "NER": "NE", "NGA": "NG", "NIC": "NI", "NLD": "NL", "NOR": "NO", "NPL": "NP",
        "NRU": "NR", "NZL": "NZ", "OMN": "OM", "PAK": "PK", "PAN": "PA", "PER": "PE", "PHL": "PH",
        "PLW": "PW", "PNG": "PG", "POL": "PL", "PRT": "PT", "PRY": "PY", "QAT": "QA", "ROU": "RO",
        "RUS": "RU", "RWA": "RW", "SAU": "SA", "SEN": "SN", "SGP": "SG", "SLB": "SB", "SLE": "SL",
        "SLV": "SV", "SRB": "RS", "STP": "ST", "SUR": "SR", "SVK": "SK", "SVN": "SI", "SWE": "SE",
        "SWZ": "SZ", "SYC": "SC", "TCA": "TC", "TCD": "TD", "THA": "TH", "TJK": "TJ", "TKM": "TM",
        "TON": "TO", "TTO": "TT", "TUN": "TN", "TUR": "TR", "TWN": "TW", "TZA": "TZ", "UGA": "UG",
        "UKR": "UA", "URY": "UY", "USA": "US", "UZB": "UZ", "VCT": "VC", "VEN": "VE", "VGB": "VG",
        "VNM": "VN", "VUT": "VU", "WSM": "WS", "XKS": "XK", "YEM": "YE", "ZAF": "ZA", "ZMB": "ZM",
        "ZWE": "ZW",
    }
)  # fmt: skip


def transaction_body(txn: Transaction, *, now: datetime | None = None) -> dict[str, Any]:
    """The "Set transaction" body for one verified Apple transaction.

    `now` decides whether a subscription still renews (see `_renews`); it defaults to the
    current time. Raises TransactionBodyError when Apple's transaction lacks what Adapty needs.
    """
    now = now or datetime.now(UTC)
    is_subscription = txn.is_subscription
    original_id = _required(txn.original_transaction_id, "original transaction ID")
    if is_subscription:
        transaction_id = _required(txn.transaction_id, "transaction ID")
    else:
        # Adapty requires a one-time purchase's transaction ID to equal its original. Both carry
        # Apple's original transaction ID: the purchase's lasting identity (the one linked at
        # Apple), so a re-send updates Adapty's record of it rather than adding a second one.
        transaction_id = original_id
    if len(transaction_id) > MAX_TRANSACTION_ID_LENGTH:
        raise TransactionBodyError(
            f"The transaction ID {transaction_id} is longer than the "
            f"{MAX_TRANSACTION_ID_LENGTH} characters Adapty accepts."
        )

    body: dict[str, Any] = {
        "purchase_type": "subscription" if is_subscription else "one_time_purchase",
        "store": "app_store",
    }
    # Adapty knows Production and Sandbox only; Xcode and local StoreKit testing never reach
    # the App Store Server API, and if one did we leave the optional field out.
    if txn.environment in (Environment.PRODUCTION, Environment.SANDBOX):
        body["environment"] = str(txn.environment)
    body |= {
        "store_product_id": _required(txn.product_id, "product ID"),
        "store_transaction_id": transaction_id,
        "store_original_transaction_id": original_id,
        "is_family_shared": txn.is_family_shared,
        "price": _price(txn),
        "purchased_at": _adapty_time(_required(txn.purchase_date, "purchase date")),
    }
    if offer := _offer(txn):
        body["offer"] = offer
    if txn.revocation_date is not None:
        body["refunded_at"] = _adapty_time(txn.revocation_date)
        # Adapty has one reason for money given back; Apple's revocationReason (app issue or
        # other) only says why the customer asked.
        body["cancellation_reason"] = "refund"
    elif txn.is_upgraded:
        body["cancellation_reason"] = "upgraded"
    if is_subscription:
        body["originally_purchased_at"] = _adapty_time(
            txn.original_purchase_date or txn.purchase_date
        )
        body["expires_at"] = _adapty_time(_required(txn.expires_date, "expiry date"))
        body["renew_status"] = _renews(txn, now)
    return body


def _renews(txn: Transaction, now: datetime) -> bool:
    """Whether to tell Adapty the subscription will renew.

    A transaction does not carry the renewal status (that is in Apple's subscription status,
    which we don't fetch). We say it renews while the period this transaction paid for is still
    running and nothing has ended it: not refunded, not upgraded away. A period that has ended
    without a later transaction means the customer did not renew.
    """
    if txn.is_revoked or txn.is_upgraded:
        return False
    return txn.expires_date is not None and txn.expires_date > now


def _price(txn: Transaction) -> dict[str, Any]:
    storefront = _required(txn.storefront, "storefront")
    country = STOREFRONT_COUNTRIES.get(storefront.upper())
    if country is None:
        raise TransactionBodyError(
            f"The storefront {storefront} is not in Supportdesk's list of App Store countries."
        )
    price = txn.price
    if price is None:
        raise TransactionBodyError("Apple's transaction carries no price.")
    return {
        "country": country,
        "currency": _required(txn.currency, "currency"),
        "value": price,
    }


def _offer(txn: Transaction) -> dict[str, str] | None:
    category = _OFFER_CATEGORIES.get(txn.offer_type)
    kind = _OFFER_TYPES.get(txn.offer_discount_type)
    # Adapty's offer needs both. Apple's ONE_TIME discount (offers on one-time purchases) and
    # values Apple adds later have no Adapty type: the offer is left out rather than misnamed.
    if category is None or kind is None:
        return None
    offer = {"category": category, "type": kind}
    if txn.offer_identifier:
        offer["id"] = txn.offer_identifier
    return offer


def _required[T](value: T | None, what: str) -> T:
    if value is None or value == "":
        raise TransactionBodyError(f"Apple's transaction carries no {what}.")
    return value


def _adapty_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
