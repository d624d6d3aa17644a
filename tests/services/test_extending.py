"""Goodwill extensions through the desk's service, against the simulator over real HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from lookups.appstore.errors import AppStoreTimeoutError
from lookups.models import (
    AuditLogIsAppendOnly,
    SubscriptionExtension,
    SubscriptionExtensionFollowUp,
    TokenChange,
)
from lookups.services import extending
from lookups.services.apple_actions import engine
from lookups.services.clients import app_store_client
from lookups.services.extending import (
    ExtensionRefused,
    ExtensionRequest,
    approve_extension,
    expected_refusals,
    extend_subscription,
    reject_extension,
)
from lookups.services.purchase_picture import stored_purchase
from lookups.services.task_queue import tasks_of
from lookups.simulators.demo_data import (
    ORDER_BILLING_RETRY,
    ORDER_EXPIRED,
    ORDER_FAMILY_SHARED,
    ORDER_FREE_TRIAL,
    ORDER_GRACE_PERIOD,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
)
from tests.fixtures.links import look_up, post_link

pytestmark = pytest.mark.django_db

Outcome = SubscriptionExtension.Outcome


def original_of(simulator, order_id: str) -> str:
    return simulator.order_transaction_ids(order_id)[0]


def ask(original: str, *, days: int = 7, request_id: uuid.UUID | None = None) -> ExtensionRequest:
    return ExtensionRequest(
        original_transaction_id=original,
        extend_by_days=days,
        reason_code=SubscriptionExtension.Reason.SERVICE_ISSUE,
        ticket_reference="ZD-77",
        request_id=request_id or uuid.uuid4(),
    )


def verify_log() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _anchor(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors")


def test_an_extension_moves_the_renewal_date_and_is_audited(
    agent_client, agent_user, appstore_settings, simulator
):
    look_up(agent_client, ORDER_OFFER_CODE)
    original = original_of(simulator, ORDER_OFFER_CODE)
    before = extending.renewal_date(stored_purchase(original))

    extension = extend_subscription(agent_user, ask(original, days=10))

    assert extension.outcome == Outcome.SUCCEEDED
    assert extension.effective_date == before + timedelta(days=10)
    assert extension.renewal_date_before == before
    assert extension.chain_sequence == 1
    [(_, days)] = simulator.store.renewal_state(original).extensions
    assert days == 10
    assert str(extension.pk) in simulator.store.renewal_state(original).extension_answers
    assert verify_log().startswith("Checked 1 ")


def test_a_double_click_extends_once(agent_client, agent_user, appstore_settings, simulator):
    look_up(agent_client, ORDER_OFFER_CODE)
    original = original_of(simulator, ORDER_OFFER_CODE)
    request = ask(original)

    first = extend_subscription(agent_user, request)
    again = extend_subscription(agent_user, request)

    assert again.pk == first.pk
    assert SubscriptionExtension.objects.count() == 1
    assert len(simulator.store.renewal_state(original).extensions) == 1


@pytest.mark.parametrize(
    "order_id",
    [ORDER_EXPIRED, ORDER_BILLING_RETRY, ORDER_GRACE_PERIOD, ORDER_FREE_TRIAL, ORDER_FAMILY_SHARED],
)
def test_every_refusal_is_foreseen_and_leaves_a_failed_row(
    agent_client, agent_user, appstore_settings, simulator, order_id
):
    look_up(agent_client, order_id)
    original = original_of(simulator, order_id)
    foreseen = expected_refusals(stored_purchase(original))
    assert foreseen, "the page would not warn the agent"

    extension = extend_subscription(agent_user, ask(original))

    assert extension.outcome == Outcome.FAILED
    assert extension.error_code in {refusal.code for refusal in foreseen}
    assert f"(Apple error {extension.error_code})" in extension.error_message
    assert extension.chain_sequence == 1


def test_a_third_extension_in_a_year_is_foreseen_and_refused(
    agent_client, agent_user, appstore_settings, simulator
):
    look_up(agent_client, ORDER_OFFER_CODE)
    original = original_of(simulator, ORDER_OFFER_CODE)
    for _ in range(2):
        assert extend_subscription(agent_user, ask(original)).outcome == Outcome.SUCCEEDED
    look_up(agent_client, ORDER_OFFER_CODE)

    [foreseen] = expected_refusals(stored_purchase(original))
    third = extend_subscription(agent_user, ask(original))

    assert third.outcome == Outcome.FAILED
    assert third.error_code == foreseen.code == 4030004


def time_out(monkeypatch, *, carried_out: bool) -> None:
    """Apple's answer to the next extension never arrives; Apple carried it out or not."""
    client = app_store_client()
    real = client.extend_subscription_renewal_date

    def answered_too_late(*args, **kwargs):
        if carried_out:
            real(*args, **kwargs)
        raise AppStoreTimeoutError()

    monkeypatch.setattr(client, "extend_subscription_renewal_date", answered_too_late)


def queued_checks() -> list[dict]:
    return [row.args_kwargs["kwargs"] for row in tasks_of(engine.check_action)]


def run_when_due(check: dict) -> str:
    """Time passes until the check is due; then the task's body runs."""
    SubscriptionExtensionFollowUp.objects.update(next_check_at=timezone.now())
    return engine.check(engine.kind_named(check["kind"]), check["action_id"]).summary


