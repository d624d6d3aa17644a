"""How long to wait before retrying a call that may succeed next time: capped, with full jitter.

Jitter keeps workers that failed together from retrying together. Shared by the App Store and
Adapty clients.
"""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base_seconds: float, cap_seconds: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
    ceiling = min(cap_seconds, base_seconds * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
