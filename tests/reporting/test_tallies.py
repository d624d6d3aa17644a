"""The daily tallies PostgreSQL keeps give the report the figures counting the rows gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from lookups import roles
from lookups.models import DailyTally, Lookup, TokenChange
from lookups.reporting import tallies
from lookups.reporting.figures import ReportFilters, build_report
from tests.fixtures.rows import make_lookup, make_token_change, offer_lookup, settled_change

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the tallies are PostgreSQL's"),
]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def counted(filters: ReportFilters, monkeypatch) -> object:
    """The report as counting the rows themselves makes it."""
    with monkeypatch.context() as patched:
        patched.setattr(tallies, "kept", lambda using="default": False)
        return build_report(filters)


@pytest.fixture
def activity(agent_user, make_user, make_account):
    """Two agents' lookups and links over a few days, some changed or removed afterwards."""
    other = make_user("second-agent", roles.AGENTS)
    account = make_account()
    for day, agent in ((16, agent_user), (17, agent_user), (17, other), (22, other)):
        make_lookup(agent, created_at=at(day))
        make_lookup(agent, created_at=at(day, 23), outcome=Lookup.Outcome.NOT_FOUND)
        make_lookup(agent, created_at=at(day), outcome=Lookup.Outcome.FAILED, error_code=4040010)
    # Midnight UTC starts the next day.
    make_lookup(agent_user, created_at=at(18, 0))
    moved = make_lookup(agent_user, created_at=at(19))
    Lookup.objects.filter(pk=moved.pk).update(created_at=at(20), outcome=Lookup.Outcome.HELD)
    gone = make_lookup(other, created_at=at(19))
    Lookup.objects.filter(pk=gone.pk).delete()

    shown = offer_lookup(agent_user, "2000000000000001", 3, created_at=at(17))
    settled_change(
        agent_user,
        account,
        TokenChange.Outcome.SUCCEEDED,
        lookup=shown,
        original_transaction_id="2000000000000001",
        created_at=at(17),
    )
    settled_change(agent_user, account, TokenChange.Outcome.SUCCEEDED, created_at=at(17))
    settled_change(
        other, account, TokenChange.Outcome.FAILED, created_at=at(21), error_code=4000006
    )
    make_token_change(other, account, created_at=at(21))  # still pending


@pytest.mark.usefixtures("activity")
@pytest.mark.parametrize(
    ("start", "end"), [(16, 22), (17, 17), (18, 21)], ids=["week", "one day", "middle"]
)
def test_the_report_from_tallies_is_the_report_from_the_rows(start, end, monkeypatch):
    filters = ReportFilters(start=at(start).date(), end=at(end).date())

    assert build_report(filters) == counted(filters, monkeypatch)


@pytest.mark.usefixtures("activity")
def test_one_agents_report_from_tallies_is_the_report_from_the_rows(agent_user, monkeypatch):
    filters = ReportFilters(start=at(16).date(), end=at(22).date(), agent=agent_user)

    report = build_report(filters)

    assert report == counted(filters, monkeypatch)
    assert report.offer_codes.linked == 2
    assert report.offer_codes.offer_codes == 1


@pytest.mark.usefixtures("activity")
def test_settling_moves_a_token_change_to_its_outcome(agent_user, make_account):
    change = make_token_change(agent_user, make_account(email="late@example.com"))
    day = change.created_at.astimezone(UTC).date()
    pending = DailyTally.objects.filter(day=day, source="token_change", outcome="pending")
    assert pending.get().row_count == 1

    change.settle(TokenChange.Outcome.SUCCEEDED)

    assert pending.get().row_count == 0
    succeeded = DailyTally.objects.get(day=day, source="token_change", outcome="succeeded")
    assert succeeded.row_count == 1


def test_a_days_tally_reads_a_few_rows_however_many_lookups_it_held(agent_user):
    day = at(10)
    Lookup.objects.bulk_create(
        Lookup(
            agent=agent_user,
            created_at=day + timedelta(seconds=n),
            environment="Production",
            outcome=Lookup.Outcome.FOUND,
            duration_ms=100,
        )
        for n in range(500)
    )

    assert DailyTally.objects.filter(day=day.date()).count() == 1
    assert DailyTally.objects.get(day=day.date()).row_count == 500


@pytest.fixture
def coach():
    from lookups.models import App

    return App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")


@pytest.fixture
def activity_in_two_apps(activity, agent_user, make_account, coach):
    """Beside the settings' app's activity (rows naming no app), Coach's, partly in Sandbox."""
    account = make_account(email="coach@example.com")
    for day in (16, 17, 21):
        make_lookup(agent_user, created_at=at(day), app=coach)
        make_lookup(agent_user, created_at=at(day), app=coach, environment="Sandbox")
    settled_change(agent_user, account, TokenChange.Outcome.SUCCEEDED, created_at=at(17), app=coach)
    moved = make_lookup(agent_user, created_at=at(18))
    # A row later found to be Coach's moves to Coach's tally.
    Lookup.objects.filter(pk=moved.pk).update(app=coach)


def _scopes(coach) -> dict[str, object]:
    from lookups.services.app_scope import EVERY_APP

    return {
        "Coach": EVERY_APP.narrowed_to(coach),
        "no app named": type(EVERY_APP)(app_ids=(), includes_unnamed=True),
        "both": type(EVERY_APP)(app_ids=(coach.pk,), includes_unnamed=True),
    }


@pytest.mark.usefixtures("activity_in_two_apps")
@pytest.mark.parametrize("scope", ["Coach", "no app named", "both"])
@pytest.mark.parametrize("environment", ["", "Sandbox"])
def test_one_apps_report_from_tallies_is_the_report_from_its_rows(
    coach, scope, environment, monkeypatch
):
    filters = ReportFilters(
        start=at(16).date(),
        end=at(22).date(),
        apps=_scopes(coach)[scope],
        environment=environment,
    )

    assert build_report(filters) == counted(filters, monkeypatch)


@pytest.mark.usefixtures("activity_in_two_apps")
def test_coachs_tallies_count_coachs_lookups_only(coach):
    filters = ReportFilters(start=at(16).date(), end=at(22).date(), apps=_scopes(coach)["Coach"])

    report = build_report(filters)

    assert report.lookups.total == 7
    assert report.offer_codes.linked == 1
    sandbox = build_report(ReportFilters(**{**filters.__dict__, "environment": "Sandbox"}))
    assert sandbox.lookups.total == 3


@pytest.mark.usefixtures("activity")
def test_the_top_agents_lookups_and_links_are_named_in_one_query():
    from django.test.utils import CaptureQueriesContext

    from lookups.reporting.figures import top_agents

    filters = ReportFilters(start=at(16).date(), end=at(22).date())
    with CaptureQueriesContext(connection) as captured:
        ranked = top_agents(filters)

    assert {agent.username for agent in ranked} == {"agent", "second-agent"}
    assert len([q for q in captured.captured_queries if 'FROM "auth_user"' in q["sql"]]) == 1
