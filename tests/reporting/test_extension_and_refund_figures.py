"""Managers' figures and CSV for goodwill extensions and refund requests, from real rows."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lookups.models import Export, RefundRequest
from lookups.reporting.figures import ReportFilters, extension_days, refund_weeks
from lookups.services.extending import ExtensionRequest, extend_subscription
from lookups.services.refund_requests import (
    open_refund_request,
)
from lookups.simulators.demo_data import ORDER_EXPIRED, ORDER_OFFER_CODE, PURCHASE_OFFER_CODE
from tests.fixtures.pages import look_up
from tests.fixtures.rows import make_consumption_answer, make_refund_request
from tests.services.test_refund_requests import (
    consumption_request,
    three_cases,
)

pytestmark = pytest.mark.django_db


def today_filters() -> ReportFilters:
    today = timezone.now().date()
    return ReportFilters(start=today - timedelta(days=1), end=today)


def extend(agent, original: str, days: int, reason: int):
    return extend_subscription(
        agent, ExtensionRequest(original, days, reason, "ZD-1", uuid.uuid4())
    )


def test_days_granted_per_day_agent_and_reason_count_only_what_apple_did(
    agent_client, agent_user, appstore_settings, simulator
):
    look_up(agent_client, ORDER_OFFER_CODE)
    extend(agent_user, PURCHASE_OFFER_CODE, 5, 1)
    extend(agent_user, PURCHASE_OFFER_CODE, 3, 3)
    look_up(agent_client, ORDER_EXPIRED)
    extend(agent_user, simulator.order_transaction_ids(ORDER_EXPIRED)[0], 9, 1)  # refused

    figures = extension_days(today_filters())

    assert figures.total == 8
    assert figures.per_agent == [(agent_user.username, 8)]
    assert figures.per_reason == [("Customer satisfaction", 5), ("Service issue or outage", 3)]


def test_refund_requests_per_week(appstore_settings, simulator, agent_user, settings):
    three_cases(simulator, agent_user, settings)

    # Weeks go by the day the desk opened each case: all of them today.
    [week] = refund_weeks(today_filters())
    assert week.requests == 3
    assert week.answered_in_time == 2
    assert week.answered_automatically == 1
    assert week.missed == 1
    assert week.refunded == 1


def test_refund_weeks_are_one_query_whatever_the_number_of_weeks(
    agent_user, django_assert_num_queries
):
    now = timezone.now()
    monday = (now - timedelta(days=now.weekday())).replace(hour=12)
    last_week = monday - timedelta(days=7)
    for opened, answered_by, decision in [
        (last_week, agent_user, "refunded"),
        (last_week, None, "declined"),
        (monday, agent_user, ""),
        (monday, None, "reversed"),
    ]:
        case = make_refund_request(created_at=opened, decision=decision)
        assert make_consumption_answer(answered_by, case).settle("succeeded")
    late = make_refund_request(created_at=monday, deadline=now - timedelta(hours=1))
    assert make_consumption_answer(agent_user, late).settle("succeeded")
    make_refund_request(created_at=monday, status=RefundRequest.Status.MISSED)
    unconfirmed = make_refund_request(created_at=monday)
    assert make_consumption_answer(None, unconfirmed).settle("unconfirmed")
    filters = ReportFilters(start=last_week.date(), end=now.date())

    with django_assert_num_queries(1):
        weeks = refund_weeks(filters)

    assert [week.week for week in weeks] == [last_week.date(), monday.date()]
    earlier, this = weeks
    assert (earlier.requests, earlier.answered_in_time, earlier.answered_automatically) == (2, 2, 1)
    assert (earlier.refunded, earlier.declined, earlier.reversed) == (1, 1, 0)
    assert (this.requests, this.answered_in_time, this.answered_automatically) == (5, 2, 1)
    assert (this.missed, this.refunded, this.reversed) == (1, 0, 1)


def csv_text(response) -> str:
    """A CSV download as text; downloads start with UTF-8's byte order mark."""
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_managers_download_both_as_csv_and_the_page_shows_them(
    agent_client, agent_user, manager_client, appstore_settings, simulator
):
    look_up(agent_client, ORDER_OFFER_CODE)
    extension = extend(agent_user, PURCHASE_OFFER_CODE, 4, 2)
    open_refund_request(consumption_request(simulator))

    extensions_csv = manager_client.get(reverse("lookups:export", args=["extensions"]))
    refunds_csv = manager_client.get(reverse("lookups:export", args=["refund-requests"]))
    page = manager_client.get(reverse("lookups:reports")).text

    [row] = csv.DictReader(io.StringIO(csv_text(extensions_csv)))
    assert row["id"] == str(extension.pk) and row["extend_by_days"] == "4"
    assert row["outcome"] == "succeeded" and row["chain_sequence"] == "1"
    [case] = csv.DictReader(io.StringIO(csv_text(refunds_csv)))
    assert case["status"] == RefundRequest.Status.OPEN
    assert set(Export.objects.values_list("table", flat=True)) == {
        "subscription_extensions",
        "refund_requests",
    }
    assert "4 days granted." in page
    assert 'id="refund-figures"' in page
