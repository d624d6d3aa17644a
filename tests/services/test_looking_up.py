"""Looking an order up at Apple: every transaction verified, grouped by purchase with Apple's
status, the lookup recorded as the agent saw it, Apple's failure recorded as one; and across the
apps an agent may see: every app asked at once, the answer's app named."""

from __future__ import annotations

import pytest

from lookups.appstore import HistoryFilters, TransactionVerifier
from lookups.models import Lookup
from lookups.services.apps import apps_for
from lookups.services.looking_up import (
    history_in_apps,
    look_up_order,
    look_up_order_in_apps,
    recorded_transactions,
    shown_lookup,
)
from lookups.simulators.demo_apps import COACH_TRANSACTIONS, ORDER_COACH, SANDBOX_TESTER_PURCHASE
from lookups.simulators.demo_data import (
    ORDER_NOT_FOUND,
    ORDER_OFFER_CODE,
    PURCHASE_OFFER_CODE,
)

pytestmark = pytest.mark.django_db


def lookups_sent(simulator) -> list[str]:
    return [path for method, path in simulator.requests if "/lookup/" in path]


def test_an_order_is_found_in_its_app_among_three(three_apps, agent_user, simulator):
    asked = look_up_order_in_apps(agent_user, ORDER_COACH)

    outcomes = {a.app.name: a.result.lookup.outcome for a in asked}
    assert outcomes == {"Coach": "found", "Journal": "not_found", three_apps.demo.name: "not_found"}
    shown = shown_lookup(asked)
    assert shown.app == three_apps.coach and shown.environment == "Production"
    found = {row.transaction.transaction_id for row in shown.result.rows}
    assert found == set(COACH_TRANSACTIONS)
    # Every answer is recorded, naming its app.
    assert set(Lookup.objects.values_list("app__name", "outcome")) == set(outcomes.items())


