"""Plain words for Apple's codes on the agent pages."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import dateformat, formats, timezone, translation

from lookups.appstore.transactions import ProductType, RevocationReason, Transaction
from lookups.wording import refund_reason

register = template.Library()

TIMES = "\u00d7"  # the multiplication sign, as in "2 × €1.99"  # noqa: RUF003

_PRODUCT_TYPES = {
    ProductType.AUTO_RENEWABLE: "Auto-renewable subscription",
    ProductType.NON_RENEWING: "Non-renewing subscription",
    ProductType.CONSUMABLE: "Consumable",
    ProductType.NON_CONSUMABLE: "Non-consumable",
}
_REFUND_REASONS = {
    RevocationReason.APP_ISSUE: "for an issue in the app",
    RevocationReason.OTHER: "for another reason",
}


@register.filter
def product_type_label(value: ProductType | None) -> str:
    if value is None:
        return "Unknown type"
    return _PRODUCT_TYPES.get(value, str(value))


@register.filter
def revocation_label(txn: Transaction) -> str:
    """Refunds revoke too; say "Refunded" when Apple says it was one."""
    if (txn.revocation_type or "").startswith("REFUND"):
        return "Refunded"
    return "Revoked"


@register.filter
def revocation_reason_label(txn: Transaction) -> str:
    reason = txn.revocation_reason
    if reason is None:
        return ""
    return f"refunded {refund_reason_words(reason)}"


@register.filter
def refund_reason_words(reason: int | None) -> str:
    """Why Apple refunded, to follow "refunded": "for an issue in the app"."""
    if reason is None:
        return ""
    return _REFUND_REASONS.get(reason, f"for reason {int(reason)}")


@register.filter
def refund_phrase(picture) -> str:
    """When and why Apple refunded a purchase, from the desk's picture: "Refunded 2026-12-07
    for an issue in the app". Empty unless Apple revoked it."""
    refunded_on = getattr(picture, "revocation_date", None)
    if getattr(picture, "status", "") != "revoked" or refunded_on is None:
        return ""
    why = refund_reason_words(picture.revocation_reason)
    return f"Refunded {refunded_on:%Y-%m-%d}{' ' + why if why else ''}"


