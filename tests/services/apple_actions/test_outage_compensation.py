"""The outage compensation kind against the simulator over real HTTP: the call is Apple's
acceptance, the status endpoint is the follow-up, and the row settles with Apple's counts."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from lookups.models import OutageCompensation, OutageCompensationFollowUp
from lookups.services.apple_actions import engine
from lookups.services.apple_actions.outage_compensation import KIND
from lookups.simulators.appstore.catalog import PRO_MONTHLY

pytestmark = pytest.mark.django_db
Outcome = OutageCompensation.Outcome


@pytest.fixture(autouse=True)
def _anchor(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors")


def approved_row(requester, approver, **fields) -> OutageCompensation:
    """A request a second manager approved, pending as the service leaves it before the call."""
    row = OutageCompensation.objects.create(
        requested_by=requester,
        environment="Sandbox",
        product_id=fields.pop("product_id", PRO_MONTHLY),
        extend_by_days=fields.pop("days", 5),
        reason_code=3,
        note="Sync was down for six hours on Saturday.",
        **fields,
    )
    OutageCompensation.objects.filter(pk=row.pk).update(
        outcome=Outcome.PENDING, approved_by=approver, approved_at=timezone.now()
    )
    row.refresh_from_db()
    return row


def check_until_settled(row: OutageCompensation, seconds: float = 15) -> OutageCompensation:
    """Run the follow-up's checks (due at once) until Apple says the run is complete."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        OutageCompensationFollowUp.objects.filter(pk=row.pk).update(next_check_at=timezone.now())
        engine.check(KIND, row.pk)
        row.refresh_from_db()
        if row.is_settled:
            return row
        time.sleep(0.2)
    raise AssertionError(f"never settled: {row.outcome}, {row.follow_up.last_error}")


def test_apple_accepts_and_the_status_settles_it_with_the_counts(
    appstore_settings, simulator, manager_user, make_user
):
    simulator.mass_extensions.duration_seconds = 0.5
    subscribers = simulator.store.active_subscriptions(PRO_MONTHLY, None)
    row = approved_row(make_user("requester"), manager_user)

    engine.perform(KIND, row)

    row.refresh_from_db()
    assert row.outcome == Outcome.PENDING and row.accepted_at is not None
    assert row.follow_up.next_check_at is not None
    settled = check_until_settled(row)
    # The free trial can't be extended; every other active subscriber is.
    assert settled.outcome == Outcome.SUCCEEDED
    assert (settled.succeeded_count, settled.failed_count) == (len(subscribers) - 1, 1)
    assert settled.completed_at is not None and settled.chain_sequence == 1
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    assert out.getvalue().startswith("Checked 1 ")


def test_storefronts_limit_the_run(appstore_settings, simulator, manager_user, make_user):
    simulator.mass_extensions.duration_seconds = 0.2
    subscribers = simulator.store.active_subscriptions(PRO_MONTHLY, ["GBR"])
    row = approved_row(make_user("requester"), manager_user, storefronts="GBR")

    engine.perform(KIND, row)

    settled = check_until_settled(row)
    assert settled.succeeded_count + settled.failed_count == len(subscribers)


def test_a_run_apple_never_received_is_read_back_as_failed(
    appstore_settings, simulator, manager_user, make_user
):
    row = approved_row(make_user("requester"), manager_user)

    reconciled = engine.reconcile(KIND, row)

    assert reconciled.settlement == engine.Settlement.FAILED
    row.refresh_from_db()
    assert row.error_code == 4040009
    assert "never arrived" in row.error_message
    assert row.chain_sequence == 1


def test_apples_refusal_settles_it_failed_with_apples_code(
    appstore_settings, simulator, manager_user, make_user
):
    row = approved_row(make_user("requester"), manager_user, product_id="no.such.product")

    engine.perform(KIND, row)

    row.refresh_from_db()
    assert row.outcome == Outcome.FAILED
    assert row.error_code == 4000023
    assert "(Apple error 4000023)" in row.error_message


def test_a_timed_out_call_is_followed_up_and_settled_from_the_status(
    appstore_settings, simulator, manager_user, make_user
):
    simulator.mass_extensions.duration_seconds = 0.2
    appstore_settings.APPSTORE_TIMEOUT_SECONDS = 0.3
    simulator.inject_fault("slow", endpoint="mass_extend", delay_seconds=1.0)
    row = approved_row(make_user("requester"), manager_user)

    engine.perform(KIND, row)

    row.refresh_from_db()
    assert row.outcome == Outcome.PENDING and row.accepted_at is None
    time.sleep(1.0)  # Apple finishes the call nobody heard the answer to
    settled = check_until_settled(row)
    assert settled.outcome == Outcome.SUCCEEDED
    assert settled.accepted_at is not None
