"""The trainers' "what happens next" panel: the simulator's demo life, asked over HTTP.

Local mode only. The simulator's `POST /simulator/life` moves a demo purchase on (a renewal, a
failed renewal, a refund...) and sends the notification Apple would; the desk learns of it the
way it learns of Apple's, through its endpoint. This module only asks and reports what was sent;
it never touches the purchase picture itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings

from lookups.models import AppStoreNotification

# The steps a trainer can take with a purchase, as the panel's buttons say them.
PURCHASE_ACTIONS = {
    "renew": "Renew now",
    "fail_renewal": "Fail the renewal (billing retry)",
    "enter_grace": "Enter grace period",
    "expire": "Let it expire",
    "auto_renew_off": "Turn auto-renew off",
    "auto_renew_on": "Turn auto-renew on",
    "refund": "Refund",
    "revoke": "Revoke (Family Sharing)",
    "consumption_request": "Ask for consumption data",
}
REDEEM_OFFER_CODE = "redeem_offer_code"
ACTIONS = {**PURCHASE_ACTIONS, REDEEM_OFFER_CODE: "Redeem an offer code"}
TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class LifeStep:
    """What the simulator did, or why it would not."""

    action: str
    original_transaction_id: str = ""
    order_id: str = ""
    notification_type: str = ""
    subtype: str = ""
    notification_uuid: str = ""
    refusal: str = ""


def trainer_panel_on() -> bool:
    """Only a local desk talks to a simulator; a server never shows the panel."""
    return bool(settings.SUPPORTDESK_LOCAL and settings.APPSTORE_BASE_URL)


def take_step(action: str, original_transaction_id: str = "") -> LifeStep:
    """Ask the simulator to move the demo on; raises ValueError off local mode or for no action."""
    if not trainer_panel_on():
        raise ValueError("The simulator's demo life exists only in local mode.")
    if action not in ACTIONS:
        raise ValueError(f"Not a step of the demo's life: {action!r}")
    body = {"action": action}
    if action != REDEEM_OFFER_CODE:
        body["original_transaction_id"] = original_transaction_id
    url = settings.APPSTORE_BASE_URL.rstrip("/") + "/simulator/life"
    try:
        response = requests.post(url, json=body, timeout=TIMEOUT_SECONDS)
        answer = response.json()
    except (requests.RequestException, ValueError):
        return LifeStep(action, original_transaction_id, refusal="The simulator did not answer.")
    if not isinstance(answer, dict):
        return LifeStep(action, original_transaction_id, refusal="The simulator did not answer.")
    if response.status_code != 200:
        refusal = answer.get("error") or f"The simulator answered HTTP {response.status_code}."
        return LifeStep(action, original_transaction_id, refusal=str(refusal))
    sent = answer.get("notification") or {}
    return LifeStep(
        action,
        original_transaction_id=str(answer.get("original_transaction_id") or ""),
        order_id=str(answer.get("order_id") or ""),
        notification_type=str(sent.get("notificationType") or ""),
        subtype=str(sent.get("subtype") or ""),
        notification_uuid=str(sent.get("notificationUUID") or ""),
    )


def notification_arrived(notification_uuid: str) -> AppStoreNotification | None:
    """The desk's row for the notification the step sent, once the endpoint stored it."""
    return AppStoreNotification.objects.filter(
        notification_uuid=notification_uuid, environment=settings.APPSTORE_ENVIRONMENT
    ).first()
