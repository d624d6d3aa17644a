"""Another app's purchase (or one in the other environment) is looked up but never changed at
Apple until actions route per app: refused before any row is written or Apple is called."""

from __future__ import annotations

import uuid

import pytest

from lookups.models import (
    ConsumptionAnswer,
    Purchase,
    RefundRequest,
    RefusedLink,
    SubscriptionExtension,
    TokenChange,
    TransferRequest,
)
from lookups.services.apple_actions import ActionRefused
from lookups.services.apple_actions.acting_app import why_not_acted_on
from lookups.services.extending import ExtensionRequest, extend_subscription
from lookups.services.extension_offers import extension_offers
from lookups.services.linking import LinkRequest, link_purchase
from lookups.services.looking_up import look_up_order_in_apps
from lookups.services.refund_requests import answer_refund_request, open_refund_request
from lookups.simulators.demo_apps import COACH_TRANSACTIONS, ORDER_COACH
from tests.services.test_refund_requests import AGENTS_ANSWER, consumption_request

pytestmark = pytest.mark.django_db

COACH_PURCHASE = COACH_TRANSACTIONS[0]
REFUSAL = (
    "Coach's purchases can be looked up here but not changed at Apple yet: "
    "change it in Coach's own tools."
)


@pytest.fixture
def coach_order_seen(three_apps, agent_user) -> Purchase:
    look_up_order_in_apps(agent_user, ORDER_COACH)
    return Purchase.objects.get(original_transaction_id=COACH_PURCHASE)


def test_a_link_to_a_coach_purchase_is_refused_before_apple_or_the_audit_log(
    coach_order_seen, agent_user, maya, simulator
):
    assert coach_order_seen.app.name == "Coach"
    asked_before = len(simulator.requests)

    with pytest.raises(ActionRefused) as refused:
        link_purchase(
            agent_user,
            LinkRequest(
                original_transaction_id=COACH_PURCHASE,
                account=maya,
                ticket_reference="ZD-2401",
                request_id=uuid.uuid4(),
            ),
        )

    assert refused.value.message == REFUSAL and refused.value.status == 409
    assert len(simulator.requests) == asked_before
    assert not TokenChange.objects.exists()
    assert not TransferRequest.objects.exists()
    assert not RefusedLink.objects.exists()


def test_an_extension_of_a_coach_purchase_is_refused_the_same_way(
    coach_order_seen, agent_user, simulator
):
    asked_before = len(simulator.requests)

    with pytest.raises(ActionRefused, match="Coach's purchases can be looked up here"):
        extend_subscription(
            agent_user,
            ExtensionRequest(
                original_transaction_id=COACH_PURCHASE,
                extend_by_days=7,
                reason_code=1,
                ticket_reference="ZD-2402",
                request_id=uuid.uuid4(),
            ),
        )

    assert len(simulator.requests) == asked_before
    assert not SubscriptionExtension.objects.exists()


def test_the_extension_offer_gives_the_same_reason(coach_order_seen):
    offer = extension_offers([coach_order_seen])[COACH_PURCHASE]

    assert not offer.can_extend and offer.why_not == REFUSAL


def test_a_coach_refund_case_is_not_answered_at_apple(three_apps, agent_user, simulator):
    case = open_refund_request(consumption_request(simulator))
    # As Coach's notification URL opens it.
    RefundRequest.objects.filter(pk=case.pk).update(app=three_apps.coach)
    case.refresh_from_db()
    asked_before = len(simulator.requests)

    with pytest.raises(ActionRefused) as refused:
        answer_refund_request(agent_user, case, AGENTS_ANSWER)

    assert refused.value.message == REFUSAL
    assert len(simulator.requests) == asked_before
    assert not ConsumptionAnswer.objects.exists()


def test_only_the_acting_app_in_the_acting_environment_is_acted_on(three_apps, settings):
    settings.APPSTORE_ENVIRONMENT = "Production"

    assert why_not_acted_on(three_apps.demo, "Production") == ""
    assert why_not_acted_on(None, "Production") == ""
    assert "Sandbox purchases can be looked up here" in why_not_acted_on(three_apps.demo, "Sandbox")
    assert why_not_acted_on(three_apps.coach, "Sandbox") == REFUSAL
