from __future__ import annotations

import zoneinfo
from urllib.parse import unquote

from django.utils import timezone

TIMEZONE_COOKIE = "agent_tz"


class AgentTimezoneMiddleware:
    """Show times in the agent's own time zone, which the browser reports in a cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = unquote(request.COOKIES.get(TIMEZONE_COOKIE, ""))[:64]
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
