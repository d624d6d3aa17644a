"""Every action at Apple is made as the purchase's own app, in the purchase's environment.

The simulator serves the demo app, Coach (its own key, Production and Sandbox) and Journal; each
host checks the bearer token's key and bundle ID, so an action that settles as succeeded at
Coach's store reached Apple with Coach's key and bundle ID. Only what truly can't be acted on is
refused: an environment the app does not use, a key that can't be read, an app not seen.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from lookups.appstore import HistoryFilters
from lookups.models import (
    ConsumptionAnswer,
    OutageCompensation,
    Purchase,
    RefundRequest,
    RefusedLink,
    SubscriptionExtension,
    SubscriptionExtensionFollowUp,
    TokenChange,
    TokenChangeFollowUp,
    TransactionFinish,
    TransferRequest,
)
from lookups.services.apple_actions import ActionRefused, engine
from lookups.services.apple_actions.acting_app import (
    app_to_act_on,
    seen_by,
    settings_app,
    why_not_acted_on,
)
from lookups.services.apple_actions.link import KIND as LINK
from lookups.services.apple_actions.transfer_approval import approve_transfer
from lookups.services.apps import using_app
from lookups.services.extending import ExtensionRequest, approve_extension, extend_subscription
from lookups.services.extension_offers import extension_offers
from lookups.services.finishing import FinishRequest, finish_transaction
from lookups.services.linking import LinkRequest, link_purchase
from lookups.services.looking_up import history_in_apps, look_up_order_in_apps
from lookups.services.outage_compensation import (
    CompensationRequest,
    approve_compensation,
    request_compensation,
)
from lookups.services.refund_requests import Answer, answer_refund_request, open_refund_request
from lookups.simulators.appstore.catalog import CREDITS_10
from lookups.simulators.demo_apps import (
    COACH_BUNDLE_ID,
    COACH_CUSTOMER,
    COACH_MONTHLY,
    COACH_TRANSACTIONS,
    ORDER_COACH,
    SANDBOX_TESTER_PURCHASE,
)
from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.services.test_refund_requests import Stored

pytestmark = pytest.mark.django_db

COACH_PURCHASE = COACH_TRANSACTIONS[0]
# What Apple's refund form asks of a subscription (no consumed share).
SUBSCRIPTION_ANSWER = Answer(
    customer_consented=True,
    delivery_status="DELIVERED",
    sample_content_provided=False,
    refund_preference="DECLINE",
)


@pytest.fixture
def coach_order_seen(three_apps, agent_user) -> Purchase:
    look_up_order_in_apps(agent_user, ORDER_COACH)
    return Purchase.objects.get(original_transaction_id=COACH_PURCHASE)


def coach_at_apple(simulator, environment: str = "Production"):
    return simulator.app(COACH_BUNDLE_ID, environment)


def token_at_coach(simulator, original_transaction_id: str, environment: str = "Production"):
    latest = coach_at_apple(simulator, environment).store.latest_transaction(
        original_transaction_id
    )
    return latest.get("appAccountToken")


def link(agent, original_transaction_id: str, account, **options):
    return link_purchase(
        agent,
        LinkRequest(
            original_transaction_id=original_transaction_id,
            account=account,
            ticket_reference="ZD-2401",
            request_id=uuid.uuid4(),
            **options,
        ),
    )


def test_a_link_to_a_coach_purchase_is_set_at_coach(
    coach_order_seen, agent_user, maya, simulator, three_apps
):
    change = link(agent_user, COACH_PURCHASE, maya)

    assert isinstance(change, TokenChange)
    assert change.outcome == TokenChange.Outcome.SUCCEEDED
    assert (change.app, change.environment) == (three_apps.coach, "Production")
    token = (
        coach_at_apple(simulator).store.latest_transaction(COACH_PURCHASE).get("appAccountToken")
    )
    assert token == str(maya.app_account_token)


def test_a_sandbox_purchase_is_linked_in_sandbox(three_apps, agent_user, maya, simulator):
    history_in_apps(agent_user, SANDBOX_TESTER_PURCHASE, filters=HistoryFilters())

    change = link(agent_user, SANDBOX_TESTER_PURCHASE, maya)

    assert (change.outcome, change.app, change.environment) == (
        TokenChange.Outcome.SUCCEEDED,
        three_apps.coach,
        "Sandbox",
    )
    sandbox = coach_at_apple(simulator, "Sandbox").store
    assert sandbox.latest_transaction(SANDBOX_TESTER_PURCHASE)["appAccountToken"] == str(
        maya.app_account_token
    )
    assert any(
        path.startswith("/sandbox/") and "appAccountToken" in path for _, path in simulator.requests
    )


def test_a_timed_out_coach_link_is_read_back_from_coach_by_the_worker(
    coach_order_seen, agent_user, maya, simulator, three_apps, settings
):
    settings.APPSTORE_TIMEOUT_SECONDS = 0.3
    settings.APPSTORE_CALL_BUDGET_SECONDS = 0.6
    simulator.inject_fault("slow", endpoint="set_token", delay_seconds=0.8)

    change = link(agent_user, COACH_PURCHASE, maya)

    assert change.outcome == TokenChange.Outcome.PENDING and change.app == three_apps.coach
    # The call Apple held carried out once it answered; the worker's turn is made due now.
    wait_until_token_set(simulator, maya)
    TokenChangeFollowUp.objects.filter(pk=change.pk).update(next_check_at=timezone.now())

    summary = engine.check_action.call(kind=LINK.name, action_id=str(change.pk))

    change.refresh_from_db()
    assert change.outcome == TokenChange.Outcome.SUCCEEDED, summary
    assert change.error_message == f"reconciled: Apple shows token {maya.app_account_token}"


def wait_until_token_set(simulator, account, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    store = coach_at_apple(simulator).store
    while time.monotonic() < deadline:
        if store.latest_transaction(COACH_PURCHASE).get("appAccountToken") == str(
            account.app_account_token
        ):
            return
        time.sleep(0.05)
    raise AssertionError("Coach's store never carried the held call out")


def test_reconciling_a_coach_link_asks_coach(coach_order_seen, agent_user, maya, simulator):
    pending = TokenChange.objects.create(
        request_id=uuid.uuid4(),
        agent=agent_user,
        account=maya,
        original_transaction_id=COACH_PURCHASE,
        product_id=COACH_MONTHLY,
        app=coach_order_seen.app,
        environment="Production",
        token_after=maya.app_account_token,
        ticket_reference="ZD-2409",
    )
    coach_at_apple(simulator).store.set_app_account_token(
        COACH_PURCHASE, {"appAccountToken": str(maya.app_account_token)}
    )

    reconciled = engine.reconcile(LINK, pending)

    assert reconciled.settlement == engine.Settlement.SUCCEEDED


def test_an_approved_transfer_of_a_coach_purchase_is_made_at_coach(
    coach_order_seen, agent_user, manager_user, maya, oliver, simulator, three_apps
):
    link(agent_user, COACH_PURCHASE, maya)
    transfer = link(agent_user, COACH_PURCHASE, oliver, confirm_move=True)
    assert isinstance(transfer, TransferRequest) and transfer.app == three_apps.coach

    change = approve_transfer(manager_user, transfer)

    assert (change.outcome, change.app) == (TokenChange.Outcome.SUCCEEDED, three_apps.coach)
    token = (
        coach_at_apple(simulator).store.latest_transaction(COACH_PURCHASE).get("appAccountToken")
    )
    assert token == str(oliver.app_account_token)


def test_a_transfer_of_an_app_the_approver_may_not_see_is_refused(
    coach_order_seen, agent_user, manager_user, maya, oliver, simulator, three_apps
):
    link(agent_user, COACH_PURCHASE, maya)
    transfer = link(agent_user, COACH_PURCHASE, oliver, confirm_move=True)
    three_apps.journal.limited_agents.add(manager_user)

    with pytest.raises(ActionRefused) as refused:
        approve_transfer(manager_user, transfer)

    assert refused.value.status == 403
    assert refused.value.message == (
        "You don't work on Coach's purchases, so you can't change them at Apple."
    )
    transfer.refresh_from_db()
    assert transfer.status == TransferRequest.Status.OPEN
    assert not TransferRequest.objects.filter(seen_by(manager_user)).exists()


def extend(agent, days: int = 3) -> SubscriptionExtension:
    return extend_subscription(
        agent,
        ExtensionRequest(
            original_transaction_id=COACH_PURCHASE,
            extend_by_days=days,
            reason_code=1,
            ticket_reference="ZD-2402",
            request_id=uuid.uuid4(),
        ),
    )


def test_an_extension_of_a_coach_purchase_is_made_at_coach(
    coach_order_seen, agent_user, simulator, three_apps
):
    before = coach_order_seen.expires_at

    extension = extend(agent_user)

    assert (extension.outcome, extension.app) == ("succeeded", three_apps.coach)
    assert extension.effective_date >= before + timedelta(days=3)


def test_a_sandbox_subscription_is_extended_in_sandbox(three_apps, agent_user, simulator):
    history_in_apps(agent_user, SANDBOX_TESTER_PURCHASE, filters=HistoryFilters())

    extension = extend_subscription(
        agent_user,
        ExtensionRequest(
            original_transaction_id=SANDBOX_TESTER_PURCHASE,
            extend_by_days=3,
            reason_code=1,
            ticket_reference="ZD-2404",
            request_id=uuid.uuid4(),
        ),
    )

    assert (extension.outcome, extension.app, extension.environment) == (
        "succeeded",
        three_apps.coach,
        "Sandbox",
    )
    assert any(
        path.startswith("/sandbox/") and "/extend/" in path for _, path in simulator.requests
    )


def test_a_timed_out_coach_extension_is_read_back_from_coachs_renewal_date(
    coach_order_seen, agent_user, simulator, three_apps, settings
):
    settings.APPSTORE_TIMEOUT_SECONDS = 0.3
    settings.APPSTORE_CALL_BUDGET_SECONDS = 0.6
    simulator.inject_fault("slow", endpoint="extend", delay_seconds=0.8)

    extension = extend(agent_user)

    assert extension.outcome == SubscriptionExtension.Outcome.PENDING
    time.sleep(1.0)  # Apple carries the held call out once it answers.
    SubscriptionExtensionFollowUp.objects.filter(pk=extension.pk).update(
        next_check_at=timezone.now()
    )

    summary = engine.check_action.call(kind="extension", action_id=str(extension.pk))

    extension.refresh_from_db()
    assert (extension.outcome, extension.app) == ("succeeded", three_apps.coach), summary
    assert extension.effective_date >= coach_order_seen.expires_at + timedelta(days=3)


def test_an_extension_above_the_limit_is_approved_only_by_a_manager_seeing_coach(
    coach_order_seen, agent_user, manager_user, superuser, simulator, three_apps, settings
):
    settings.EXTENSION_DAYS_PER_AGENT_PER_DAY = 1
    waiting = extend(agent_user, days=5)
    assert waiting.outcome == SubscriptionExtension.Outcome.AWAITING_APPROVAL
    three_apps.journal.limited_agents.add(manager_user)

    with pytest.raises(ActionRefused, match="You don't work on Coach's purchases"):
        approve_extension(manager_user, waiting)
    assert not SubscriptionExtension.objects.filter(seen_by(manager_user)).exists()

    approved = approve_extension(superuser, waiting)

    assert (approved.outcome, approved.app) == ("succeeded", three_apps.coach)


def test_an_extension_approved_after_its_app_dropped_the_environment_is_refused(
    coach_order_seen, agent_user, superuser, three_apps, settings
):
    settings.EXTENSION_DAYS_PER_AGENT_PER_DAY = 1
    waiting = extend(agent_user, days=5)
    three_apps.coach.uses_production = False
    three_apps.coach.save()
    waiting.app.refresh_from_db()

    with pytest.raises(ActionRefused, match="Coach is set up for Sandbox only"):
        approve_extension(superuser, waiting)

    waiting.refresh_from_db()
    assert waiting.outcome == SubscriptionExtension.Outcome.AWAITING_APPROVAL


def test_a_coach_consumable_is_finished_at_coach(three_apps, agent_user, simulator):
    store = coach_at_apple(simulator).store
    bought = store.add_transaction(
        COACH_CUSTOMER, product_id=CREDITS_10, purchase_date=store.now_ms(), order_id="MC4TCRED1"
    )
    look_up_order_in_apps(agent_user, "MC4TCRED1")

    finish = finish_transaction(
        agent_user, FinishRequest(bought, "Delivered 10 credits, ZD-2403", uuid.uuid4())
    )

    assert (finish.outcome, finish.app) == ("succeeded", three_apps.coach)
    assert store.is_finished(bought)


def coach_refund_case(three_apps, simulator) -> RefundRequest:
    """A CONSUMPTION_REQUEST about Maya's Coach renewal, as Coach's notification URL opens it."""
    coach = coach_at_apple(simulator)
    coach.store.request_refund(COACH_TRANSACTIONS[-1])
    notification = Stored(
        {
            "notificationType": "CONSUMPTION_REQUEST",
            "notificationUUID": str(uuid.uuid4()),
            "signedDate": int(timezone.now().timestamp() * 1000),
            "data": {
                "transaction": dict(coach.transaction(COACH_TRANSACTIONS[-1])),
                "consumptionRequestReason": "UNINTENDED_PURCHASE",
            },
        }
    )
    with using_app(three_apps.coach, "Production"):
        return open_refund_request(notification)


def test_a_coach_refund_case_is_answered_at_coach(three_apps, agent_user, simulator):
    coach = coach_at_apple(simulator)
    case = coach_refund_case(three_apps, simulator)
    assert case.app == three_apps.coach

    answer = answer_refund_request(agent_user, case, SUBSCRIPTION_ANSWER)

    assert (answer.outcome, answer.app) == ("succeeded", three_apps.coach)
    assert coach.store.consumption_answers[COACH_TRANSACTIONS[-1]]
    case.refresh_from_db()
    assert case.status == RefundRequest.Status.ANSWERED


def test_an_outage_of_coach_is_compensated_at_coach(
    three_apps, coach_order_seen, manager_user, superuser, simulator
):
    asked = request_compensation(
        manager_user,
        CompensationRequest(
            COACH_MONTHLY,
            2,
            3,
            "Coach's sync down, INC-12",
            None,
            uuid.uuid4(),
            app=three_apps.coach,
            environment="Production",
        ),
    )
    assert (asked.app, asked.environment) == (three_apps.coach, "Production")

    approved = approve_compensation(superuser, asked)

    approved.refresh_from_db()
    assert approved.outcome == OutageCompensation.Outcome.PENDING
    assert approved.accepted_at is not None
    # Coach's host has the run; the demo app's knows nothing of it.
    assert coach_at_apple(simulator).mass_extensions.status(COACH_MONTHLY, str(asked.pk))


def test_another_apps_product_is_not_compensated_in_coach(
    three_apps, coach_order_seen, agent_user, manager_user
):
    look_up_order_in_apps(agent_user, ORDER_OFFER_CODE)
    demo_product = Purchase.objects.get(app=three_apps.demo).product_id

    with pytest.raises(ActionRefused, match="is sold in another app, not in Coach"):
        request_compensation(
            manager_user,
            CompensationRequest(
                demo_product,
                2,
                3,
                "INC-13",
                None,
                uuid.uuid4(),
                app=three_apps.coach,
                environment="Production",
            ),
        )


def test_what_cant_be_acted_on_is_said_in_plain_words(
    three_apps, agent_user, settings, monkeypatch
):
    settings.APPSTORE_ENVIRONMENT = "Production"
    assert why_not_acted_on(three_apps.demo, "Production") == ""
    assert why_not_acted_on(three_apps.coach, "Sandbox") == ""
    assert why_not_acted_on(None, "Production") == ""
    assert why_not_acted_on(three_apps.journal, "Sandbox") == (
        "Journal is set up for Production only, so its Sandbox purchases can be looked up but "
        "not changed at Apple. An administrator can add the environment."
    )
    monkeypatch.delenv("COACH_TEST_P8")
    assert why_not_acted_on(three_apps.coach, "Production") == (
        "Coach's App Store key can't be read (from COACH_TEST_P8), so nothing can be changed "
        "at Apple for Coach. An administrator can fix where its key is."
    )
    three_apps.journal.limited_agents.add(agent_user)
    assert why_not_acted_on(three_apps.demo, "Production", agent_user) == (
        f"You don't work on {three_apps.demo.name}'s purchases, so you can't change them at Apple."
    )


def test_a_purchase_of_an_app_the_agent_may_not_see_is_refused_before_apple(
    coach_order_seen, agent_user, maya, simulator, three_apps
):
    three_apps.journal.limited_agents.add(agent_user)
    asked_before = len(simulator.requests)

    with pytest.raises(ActionRefused) as refused:
        link(agent_user, COACH_PURCHASE, maya)

    assert refused.value.status == 403
    assert len(simulator.requests) == asked_before
    assert not TokenChange.objects.exists() and not RefusedLink.objects.exists()


def test_the_extension_offer_names_what_blocks_it(coach_order_seen, monkeypatch):
    assert extension_offers([coach_order_seen])[COACH_PURCHASE].can_extend
    monkeypatch.delenv("COACH_TEST_P8")

    offer = extension_offers([coach_order_seen])[COACH_PURCHASE]

    assert not offer.can_extend and offer.why_not.startswith("Coach's App Store key can't be read")


def test_a_purchase_with_no_picture_is_the_settings_apps(three_apps, settings):
    where = app_to_act_on("2000000999999999")

    assert (where.app, where.environment) == (settings_app(), settings.APPSTORE_ENVIRONMENT)
    assert settings_app() == three_apps.demo
    assert not TransactionFinish.objects.exists() and not ConsumptionAnswer.objects.exists()


def test_a_purchase_with_no_picture_is_refused_to_an_agent_not_on_the_settings_app(
    three_apps, agent_user
):
    three_apps.coach.limited_agents.add(agent_user)

    with pytest.raises(ActionRefused) as refused:
        app_to_act_on("2000000999999999", agent_user)

    assert refused.value.status == 403
