"""Get Notification History: the request body as Apple takes it, and its pages read safely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lookups.appstore.errors import UnreadableResponseError
from lookups.appstore.notification_history import (
    NotificationHistoryQuery,
    history_page_from_body,
)

START = datetime(2025, 11, 1, tzinfo=UTC)
END = START + timedelta(days=7)


def test_the_body_carries_the_dates_in_milliseconds_and_only_the_filters_given():
    query = NotificationHistoryQuery(
        START, END, notification_type="REFUND", notification_subtype="X", only_failures=True
    )
    assert query.body() == {
        "startDate": 1_761_955_200_000,
        "endDate": 1_762_560_000_000,
        "notificationType": "REFUND",
        "notificationSubtype": "X",
        "onlyFailures": True,
    }
    assert NotificationHistoryQuery(START, END, transaction_id="2000").body() == {
        "startDate": 1_761_955_200_000,
        "endDate": 1_762_560_000_000,
        "transactionId": "2000",
    }


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"start_date": START.replace(tzinfo=None)}, "timezone-aware"),
        ({"end_date": START}, "before the end date"),
        ({"notification_type": "REFUND", "transaction_id": "1"}, "not both"),
        ({"notification_subtype": "VOLUNTARY"}, "needs its notification type"),
    ],
)
def test_a_query_apple_would_refuse_is_refused_before_sending(changes, refusal):
    with pytest.raises(ValueError, match=refusal):
        NotificationHistoryQuery(**{"start_date": START, "end_date": END, **changes})


def test_a_page_keeps_each_notification_and_whether_it_was_delivered():
    page = history_page_from_body(
        {
            "notificationHistory": [
                {
                    "signedPayload": "a.b.c",
                    "sendAttempts": [
                        {"attemptDate": 1_761_955_200_000, "sendAttemptResult": "TIMED_OUT"},
                        {"attemptDate": 1_761_958_800_000, "sendAttemptResult": "SUCCESS"},
                    ],
                },
                {"signedPayload": "d.e.f", "sendAttempts": [{"sendAttemptResult": "NO_RESPONSE"}]},
                {"no": "payload"},
                "not an object",
            ],
            "hasMore": True,
            "paginationToken": "next-page",
        }
    )

    first, second = page.notifications
    assert first.delivered and [a.succeeded for a in first.send_attempts] == [False, True]
    assert first.send_attempts[0].attempt_date == START
    assert not second.delivered and second.send_attempts[0].attempt_date is None
    assert page.has_more and page.pagination_token == "next-page"


def test_a_last_page_has_no_token_and_an_empty_answer_no_notifications():
    page = history_page_from_body({"hasMore": False, "paginationToken": ""})
    assert page.notifications == () and not page.has_more and page.pagination_token is None


def test_an_answer_listing_something_else_is_unreadable():
    with pytest.raises(UnreadableResponseError):
        history_page_from_body({"notificationHistory": {"not": "a list"}})
