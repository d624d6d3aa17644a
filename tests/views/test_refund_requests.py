"""The refund request queue and the agent's answer, over the simulator's real HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lookups.models import ConsumptionAnswer, RefundRequest
from lookups.services import refund_requests
from lookups.services.refund_requests import (
    open_refund_request,
)
from lookups.simulators.demo_apps import COACH_BUNDLE_ID
from tests.fixtures.pages import HTMX
from tests.fixtures.rows import make_refund_request
from tests.services.apple_actions.test_acting_app import coach_refund_case
from tests.services.test_refund_requests import (
    TRANSACTION,
    consumption_request,
    three_cases,
)

pytestmark = pytest.mark.django_db


def test_the_queue_lists_open_cases_by_deadline_and_flags_the_urgent(
    agent_client, appstore_settings, simulator
):
    later = open_refund_request(consumption_request(simulator))
    urgent = open_refund_request(consumption_request(simulator, signed_ago=timedelta(hours=11)))

    page = agent_client.get(reverse("lookups:refund_requests")).text

    assert page.index(f'id="refund-{urgent.pk}"') < page.index(f'id="refund-{later.pk}"')
    assert page.count("refund-request urgent") == 1
    assert TRANSACTION in page and "bought it by mistake" in page


def test_the_queue_shows_the_soonest_deadlines_and_how_many_wait(agent_client, monkeypatch):
    # Each case comes with its answer form: thousands waiting would make a page nobody reads.
    monkeypatch.setattr(refund_requests, "QUEUE_LIMIT", 2)
    soon, sooner, later = (
        make_refund_request(deadline=timezone.now() + timedelta(hours=hours)) for hours in (2, 1, 3)
    )

    page = agent_client.get(reverse("lookups:refund_requests")).text

    assert page.index(f'id="refund-{sooner.pk}"') < page.index(f'id="refund-{soon.pk}"')
    assert f'id="refund-{later.pk}"' not in page
    assert "Showing the 2 soonest deadlines of 3 waiting" in page


def test_an_agent_answers_from_the_queue(agent_client, appstore_settings, simulator):
    case = open_refund_request(consumption_request(simulator))

    response = agent_client.post(
        reverse("lookups:answer_refund_request", args=[case.pk]),
        {
            "customer_consented": "on",
            "delivery_status": "DELIVERED",
            "consumed_percent": "25",
            "refund_preference": "DECLINE",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Sent to Apple" in response.text
    case.refresh_from_db()
    assert case.status == RefundRequest.Status.ANSWERED
    [body] = simulator.store.consumption_answers[TRANSACTION]
    assert body["consumptionPercentage"] == 25_000
    assert ConsumptionAnswer.objects.get().outcome == ConsumptionAnswer.Outcome.SUCCEEDED


def test_a_double_submitted_answer_gets_the_first_answer_and_apple_one_call(
    agent_client, appstore_settings, simulator
):
    case = open_refund_request(consumption_request(simulator))
    page = agent_client.get(reverse("lookups:refund_requests")).text
    assert 'name="request_id"' in page
    form = {
        "customer_consented": "on",
        "delivery_status": "DELIVERED",
        "refund_preference": "DECLINE",
        "request_id": str(uuid.uuid4()),
    }
    url = reverse("lookups:answer_refund_request", args=[case.pk])

    first = agent_client.post(url, form, headers=HTMX)
    again = agent_client.post(url, form, headers=HTMX)

    assert first.status_code == again.status_code == 200
    assert "Sent to Apple" in first.text and "Sent to Apple" in again.text
    assert len(simulator.store.consumption_answers[TRANSACTION]) == 1
    answer = ConsumptionAnswer.objects.get()
    assert str(answer.request_id) == form["request_id"]


def test_an_answer_without_consent_is_explained_and_not_sent(
    agent_client, appstore_settings, simulator
):
    case = open_refund_request(consumption_request(simulator))

    response = agent_client.post(
        reverse("lookups:answer_refund_request", args=[case.pk]),
        {"delivery_status": "DELIVERED"},
        headers=HTMX,
    )

    assert response.status_code == 400
    assert "only with the customer&#x27;s consent" in response.text
    assert TRANSACTION not in simulator.store.consumption_answers


def test_an_answer_apple_does_not_confirm_in_time_says_it_will_be_sent_again(
    agent_client, appstore_settings, simulator
):
    appstore_settings.APPSTORE_TIMEOUT_SECONDS = 0.5
    case = open_refund_request(consumption_request(simulator))
    simulator.inject_fault("slow", endpoint="consumption", delay_seconds=1.5)

    response = agent_client.post(
        reverse("lookups:answer_refund_request", args=[case.pk]),
        {"customer_consented": "on", "delivery_status": "DELIVERED"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Apple has not confirmed it yet" in response.text
    assert "sends the same answer again by itself" in response.text
    assert ConsumptionAnswer.objects.get().follow_up.next_check_at is not None


def test_the_queue_lists_what_was_answered_and_decided_lately(
    agent_client, agent_user, appstore_settings, simulator, settings
):
    answered, by_policy, missed = three_cases(simulator, agent_user, settings)

    page = agent_client.get(reverse("lookups:refund_requests")).text

    assert "No refund request is waiting for an answer." in page
    rows = {
        case.pk: page.split(f'id="closed-{case.pk}"')[1].split("</tr>")[0]
        for case in (answered, by_policy, missed)
    }
    assert f"Answered by {agent_user.get_username()}" in rows[answered.pk]
    assert "Refunded" in rows[answered.pk]
    assert "Answered by the policy" in rows[by_policy.pk] and "not yet" in rows[by_policy.pk]
    assert "Deadline missed" in rows[missed.pk]


def test_a_coach_case_is_answered_from_the_queue_at_coach(agent_client, three_apps, simulator):
    case = coach_refund_case(three_apps, simulator)
    assert f'id="refund-{case.pk}"' in agent_client.get(reverse("lookups:refund_requests")).text

    response = agent_client.post(
        reverse("lookups:answer_refund_request", args=[case.pk]),
        {
            "customer_consented": "on",
            "delivery_status": "DELIVERED",
            "refund_preference": "DECLINE",
        },
        headers=HTMX,
    )

    assert response.status_code == 200 and "Sent to Apple" in response.text
    answer = ConsumptionAnswer.objects.get()
    assert (answer.outcome, answer.app) == (ConsumptionAnswer.Outcome.SUCCEEDED, three_apps.coach)
    assert simulator.app(COACH_BUNDLE_ID).store.consumption_answers[case.transaction_id]


def test_an_agent_limited_to_one_app_sees_and_answers_only_its_cases(agent_client, agent_user):
    from django.urls import reverse

    from lookups.models import App
    from lookups.services.apps import desk_apps
    from tests.fixtures.rows import make_refund_request

    desk_apps()
    coach = App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")
    coach.limited_agents.add(agent_user)
    theirs = make_refund_request(app=coach)
    other = make_refund_request()  # the settings' app's

    page = agent_client.get(reverse("lookups:refund_requests")).text
    answered = agent_client.post(reverse("lookups:answer_refund_request", args=[other.pk]), {})

    assert theirs.transaction_id in page
    assert other.transaction_id not in page
    assert answered.status_code == 404


def test_a_sandbox_case_is_shown_beside_its_sandbox_purchase(agent_client):
    from lookups.models import Purchase

    case = make_refund_request(environment="Sandbox")
    Purchase.objects.create(
        environment="Sandbox",
        original_transaction_id=case.original_transaction_id,
        latest_transaction={
            "transactionId": case.transaction_id,
            "revocationDate": int(timezone.now().timestamp() * 1000),
            "revocationReason": 0,
        },
        product_id="com.example.pro.monthly",
        learnt_at=timezone.now(),
        learnt_from=Purchase.Source.LOOKUP,
    )

    page = agent_client.get(reverse("lookups:refund_requests")).text

    assert "Apple shows it refunded" in page[page.index(f'id="refund-{case.pk}"') :]
