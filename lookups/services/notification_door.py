"""What the notification endpoint refuses before it reads or writes anything, and how it keeps
count of what it refused.

Apple posts `{"signedPayload": "<JWS>"}`: one object, no arrays, no NUL byte. Anything else is
refused on its shape, before a JSON parser sees it. Every refusal is counted per source address
and hour in one row (RefusedNotificationCount); only the first few bodies of each hour are kept
as samples (QuarantinedNotification). An address refused more than
NOTIFICATION_REFUSALS_PER_MINUTE times in a minute is answered 429 for the rest of the minute
without its body being read. So a flood costs its answers and one counter, never rows per body.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import timezone

from lookups.models import QuarantinedNotification, RefusedNotificationCount

RATE_WINDOW_SECONDS = 60


def shape_problem(body: bytes) -> str:
    """Why `body` can't be a notification, judged on its bytes alone; empty if it may be."""
    if b"\x00" in body:
        return "The body holds a NUL byte."
    if body.count(b"{") > 1 or b"[" in body:
        return "The body is not a JSON object holding a signedPayload."
    return ""


def too_many_refusals(source: str) -> bool:
    """Whether `source` was refused its minute's allowance already (read from the cache only)."""
    return (cache.get(_window_key(source)) or 0) >= settings.NOTIFICATION_REFUSALS_PER_MINUTE


def count_rate_limited(source: str) -> None:
    _count(source, rate_limited=1)


def record_refusal(source: str, reason: str, body: bytes | None) -> None:
    """Count a refused body against its source; keep it as a sample if the hour has room."""
    key = _window_key(source)
    cache.add(key, 0, RATE_WINDOW_SECONDS * 2)
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, RATE_WINDOW_SECONDS * 2)
    hour = _hour(timezone.now())
    _count(source, refused=1, hour=hour)
    if body is None:
        return
    room = RefusedNotificationCount.objects.filter(
        source=source, hour=hour, samples__lt=settings.NOTIFICATION_REFUSED_SAMPLES_PER_HOUR
    ).update(samples=F("samples") + 1)
    if room:
        text = body[: QuarantinedNotification.BODY_LIMIT * 4].decode("utf-8", errors="replace")
        QuarantinedNotification.objects.create(
            reason=reason[:300],
            # PostgreSQL's text can't hold NUL; the sample shows where it was.
            body=text[: QuarantinedNotification.BODY_LIMIT].replace("\x00", "\ufffd"),
            body_length=len(body),
            source=source[:64],
        )


def prune(now: datetime | None = None) -> int:
    """Delete counts and samples older than NOTIFICATION_REFUSED_KEEP_DAYS; say how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.NOTIFICATION_REFUSED_KEEP_DAYS)
    counts, _ = RefusedNotificationCount.objects.filter(hour__lt=cutoff).delete()
    samples, _ = QuarantinedNotification.objects.filter(received_at__lt=cutoff).delete()
    return counts + samples


def _window_key(source: str) -> str:
    window = int(timezone.now().timestamp()) // RATE_WINDOW_SECONDS
    return f"notification-door:{window}:{source}"


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _count(
    source: str, *, refused: int = 0, rate_limited: int = 0, hour: datetime | None = None
) -> None:
    """Add to the source's row for the hour in one statement, making it if needed."""
    meta = RefusedNotificationCount._meta
    table = connection.ops.quote_name(meta.db_table)
    hour_value = meta.get_field("hour").get_db_prep_value(hour or _hour(timezone.now()), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (source, hour, refused, rate_limited, samples) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, 0) ON CONFLICT (source, hour) DO UPDATE SET "
            f"refused = {table}.refused + excluded.refused, "
            f"rate_limited = {table}.rate_limited + excluded.rate_limited",
            [source[:64], hour_value, refused, rate_limited],
        )