def test_a_timeout_is_settled_by_a_task_from_the_moved_renewal_date(
    agent_client, agent_user, appstore_settings, simulator, monkeypatch
):
    look_up(agent_client, ORDER_OFFER_CODE)
    original = original_of(simulator, ORDER_OFFER_CODE)
    before = extending.renewal_date(stored_purchase(original))
    time_out(monkeypatch, carried_out=True)

    extension = extend_subscription(agent_user, ask(original, days=4))
    monkeypatch.undo()

    assert extension.outcome == Outcome.PENDING
    [check] = queued_checks()
    assert check == {"kind": "extension", "action_id": str(extension.pk)}
    run_when_due(check)
    extension.refresh_from_db()
    assert extension.outcome == Outcome.SUCCEEDED
    assert extension.effective_date == before + timedelta(days=4)
    assert len(simulator.store.renewal_state(original).extensions) == 1
    assert verify_log().startswith("Checked 1 ")


def test_a_timeout_apple_did_not_carry_out_settles_as_failed(
    agent_client, agent_user, appstore_settings, simulator, monkeypatch
):
    look_up(agent_client, ORDER_OFFER_CODE)
    original = original_of(simulator, ORDER_OFFER_CODE)
    time_out(monkeypatch, carried_out=False)
    extension = extend_subscription(agent_user, ask(original))
    monkeypatch.undo()

    [check] = queued_checks()
    run_when_due(check)
    run_when_due(check)  # a second run changes nothing

    extension.refresh_from_db()
    assert extension.outcome == Outcome.FAILED
    assert "renewal date has not moved" in extension.error_message
    assert simulator.store.renewal_state(original).extensions == []


def test_extensions_and_token_changes_share_one_chain(
    agent_client, agent_user, appstore_settings, simulator, maya
):
    look_up(agent_client, ORDER_OFFER_CODE)
    extend_subscription(agent_user, ask(original_of(simulator, ORDER_OFFER_CODE)))
    post_link(agent_client, PURCHASE_OFFER_CODE, maya)
    look_up(agent_client, ORDER_EXPIRED)
    extend_subscription(agent_user, ask(original_of(simulator, ORDER_EXPIRED)))

    sequences = sorted(
        [
            *SubscriptionExtension.objects.values_list("chain_sequence", flat=True),
            *TokenChange.objects.filter(chain_sequence__isnull=False).values_list(
                "chain_sequence", flat=True
            ),
        ]
    )
    assert sequences == list(range(1, len(sequences) + 1))
    assert TokenChange.objects.get().outcome == TokenChange.Outcome.SUCCEEDED
    assert len(sequences) == 3
    assert verify_log().startswith(f"Checked {len(sequences)} ")


def test_a_changed_extension_breaks_the_chain(
    agent_client, agent_user, appstore_settings, simulator
):
    look_up(agent_client, ORDER_OFFER_CODE)
    extension = extend_subscription(agent_user, ask(original_of(simulator, ORDER_OFFER_CODE)))
    assert verify_log().startswith("Checked 1 ")

    # The database refuses the change outright; the model too.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE lookups_subscriptionextension SET extend_by_days = 90 WHERE id = %s",
            [extension.pk.hex if connection.vendor == "sqlite" else extension.pk],
        )
    with pytest.raises(AuditLogIsAppendOnly):
        extension.save()
    with pytest.raises(AuditLogIsAppendOnly):
        extension.delete()


def test_the_database_refuses_settled_inserts_and_deletes(agent_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionExtension.objects.create(
            agent=agent_user,
            environment="Sandbox",
            original_transaction_id="1",
            extend_by_days=3,
            reason_code=1,
            ticket_reference="t",
            outcome=Outcome.SUCCEEDED,
        )
    pending = SubscriptionExtension.objects.create(
        agent=agent_user,
        environment="Sandbox",
        original_transaction_id="1",
        extend_by_days=3,
        reason_code=1,
        ticket_reference="t",
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM lookups_subscriptionextension WHERE id = %s",
            [pending.pk.hex if connection.vendor == "sqlite" else pending.pk],
        )


def test_above_the_daily_limit_a_manager_approves_first(
    agent_client, agent_user, manager_user, appstore_settings, simulator, settings
):
    settings.EXTENSION_DAYS_PER_AGENT_PER_DAY = 10
    look_up(agent_client, ORDER_OFFER_CODE)
    original = original_of(simulator, ORDER_OFFER_CODE)
    assert extend_subscription(agent_user, ask(original, days=6)).outcome == Outcome.SUCCEEDED

    waiting = extend_subscription(agent_user, ask(original, days=6))

    assert waiting.outcome == Outcome.AWAITING_APPROVAL
    assert len(simulator.store.renewal_state(original).extensions) == 1
    with pytest.raises(ExtensionRefused):
        approve_extension(agent_user, waiting)
    approved = approve_extension(manager_user, waiting)
    assert approved.outcome == Outcome.SUCCEEDED
    assert approved.approved_by == manager_user
    assert len(simulator.store.renewal_state(original).extensions) == 2


def test_a_rejected_extension_is_never_sent_and_is_chained(
    agent_client, agent_user, manager_user, appstore_settings, simulator, settings
):
    settings.EXTENSION_DAYS_PER_AGENT_PER_DAY = 5
    look_up(agent_client, ORDER_OFFER_CODE)
    original = original_of(simulator, ORDER_OFFER_CODE)

    waiting = extend_subscription(agent_user, ask(original, days=6))
    reject_extension(manager_user, waiting)

    assert waiting.outcome == Outcome.REJECTED
    assert waiting.chain_sequence == 1
    assert simulator.store.renewal_state(original).extensions == []
    with pytest.raises(ExtensionRefused):
        approve_extension(manager_user, waiting)
    assert verify_log().startswith("Checked 1 ")
