"""Outage compensation for managers: ask, have a second manager decide, follow Apple's run.

The progress shown is the desk's own row, kept current by the engine's status reads and Apple's
RENEWAL_EXTENSION notifications; a row under way re-reads itself every few seconds until it is
complete.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lookups.forms import OutageCompensationForm
from lookups.models import App, OutageCompensation, Product
from lookups.services.apple_actions import ActionRefused
from lookups.services.apple_actions.acting_app import rows_of, seen_by
from lookups.services.apps import apps_for
from lookups.services.outage_compensation import (
    CompensationRequest,
    approve_compensation,
    is_manager,
    parse_storefronts,
    products_of,
    reject_compensation,
    request_compensation,
)
from lookups.views.htmx import HtmxHttpRequest, page_or_partial

PAGE = "lookups/outages.html"
SHOWN = 50
# How often a run under way is re-read by the page, in seconds.
PROGRESS_POLL_SECONDS = 2


def manager_required(view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied("Only managers compensate outages.")
        return view(request, *args, **kwargs)

    return checked


@require_http_methods(["GET", "POST"])
@login_required
@manager_required
def outages(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, _fresh_form(request))
    form = OutageCompensationForm(request.POST, apps=_apps(request))
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    try:
        request_compensation(
            request.user,
            CompensationRequest(
                product_id=data["product_id"],
                extend_by_days=data["extend_by_days"],
                reason_code=data["reason_code"],
                note=data["note"],
                storefronts=parse_storefronts(data["storefronts"]),
                request_id=data["request_id"],
                app=data["app"],
                environment=data["environment"],
            ),
        )
    except ActionRefused as refusal:
        return _page(request, form, refusal=refusal.sentence, status=refusal.status)
    return _page(request, _fresh_form(request), asked=True)


@require_POST
@login_required
@manager_required
def decide(request: HtmxHttpRequest, pk: uuid.UUID, decision: str) -> HttpResponse:
    if decision not in ("approve", "reject"):
        raise Http404("Approve or reject")
    row = get_object_or_404(OutageCompensation.objects.filter(seen_by(request.user)), pk=pk)
    context: dict = {"row": row, "poll_seconds": PROGRESS_POLL_SECONDS}
    status = 200
    try:
        if decision == "approve":
            approve_compensation(request.user, row)
        else:
            reject_compensation(request.user, row)
    except ActionRefused as refusal:
        context["refusal"] = refusal.sentence
        status = refusal.status
    row.refresh_from_db()
    if not request.htmx:
        return _page(request, _fresh_form(request))
    return render(request, f"{PAGE}#row", context, status=status)


@require_GET
@login_required
@manager_required
def progress(request: HtmxHttpRequest, pk: uuid.UUID) -> HttpResponse:
    row = get_object_or_404(OutageCompensation.objects.filter(seen_by(request.user)), pk=pk)
    return render(request, f"{PAGE}#row", {"row": row, "poll_seconds": PROGRESS_POLL_SECONDS})


def _apps(request) -> list[App]:
    """The apps this manager may see, read once for the request."""
    if not hasattr(request, "_outage_apps"):
        request._outage_apps = apps_for(request.user)
    return request._outage_apps


def _fresh_form(request) -> OutageCompensationForm:
    return OutageCompensationForm(initial={"request_id": uuid.uuid4()}, apps=_apps(request))


def _page(request, form, *, status: int = 200, **context) -> HttpResponse:
    # Runs of the apps this manager may see.
    rows = OutageCompensation.objects.filter(rows_of(_apps(request))).select_related(
        "requested_by", "approved_by", "app"
    )
    names = dict(Product.objects.values_list("product_id", "display_name"))
    context.update(
        form=form,
        rows=list(rows[:SHOWN]),
        # Each app's products the desk has seen bought, named by the catalogue where it can.
        products=[
            (product_id, f"{names.get(product_id, product_id)} · {app.name}")
            for app, product_id in products_of(_apps(request))
        ],
        poll_seconds=PROGRESS_POLL_SECONDS,
    )
    return render(request, page_or_partial(request, PAGE, "content"), context, status=status)
