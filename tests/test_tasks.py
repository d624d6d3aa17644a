"""Tasks queued under their former paths in `lookups.tasks` still run, handed to the engine."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from lookups import tasks
from lookups.models import SubscriptionExtension, TokenChange
from lookups.services import adapty_delivery, notifications, refund_requests, settling, sweeping
from lookups.services.apple_actions import engine
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE
from tests.fixtures.rows import make_consumption_answer, make_extension

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("old_path", "now_at"),
    [
        ("lookups.tasks.check_action", engine.check_action),
        ("lookups.tasks.deliver_to_adapty", adapty_delivery.deliver_to_adapty),
        ("lookups.tasks.apply_notifications", notifications.apply_notifications),
        (
            "lookups.tasks.answer_refund_request_by_policy",
            refund_requests.answer_refund_request_by_policy,
        ),
        ("lookups.tasks.sweep", sweeping.periodic_sweep),
    ],
)
def test_a_row_queued_under_a_former_path_finds_the_task_in_its_new_home(old_path, now_at):
    assert import_string(old_path) is now_at


def test_a_queued_token_change_check_settles_the_link(pending, simulator):
    settling.follow_up(pending, first_check_at=timezone.now())

    summary = tasks.check_token_change.call(token_change_id=pending.pk)

    assert summary == f"token change {pending.pk}: failed"
    assert TokenChange.objects.get(pk=pending.pk).outcome == TokenChange.Outcome.FAILED


def test_a_token_change_check_that_gave_up_fails_in_the_queue(pending, settings):
    settings.APPLE_FOLLOW_UP_ATTEMPTS = 1
    settling.follow_up(pending, first_check_at=timezone.now())
    type(pending.follow_up).objects.filter(pk=pending.pk).update(checks=1)

    with pytest.raises(engine.GaveUp):
        tasks.check_token_change.call(token_change_id=pending.pk)


def test_a_queued_extension_check_is_followed_up_by_the_engine(
    agent_user, appstore_settings, simulator
):
    extension = make_extension(agent_user, original_transaction_id=PURCHASE_OFFER_CODE)

    summary = tasks.check_extension.call(extension_id=str(extension.pk))

    extension.refresh_from_db()
    assert extension.outcome == SubscriptionExtension.Outcome.FAILED
    assert summary == f"extension {extension.pk}: failed"
    missing = str(uuid.uuid4())
    assert tasks.check_extension.call(extension_id=missing) == f"no extension {missing}"


def test_a_queued_resend_of_an_answer_nobody_follows_up_says_so(agent_user):
    answer = make_consumption_answer(agent_user)

    summary = tasks.resend_consumption_answer.call(answer_id=answer.pk)

    assert summary == f"consumption answer {answer.pk} is not followed up"
