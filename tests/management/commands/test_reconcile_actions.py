"""`manage.py reconcile_actions`: every kind of action a crash left pending, settled in one run
from what Apple shows, with a summary per kind; `reconcile_token_changes` is the same command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from lookups.management.commands import reconcile_actions, reconcile_token_changes
from lookups.models import SubscriptionExtension, TokenChange
from lookups.services.apple_reads import renewal_date_at_apple
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE
from tests.fixtures.rows import make_extension

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(hours=1)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("reconcile_actions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_link_and_an_extension_left_pending_are_settled_in_one_run(
    pending, agent_user, simulator
):
    extension = make_extension(
        agent_user,
        original_transaction_id=PURCHASE_OFFER_CODE,
        renewal_date_before=renewal_date_at_apple(PURCHASE_OFFER_CODE),
    )
    TokenChange.objects.update(created_at=timezone.now() - LONG_AGO)
    SubscriptionExtension.objects.update(created_at=timezone.now() - LONG_AGO)

    out, err = run()

    assert err == ""
    assert f"token change {pending.pk} (purchase {pending.original_transaction_id}" in out
    assert f"extension {extension.pk} (purchase {PURCHASE_OFFER_CODE}" in out
    assert "1 token changes pending for over 10 minutes: 0 succeeded, 1 failed" in out
    assert "1 extensions pending for over 10 minutes: 0 succeeded, 1 failed" in out
    assert TokenChange.objects.get().outcome == "failed"
    assert SubscriptionExtension.objects.get().outcome == "failed"


def test_nothing_pending_says_there_is_nothing_to_settle():
    out, _ = run("--older-than", "30")
    assert out.strip() == "0 token changes pending for over 30 minutes: nothing to settle."


def test_a_threshold_shorter_than_a_call_can_wait_is_refused(settings):
    settings.APPSTORE_CALL_BUDGET_SECONDS = 150
    settings.TOKEN_CHECK_MARGIN_SECONDS = 30

    assert reconcile_actions.shortest_wait_minutes() == 3
    with pytest.raises(CommandError, match="--older-than must be at least 3 minutes"):
        run("--older-than", "2")


def test_the_former_name_runs_the_same_command():
    assert reconcile_token_changes.Command is reconcile_actions.Command
