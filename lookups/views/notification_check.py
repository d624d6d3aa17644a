"""The admin's Request a Test Notification page: superusers ask Apple, then watch it arrive."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.admin import site
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from lookups.services.notification_check import (
    check_test_notification,
    request_test_notification,
)
from lookups.views.htmx import HtmxHttpRequest, page_or_partial

TOKEN_LIMIT = 200


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def test_notification(request: HtmxHttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied
    context = {
        **site.each_context(request),
        "title": "Request a test notification",
        "error": "",
        "report": None,
    }
    if request.method == "POST":
        requested = request_test_notification()
        if requested.error:
            context["error"] = requested.error
            return render(request, "lookups/test_notification.html", context)
        query = {"token": requested.token, "since": int(requested.requested_at.timestamp())}
        url = reverse("admin:lookups_appstorenotification_test")
        return redirect(f"{url}?{urlencode(query)}")
    token = request.GET.get("token", "").strip()
    if token and len(token) <= TOKEN_LIMIT:
        context["report"] = check_test_notification(token, since=_since(request.GET.get("since")))
        context["refresh_query"] = request.GET.urlencode()
    template = page_or_partial(request, "lookups/test_notification.html", "status")
    return render(request, template, context)


def _since(value: str | None) -> datetime | None:
    """The request's time, carried in the page's address: only to look for arrivals by time."""
    if value and value.isascii() and value.isdigit() and len(value) <= 11:
        return datetime.fromtimestamp(int(value), tz=UTC)
    return None
