"""Looking up an order and paging through a purchase's transaction history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookups.forms import HistoryForm, OrderLookupForm, is_transaction_id
from lookups.services.looking_up import look_up_order, transaction_history
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_required


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.has_perm("lookups.look_up_orders"):
        return redirect("lookups:look_up")
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def look_up(request: HtmxHttpRequest) -> HttpResponse:
    form = OrderLookupForm(request.GET or None)
    result = None
    if form.is_valid():
        result = look_up_order(request.user, form.cleaned_data["order_id"])
    context = {"form": form, "result": result}
    return render(request, page_or_partial(request, "lookups/look_up.html", "results"), context)


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def history(request: HtmxHttpRequest, transaction_id: str) -> HttpResponse:
    if not is_transaction_id(transaction_id):
        raise Http404("Not a transaction ID")
    form = HistoryForm(request.GET)
    result = None
    if form.is_valid():
        result = transaction_history(
            request.user,
            transaction_id,
            filters=form.filters(),
            revision=form.cleaned_data.get("revision") or None,
            version=form.cleaned_data.get("version") or 2,
        )
    query = request.GET.copy()
    query.pop("revision", None)
    context = {
        "form": form,
        "transaction_id": transaction_id,
        "result": result,
        "query": query.urlencode(),
    }
    partial = "rows" if request.GET.get("revision") else "results"
    return render(request, page_or_partial(request, "lookups/history.html", partial), context)
