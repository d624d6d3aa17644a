"""Goodwill extensions: the form beside a subscription, and the approvals page for managers.

GET shows the form with what Apple will refuse and the renewal date now; POST sends it. The
purchase's state is read from the desk's picture of it (or from Apple), never from the browser.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from lookups.forms import ExtensionForm, is_transaction_id
from lookups.models import SubscriptionExtension
from lookups.services.app_scope import AppScope, scope_of
from lookups.services.apple_actions import ActionRefused
from lookups.services.extending import (
    ExtensionRequest,
    approve_extension,
    days_granted_today,
    expected_refusals,
    extend_subscription,
    is_subscription,
    reject_extension,
    renewal_date,
)
from lookups.services.purchase_picture import pictured_purchase
from lookups.views.approval_status import attach_purchases
from lookups.views.htmx import HtmxHttpRequest, page_or_partial, render_answer
from lookups.views.permissions import extender_required, extension_approver_required

PAGE = "lookups/extend.html"
APPROVALS = "lookups/extension_approvals.html"
SHOWN = 200


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@login_required
@extender_required
def extend(request: HtmxHttpRequest, original_transaction_id: str) -> HttpResponse:
    if not is_transaction_id(original_transaction_id):
        raise Http404("Not a transaction ID")
    context: dict = {"original_transaction_id": original_transaction_id}
    if request.method == "GET":
        context["form"] = ExtensionForm(initial={"request_id": uuid.uuid4(), "reason_code": 1})
        _add_purchase(request, context, original_transaction_id)
        return render(request, page_or_partial(request, PAGE, "panel"), context)

    form = ExtensionForm(request.POST)
    if not form.is_valid():
        context["form"] = form
        _add_purchase(request, context, original_transaction_id)
        return render_answer(request, page_or_partial(request, PAGE, "panel"), context, status=400)
    status = 200
    try:
        context["extension"] = extend_subscription(
            request.user, ExtensionRequest(original_transaction_id, **form.cleaned_data)
        )
    except ActionRefused as refusal:
        context["refusal"] = refusal.sentence
        status = refusal.status
    _add_days_left(request, context)
    return render_answer(request, page_or_partial(request, PAGE, "outcome"), context, status=status)


@require_GET
@login_required
@extension_approver_required
def approvals(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, APPROVALS, {"extensions": _waiting(scope_of(request.user))})


@require_POST
@login_required
@extension_approver_required
def decide(request: HtmxHttpRequest, pk: uuid.UUID, decision: str) -> HttpResponse:
    if decision not in ("approve", "reject"):
        raise Http404("Approve or reject")
    extension = get_object_or_404(
        SubscriptionExtension.objects.filter(scope_of(request.user).rows()).select_related("agent"),
        pk=pk,
    )
    context: dict = {"extension": extension}
    status = 200
    try:
        if decision == "approve":
            approve_extension(request.user, extension)
        else:
            reject_extension(request.user, extension)
    except ActionRefused as refusal:
        context["refusal"] = refusal.sentence
        status = refusal.status
    extension.refresh_from_db()
    attach_purchases([extension])
    if not request.htmx:
        context["extensions"] = _waiting(scope_of(request.user))
    return render_answer(
        request, page_or_partial(request, APPROVALS, "row"), context, status=status
    )


def _waiting(apps: AppScope) -> list[SubscriptionExtension]:
    """The extensions awaiting approval of the apps the approver may see, the oldest first."""
    waiting = list(
        SubscriptionExtension.objects.filter(
            apps.rows(), outcome=SubscriptionExtension.Outcome.AWAITING_APPROVAL
        )
        .select_related("agent", "account")
        .order_by("created_at")[:SHOWN]
    )
    attach_purchases(waiting)
    return waiting


def _add_purchase(request, context: dict, original_transaction_id: str) -> None:
    """What the desk knows of the subscription, and what Apple will refuse because of it."""
    purchase = pictured_purchase(original_transaction_id)
    context["purchase"] = purchase
    _add_days_left(request, context)
    if purchase is None:
        return
    context["is_subscription"] = is_subscription(purchase)
    context["renewal_date"] = renewal_date(purchase)
    context["expected_refusals"] = expected_refusals(purchase)
    context["past_extensions"] = SubscriptionExtension.objects.filter(
        environment=purchase.environment, original_transaction_id=original_transaction_id
    ).select_related("agent")[:20]


def _add_days_left(request, context: dict) -> None:
    """The agent's daily days, as "12 of 30 days left today"."""
    context["limit"] = settings.EXTENSION_DAYS_PER_AGENT_PER_DAY
    context["days_left"] = max(0, context["limit"] - days_granted_today(request.user))
