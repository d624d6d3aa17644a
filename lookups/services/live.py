"""What an open page needs to know to stay live: a cheap version stamp per topic it shows.

A change bumps a counter in the cache for each topic it concerns (a purchase, a customer, the
refund queue, the approvals waiting); a page polls with the stamp it was rendered with and is
told to fetch itself again only when the stamp moved. Checking costs one cache read, never a
database query, so a page left open costs almost nothing while nothing changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.core import signing
from django.core.cache import cache

# Every page's menu counts these; a page adds the purchases and customers it shows.
REFUNDS = "refunds"
APPROVALS = "approvals"
MAX_TOPICS = 60
# Kept for a day: a topic whose counter was evicted reads as 0 again, which only costs one
# needless refresh of the pages showing it.
_TTL = 24 * 3600


def purchase_topic(original_transaction_id: str) -> str:
    return f"purchase:{original_transaction_id}"


def account_topic(account_id: int) -> str:
    return f"account:{account_id}"


def bump(*topics: str) -> None:
    """Mark the topics changed: every page showing one of them refreshes on its next poll."""
    for topic in topics:
        key = _key(topic)
        if cache.add(key, 1, _TTL):
            continue
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, _TTL)


def stamp(topics: Iterable[str]) -> str:
    """The version of everything these topics cover, as a short opaque string."""
    wanted = sorted(set(topics))[:MAX_TOPICS]
    versions = cache.get_many([_key(topic) for topic in wanted])
    joined = ",".join(f"{topic}={versions.get(_key(topic), 0)}" for topic in wanted)
    return hashlib.blake2s(joined.encode(), digest_size=8).hexdigest()


_SALT = "supportdesk.live-topics"
# A page left open longer than this reloads to stay live; a day covers any shift.
TOKEN_MAX_AGE = 24 * 3600


def sign_topics(topics: list[str], user_id: int) -> str:
    """What the page polls with: its topics, signed, so the poll is answered without a session
    (`UnchangedPageMiddleware`) yet only a signed-in person's page can ask."""
    return signing.dumps({"t": topics, "u": user_id}, salt=_SALT, compress=True)


def signed_topics(token: str) -> list[str] | None:
    """The topics of a token the desk signed and that has not expired, else None."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return parse_topics(",".join(data.get("t", [])))


def parse_topics(value: str) -> list[str]:
    """The topics a page asks about, from its poll's query string; unknown shapes dropped."""
    topics = []
    for topic in value.split(",")[:MAX_TOPICS]:
        kind, _, name = topic.partition(":")
        if topic in (REFUNDS, APPROVALS) or (
            kind in ("purchase", "account") and name.isascii() and name.isdigit()
        ):
            topics.append(topic)
    return topics


def _key(topic: str) -> str:
    return f"supportdesk:live:{topic}"
