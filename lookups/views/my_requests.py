"""An agent's own requests (transfers and extensions) with what became of each."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lookups.models import SubscriptionExtension, TransferRequest
from lookups.views.htmx import HtmxHttpRequest
from lookups.views.permissions import extender_required

PAGE = "lookups/my_requests.html"
# The newest first; older ones are in the admin's audit lists.
SHOWN = 50


@require_GET
@login_required
@extender_required
def my_requests(request: HtmxHttpRequest) -> HttpResponse:
    transfers = (
        TransferRequest.objects.filter(requested_by=request.user)
        .select_related("account", "decided_by", "token_change")
        .order_by("-created_at")[:SHOWN]
    )
    extensions = (
        SubscriptionExtension.objects.filter(agent=request.user)
        .select_related("approved_by")
        .order_by("-created_at")[:SHOWN]
    )
    return render(request, PAGE, {"transfers": transfers, "extensions": extensions})
