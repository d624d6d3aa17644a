"""What every page shares about htmx: a fragment for htmx and the whole page for a browser or a
history restore, said to caches (`Vary: HX-Request`) so Back never shows a fragment as a page;
an action's answer marked as explained by the desk."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from lookups.simulators.demo_data import ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from lookups.views.htmx import EXPLAINED, page_or_partial, render_answer
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


def request_with(**headers):
    request = RequestFactory().get("/", headers=headers)
    request.htmx = HtmxDetails(request)
    return request


def test_htmx_gets_the_partial_a_browser_and_a_history_restore_the_page():
    page = "lookups/accounts.html"
    assert page_or_partial(request_with(), page, "results") == page
    assert page_or_partial(request_with(**{"HX-Request": "true"}), page, "results") == (
        f"{page}#results"
    )
    restore = request_with(**{"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert page_or_partial(restore, page, "results") == page


@pytest.mark.django_db
def test_an_actions_answer_is_marked_as_explained_whatever_its_status(agent_user):
    request = request_with(**{"HX-Request": "true"})
    request.user = agent_user

    answer = render_answer(request, "lookups/menu_counts.html", {"refunds": 2}, status=409)

    assert answer.status_code == 409 and answer[EXPLAINED] == "1"
    assert 'id="count-refunds"' in answer.content.decode()
