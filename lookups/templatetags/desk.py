"""Plain words for Apple's codes on the agent pages."""

from __future__ import annotations

from datetime import timedelta

from django import template

from lookups.appstore.transactions import ProductType, RevocationReason, Transaction

register = template.Library()

_PRODUCT_TYPES = {
    ProductType.AUTO_RENEWABLE: "Auto-renewable subscription",
    ProductType.NON_RENEWING: "Non-renewing subscription",
    ProductType.CONSUMABLE: "Consumable",
    ProductType.NON_CONSUMABLE: "Non-consumable",
}
_REVOCATION_REASONS = {
    RevocationReason.APP_ISSUE: "refunded for an issue in the app",
    RevocationReason.OTHER: "refunded for another reason",
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
    return _REVOCATION_REASONS.get(reason, f"reason {int(reason)}")


@register.filter
def in_minutes(value: timedelta | None) -> str:
    """A wait as "15 minutes": the lockout after failed sign-ins."""
    if value is None:
        return "a while"
    minutes = max(1, round(value.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


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
