"""Keeping open pages live: the poll that says whether anything a page shows has changed, and
the menu's counts of waiting work."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from lookups.models import RefundRequest, SubscriptionExtension, TransferRequest
from lookups.services import live
from lookups.services.apple_actions.acting_app import seen_by
from lookups.views.htmx import HtmxHttpRequest

POLLER = "lookups/live_poller.html"
# The menu counts refund requests due this soon apart: Apple waits 12 hours for an answer.
SOON = timedelta(hours=2)
# What the page listens for to fetch its live parts again.
CHANGED = "desk-changed"


@require_GET
@login_required
def poll(request: HtmxHttpRequest) -> HttpResponse:
    """The poll once something the page shows has changed (an unchanged page's poll is answered
    by UnchangedPageMiddleware before it gets here): a new poller with the new stamp, and the
    event the page's live parts fetch themselves again on."""
    topics = live.signed_topics(request.GET.get("t", ""))
    if topics is None:
        # Expired or not the desk's: the page must be reloaded to stay live.
        return HttpResponse(status=204)
    now = live.stamp(topics)
    if request.GET.get("v") == now:
        return HttpResponse(status=204)
    context = {
        "live_token": live.sign_topics(topics, request.user.pk),
        "live_stamp": now,
        "live_poll_seconds": settings.LIVE_POLL_SECONDS,
    }
    response = render(request, POLLER, context)
    return trigger_client_event(response, CHANGED)


@require_GET
@login_required
def menu_counts(request: HtmxHttpRequest) -> HttpResponse:
    """The waiting work beside the menu's links, for what this person may do."""
    user = request.user
    context: dict = {}
    if user.has_perm("lookups.answer_refund_requests"):
        due = RefundRequest.objects.filter(
            status=RefundRequest.Status.OPEN, decision="", deadline__gt=timezone.now()
        )
        context["refunds"] = due.count()
        context["refunds_soon"] = due.filter(deadline__lte=timezone.now() + SOON).count()
    approves_extensions = user.has_perm("lookups.approve_extensions")
    approves_transfers = user.has_perm("lookups.approve_transfers")
    # Only the apps this person sees: asked once for both counts.
    seen = seen_by(user) if approves_extensions or approves_transfers else None
    if approves_extensions:
        context["extensions"] = SubscriptionExtension.objects.filter(
            seen, outcome=SubscriptionExtension.Outcome.AWAITING_APPROVAL
        ).count()
    if approves_transfers:
        context["transfers"] = TransferRequest.objects.filter(
            seen, status=TransferRequest.Status.OPEN
        ).count()
    return render(request, "lookups/menu_counts.html", context)
