"""The backoff before retrying a call: doubling from a base, capped, with full jitter."""

from __future__ import annotations

import pytest

from lookups.appstore.backoff import backoff_delay


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)])
def test_the_wait_stays_under_a_doubling_ceiling_capped(attempt, ceiling):
    waits = [backoff_delay(attempt, base_seconds=0.5, cap_seconds=3.0) for _ in range(200)]

    assert all(0 <= wait <= ceiling for wait in waits)
    # Full jitter: spread over the whole range, so workers that failed together spread out.
    assert min(waits) < ceiling / 4 and max(waits) > ceiling * 3 / 4
