"""Every GET view that answers htmx with a fragment and a browser with a page says so to caches
(`Vary: HX-Request`), so Back never shows a fragment as a page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.rows import make_token_change

pytestmark = pytest.mark.usefixtures("appstore_settings")


def test_every_htmx_aware_get_view_varies_on_hx_request(
    agent_client, agent_user, customer_account
) -> None:
    change = make_token_change(agent_user, customer_account)
    paths = [
        reverse("lookups:look_up") + f"?order_id={ORDER_OFFER_CODE}",
        reverse("lookups:history", args=[PURCHASE_OFFER_CODE]),
        reverse("lookups:accounts") + "?q=maya",
        reverse("lookups:account", args=[customer_account.pk]),
        reverse("lookups:link", args=[PURCHASE_OFFER_CODE]),
        reverse("lookups:link_status", args=[change.pk]),
        reverse("lookups:extend", args=[PURCHASE_OFFER_CODE]),
    ]
    missing = [
        path
        for path in paths
        if "HX-Request"
        not in agent_client.get(path, headers={"HX-Request": "true"}).get("Vary", "")
    ]
    assert missing == []
