"""The extension form and the approvals page, over the simulator's real HTTP."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from lookups.appstore.errors import ERROR_CLASSES
from lookups.models import SubscriptionExtension
from lookups.simulators.demo_data import (
    ORDER_BILLING_RETRY,
    ORDER_EXPIRED,
    ORDER_FAMILY_SHARED,
    ORDER_FREE_TRIAL,
    ORDER_GRACE_PERIOD,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.pages import HTMX, look_up

pytestmark = pytest.mark.django_db

Outcome = SubscriptionExtension.Outcome


def original_of(simulator, order_id: str) -> str:
    return simulator.order_transaction_ids(order_id)[0]


def extend_url(original: str) -> str:
    return reverse("lookups:extend", args=[original])


def submit(client, original: str, *, days: int = 7, request_id: uuid.UUID | None = None):
    form = {
        "extend_by_days": days,
        "reason_code": SubscriptionExtension.Reason.CUSTOMER_SATISFACTION,
        "ticket_reference": "ZD-501",
        "request_id": request_id or uuid.uuid4(),
    }
    return client.post(extend_url(original), form, headers=HTMX)


def test_the_lookup_links_to_the_form_of_the_latest_subscription_transaction(
    agent_client, appstore_settings, simulator
):
    response = agent_client.get(reverse("lookups:look_up"), {"order_id": ORDER_OFFER_CODE})

    assert response.text.count(extend_url(PURCHASE_OFFER_CODE)) == 1


def test_the_form_says_before_the_click_that_apple_will_refuse(
    agent_client, appstore_settings, simulator
):
    look_up(agent_client, ORDER_EXPIRED)

    page = agent_client.get(extend_url(original_of(simulator, ORDER_EXPIRED))).text

    assert "Apple will refuse this extension" in page
    assert "paid period has ended" in page
    assert "(Apple error 4030004)" in page


def test_an_extension_shows_the_new_renewal_date(agent_client, appstore_settings, simulator):
    look_up(agent_client, ORDER_OFFER_CODE)
    page = agent_client.get(extend_url(PURCHASE_OFFER_CODE)).text
    assert "Apple will refuse" not in page

    response = submit(agent_client, PURCHASE_OFFER_CODE, days=5)

    extension = SubscriptionExtension.objects.get()
    assert response.status_code == 200
    assert extension.outcome == Outcome.SUCCEEDED
    assert "Extended by 5 days" in response.text
    assert date_format(extension.effective_date, "Y-m-d") in response.text


def test_apples_refusal_is_shown_in_plain_words_with_its_code(
    agent_client, appstore_settings, simulator
):
    look_up(agent_client, ORDER_FAMILY_SHARED)

    response = submit(agent_client, original_of(simulator, ORDER_FAMILY_SHARED))

    extension = SubscriptionExtension.objects.get()
    assert extension.outcome == Outcome.FAILED and extension.error_code == 4030007
    assert "Family Sharing" in response.text
    assert "(Apple error 4030007)" in response.text


@pytest.mark.parametrize(
    ("order_id", "code", "words"),
    [
        (ORDER_EXPIRED, 4030004, "will not extend this subscription in its current state"),
        (ORDER_BILLING_RETRY, 4030004, "in billing retry"),
        (ORDER_GRACE_PERIOD, 4030004, "grace period"),
        (ORDER_FREE_TRIAL, 4030004, "free offer period"),
        (ORDER_FAMILY_SHARED, 4030007, "only the family organizer"),
    ],
)
def test_every_refusal_of_the_subscriptions_state_reaches_the_agent(
    agent_client, appstore_settings, simulator, order_id, code, words
):
    look_up(agent_client, order_id)

    response = submit(agent_client, original_of(simulator, order_id))

    extension = SubscriptionExtension.objects.get()
    assert (extension.outcome, extension.error_code) == (Outcome.FAILED, code)
    assert extension.chain_sequence == 1
    assert "The App Store refused the extension" in response.text
    assert words in response.text and f"(Apple error {code})" in response.text


@pytest.mark.parametrize("code", [4030005, 4000009, 4000010, 4000011])
def test_every_other_refusal_apple_documents_reaches_the_agent(
    agent_client, appstore_settings, simulator, code
):
    # The desk's own form never sends these; Apple could still answer them.
    look_up(agent_client, ORDER_OFFER_CODE)
    simulator.inject_fault("apple_error", endpoint="extend", error_code=code)

    response = submit(agent_client, PURCHASE_OFFER_CODE)

    extension = SubscriptionExtension.objects.get()
    assert (extension.outcome, extension.error_code) == (Outcome.FAILED, code)
    assert ERROR_CLASSES[code].agent_message in response.text.replace("&#x27;", "'")
    assert f"(Apple error {code})" in response.text
    assert simulator.store.renewal_state(PURCHASE_OFFER_CODE).extensions == []


def test_a_double_submission_extends_once(agent_client, appstore_settings, simulator):
    look_up(agent_client, ORDER_OFFER_CODE)
    request_id = uuid.uuid4()

    submit(agent_client, PURCHASE_OFFER_CODE, request_id=request_id)
    again = submit(agent_client, PURCHASE_OFFER_CODE, request_id=request_id)

    assert "Extended by 7 days" in again.text
    assert SubscriptionExtension.objects.count() == 1
    assert len(simulator.store.renewal_state(PURCHASE_OFFER_CODE).extensions) == 1


def test_bad_input_is_explained_and_nothing_is_sent(agent_client, appstore_settings, simulator):
    look_up(agent_client, ORDER_OFFER_CODE)

    response = submit(agent_client, PURCHASE_OFFER_CODE, days=91)

    assert response.status_code == 400
    assert "Apple extends by 90 days at most." in response.text
    assert not SubscriptionExtension.objects.exists()


def test_a_manager_approves_an_extension_beyond_the_daily_limit(
    agent_client, manager_client, appstore_settings, simulator, settings
):
    settings.EXTENSION_DAYS_PER_AGENT_PER_DAY = 5
    look_up(agent_client, ORDER_OFFER_CODE)

    asked = submit(agent_client, PURCHASE_OFFER_CODE, days=9)
    assert "a manager approves it" in asked.text
    assert simulator.store.renewal_state(PURCHASE_OFFER_CODE).extensions == []
    extension = SubscriptionExtension.objects.get()
    assert str(extension.pk) in manager_client.get(reverse("lookups:extension_approvals")).text

    decided = manager_client.post(
        reverse("lookups:decide_extension", args=[extension.pk, "approve"]), headers=HTMX
    )

    extension.refresh_from_db()
    assert extension.outcome == Outcome.SUCCEEDED
    assert "Approved by" in decided.text
    assert len(simulator.store.renewal_state(PURCHASE_OFFER_CODE).extensions) == 1


def test_an_approver_limited_to_another_app_neither_sees_nor_decides_the_extension(
    agent_user, manager_client, manager_user
):
    from lookups.models import App
    from tests.fixtures.rows import make_waiting_extension

    waiting = make_waiting_extension(agent_user)
    url = reverse("lookups:extension_approvals")
    assert waiting.original_transaction_id in manager_client.get(url).text

    App.objects.create(name="Coach", bundle_id="com.example.coach").limited_agents.add(manager_user)

    assert waiting.original_transaction_id not in manager_client.get(url).text
    decided = manager_client.post(reverse("lookups:decide_extension", args=[waiting.pk, "approve"]))
    assert decided.status_code == 404
