"""Sign-in lockouts: managers see the usernames paused after mistyped passwords and lift them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lookups.views.permissions import lockout_lifter_required

PAGE = "lookups/lockouts.html"


@require_http_methods(["GET", "POST"])
@login_required
@lockout_lifter_required
def lockouts(request: HttpRequest) -> HttpResponse:
    from axes.models import AccessAttempt
    from axes.utils import reset

    lifted = ""
    if request.method == "POST":
        username = request.POST.get("username", "")[:255]
        if username:
            reset(username=username)
            lifted = username
    paused = (
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
        )
        .order_by("username", "-attempt_time")
        .values("username", "ip_address", "failures_since_start", "attempt_time")
    )
    return render(request, PAGE, {"paused": list(paused), "lifted": lifted})
