"""Outage compensation through the desk's service: who may ask and decide, one run per product,
and Apple's RENEWAL_EXTENSION notifications followed to the end, over real HTTP both ways."""

from __future__ import annotations

import time
import uuid

import pytest

from lookups.models import AppStoreNotification, OutageCompensation, Purchase
from lookups.roles import AGENTS, MANAGERS
from lookups.services.apple_actions import ActionRefused
from lookups.services.outage_compensation import (
    CompensationRefused,
    CompensationRequest,
    approve_compensation,
    follow_notification,
    parse_storefronts,
    reject_compensation,
    request_compensation,
)
from lookups.simulators.appstore.catalog import PRO_MONTHLY
from lookups.simulators.demo_apps import COACH_BUNDLE_ID, COACH_MONTHLY
from lookups.simulators.demo_data import PURCHASE_FREE_TRIAL
from tests.fixtures.appstore_simulator import IMMEDIATE_TASKS

pytestmark = pytest.mark.django_db
Outcome = OutageCompensation.Outcome


@pytest.fixture
def second_manager(make_user):
    return make_user("second", MANAGERS)


def ask(**options) -> CompensationRequest:
    return CompensationRequest(
        product_id=options.pop("product_id", PRO_MONTHLY),
        extend_by_days=options.pop("days", 3),
        reason_code=options.pop("reason", 3),
        note=options.pop("note", "Sync was down on Saturday, 10:00 to 16:00 UTC (INC-12)."),
        storefronts=options.pop("storefronts", None),
        request_id=options.pop("request_id", None) or uuid.uuid4(),
        **options,
    )


def wait_for_outcome(row: OutageCompensation, seconds: float = 15) -> OutageCompensation:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.is_settled:
            return row
        time.sleep(0.1)
    raise AssertionError(f"still {row.outcome}")


def test_a_request_waits_for_a_second_manager_and_apple_is_not_called(
    appstore_settings, simulator, manager_user
):
    row = request_compensation(manager_user, ask(storefronts=("USA", "GBR")))

    assert row.outcome == Outcome.AWAITING_APPROVAL
    assert row.storefronts == "USA,GBR" and row.storefront_codes == ("USA", "GBR")
    assert not [path for _, path in simulator.requests if "/extend/mass" in path]


def test_a_double_submission_is_one_request(appstore_settings, manager_user):
    request = ask()
    assert (
        request_compensation(manager_user, request).pk
        == request_compensation(manager_user, request).pk
    )
    assert OutageCompensation.objects.count() == 1


def test_only_managers_and_superusers_may_ask_or_decide(
    appstore_settings, make_user, manager_user, superuser
):
    agent = make_user("plain", AGENTS)
    with pytest.raises(CompensationRefused) as refused:
        request_compensation(agent, ask())
    assert refused.value.status == 403
    row = request_compensation(superuser, ask())
    with pytest.raises(CompensationRefused) as refused:
        approve_compensation(agent, row)
    assert refused.value.status == 403


def test_the_requester_cannot_approve_or_reject(appstore_settings, manager_user):
    row = request_compensation(manager_user, ask())
    for decide in (approve_compensation, reject_compensation):
        with pytest.raises(CompensationRefused, match="another manager") as refused:
            decide(manager_user, row)
        assert refused.value.status == 403
    row.refresh_from_db()
    assert row.outcome == Outcome.AWAITING_APPROVAL


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"days": 0}, "1 to 90"),
        ({"days": 91}, "1 to 90"),
        ({"reason": 7}, "reasons"),
        ({"note": "  "}, "what happened"),
        ({"product_id": " "}, "product"),
    ],
)
def test_bad_input_gets_a_clear_message_and_writes_nothing(
    appstore_settings, manager_user, options, words
):
    with pytest.raises(CompensationRefused, match=words):
        request_compensation(manager_user, ask(**options))
    assert not OutageCompensation.objects.exists()


def test_storefronts_are_three_letter_codes():
    assert parse_storefronts(" usa, fra;DEU usa ") == ("USA", "FRA", "DEU")
    assert parse_storefronts("") is None
    with pytest.raises(CompensationRefused, match="US, FRANCE"):
        parse_storefronts("US, FRANCE, DEU")


def test_rejection_sends_nothing_and_joins_the_chain(
    appstore_settings, simulator, manager_user, second_manager
):
    row = request_compensation(manager_user, ask())

    reject_compensation(second_manager, row)

    row.refresh_from_db()
    assert row.outcome == Outcome.REJECTED and row.approved_by == second_manager
    assert row.chain_sequence == 1
    with pytest.raises(CompensationRefused, match="second has already rejected"):
        approve_compensation(second_manager, row)
    assert not [path for _, path in simulator.requests if "/extend/mass" in path]


