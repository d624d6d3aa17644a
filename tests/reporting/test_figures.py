"""The report's figures, worked out from the audit rows: what counts as an offer-code link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lookups.models import TokenChange
from lookups.reporting.figures import ReportFilters, build_report
from tests.fixtures.rows import offer_lookup, settled_change

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def test_the_offer_code_share_reads_what_the_lookup_showed(agent_user, make_account):
    account = make_account()
    shown = {
        "2000000000000001": 3,  # offer code
        "2000000000000002": 1,  # introductory offer
        "2000000000000003": None,  # no offer
    }
    for purchase, offer_type in shown.items():
        lookup = offer_lookup(agent_user, purchase, offer_type, created_at=at(17))
        settled_change(
            agent_user,
            account,
            TokenChange.Outcome.SUCCEEDED,
            lookup=lookup,
            original_transaction_id=purchase,
            created_at=at(17),
        )
    # The lookup showed another purchase as an offer code, not this one.
    elsewhere = offer_lookup(agent_user, "2000000000000009", 3, created_at=at(17))
    settled_change(
        agent_user,
        account,
        TokenChange.Outcome.SUCCEEDED,
        lookup=elsewhere,
        original_transaction_id="2000000000000004",
        created_at=at(17),
    )
    # No lookup recorded, or a failed link: not an offer-code link.
    settled_change(
        agent_user,
        account,
        TokenChange.Outcome.SUCCEEDED,
        original_transaction_id="2000000000000005",
        created_at=at(17),
    )
    failed = offer_lookup(agent_user, "2000000000000006", 3, created_at=at(17))
    settled_change(
        agent_user,
        account,
        TokenChange.Outcome.FAILED,
        lookup=failed,
        original_transaction_id="2000000000000006",
        created_at=at(17),
    )

    report = build_report(ReportFilters(start=at(16).date(), end=at(22).date()))

    assert report.offer_codes.linked == 5
    assert report.offer_codes.offer_codes == 1
    assert report.offer_codes.percent == 20


def test_the_unlinked_offer_codes_are_counted_by_one_process():
    # Counted up to a bound down the partial index: parallel workers' start-up cost more than
    # the walk, so the purchases are never scanned in parallel.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("parallel plans are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'lookups_purchase'")
        (options,) = cursor.fetchone()
    assert "parallel_workers=0" in options