@register.filter
def in_minutes(value: timedelta | None) -> str:
    """A wait as "15 minutes": the lockout after failed sign-ins."""
    if value is None:
        return "a while"
    minutes = max(1, round(value.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@register.filter
def product_name(product_id: str | None, names: dict[str, str] | None) -> str:
    """The catalogue's name for a product, or its ID when the catalogue has none."""
    if not product_id:
        return "Unknown product"
    return (names.get(product_id) if names else None) or product_id


@register.filter
def app_product_name(row: Any, names: dict | None) -> str:
    """The name of a purchase's product in its own app's catalogue (`names_in_apps`)."""
    key = (getattr(row, "app_id", None), row.product_id)
    return (names.get(key) if names else None) or product_name(row.product_id, names)


def _babel_locale() -> Locale:
    """The active language as Babel's locale: "de" reads 1,99 €, "en-us" reads €1.99."""
    try:
        return Locale.parse(translation.to_locale(translation.get_language() or "en-us"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


@register.filter
def price_line(txn: Transaction) -> str:
    """Quantity and price as the locale writes the currency: "2 x €1.99" (with a real
    multiplication sign), "¥1,500" (no yen
    decimals). Apple's price is the one configured for the product, so it is per unit."""
    price = txn.price
    if price is None:
        return ""
    locale = _babel_locale()
    try:
        amount = format_currency(price, txn.currency or "", locale=locale)
    except (KeyError, ValueError):
        # A currency Babel doesn't know (or none): the number, then whatever code Apple sent.
        amount = f"{format_decimal(price, locale=locale)} {txn.currency or ''}".strip()
    quantity = txn.quantity or 1
    if quantity == 1:
        return amount
    return f"{format_decimal(quantity, locale=locale)} {TIMES} {amount}"


@register.filter
def utc_time(value: datetime | None) -> str:
    """A moment to the second, in UTC and saying so: what an audit row needs."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# Apple's expirationIntent, in the words an agent says to a customer.
_EXPIRATION_INTENTS = {
    1: "The customer cancelled it",
    2: "A billing error: Apple could not charge the customer",
    3: "The customer did not agree to a price increase",
    4: "The product was not available to renew",
    5: "Another reason Apple does not say",
}


@register.filter
def expiration_intent_label(value: int | None) -> str:
    if value is None:
        return ""
    return _EXPIRATION_INTENTS.get(value, f"Reason {value}, not known to the desk")


@register.filter
def renews_or_expires(picture, txn: Transaction | None) -> str:
    """When the purchase renews, or when it expires or expired, in words an agent reads aloud.

    Takes the desk's picture (Apple's status and renewal info, may be None) and the purchase's
    newest transaction. Empty for a one-time purchase that neither renews nor expires.
    """
    status = getattr(picture, "status", "")
    if txn is not None and txn.is_revoked and txn.revocation_date:
        # After a "Refunded" or "Revoked" badge the day alone reads on; without one, say it.
        said = status in ("revoked", "refunded")
        return f"{'on' if said else revocation_label(txn)} {txn.revocation_date:%Y-%m-%d}"
    # Revoked by a refund of a transaction this page doesn't show (a later renewal): say so,
    # rather than an expiry that reads as if it still gave access.
    if refunded := refund_phrase(picture):
        return refunded
    if said := renewal_phrase(picture):
        return said
    expires = txn.expires_date if txn is not None else None
    if expires is None:
        return ""
    verb = "Expired" if expires <= datetime.now(UTC) else "Expires"
    return f"{verb} {expires:%Y-%m-%d}"


# What a renewal date already past means, by Apple's status: the picture is true, but "Renews"
# would put the renewal in the past.
_PAST_RENEWALS = {
    "billing_retry": "Renewal due {day} failed: Apple is retrying the charge",
    "grace_period": "Renewal due {day} failed: the customer keeps access while Apple retries",
}
_PAST_RENEWAL = "Was due to renew {day}: Apple has not said it renewed"


@register.filter
def renewal_phrase(picture) -> str:
    """ "Renews <day>" while that day is ahead; once it has passed, what Apple's state means now.
    Empty when the purchase does not renew."""
    status = getattr(picture, "status", "")
    renews_on = getattr(picture, "next_renewal_date", None)
    if not getattr(picture, "auto_renew", None) or not renews_on:
        return ""
    if status in ("expired", "revoked"):
        return ""
    day = f"{renews_on:%Y-%m-%d}"
    if renews_on > datetime.now(UTC):
        return f"Renews {day}"
    return _PAST_RENEWALS.get(status, _PAST_RENEWAL).format(day=day)


@register.simple_tag
def audit_alarm(user: Any) -> Any:
    """The latest audit log check, if it failed, for those who may read the checks."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("lookups.view_auditcheck"):
        return None
    from lookups.services.audit_checks import latest_failure

    return latest_failure()


@register.filter
def of(mapping: dict | None, key):
    """`offers|of:purchase_id`: one entry of a dictionary the view made, or None."""
    return (mapping or {}).get(key)


@register.filter
def refund_reason_sentence(reason: str | None) -> str:
    return refund_reason(reason or "")


@register.filter
def moment(value: datetime | None, precision: str = "") -> str:
    """Every page's one way to show a moment: in the reader's own time zone, saying which
    (`2026-12-07 07:00 EST`), as the admin does too (supportdesk/formats/). An audit row
    asks for "seconds" (`2026-12-07 07:00:05 EST`)."""
    if value is None:
        return "—"
    shown = formats.get_format("DATETIME_FORMAT")
    if precision == "seconds":
        shown = shown.replace("H:i", "H:i:s")
    local = timezone.localtime(value)
    as_strftime = _as_strftime(str(shown))
    if as_strftime is None:
        return dateformat.format(local, shown)
    return local.strftime(as_strftime)


# Django's format letters the desk's formats use, and strftime's same field for each.
_STRFTIME = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S", "T": "%Z"}


@functools.cache
def _as_strftime(shown: str) -> str | None:
    """Django's date format as strftime's, when each letter has its equal; else None.

    A page of a hundred rows writes hundreds of moments, and Django's formatter dispatches each
    letter of each through lazy settings: a third of a millisecond a moment.
    """
    pattern = []
    for character in shown:
        if character in _STRFTIME:
            pattern.append(_STRFTIME[character])
        elif character.isalpha() or character == "\\":
            return None
        else:
            pattern.append(character.replace("%", "%%"))
    return "".join(pattern)
