"""`{% live_poller %}`: the hidden element that keeps a page live (views/live.py)."""

from __future__ import annotations

from django import template
from django.conf import settings

from lookups.services import live

register = template.Library()


@register.inclusion_tag("lookups/live_poller.html", takes_context=True)
def live_poller(context, oob: bool = False) -> dict:
    """Polls for the topics the view named (`live_topics`) and, for the menu's counts, the
    refund queue and the approvals waiting; stamped with their versions as rendered."""
    user = context["user"]
    topics = list(context.get("live_topics") or [])
    if user.has_perm("lookups.answer_refund_requests"):
        topics.append(live.REFUNDS)
    if user.has_perm("lookups.approve_extensions") or user.has_perm("lookups.approve_transfers"):
        topics.append(live.APPROVALS)
    topics = sorted(set(topics))
    return {
        "live_token": live.sign_topics(topics, user.pk),
        "live_stamp": live.stamp(topics),
        "live_poll_seconds": settings.LIVE_POLL_SECONDS,
        # A fragment that changes what the page shows brings the page's new poller along.
        "oob": oob,
    }
