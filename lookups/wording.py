"""Apple's codes in sentences an agent reads aloud to a customer."""

from __future__ import annotations

# App Store Server Notifications V2: notificationType, then (notificationType, subtype).
NOTIFICATIONS = {
    "SUBSCRIBED": "Subscribed",
    "DID_RENEW": "Renewed",
    "DID_FAIL_TO_RENEW": "Renewal failed: Apple could not charge the customer",
    "DID_CHANGE_RENEWAL_STATUS": "Automatic renewal changed",
    "DID_CHANGE_RENEWAL_PREF": "Changed the plan it renews as",
    "EXPIRED": "Expired",
    "GRACE_PERIOD_EXPIRED": "Billing grace period ended",
    "OFFER_REDEEMED": "Redeemed an offer",
    "PRICE_INCREASE": "Price increase",
    "REFUND": "Refunded by Apple",
    "REFUND_DECLINED": "Apple declined a refund",
    "REFUND_REVERSED": "Apple reversed a refund",
    "RENEWAL_EXTENDED": "Renewal date extended",
    "RENEWAL_EXTENSION": "Renewal dates extended for many customers",
    "REVOKE": "Family Sharing access ended",
    "CONSUMPTION_REQUEST": "Apple asked about a refund request",
    "ONE_TIME_CHARGE": "Bought",
    "TEST": "Test notification",
}
NOTIFICATION_SUBTYPES = {
    ("SUBSCRIBED", "INITIAL_BUY"): "Subscribed for the first time",
    ("SUBSCRIBED", "RESUBSCRIBE"): "Subscribed again",
    ("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED"): "Turned automatic renewal on",
    ("DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED"): "Turned automatic renewal off",
    ("DID_FAIL_TO_RENEW", "GRACE_PERIOD"): (
        "Renewal failed: Apple could not charge the customer; access continues in the grace period"
    ),
    ("DID_RENEW", "BILLING_RECOVERY"): "Renewed after a failed charge",
    ("EXPIRED", "VOLUNTARY"): "Expired: the customer cancelled it",
    ("EXPIRED", "BILLING_RETRY"): "Expired: Apple could not charge the customer",
    ("EXPIRED", "PRICE_INCREASE"): "Expired: the customer did not agree to a price increase",
    ("DID_CHANGE_RENEWAL_PREF", "UPGRADE"): "Upgraded",
    ("DID_CHANGE_RENEWAL_PREF", "DOWNGRADE"): "Will downgrade at the next renewal",
    ("OFFER_REDEEMED", "INITIAL_BUY"): "Redeemed an offer code for a new subscription",
    ("OFFER_REDEEMED", "RESUBSCRIBE"): "Redeemed an offer code to subscribe again",
    ("OFFER_REDEEMED", "UPGRADE"): "Redeemed an offer code to upgrade",
    ("OFFER_REDEEMED", "DOWNGRADE"): "Redeemed an offer code to downgrade",
}

# consumptionRequestReason of a CONSUMPTION_REQUEST.
REFUND_REASONS = {
    "UNINTENDED_PURCHASE": "The customer says they bought it by mistake",
    "FULFILLMENT_ISSUE": "The customer says they did not receive what they paid for",
    "UNSATISFIED_WITH_PURCHASE": "The customer is not satisfied with it",
    "LEGAL": "A legal reason",
    "OTHER": "Another reason",
}


def notification_sentence(notification_type: str, subtype: str = "") -> str:
    said = NOTIFICATION_SUBTYPES.get((notification_type, subtype)) or NOTIFICATIONS.get(
        notification_type
    )
    return said or notification_type.replace("_", " ").capitalize()


def refund_reason(reason: str) -> str:
    if not reason:
        return "No reason given"
    return REFUND_REASONS.get(reason) or reason.replace("_", " ").capitalize()
