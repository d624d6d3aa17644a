"""Apple's rate limits, shared by every worker of the deployment through Django's cache.

Apple counts requests per app and per endpoint, whichever process sends them, so the budget lives
in the cache the workers share (Redis in production). It is a rolling window: a request goes out
only if fewer than the limit went out in the window before it, so no span of one second holds
more than the limit, across a clock second's edge too. In Redis the window is a sorted set of send
times per endpoint, checked and added to by one Lua script (atomic for every worker, and timed by
Redis's own clock, so the workers' clocks need not agree); the same script reads the endpoint's
pause, so a request to Apple costs the desk one round trip to Redis. Another cache (the
local-memory one of local runs and tests) keeps the same window under a lock, which holds within
one process only.

A request that would go over the budget is refused with the moment the oldest request in the
window leaves it. After Apple answers 429, the time in its `Retry-After` is stored per endpoint
too, and every worker holds back until then instead of earning another 429. The pause is also
kept in the database (`pauses`): a cache that restarts empty loses the marker that says its
pauses are loaded, and the first request after it reads them back before going out.

The App Store client calls `acquire` before each request and `blocked_until` after a 429; it waits
for a refusal that ends soon enough and otherwise tells the agent when to try again.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCacheClient

from lookups.appstore.errors import DeskRateHold

# One second, as Apple counts, and a margin: a request is counted when it is let go, and reaches
# Apple a little later, by a delay that varies; the margin keeps two sends that were a window
# apart from arriving less than a second apart.
WINDOW_SECONDS = 1.0 + 0.15

# How long the budget goes on without the store's pauses when the store can't be read.
PAUSES_RETRY_SECONDS = 5

# One round trip per request to Apple: the endpoint's pause, whether the pauses were loaded, and
# (when the endpoint has a budget) one request from its window, all in one script.
# KEYS[1]: the endpoint's window, a sorted set of send times in microseconds; KEYS[2]: its pause
# (as the cache stores it); KEYS[3]: the marker that says the pauses were loaded.
# ARGV: the limit (0: no per-second budget), the window in microseconds, a member unique to this
# request.
# Returns {taken (1 or 0), now or when the oldest send leaves the window, the pause, the marker}.
# A request the pause then holds back has taken its place in the window: no worker sends during
# a pause anyway, and the place is free again a window later.
_TAKE_FROM_WINDOW = """
local pause = redis.call('GET', KEYS[2])
local loaded = redis.call('EXISTS', KEYS[3])
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
if tonumber(ARGV[1]) == 0 then
    return {1, now_us, pause, loaded}
end
local window_us = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_us - window_us)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], now_us, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window_us / 1000) + 1000)
    return {1, now_us, pause, loaded}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window_us, pause, loaded}
"""

# Guards the window of a cache that is not Redis; such a cache is one process's own anyway.
_LOCAL_WINDOWS = threading.Lock()


class PauseStore(Protocol):
    """Somewhere that outlives the cache, for Apple's pauses (`apple_pauses.DatabasePauses`)."""

    def save(self, scope: str, endpoint: str, until: float) -> None: ...

    def load(self, scope: str, now: float) -> dict[str, float] | None: ...


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
        pauses: PauseStore | None = None,
    ) -> None:
        for endpoint, limit in limits.items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(
                    f"the rate limit of {endpoint!r} must be a whole number, 1 or more"
                )
        self._cache = cache
        self._limits = dict(limits)
        self._scope = scope
        self._prefix = f"appstore:rate:{scope}"
        self._clock = clock
        self._pauses = pauses

    def acquire(self, endpoint: str) -> None:
        """Take one request from the endpoint's budget, or raise DeskRateHold saying until when."""
        now = self._clock()
        # Django's Redis cache keeps its redis-py client behind `_cache` (through the `cache`
        # proxy too); the script needs that client.
        if isinstance(getattr(self._cache, "_cache", None), RedisCacheClient):
            blocked, free_at = self._take_in_redis(endpoint, now)
        else:
            blocked, free_at = self._pause_of(endpoint, now), None
            if not _paused(blocked, now):
                free_at = self._take_locally(endpoint, now)
        if _paused(blocked, now):
            # Apple's own 429, honoured by every worker until its Retry-After. This request was
            # never sent, so it is the desk's hold, not another answer from Apple.
            raise DeskRateHold(retry_at=_utc_from_unix(blocked), after_apple_429=True)
        if free_at is not None:
            raise DeskRateHold(retry_at=_utc_from_unix(free_at))

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
        if self._pauses is not None:
            self._pauses.save(self._scope, endpoint, until)

    def _pause_of(self, endpoint: str, now: float) -> object:
        """The endpoint's pause from the cache, read back from the store if the cache lost it."""
        if self._pauses is None:
            return self._cache.get(self._blocked_key(endpoint))
        found = self._cache.get_many([self._blocked_key(endpoint), self._loaded_key])
        if self._loaded_key in found:
            return found.get(self._blocked_key(endpoint))
        return self._load_pauses(endpoint, now, found.get(self._blocked_key(endpoint)))

    def _load_pauses(self, endpoint: str, now: float, cached: object) -> object:
        """The cache is new (restarted, or never used): the pauses it held are in the store."""
        pauses = self._pauses.load(self._scope, now)
        if pauses is None:
            # The store can't be read now: ask it again in a few seconds, not on every call.
            self._cache.set(self._loaded_key, True, PAUSES_RETRY_SECONDS)
            return cached
        for paused, until in pauses.items():
            self._cache.set(self._blocked_key(paused), until, math.ceil(until - now) + 1)
        self._cache.set(self._loaded_key, True, None)
        return pauses.get(endpoint)

    def _take_in_redis(self, endpoint: str, now: float) -> tuple[object, float | None]:
        """The endpoint's pause, and one request from its window in one round trip: the window
        is taken (None) or when to try again."""
        keys = [
            self._cache.make_key(f"{self._prefix}:{endpoint}:window"),
            self._cache.make_key(self._blocked_key(endpoint)),
            self._cache.make_key(self._loaded_key),
        ]
        redis_cache = self._cache._cache
        client = redis_cache.get_client(keys[0], write=True)
        limit = self._limits.get(endpoint) or 0
        taken, moment_us, pause, loaded = client.register_script(_TAKE_FROM_WINDOW)(
            keys=keys, args=[limit, round(WINDOW_SECONDS * 1_000_000), uuid.uuid4().hex]
        )
        blocked = None if pause is None else redis_cache._serializer.loads(pause)
        if self._pauses is not None and not loaded:
            blocked = self._load_pauses(endpoint, now, blocked)
        return blocked, None if taken else moment_us / 1_000_000

    def _take_locally(self, endpoint: str, now: float) -> float | None:
        limit = self._limits.get(endpoint)
        if limit is None:
            return None
        key = f"{self._prefix}:{endpoint}:window"
        with _LOCAL_WINDOWS:
            sent = [at for at in self._cache.get(key, []) if at > now - WINDOW_SECONDS]
            if len(sent) >= limit:
                return min(sent) + WINDOW_SECONDS
            self._cache.set(key, [*sent, now], math.ceil(WINDOW_SECONDS) + 1)
            return None

    @property
    def _loaded_key(self) -> str:
        return f"{self._prefix}:pauses-loaded"

    def _blocked_key(self, endpoint: str) -> str:
        return f"{self._prefix}:{endpoint}:retry-after"


def _paused(blocked: object, now: float) -> bool:
    return isinstance(blocked, (int, float)) and blocked > now


def _utc_from_unix(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
