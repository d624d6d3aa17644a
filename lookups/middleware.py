from __future__ import annotations

import zoneinfo

from django.utils import timezone

TIMEZONE_COOKIE = "agent_tz"


class AgentTimezoneMiddleware:
    """Show times in the agent's own time zone, which the browser reports in a cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(TIMEZONE_COOKIE, "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
