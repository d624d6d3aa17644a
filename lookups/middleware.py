from __future__ import annotations

import re
import zoneinfo
from urllib.parse import unquote

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from lookups.services import live
from lookups.views import notifications

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


class UnchangedPageMiddleware:
    """An open page's poll answered "nothing changed" (204) before sessions, users or the
    database are touched: one signature check and one cache read. Fifty pages left open then
    cost the desk almost nothing. The topics come signed by the page (live.sign_topics), so
    only a signed-in person's page can ask; a changed page goes on to the view."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.path = reverse("lookups:live")

    def __call__(self, request):
        if request.path_info == self.path and request.method == "GET":
            topics = live.signed_topics(request.GET.get("t", ""))
            if topics is not None and request.GET.get("v") == live.stamp(topics):
                return HttpResponse(status=204)
        return self.get_response(request)


class NotificationDoorMiddleware:
    """Apple's notification posts go straight to their view, past sessions, users, second
    factors, messages, htmx, time zones and lockouts: the endpoint signs no one in and trusts
    the signed payload alone, so that machinery would only cost each notification its time.
    Placed after SecurityMiddleware, whose redirect to HTTPS still holds."""

    # The converters of the per-app URL (<int:app_id>/<str:environment>/), after the prefix.
    APP_URL = re.compile(r"([0-9]+)/([^/]+)/")

    def __init__(self, get_response):
        self.get_response = get_response
        self.path = reverse("lookups:appstore_notifications")

    def __call__(self, request):
        path = request.path_info
        if request.method != "POST" or not path.startswith(self.path):
            return self.get_response(request)
        # A thread serves many requests; the time zone an agent's page set is not Apple's.
        timezone.deactivate()
        rest = path[len(self.path) :]
        if not rest:
            answer = notifications.app_store_notifications(request)
        elif match := self.APP_URL.fullmatch(rest):
            answer = notifications.app_notifications(request, int(match[1]), match[2])
        else:
            return self.get_response(request)
        # As CommonMiddleware would: a sized answer, not a chunked one.
        answer.headers["Content-Length"] = str(len(answer.content))
        return answer
