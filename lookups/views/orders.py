"""Looking up an order and paging through a purchase's transaction history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from lookups.forms import HistoryForm, OrderLookupForm, is_transaction_id
from lookups.models import Product
from lookups.services.apple_actions.acting_app import why_not_acted_on
from lookups.services.extension_offers import extension_offers
from lookups.services.live import purchase_topic
from lookups.services.looking_up import (
    AppLookup,
    LookupResult,
    history_in_apps,
    look_up_order_in_apps,
    shown_lookup,
)
from lookups.services.purchases import newest_first
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_required
from lookups.views.trainer import panel_context


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    # Whoever links purchases works from the lookup box; managers read orders too, from home.
    if request.user.has_perm("lookups.link_purchases"):
        return redirect("lookups:look_up")
    if request.user.has_perm("lookups.view_reports") or request.user.is_staff:
        # Managers and auditors: where their work is, not the admin's model list.
        return render(request, "lookups/home.html")
    raise PermissionDenied


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def look_up(request: HtmxHttpRequest) -> HttpResponse:
    form = OrderLookupForm(request.GET or None)
    result = shown = None
    asked: list[AppLookup] = []
    if form.is_valid():
        if form.cleaned_data["transaction_id"]:
            return _open_history(request, form.cleaned_data["transaction_id"])
        asked = look_up_order_in_apps(request.user, form.cleaned_data["order_id"])
        shown = shown_lookup(asked)
        result = shown.result if shown else None
    # The order shown again after a link (the `orderChanged` event): if Apple can't be asked
    # now, the page keeps what it shows rather than trading the order for an error.
    refreshing = request.htmx and request.GET.get("refresh") == "1"
    if refreshing and (result is None or result.error is not None):
        return HttpResponse(status=204)
    context = {
        "form": form,
        "result": result,
        # Which app the order is in, and what every other app the agent may see answered.
        "shown_app": shown,
        "other_apps": [app_lookup for app_lookup in asked if app_lookup is not shown],
        "rows": _newest_first(result),
        "purchases": result.by_purchase() if result else [],
        # The link panels (and the outcome just shown in one) survive the refresh.
        "keep_link_panels": refreshing,
        # Why this app's purchases can't be changed at Apple from here, shown for the buttons
        # (only apps the agent may see are asked, so the app is theirs).
        "not_acted_on": why_not_acted_on(shown.app, shown.environment) if shown else "",
    }
    context["product_names"] = _product_names(context["rows"], shown.app if shown else None)
    context["extension_offers"] = extension_offers(group.picture for group in context["purchases"])
    context["live_topics"] = [
        purchase_topic(group.original_transaction_id) for group in context["purchases"]
    ]
    context.update(panel_context())
    return render(request, page_or_partial(request, "lookups/look_up.html", "results"), context)


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def history(request: HtmxHttpRequest, transaction_id: str) -> HttpResponse:
    if not is_transaction_id(transaction_id):
        raise Http404("Not a transaction ID")
    form = HistoryForm(request.GET)
    result = shown = None
    if form.is_valid():
        shown = history_in_apps(
            request.user,
            transaction_id,
            filters=form.filters(),
            revision=form.cleaned_data.get("revision") or None,
            version=form.cleaned_data.get("version") or 2,
        )
        result = shown.result
    query = request.GET.copy()
    query.pop("revision", None)
    query.pop("shown", None)
    rows = result.rows if result else []
    context = {
        "form": form,
        "transaction_id": transaction_id,
        "result": result,
        "shown_app": shown,
        "query": query.urlencode(),
        # The order the agent came from, to go back to; only ever shown as an order ID.
        "order_id": _order_id_param(request.GET.get("order")),
        "shown": _count_param(request.GET.get("shown")) + len(rows),
        "product_names": _product_names(rows, shown.app if shown else None),
    }
    partial = "rows" if request.GET.get("revision") else "results"
    return render(request, page_or_partial(request, "lookups/history.html", partial), context)


def _open_history(request: HtmxHttpRequest, transaction_id: str) -> HttpResponse:
    """A transaction ID typed into Look up opens that purchase's history page."""
    url = reverse("lookups:history", args=[transaction_id])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _newest_first(result: LookupResult | None) -> list:
    if result is None:
        return []
    return newest_first(result.rows)


def _product_names(rows: list, app) -> dict[str, str]:
    """The names the app the rows are from gives its products."""
    return Product.objects.names_for(
        (row.transaction.product_id for row in rows if row.transaction is not None), app=app
    )


def _order_id_param(value: str | None) -> str:
    value = (value or "").strip().upper()
    return value if OrderLookupForm.looks_like_order_id(value) else ""


def _count_param(value: str | None) -> int:
    """How many rows the agent had before this page: digits only, else none."""
    if value and value.isascii() and value.isdigit() and len(value) <= 6:
        return int(value)
    return 0