def test_every_apps_record_of_an_order_is_written_in_one_statement(
    three_apps, agent_user, simulator
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    look_up_order_in_apps(agent_user, ORDER_COACH)  # the desk learns the order's purchase

    with CaptureQueriesContext(connection) as queries:
        asked = look_up_order_in_apps(agent_user, ORDER_COACH)

    inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "lookups_lookup"')]
    assert len(inserts) == 1
    # The picture held it all already: one statement, no transaction around it.
    assert not [q["sql"] for q in queries if "SAVEPOINT" in q["sql"]]
    # Each record is saved, the found one with what the agent was shown.
    shown = shown_lookup(asked)
    assert all(a.result.lookup.pk is not None for a in asked)
    assert len(Lookup.objects.get(pk=shown.result.lookup.pk).transactions) == len(
        COACH_TRANSACTIONS
    )


def test_the_order_found_for_the_first_time_is_recorded_with_its_new_picture(
    three_apps, agent_user, simulator
):
    from lookups.models import Purchase

    asked = look_up_order_in_apps(agent_user, ORDER_COACH)

    shown = shown_lookup(asked)
    assert Purchase.objects.filter(order_id=ORDER_COACH, app=three_apps.coach).exists()
    assert Lookup.objects.count() == 3
    assert {a.result.lookup.pk for a in asked} == set(Lookup.objects.values_list("pk", flat=True))
    assert shown.result.lookup.outcome == Lookup.Outcome.FOUND


def test_no_app_finding_the_order_records_every_app_all_the_same(three_apps, agent_user):
    asked = look_up_order_in_apps(agent_user, ORDER_NOT_FOUND)

    assert [a.app for a in asked] == [app for app in apps_for(agent_user)]
    assert sorted(Lookup.objects.values_list("outcome", flat=True)) == ["not_found"] * 3


def test_an_apps_failure_is_recorded_with_the_other_apps_records(three_apps, agent_user, simulator):
    simulator.inject_fault("internal_error", endpoint="lookup", times=1)

    asked = look_up_order_in_apps(agent_user, ORDER_COACH)

    outcomes = sorted(a.result.lookup.outcome for a in asked)
    assert Lookup.Outcome.FAILED in outcomes
    assert sorted(Lookup.objects.values_list("outcome", flat=True)) == outcomes


def test_the_apps_are_asked_at_once(three_apps, agent_user, simulator):
    simulator.inject_fault("slow", endpoint="lookup", delay_seconds=1.0, times=3)

    look_up_order_in_apps(agent_user, ORDER_COACH)

    arrivals = [
        at
        for (method, path), at in zip(simulator.requests, simulator.request_times, strict=True)
        if "/lookup/" in path
    ]
    assert len(arrivals) == 3
    # Asked one after another, each would arrive a second after the one before.
    assert max(arrivals) - min(arrivals) < 1.0


def test_an_agent_limited_to_one_app_never_asks_the_others(three_apps, agent_user, simulator):
    three_apps.journal.limited_agents.add(agent_user)

    asked = look_up_order_in_apps(agent_user, ORDER_COACH)

    assert [a.app for a in asked] == [three_apps.journal]
    assert asked[0].result.lookup.outcome == "not_found"
    assert len(lookups_sent(simulator)) == 1


def test_a_transaction_id_is_found_in_the_sandbox_of_the_app_using_it(three_apps, agent_user):
    shown = history_in_apps(agent_user, SANDBOX_TESTER_PURCHASE, filters=HistoryFilters())

    assert (shown.app, shown.environment) == (three_apps.coach, "Sandbox")
    [row] = shown.result.rows
    assert row.transaction.environment == "Sandbox"
    assert shown.result.lookup.app == three_apps.coach


def test_an_app_without_sandbox_is_not_asked_there(three_apps, agent_user, simulator):
    history_in_apps(agent_user, COACH_TRANSACTIONS[0], filters=HistoryFilters())

    sandbox = [path for method, path in simulator.requests if path.startswith("/sandbox/")]
    # Only Coach uses Sandbox: one request there, three in Production.
    assert len(sandbox) == 1


@pytest.mark.usefixtures("appstore_settings")
def test_a_found_order_is_verified_grouped_by_purchase_and_recorded(agent_user, simulator):
    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    assert result.error is None and result.unverified_count == 0
    (purchase,) = result.by_purchase()
    assert purchase.original_transaction_id == PURCHASE_OFFER_CODE
    assert purchase.latest.is_latest
    assert (
        purchase.latest.transaction.transaction_id
        == (simulator.order_transaction_ids(ORDER_OFFER_CODE)[-1])
    )
    assert purchase.picture is not None and purchase.picture.status is not None
    lookup = Lookup.objects.get()
    assert (lookup.agent, lookup.outcome) == (agent_user, Lookup.Outcome.FOUND)
    assert [t.transaction_id for t in recorded_transactions(lookup)] == [
        row.transaction.transaction_id for row in result.rows
    ]


@pytest.mark.usefixtures("appstore_settings")
def test_an_order_apple_does_not_know_is_recorded_as_not_found(agent_user, simulator):
    result = look_up_order(agent_user, ORDER_NOT_FOUND)

    assert result.rows == [] and result.error is None
    assert Lookup.objects.get().outcome == Lookup.Outcome.NOT_FOUND


@pytest.mark.usefixtures("appstore_settings")
def test_apple_out_of_reach_is_recorded_as_a_failed_lookup(agent_user, simulator):
    simulator.inject_fault("internal_error", endpoint="lookup")

    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    assert result.error is not None and result.rows == []
    lookup = Lookup.objects.get()
    assert lookup.outcome == Lookup.Outcome.FAILED
    assert lookup.error_code == result.error.error_code


@pytest.mark.usefixtures("appstore_settings")
def test_a_transaction_signed_by_a_stranger_is_flagged_and_the_rest_shown(agent_user, simulator):
    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    simulator.inject_fault("untrusted_chain", target=ids[0], endpoint="lookup")

    result = look_up_order(agent_user, ORDER_OFFER_CODE)

    assert result.unverified_count == 1 and result.unverified_rows[0].problem
    assert len(result.rows) == len(ids)


@pytest.mark.usefixtures("appstore_settings")
def test_every_signed_transaction_of_an_order_is_verified_once(agent_user, simulator, monkeypatch):
    verified: list[str] = []
    decode = TransactionVerifier.decode_transaction

    def counted(verifier, signed):
        verified.append(signed)
        return decode(verifier, signed)

    monkeypatch.setattr(TransactionVerifier, "decode_transaction", counted)
    [asked] = look_up_order_in_apps(agent_user, ORDER_OFFER_CODE)

    ids = simulator.order_transaction_ids(ORDER_OFFER_CODE)
    assert {row.transaction.transaction_id for row in asked.result.rows} == set(ids)
    # The order's tokens once each (the status read's own tokens are Apple's other answer).
    assert len(verified) == len(set(verified)) >= len(ids)
    assert asked.result.purchases[PURCHASE_OFFER_CODE].status is not None


@pytest.mark.usefixtures("appstore_settings")
def test_the_orders_purchases_carry_their_app(agent_user, simulator, django_assert_num_queries):
    [asked] = look_up_order_in_apps(agent_user, ORDER_OFFER_CODE)
    [asked] = look_up_order_in_apps(agent_user, ORDER_OFFER_CODE)  # the picture held already

    purchase = asked.result.purchases[PURCHASE_OFFER_CODE]
    with django_assert_num_queries(0):
        assert purchase.app == asked.app


def test_the_threads_read_apples_pauses_without_waiting_for_the_lookups_write(
    three_apps, agent_user, simulator, caplog
):
    from django.core.cache import cache

    look_up_order_in_apps(agent_user, ORDER_COACH)
    # A cache that restarted empty: each app's thread reads the pauses back from the database.
    cache.clear()

    with caplog.at_level("WARNING", logger="lookups.services.apple_pauses"):
        asked = look_up_order_in_apps(agent_user, ORDER_COACH)

    assert not [r.getMessage() for r in caplog.records if "database" in r.getMessage()]
    assert shown_lookup(asked).app == three_apps.coach


def test_an_order_seen_before_is_known_to_its_app_from_the_cache(
    three_apps, agent_user, simulator, django_assert_num_queries
):
    from lookups.services.looking_up import _order_environment
    from lookups.services.purchase_picture import seen_subscription

    look_up_order_in_apps(agent_user, ORDER_COACH)
    places = [(app, _order_environment(app)) for app in three_apps.__dict__.values()]

    with django_assert_num_queries(0):
        seen = seen_subscription(ORDER_COACH, places)

    assert seen == (COACH_TRANSACTIONS[0], three_apps.coach.pk)
    asked = look_up_order_in_apps(agent_user, ORDER_COACH)
    assert {a.app.name: a.result.lookup.outcome for a in asked}["Coach"] == "found"
