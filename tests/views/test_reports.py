"""The managers' reports page: who may open it, its filters, its figures and its query count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lookups import tasks
from lookups.models import (
    Lookup,
    TokenChange,
)
from lookups.services import settling
from tests.fixtures.rows import (
    make_lookup,
    make_token_change,
    offer_lookup,
    settled_change,
)

pytestmark = pytest.mark.django_db

URL = reverse("lookups:reports")
WEEK = {"start": "2026-11-16", "end": "2026-11-22"}


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def numbers_table(html: str, caption: str) -> list[list[str]]:
    """The cells of the table with this caption, row by row, header row first."""
    start = html.index(f"<caption>{caption}")
    table = html[start : html.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]


# --- Who may open it ------------------------------------------------------------------------


def test_the_reports_page_refuses_post(manager_client):
    assert manager_client.post(URL, WEEK).status_code == 405


def test_the_nav_links_to_it_for_managers_only(manager_client, agent_client):
    page = manager_client.get(URL).text
    assert "<h1>Reports</h1>" in page
    assert f'<a href="{URL}">Reports</a>' in page
    assert f'href="{URL}"' not in agent_client.get(reverse("lookups:look_up")).text


# --- Filters ---------------------------------------------------------------------------------


def test_it_defaults_to_the_last_30_days_up_to_today(manager_client, agent_user):
    today = timezone.now().astimezone(UTC).date()
    make_lookup(agent_user)
    make_lookup(agent_user, created_at=timezone.now() - timedelta(days=29))
    make_lookup(agent_user, created_at=timezone.now() - timedelta(days=30))

    page = manager_client.get(URL).text

    first = (today - timedelta(days=29)).isoformat()
    assert f'name="start" value="{first}"' in page
    assert f'name="end" value="{today.isoformat()}"' in page
    rows = numbers_table(page, "Lookups per day by outcome")
    assert rows[1][0] == first
    assert len(rows) == 1 + 30 + 1  # header, 30 days, total
    assert rows[-1][-1] == "2"


def test_days_are_whole_utc_days_both_ends_included(manager_client, agent_user):
    make_lookup(agent_user, created_at=at(15, 23, 59, 59))  # before
    make_lookup(agent_user, created_at=at(16, 0, 0, 0))  # first moment
    make_lookup(agent_user, created_at=at(22, 23, 59, 59), outcome=Lookup.Outcome.FAILED)
    make_lookup(agent_user, created_at=at(23, 0, 0, 0))  # after

    rows = numbers_table(manager_client.get(URL, WEEK).text, "Lookups per day by outcome")

    assert rows[0] == ["Day (UTC)", "Found", "Not found", "Failed", "Held by the desk", "Total"]
    assert rows[1] == ["2026-11-16", "1", "0", "0", "0", "1"]
    assert rows[7] == ["2026-11-22", "0", "0", "1", "0", "1"]
    assert rows[8] == ["All days", "1", "0", "1", "0", "2"]


def test_the_agent_filter_narrows_every_figure(manager_client, agent_user, make_user):
    other = make_user("other-agent", "Support agents")
    make_lookup(agent_user, created_at=at(17))
    make_lookup(other, created_at=at(17))
    make_lookup(other, created_at=at(18))

    page = manager_client.get(URL, {**WEEK, "agent": other.pk}).text

    assert numbers_table(page, "Lookups per day by outcome")[-1][-1] == "2"
    agents = numbers_table(page, "Agents with the most lookups")
    assert agents[1] == ["other-agent", "2", "0"]
    assert f'<option value="{other.pk}" selected>other-agent</option>' in page


def test_an_unknown_agent_is_refused_with_a_message(manager_client):
    response = manager_client.get(URL, {**WEEK, "agent": "999999"})
    assert response.status_code == 200
    assert "Choose one of the agents listed." in response.text
    assert "<svg" not in response.text


def test_a_range_longer_than_366_days_is_refused_with_a_message(manager_client):
    response = manager_client.get(URL, {"start": "2025-11-22", "end": "2026-11-23"})
    assert "Choose a range of at most 366 days; this one has 367." in response.text
    assert "<svg" not in response.text

    longest = manager_client.get(URL, {"start": "2025-11-23", "end": "2026-11-23"}).text
    assert len(numbers_table(longest, "Lookups per day by outcome")) == 1 + 366 + 1


def test_a_start_after_the_end_is_refused(manager_client):
    response = manager_client.get(URL, {"start": "2026-11-23", "end": "2026-11-22"})
    assert "The start date must not be after the end date." in response.text


def test_a_bad_date_is_refused(manager_client):
    response = manager_client.get(URL, {"start": "yesterday", "end": "2026-11-22"})
    assert "From: Enter a valid date." in response.text


def test_htmx_gets_only_the_report_fragment(manager_client, agent_user):
    make_lookup(agent_user, created_at=at(17))
    response = manager_client.get(URL, WEEK, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<form" not in response.text
    assert "Lookups per day by outcome" in response.text


def test_the_page_works_without_javascript(manager_client):
    page = manager_client.get(URL).text
    assert f'<form method="get" action="{URL}"' in page
    assert '<button type="submit">Show</button>' in page


# --- The figures -----------------------------------------------------------------------------


def test_an_empty_range_shows_empty_charts(manager_client):
    response = manager_client.get(URL, WEEK)
    page = response.text

    assert response.status_code == 200
    assert page.count("<svg") == 5
    assert "No lookups in this range." in page
    assert "No token changes in this range." in page
    assert "No agent looked up or linked anything in this range." in page
    assert "Apple returned no errors in this range." in page
    assert "No purchases linked in this range." in page
    assert "<rect" not in page
    assert numbers_table(page, "Lookups per day by outcome")[-1] == ["All days", *["0"] * 5]


def test_each_chart_has_a_title_and_no_inline_style_or_script(manager_client, agent_user):
    make_lookup(agent_user, created_at=at(17))
    page = manager_client.get(URL, WEEK).text

    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 5
    for svg in svgs:
        title_id = re.search(r'aria-labelledby="([^"]+)"', svg).group(1)
        assert f'<title id="{title_id}">' in svg
    assert "style=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
    assert "http://" not in page.split("<main>")[1]
    assert "https://" not in page.split("<main>")[1]


def test_token_changes_are_counted_per_day_and_outcome(manager_client, agent_user, make_account):
    account = make_account()
    make_token_change(agent_user, account, created_at=at(16))
    settled_change(agent_user, account, TokenChange.Outcome.FAILED, created_at=at(16, 13))
    settled_change(agent_user, account, TokenChange.Outcome.SUCCEEDED, created_at=at(18))

    rows = numbers_table(manager_client.get(URL, WEEK).text, "Token changes per day by outcome")

    assert rows[0] == ["Day (UTC)", "Pending", "Succeeded", "Failed", "Total"]
    assert rows[1] == ["2026-11-16", "1", "0", "1", "2"]
    assert rows[3] == ["2026-11-18", "0", "1", "0", "1"]
    assert rows[-1] == ["All days", "1", "1", "1", "3"]


def test_top_agents_are_ranked_by_lookups_and_links_ten_at_most(
    manager_client, make_user, make_account
):
    account = make_account()
    agents = [make_user(f"agent-{n:02d}", "Support agents") for n in range(12)]
    for n, agent in enumerate(agents):
        for _ in range(n):
            make_lookup(agent, created_at=at(17))
    settled_change(agents[0], account, TokenChange.Outcome.SUCCEEDED, created_at=at(17))
    for _ in range(20):  # a failed link is no link
        settled_change(agents[1], account, TokenChange.Outcome.FAILED, created_at=at(17))

    rows = numbers_table(manager_client.get(URL, WEEK).text, "Agents with the most lookups")

    assert rows[1] == ["agent-11", "11", "0"]
    assert rows[10] == ["agent-02", "2", "0"]
    assert len(rows) == 11
    assert "agent-00" not in str(rows)


def test_error_codes_are_counted_on_lookups_and_token_changes(
    manager_client, agent_user, make_account
):
    account = make_account()
    for _ in range(3):
        make_lookup(agent_user, created_at=at(17), outcome="failed", error_code=4040010)
    make_lookup(agent_user, created_at=at(17), outcome="failed", error_code=4290000)
    settled_change(
        agent_user, account, TokenChange.Outcome.FAILED, created_at=at(18), error_code=4290000
    )
    settled_change(
        agent_user, account, TokenChange.Outcome.FAILED, created_at=at(18), error_code=4000099
    )

    rows = numbers_table(manager_client.get(URL, WEEK).text, "Apple's error codes by count")

    assert rows[1:] == [
        ["4040010", "TransactionIdNotFoundError", "3", "0", "3"],
        ["4290000", "RateLimitExceededError", "1", "1", "2"],
        ["4000099", "—", "0", "1", "1"],
    ]


def test_the_offer_code_share_shows_in_its_table(manager_client, agent_user, make_account):
    account = make_account()
    lookup = offer_lookup(agent_user, "2000000000000001", 3, created_at=at(17))
    for purchase in ("2000000000000001", "2000000000000002"):
        settled_change(
            agent_user,
            account,
            TokenChange.Outcome.SUCCEEDED,
            lookup=lookup,
            original_transaction_id=purchase,
            created_at=at(17),
        )

    page = manager_client.get(URL, WEEK).text

    assert numbers_table(page, "Purchases linked")[1] == ["2", "1", "1", "50.0%"]
    assert "Offer codes: 1 of 2" in page
    assert ">50%</text>" in page


# --- Query count -----------------------------------------------------------------------------


def queries_for_report(client, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured)


def add_activity(agent, account, count: int) -> None:
    for n in range(count):
        day = 16 + n % 7
        lookup = offer_lookup(
            agent, f"30000000000{n:05d}", 3 if n % 2 else None, created_at=at(day), error_code=n
        )
        settled_change(
            agent,
            account,
            TokenChange.Outcome.SUCCEEDED,
            lookup=lookup,
            original_transaction_id=f"30000000000{n:05d}",
            created_at=at(day),
            error_code=n,
        )


@pytest.mark.parametrize("by_agent", [False, True])
def test_the_page_runs_the_same_queries_for_little_or_much_data(
    manager_client, agent_user, make_user, make_account, by_agent
):
    account = make_account()
    params = {**WEEK, "agent": agent_user.pk} if by_agent else WEEK
    add_activity(agent_user, account, 2)
    queries_for_report(manager_client, params)  # warm the session and permission caches
    little = queries_for_report(manager_client, params)

    add_activity(agent_user, account, 40)
    for n in range(5):
        add_activity(make_user(f"busy-{n}", "Support agents"), account, 3)
    much = queries_for_report(manager_client, params)

    assert little == much


@pytest.mark.parametrize(
    "dates", [{"end": "9999-12-31"}, {"end": "0001-01-01"}, {"start": "1900-01-01"}]
)
def test_dates_far_outside_the_app_stores_years_get_a_message(manager_client, dates):
    response = manager_client.get(reverse("lookups:reports"), dates)
    assert response.status_code == 200
    assert "Choose dates between" in response.text


def test_the_reports_page_counts_waiting_work_and_turns_red_when_it_waits_too_long(
    manager_client, pending, settings
):
    settling.follow_up(pending, first_check_at=timezone.now() - timedelta(minutes=2))
    tasks.deliver_to_adapty.enqueue(delivery_id=0)

    calm = manager_client.get(reverse("lookups:reports"))
    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(minutes=30))
    late = manager_client.get(reverse("lookups:reports"))

    assert "Background work: 2 waiting, oldest 2 minutes." in calm.text
    assert 'class="background-work"' in calm.text
    assert "Background work: 2 waiting, oldest 30 minutes" in late.text
    assert 'class="background-work notice error" role="alert"' in late.text


# --- Per app ------------------------------------------------------------------------------------


@pytest.fixture
def coach(agent_user):
    from lookups.models import App
    from lookups.services.apps import desk_apps

    desk_apps()
    coach = App.objects.create(name="Coach", bundle_id="com.example.supportdesk.coach")
    make_lookup(agent_user, created_at=at(17))
    make_lookup(agent_user, created_at=at(17), app=coach, environment="Sandbox")
    make_lookup(agent_user, created_at=at(18), app=coach, environment="Sandbox")
    return coach


def test_the_app_filter_narrows_every_figure_and_the_downloads(manager_client, coach):
    page = manager_client.get(URL, {**WEEK, "app": coach.pk}).text

    assert numbers_table(page, "Lookups per day by outcome")[-1][-1] == "2"
    assert f'<option value="{coach.pk}" selected>Coach</option>' in page
    assert f"app={coach.pk}" in page  # the downloads carry the filter
    assert "Coach only" in page


def test_the_environment_filter_narrows_every_figure(manager_client, coach):
    page = manager_client.get(URL, {**WEEK, "environment": "Production"}).text

    assert numbers_table(page, "Lookups per day by outcome")[-1][-1] == "1"
    assert "environment=Production" in page


def test_a_manager_limited_to_one_app_is_offered_and_shown_only_that_app(
    manager_client, manager_user, coach
):
    coach.limited_agents.add(manager_user)

    page = manager_client.get(URL, WEEK).text

    assert numbers_table(page, "Lookups per day by outcome")[-1][-1] == "2"
    options = re.findall(r'<select name="app"[^>]*>(.*?)</select>', page, re.S)[0]
    assert re.findall(r"<option[^>]*>([^<]*)</option>", options) == ["All my apps", "Coach"]


def test_an_app_the_manager_may_not_see_is_refused_with_a_message(
    manager_client, manager_user, coach
):
    from lookups.services.app_scope import settings_app

    coach.limited_agents.add(manager_user)

    page = manager_client.get(URL, {**WEEK, "app": settings_app().pk}).text

    assert "App: Choose one of the apps listed." in page
