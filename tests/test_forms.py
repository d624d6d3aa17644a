"""The desk's forms: what an agent pastes into the lookup box read as they meant it; the history
and reports filters' one date-range rule, each with its own longest range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.http import QueryDict

from lookups.forms import HistoryForm, ReportFilterForm, read_lookup_entry

pytestmark = pytest.mark.django_db

START = date(2020, 3, 1)


def history_errors(start: date, end: date) -> list[str]:
    form = HistoryForm({"start": start.isoformat(), "end": end.isoformat()})
    form.is_valid()
    return form.non_field_errors()


def report_errors(start: date, end: date) -> list[str]:
    query = QueryDict(mutable=True)
    query.update({"start": start.isoformat(), "end": end.isoformat()})
    form = ReportFilterForm(query, today=datetime.now(UTC).date())
    form.is_valid()
    return form.non_field_errors()


BOTH = pytest.mark.parametrize("errors", [history_errors, report_errors], ids=["history", "report"])


def test_history_takes_ten_years_and_not_a_day_more():
    start = date(2012, 3, 1)
    assert history_errors(start, start + timedelta(days=3660)) == []
    assert history_errors(start, start + timedelta(days=3661)) == [
        "Choose a range of at most ten years."
    ]


def test_reports_take_366_days_both_ends_included_and_say_how_many_were_asked_for():
    assert report_errors(START, START + timedelta(days=365)) == []
    assert report_errors(START, START + timedelta(days=366)) == [
        "Choose a range of at most 366 days; this one has 367."
    ]


@BOTH
def test_a_start_after_the_end_is_refused(errors):
    assert errors(START, START - timedelta(days=1)) == [
        "The start date must not be after the end date."
    ]
    assert errors(START, START) == []


@BOTH
def test_dates_before_the_app_store_or_over_a_year_ahead_are_refused(errors):
    today = datetime.now(UTC).date()
    latest = today + timedelta(days=366)
    message = f"Choose dates between 2008-01-01 and {latest.isoformat()}."

    assert errors(date(2007, 12, 31), date(2008, 1, 1)) == [message]
    assert errors(date(2008, 1, 1), date(2008, 1, 1)) == []
    assert errors(latest, latest) == []
    assert errors(latest + timedelta(days=1), latest + timedelta(days=1)) == [message]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mk5t ttvwjh", ("order", "MK5TTTVWJH")),
        ("2000000815627301", ("transaction", "2000000815627301")),
        (" 2000 0008 1562 7301 ", ("transaction", "2000000815627301")),
        ("Order ID: MK5TTTVWJH   Document No.: 164839210571", ("order", "MK5TTTVWJH")),
        ("ORDER ID MK5TTTVWJH", ("order", "MK5TTTVWJH")),
        ("https://reportaproblem.apple.com/?orderId=mk5tttvwjh&s=1", ("order", "MK5TTTVWJH")),
        ("Your order MK5TTTVWJH from 28 Nov 2026", ("order", "MK5TTTVWJH")),
        ("Transaction ID 2000000815627301", ("transaction", "2000000815627301")),
        ("Orders MK5TTTVWJH and ML8QRW2ZTN", None),
        ("12", None),
        ("your receipt is below", None),
    ],
)
def test_look_up_reads_what_an_agent_pastes(typed, expected):
    assert read_lookup_entry(typed) == expected
