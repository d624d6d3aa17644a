"""Links through the real pages: the demo's customers, a lookup, a posted form, Apple's side."""

from __future__ import annotations

import uuid

from django.urls import reverse

from lookups.models import CustomerAccount, Lookup
from lookups.simulators.demo_data import DEMO_ACCOUNTS

# The demo's purchases used here, and the latest transaction of each (which carries the token):
# the offer-code subscription nobody has linked, and Sofia's yearly one, linked in the app.
OFFER_CODE_PURCHASE, OFFER_CODE_LATEST = "2000000815627301", "2000000842287015"
SOFIAS_PURCHASE, SOFIAS_LATEST = "2000000412908834", "2000000799031265"


def demo_customer(make_account, name: str) -> CustomerAccount:
    """One of the demo's customers, with the token the simulator's purchases carry."""
    demo = next(a for a in DEMO_ACCOUNTS if a["name"] == name)
    return make_account(
        external_id=demo["external_id"],
        email=demo["email"],
        display_name=demo["name"],
        app_account_token=uuid.UUID(demo["app_account_token"]),
    )


def look_up(client, order_id: str) -> Lookup:
    response = client.get(reverse("lookups:look_up"), {"order_id": order_id})
    assert response.status_code == 200
    return Lookup.objects.filter(order_id=order_id).latest("created_at")


def post_link(client, original_transaction_id: str, account, **fields):
    """The link form as posted: only what is given, nothing the page would have added."""
    data = {
        "account": account.pk,
        "ticket_reference": "ZD-2001",
        "request_id": str(uuid.uuid4()),
        **fields,
    }
    return client.post(
        reverse("lookups:link", args=[original_transaction_id]),
        data,
        headers={"HX-Request": "true"},
    )


def puts(simulator) -> int:
    """How many Set App Account Token calls reached Apple."""
    return [method for method, _ in simulator.requests].count("PUT")


def token_at_apple(simulator, latest_transaction_id: str) -> str | None:
    """The token on a purchase's latest transaction, as Apple holds it."""
    return simulator.store.transaction(latest_transaction_id).get("appAccountToken")


def set_token_at_apple(simulator, original_transaction_id: str, account) -> None:
    """Someone sets the token without the desk (the app, another tool)."""
    simulator.store.set_app_account_token(
        original_transaction_id, {"appAccountToken": str(account.app_account_token)}
    )
