"""Each registered app's notification URLs, one per environment: a payload for another app or
environment is refused; one that matches is stored and applied as that app's, in its environment.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from lookups.models import (
    AppStoreNotification,
    Purchase,
    QuarantinedNotification,
    RefundRequest,
)
from lookups.simulators.demo_apps import COACH_BUNDLE_ID, SANDBOX_TESTER_PURCHASE
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE
from tests.fixtures.appstore_simulator import IMMEDIATE_TASKS

pytestmark = pytest.mark.django_db(transaction=True)


def signed(simulator, *args, **kwargs) -> dict:
    simulator.set_notification_url(None)
    return {"signedPayload": simulator.emit_notification(*args, **kwargs).signed_payload}


def post(client, app, environment: str, body: dict):
    url = app.notification_path(environment)
    return client.post(url, body, content_type="application/json")


def test_the_sandbox_url_of_an_app_stores_and_applies_its_sandbox_news(
    client, three_apps, simulator, settings
):
    settings.TASKS = IMMEDIATE_TASKS
    coach_sandbox = simulator.app(COACH_BUNDLE_ID, "Sandbox")
    body = signed(coach_sandbox, "DID_RENEW", transaction_id=SANDBOX_TESTER_PURCHASE)

    answer = post(client, three_apps.coach, "Sandbox", body)

    assert answer.status_code == 200
    row = AppStoreNotification.objects.get()
    assert (row.app, row.environment) == (three_apps.coach, "Sandbox")
    assert row.state == AppStoreNotification.State.PROCESSED
    purchase = Purchase.objects.get(original_transaction_id=SANDBOX_TESTER_PURCHASE)
    assert (purchase.app, purchase.environment) == (three_apps.coach, "Sandbox")


def test_a_refund_request_names_the_app_and_environment_it_came_from(
    client, three_apps, simulator, settings
):
    settings.TASKS = IMMEDIATE_TASKS
    coach_sandbox = simulator.app(COACH_BUNDLE_ID, "Sandbox")
    body = signed(
        coach_sandbox,
        "CONSUMPTION_REQUEST",
        transaction_id=SANDBOX_TESTER_PURCHASE,
        data={"consumptionRequestReason": "UNINTENDED_PURCHASE"},
    )

    assert post(client, three_apps.coach, "Sandbox", body).status_code == 200

    case = RefundRequest.objects.get()
    assert (case.app, case.environment) == (three_apps.coach, "Sandbox")
    assert case.transaction_id == SANDBOX_TESTER_PURCHASE


@pytest.mark.parametrize(
    ("sender", "environment", "check"),
    [
        # Another app's news, at Coach's Production URL.
        ("demo", "Production", "bundle_id"),
        # Coach's own Sandbox news, at its Production URL.
        ("coach_sandbox", "Production", "environment"),
    ],
)
def test_a_payload_for_another_app_or_environment_is_refused(
    client, three_apps, simulator, sender, environment, check
):
    senders = {"demo": simulator, "coach_sandbox": simulator.app(COACH_BUNDLE_ID, "Sandbox")}
    transaction_id = PURCHASE_OFFER_CODE if sender == "demo" else SANDBOX_TESTER_PURCHASE
    body = signed(senders[sender], "DID_RENEW", transaction_id=transaction_id)

    answer = post(client, three_apps.coach, environment, body)

    assert answer.status_code == 400
    assert not AppStoreNotification.objects.exists()
    assert check in QuarantinedNotification.objects.get().reason


def test_an_environment_the_app_does_not_use_has_no_url(client, three_apps, simulator):
    body = signed(simulator, "DID_RENEW", transaction_id=PURCHASE_OFFER_CODE)
    url = reverse("lookups:app_notifications", args=[three_apps.journal.pk, "sandbox"])

    assert client.post(url, body, content_type="application/json").status_code == 404
