"""Apple's rate limits on the App Store Server API: per app, per endpoint, a tenth in Sandbox.

Apple states each limit per second and enforces it over an hour: an app may spend the hour's
budget (rate times 3600 requests) as it likes, and the request past it answers 429 with errorCode
4290000 and a `Retry-After` header holding the UNIX time, in milliseconds, when the oldest
request of the window leaves it. `window_seconds` shortens the window for tests; `enabled`
switches the limits off (benchmarks that measure the desk, not Apple's limits).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

HOUR_SECONDS = 3600.0
SANDBOX_SHARE = 0.1
# Apple allows one test notification a second in the Sandbox too (the desk's budget agrees).
_SAME_IN_SANDBOX = frozenset({"test_notification", "test_notification_status"})

# Requests per second Apple allows each app, by the simulator's endpoint names.
PER_SECOND: dict[str, float] = {
    "lookup": 10,
    "set_token": 20,
    "extend": 20,
    "mass_extend": 20,
    "mass_extend_status": 20,
    "history": 50,
    "transaction_info": 50,
    "statuses": 50,
    "refund_history": 10,
    "consumption": 50,
    "consumption_v1": 50,
    "notification_history": 50,
    "app_transaction": 50,
    "finish": 50,
    "test_notification": 1,
    "test_notification_status": 1,
}


class RateLimits:
    """A sliding window of request times per (app, endpoint)."""

    def __init__(
        self,
        *,
        environment: str,
        enabled: bool = True,
        window_seconds: float = HOUR_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.environment = environment
        self.enabled = enabled
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def budget(self, endpoint: str) -> tuple[int, float]:
        """(requests allowed, over how many seconds) for one app on `endpoint`."""
        sandbox = self.environment == "Sandbox" and endpoint not in _SAME_IN_SANDBOX
        rate = PER_SECOND[endpoint] * (SANDBOX_SHARE if sandbox else 1)
        # Under one request a window (Sandbox, a window of a second): one per 1/rate seconds.
        window = max(self.window_seconds, 1 / rate)
        return max(1, round(rate * window)), window

    def take(self, app: str, endpoint: str) -> int | None:
        """Count one request; None when it may go on, else the Retry-After (UNIX ms)."""
        if not self.enabled or endpoint not in PER_SECOND:
            return None
        allowed, window = self.budget(endpoint)
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault((app, endpoint), deque())
            while seen and seen[0] <= now - window:
                seen.popleft()
            if len(seen) >= allowed:
                return int((seen[0] + window) * 1000) + 1
            seen.append(now)
            return None
