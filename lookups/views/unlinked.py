"""The offer-code purchases still waiting for an agent to link them to a customer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lookups.models import Product
from lookups.services.app_scope import scope_of, settings_app_name_when_shown
from lookups.services.unlinked import unlinked_offer_code_purchases
from lookups.views.htmx import HtmxHttpRequest

# The oldest first, a page an agent works through: each row is a status and a link form.
LIST_LIMIT = 50


@require_GET
@login_required
def unlinked(request: HtmxHttpRequest) -> HttpResponse:
    # Agents link them; managers watch how many wait.
    if not (
        request.user.has_perm("lookups.look_up_orders")
        or request.user.has_perm("lookups.view_reports")
    ):
        raise PermissionDenied
    # Only the apps this person may see.
    purchases = list(
        unlinked_offer_code_purchases(scope_of(request.user)).select_related("app")[:LIST_LIMIT]
    )
    context = {
        "purchases": purchases,
        "limit": LIST_LIMIT,
        # Each purchase by its own app's name for its product.
        "product_names": Product.objects.names_in_apps(
            (purchase.app_id, purchase.product_id) for purchase in purchases
        ),
        "settings_app_name": settings_app_name_when_shown(),
    }
    return render(request, "lookups/unlinked.html", context)
