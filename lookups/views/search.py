"""The one search box: its own page, and the fragment the box in the top bar shows."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookups.forms import SearchForm
from lookups.models import Product
from lookups.services.app_scope import scope_of, settings_app_name_when_shown
from lookups.services.search import SearchResults
from lookups.services.search import search as find
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_required


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def search(request: HtmxHttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    # Purchases only of the apps this agent may see.
    found = find(form.cleaned_data["q"], apps=scope_of(request.user)) if form.is_valid() else None
    context = {
        "form": form,
        "found": found,
        "product_names": _product_names(found),
        "settings_app_name": settings_app_name_when_shown(),
    }
    return render(request, page_or_partial(request, "lookups/search.html", "results"), context)


def _product_names(found: SearchResults | None) -> dict[str, str]:
    if found is None or not found.purchases:
        return {}
    # Each purchase by its own app's name for its product.
    return Product.objects.names_in_apps(
        (hit.purchase.app_id, hit.purchase.product_id) for hit in found.purchases
    )
