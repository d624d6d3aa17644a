"""The unlinked offer codes: read from the purchases alone, first told of first."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lookups.models import AppStoreNotification, Purchase, TokenChange
from lookups.services import notifications
from lookups.services.app_scope import scope_of
from lookups.services.apps import using_app
from lookups.services.unlinked import unlinked_offer_code_purchases
from lookups.simulators.demo_apps import COACH_BUNDLE_ID, SANDBOX_TESTER_PURCHASE
from lookups.simulators.demo_data import PURCHASE_OFFER_CODE

pytestmark = pytest.mark.django_db

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def tell_and_apply(simulator, kind: str) -> None:
    """Apple posts one notification about the offer-code purchase; a worker applies it."""
    sent = simulator.emit_notification(kind, transaction_id=PURCHASE_OFFER_CODE)
    notifications.receive_signed(sent.signed_payload)
    notifications.apply_waiting()


def test_the_list_reads_the_purchases_not_every_notification(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    simulator.set_notification_url(None)
    tell_and_apply(simulator, "OFFER_REDEEMED")

    with CaptureQueriesContext(connection) as read:
        listed = list(unlinked_offer_code_purchases()[:200])

    assert [purchase.original_transaction_id for purchase in listed] == [PURCHASE_OFFER_CODE]
    assert len(read.captured_queries) == 1
    assert AppStoreNotification._meta.db_table not in read.captured_queries[0]["sql"]


def test_the_earliest_news_dates_the_purchase_whatever_order_it_arrives_in(
    appstore_settings, simulator
):
    appstore_settings.TASKS = DATABASE_BACKEND
    simulator.set_notification_url(None)
    earlier = simulator.emit_notification("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    time.sleep(0.01)  # distinct signedDate milliseconds
    later = simulator.emit_notification("OFFER_REDEEMED", transaction_id=PURCHASE_OFFER_CODE)
    notifications.receive_signed(later.signed_payload)
    notifications.apply_waiting()
    notifications.receive_signed(earlier.signed_payload)
    notifications.apply_waiting()

    purchase = Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE)
    first = AppStoreNotification.objects.get(notification_uuid=earlier.notification_uuid)
    assert purchase.offer_code_told_at == first.signed_date
    assert unlinked_offer_code_purchases().get().first_told_at == first.signed_date


def test_a_renewal_dates_nothing(appstore_settings, simulator):
    appstore_settings.TASKS = DATABASE_BACKEND
    simulator.set_notification_url(None)
    tell_and_apply(simulator, "DID_RENEW")
    assert (
        Purchase.objects.get(original_transaction_id=PURCHASE_OFFER_CODE).offer_code_told_at is None
    )
    assert not unlinked_offer_code_purchases().exists()


def told_of(original_id: str, *, app=None, environment: str = "Production", minutes_ago: int):
    """A purchase Apple told of as an offer code redeemed `minutes_ago`, linked to no one."""
    now = timezone.now()
    return Purchase.objects.create(
        app=app,
        environment=environment,
        original_transaction_id=original_id,
        latest_transaction={"originalTransactionId": original_id, "productId": "com.example.pro"},
        product_id="com.example.pro",
        learnt_at=now,
        learnt_from=Purchase.Source.NOTIFICATION,
        offer_code_told_at=now - timedelta(minutes=minutes_ago),
    )


def listed(apps=None) -> list[tuple[str, str]]:
    found = unlinked_offer_code_purchases(*([apps] if apps else []))
    return [(p.original_transaction_id, p.environment) for p in found]


def test_a_sandbox_offer_code_apple_told_of_is_listed_as_sandbox(
    appstore_settings, simulator, three_apps
):
    appstore_settings.TASKS = DATABASE_BACKEND
    simulator.set_notification_url(None)
    tell_and_apply(simulator, "OFFER_REDEEMED")
    coach_sandbox = simulator.app(COACH_BUNDLE_ID, "Sandbox")
    coach_sandbox.set_notification_url(None)
    sent = coach_sandbox.emit_notification("OFFER_REDEEMED", transaction_id=SANDBOX_TESTER_PURCHASE)
    with using_app(three_apps.coach, "Sandbox"):
        notifications.receive_signed(sent.signed_payload)
    notifications.apply_waiting()

    found = {p.original_transaction_id: p for p in unlinked_offer_code_purchases()}

    assert set(found) == {PURCHASE_OFFER_CODE, SANDBOX_TESTER_PURCHASE}
    sandbox = found[SANDBOX_TESTER_PURCHASE]
    assert (sandbox.app, sandbox.environment) == (three_apps.coach, "Sandbox")
    assert found[PURCHASE_OFFER_CODE].environment == "Production"


def test_both_environments_are_one_list_first_told_first(three_apps):
    told_of("1001", app=three_apps.coach, environment="Sandbox", minutes_ago=30)
    told_of("1002", app=three_apps.demo, minutes_ago=40)
    told_of("1003", app=three_apps.coach, minutes_ago=20)
    told_of("1004", app=three_apps.coach, environment="Sandbox", minutes_ago=10)

    assert listed() == [
        ("1002", "Production"),
        ("1001", "Sandbox"),
        ("1003", "Production"),
        ("1004", "Sandbox"),
    ]


def test_a_sandbox_purchase_of_an_app_not_using_sandbox_is_not_listed(three_apps):
    told_of("1001", app=three_apps.journal, environment="Sandbox", minutes_ago=3)
    told_of("1002", app=three_apps.demo, environment="Sandbox", minutes_ago=2)
    told_of("1003", app=None, environment="Sandbox", minutes_ago=1)

    assert listed() == []


def test_an_agent_sees_both_environments_of_their_apps_only(agent_user, three_apps):
    three_apps.coach.limited_agents.add(agent_user)
    told_of("1001", app=three_apps.coach, environment="Sandbox", minutes_ago=3)
    told_of("1002", app=three_apps.journal, minutes_ago=2)
    told_of("1003", app=None, minutes_ago=1)

    assert listed(scope_of(agent_user)) == [("1001", "Sandbox")]


def test_a_link_under_way_takes_a_sandbox_purchase_off_the_list_in_its_own_environment(
    three_apps, agent_user, customer_account
):
    from tests.fixtures.rows import make_token_change

    told_of("1001", app=three_apps.coach, environment="Sandbox", minutes_ago=1)
    # A link of the same ID in Production, sent since, is not this purchase's.
    production = make_token_change(agent_user, customer_account, original_transaction_id="1001")
    production.settle(TokenChange.Outcome.SUCCEEDED)
    assert listed() == [("1001", "Sandbox")]

    make_token_change(
        agent_user, customer_account, original_transaction_id="1001", environment="Sandbox"
    )
    assert listed() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan checked is PostgreSQL's")
def test_both_environments_are_read_in_the_lists_order_from_its_index(agent_user, three_apps):
    told_of("1001", app=three_apps.coach, environment="Sandbox", minutes_ago=2)
    told_of("1002", app=three_apps.demo, minutes_ago=1)
    page = unlinked_offer_code_purchases(scope_of(agent_user)).select_related("app")[:50]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        # Priced out, a sort or a full read still shows in the plan if no index gives the order.
        cursor.execute("SET enable_sort = off")
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_sort")
        cursor.execute("RESET enable_seqscan")

    assert "Index Scan using purchase_unlinked_offer_code" in plan
    assert "Sort" not in plan
