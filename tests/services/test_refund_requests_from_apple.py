"""A refund request travels from Apple to the desk's queue: the simulator's notification, the
endpoint, the processing task, the case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from lookups.models import RefundRequest
from lookups.simulators.demo_data import PURCHASE_LIFETIME

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_consumption_request_from_apple_opens_a_case_in_the_queue(
    live_server, appstore_settings, simulator, agent_client
):
    appstore_settings.TASKS = IMMEDIATE
    simulator.set_notification_url(live_server.url + reverse("lookups:appstore_notifications"))
    try:
        simulator.live(
            {"action": "consumption_request", "original_transaction_id": PURCHASE_LIFETIME}
        )
        assert simulator.notifications.wait_until_settled(timeout=10)
    finally:
        simulator.set_notification_url(None)

    case = RefundRequest.objects.get()
    assert case.original_transaction_id == PURCHASE_LIFETIME
    assert case.status == RefundRequest.Status.OPEN
    assert case.deadline - case.requested_at == timedelta(hours=12)
    assert case.reason == "UNINTENDED_PURCHASE"
    page = agent_client.get(reverse("lookups:refund_requests")).text
    assert PURCHASE_LIFETIME in page
