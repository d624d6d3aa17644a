"""No span of one second sent to Apple holds more requests than the limit, across a second's edge.

A budget counted per clock second lets a full second's worth through at the end of one second and
another at the start of the next: twice the limit within one rolling second. These tests start
worker processes against the real Redis just before a second ends and count, at the simulator,
the arrivals in every one-second span.
"""

from __future__ import annotations

import math
import time

import pytest
from django.core.cache.backends.locmem import LocMemCache

from lookups.appstore.errors import RateLimitExceededError
from lookups.services.shared_rate_budget import SharedRateBudget
from lookups.simulators.demo_data import ORDER_NOT_FOUND, ORDER_OFFER_CODE
from tests.services.test_shared_rate_budget import (  # noqa: F401 - the fixtures the worker processes need
    FakeClock,
    lookup_times,
    redis_db,
    worker_environment,
    workers,
)

PER_SECOND = 5


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any span of one second (each span starting at an arrival)."""
    times = sorted(times)
    return max(
        sum(1 for later in times[i:] if later - start < 1.0) for i, start in enumerate(times)
    )


def test_busiest_second_counts_across_a_seconds_edge():
    assert busiest_second([0.9, 0.95, 1.0, 1.05, 2.0]) == 4
    assert busiest_second([0.0, 1.0, 2.0]) == 1


def test_workers_across_a_seconds_edge_never_send_more_than_the_limit_in_one_second(
    workers,  # noqa: F811 - the fixture imported above
    simulator,
):
    count, lookups_each = 4, 5
    orders = [ORDER_OFFER_CODE, ORDER_NOT_FOUND] * lookups_each
    workers.start("all", orders[:lookups_each], count=count)
    workers.wait_until_ready()
    # All at once, a little before a second ends: a per-second counter lets a second's worth
    # through now and another just after the edge.
    workers.go("all", at=math.floor(time.time()) + 1.8)
    reports = workers.reports()

    assert all(o["ok"] for report in reports for o in report["outcomes"]), reports
    times = lookup_times(simulator)
    assert len(times) == count * lookups_each
    assert busiest_second(times) <= PER_SECOND, sorted(round(at % 100, 3) for at in times)


def test_a_rolling_window_refuses_until_the_oldest_request_is_a_second_old():
    cache = LocMemCache("rate-window-tests", {})
    cache.clear()
    clock = FakeClock(1_800_000_000.9)
    budget = SharedRateBudget(cache, {"lookup": 2}, scope="app", clock=clock)

    budget.acquire("lookup")
    clock.now += 0.05
    budget.acquire("lookup")
    clock.now = 1_800_000_001.05  # a new clock second, but not a new rolling one
    with pytest.raises(RateLimitExceededError) as refusal:
        budget.acquire("lookup")

    first_sent = 1_800_000_000.9
    assert refusal.value.retry_at.timestamp() >= first_sent + 1.0
    clock.now = refusal.value.retry_at.timestamp() + 0.001
    budget.acquire("lookup")
