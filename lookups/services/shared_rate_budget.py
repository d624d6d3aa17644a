"""Apple's rate limits, shared by every worker of the deployment through Django's cache.

Apple counts requests per app and per endpoint, whichever process sends them, so the budget lives
in the cache the workers share (Redis in production): a counter per endpoint and per second of
wall-clock time, raised with the cache's atomic `incr`. A request that would go over the budget is
refused with the moment the next second starts. After Apple answers 429, the time in its
`Retry-After` is stored per endpoint too, and every worker holds back until then instead of
earning another 429.

The App Store client calls `acquire` before each request and `blocked_until` after a 429; it waits
for a refusal that ends soon enough and otherwise tells the agent when to try again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from django.core.cache.backends.base import BaseCache

from lookups.appstore.errors import RateLimitExceededError

# A window's counter outlives its second a little, so a slow clock elsewhere still finds it.
_WINDOW_KEY_SECONDS = 5


class SharedRateBudget:
    """Per-endpoint request budgets and Apple's Retry-After, kept in a cache all workers share.

    `limits` maps the client's endpoint names ("lookup", "history", "set_token") to requests per
    second (settings.APPSTORE_RATE_LIMITS); an endpoint missing from it has no per-second budget
    but still honours Retry-After. `scope` separates apps and environments that share one cache:
    Apple's limits are per app.
    """

    def __init__(
        self,
        cache: BaseCache,
        limits: Mapping[str, int],
        *,
        scope: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for endpoint, limit in limits.items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(
                    f"the rate limit of {endpoint!r} must be a whole number, 1 or more"
                )
        self._cache = cache
        self._limits = dict(limits)
        self._prefix = f"appstore:rate:{scope}"
        self._clock = clock

    def acquire(self, endpoint: str) -> None:
        """Take one request from the endpoint's budget, or raise RateLimitExceededError."""
        now = self._clock()
        blocked = self._cache.get(self._blocked_key(endpoint))
        if isinstance(blocked, (int, float)) and blocked > now:
            # Apple's own 429, honoured by every worker until its Retry-After.
            raise RateLimitExceededError(http_status=429, retry_at=_utc_from_unix(blocked))
        limit = self._limits.get(endpoint)
        if limit is None:
            return
        window = math.floor(now)
        if self._count(f"{self._prefix}:{endpoint}:{window}") > limit:
            raise RateLimitExceededError(
                retry_at=_utc_from_unix(window + 1),
                agent_message="Supportdesk is holding requests back to stay within the "
                "App Store's rate limit.",
            )

    def blocked_until(self, endpoint: str, retry_at: datetime) -> None:
        """Apple answered 429: no worker calls this endpoint again before `retry_at`."""
        until = retry_at.timestamp()
        seconds = until - self._clock()
        if seconds <= 0:
            return
        key = self._blocked_key(endpoint)
        current = self._cache.get(key)
        if isinstance(current, (int, float)) and current >= until:
            return
        self._cache.set(key, until, math.ceil(seconds) + 1)

    def _count(self, key: str) -> int:
        # add() creates the window's counter only if no worker has yet; incr() is atomic in
        # Redis, and under a lock in the local-memory cache.
        for _ in range(2):
            self._cache.add(key, 0, _WINDOW_KEY_SECONDS)
            try:
                return self._cache.incr(key)
            except ValueError:
                # The counter expired between the two calls: start it again.
                continue
        return self._cache.incr(key)

    def _blocked_key(self, endpoint: str) -> str:
        return f"{self._prefix}:{endpoint}:retry-after"


def _utc_from_unix(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