def test_one_run_per_product_at_a_time(appstore_settings, simulator, manager_user, second_manager):
    simulator.mass_extensions.duration_seconds = 30
    first = request_compensation(manager_user, ask())
    second = request_compensation(manager_user, ask())
    approve_compensation(second_manager, first)

    with pytest.raises(CompensationRefused, match="still extending"):
        approve_compensation(second_manager, second)
    second.refresh_from_db()
    assert second.outcome == Outcome.AWAITING_APPROVAL


def test_apples_notifications_follow_the_run_to_its_end(
    notification_endpoint, simulator, manager_user, second_manager, agent_client
):
    simulator.mass_extensions.duration_seconds = 1.0
    subscribers = simulator.store.active_subscriptions(PRO_MONTHLY, None)
    extended = [latest for original, latest in subscribers if original != PURCHASE_FREE_TRIAL]
    row = request_compensation(manager_user, ask(days=4))

    approve_compensation(second_manager, row)

    # No status check is due yet: Apple's SUMMARY notification settles it.
    settled = wait_for_outcome(row)
    assert settled.outcome == Outcome.SUCCEEDED
    assert (settled.succeeded_count, settled.failed_count) == (len(extended), 1)
    assert settled.failures_notified == 1
    assert settled.follow_up.checks == 0
    # Each RENEWAL_EXTENDED put the extended transaction into the purchase picture.
    for original, latest in subscribers:
        if original == PURCHASE_FREE_TRIAL:
            continue
        purchase = Purchase.objects.get(original_transaction_id=original)
        assert purchase.latest_transaction["transactionId"] == latest
        assert (
            purchase.latest_transaction["expiresDate"]
            == simulator.transaction(latest)["expiresDate"]
        )


def test_a_coach_run_is_made_at_coach_and_followed_by_coachs_notifications(
    three_apps, live_server, appstore_settings, simulator, manager_user, second_manager
):
    appstore_settings.TASKS = IMMEDIATE_TASKS
    coach = simulator.app(COACH_BUNDLE_ID)
    coach.mass_extensions.duration_seconds = 1.0
    coach.set_notification_url(live_server.url + three_apps.coach.notification_path("Production"))
    try:
        row = request_compensation(
            manager_user, ask(product_id=COACH_MONTHLY, app=three_apps.coach)
        )
        assert (row.app, row.environment) == (three_apps.coach, "Production")

        approve_compensation(second_manager, row)

        # Coach's SUMMARY, posted to Coach's address, settles Coach's run.
        settled = wait_for_outcome(row)
    finally:
        coach.set_notification_url(None)
    assert settled.outcome == Outcome.SUCCEEDED
    assert settled.succeeded_count == 1 and settled.follow_up.checks == 0


def test_another_apps_notifications_leave_the_run_alone(
    three_apps, appstore_settings, manager_user, second_manager
):
    row = request_compensation(manager_user, ask(product_id=COACH_MONTHLY, app=three_apps.coach))
    OutageCompensation.objects.filter(pk=row.pk).update(outcome=Outcome.PENDING)

    def arriving(app, subtype: str, **payload) -> AppStoreNotification:
        return AppStoreNotification(
            app=app,
            environment="Production",
            notification_type="RENEWAL_EXTENSION",
            subtype=subtype,
            payload=payload,
            transaction={"productId": COACH_MONTHLY},
        )

    summary = {"requestIdentifier": str(row.pk), "succeededCount": 9, "failedCount": 0}
    assert follow_notification(arriving(three_apps.journal, "FAILURE")) == ""
    assert "did not ask for" in follow_notification(
        arriving(three_apps.journal, "SUMMARY", summary=summary)
    )
    row.refresh_from_db()
    assert (row.outcome, row.failures_notified) == (Outcome.PENDING, 0)

    assert follow_notification(arriving(three_apps.coach, "FAILURE")) != ""
    row.refresh_from_db()
    assert row.failures_notified == 1


def test_a_manager_asks_only_for_an_app_they_see_in_an_environment_it_uses(
    three_apps, appstore_settings, manager_user
):
    with pytest.raises(ActionRefused, match="Journal is set up for Production only"):
        request_compensation(manager_user, ask(app=three_apps.journal, environment="Sandbox"))
    three_apps.journal.limited_agents.add(manager_user)
    with pytest.raises(ActionRefused) as refused:
        request_compensation(manager_user, ask(product_id=COACH_MONTHLY, app=three_apps.coach))

    assert refused.value.status == 403
    assert not OutageCompensation.objects.exists()
