"""Looking up across the apps an agent may see: every app asked at once, the answer's app named."""

from __future__ import annotations

import pytest

from lookups.appstore import HistoryFilters
from lookups.models import Lookup
from lookups.services.looking_up import history_in_apps, look_up_order_in_apps, shown_lookup
from lookups.simulators.demo_apps import COACH_TRANSACTIONS, ORDER_COACH, SANDBOX_TESTER_PURCHASE

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
