"""The local simulators built from the desk's settings, which the desk then trusts and talks to with
nothing else configured."""

from __future__ import annotations

import uuid

import pytest
import requests
from django.urls import reverse

from lookups.management.local_simulators import adapty_simulator, appstore_simulator
from lookups.models import AdaptyDelivery, CustomerAccount, Lookup, TokenChange
from lookups.services.demo_accounts import create_demo_accounts
from lookups.simulators.demo_data import MAYA, ORDER_OFFER_CODE

MAYA_ORIGINAL = "2000000815627301"


@pytest.fixture
def local_simulators(settings, tmp_path):
    """Both simulators as `make run` builds them from the settings, on free ports."""
    settings.APPSTORE_PRIVATE_KEY = ""
    settings.APPSTORE_PRIVATE_KEY_PATH = str(tmp_path / "appstore-local-key.p8")
    settings.APPSTORE_ROOT_CERTIFICATES = [str(tmp_path / "appstore-simulator-root.pem")]
    # Local mode's own Adapty key, which the suite otherwise turns off (pyproject.toml).
    settings.ADAPTY_SECRET_KEY = settings.ADAPTY_SIMULATOR_SECRET_KEY
    # The delivery to Adapty is a task: run it at once, as a worker would.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with appstore_simulator(port=0) as appstore, adapty_simulator(port=0) as adapty:
        settings.APPSTORE_BASE_URL = appstore.url
        settings.ADAPTY_BASE_URL = adapty.url
        yield appstore, adapty


@pytest.mark.django_db
def test_the_desk_links_a_demo_purchase_through_the_simulators_built_from_its_settings(
    agent_client, local_simulators
):
    _, adapty = local_simulators
    create_demo_accounts()
    maya = CustomerAccount.objects.get(external_id=MAYA)
    page = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})
    assert page.status_code == 200
    lookup = Lookup.objects.get(order_id=ORDER_OFFER_CODE)
    assert lookup.outcome == Lookup.Outcome.FOUND
    assert all(row["verified"] for row in lookup.transactions)

    response = agent_client.post(
        reverse("lookups:link", args=[MAYA_ORIGINAL]),
        {
            "account": maya.pk,
            "ticket_reference": "ZD-4711",
            "request_id": str(uuid.uuid4()),
            "lookup": lookup.pk,
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert TokenChange.objects.get().outcome == TokenChange.Outcome.SUCCEEDED
    assert AdaptyDelivery.objects.get().outcome == AdaptyDelivery.Outcome.SUCCEEDED
    assert [request.customer_user_id for request in adapty.requests] == [MAYA]


def test_the_adapty_simulator_built_from_settings_refuses_any_other_key(settings):
    with adapty_simulator(port=0) as adapty:
        answer = requests.post(
            f"{adapty.url}/api/v2/server-side-api/purchase/set/transaction/",
            json={},
            headers={"Authorization": "Api-Key secret_live_somebody_else"},
            timeout=10,
        )

    assert answer.status_code == 401
    assert adapty.secret_key == settings.ADAPTY_SIMULATOR_SECRET_KEY
