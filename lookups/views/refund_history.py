"""Get Refund History V2 from a customer's account page, on the agent's request."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookups.models import CustomerAccount, Product
from lookups.services.account_timeline import purchases_of
from lookups.services.app_scope import scope_of
from lookups.services.refund_history import refund_history
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_required


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def account_refunds(
    request: HtmxHttpRequest, pk: int, original_transaction_id: str
) -> HttpResponse:
    account = get_object_or_404(CustomerAccount, pk=pk)
    # Only a purchase carrying this customer's token, of an app this agent may see.
    purchase = next(
        (
            p
            for p in purchases_of(account, scope_of(request.user))
            if p.original_transaction_id == original_transaction_id
        ),
        None,
    )
    if purchase is None:
        raise Http404("No purchase of this customer has that original transaction ID")
    history = refund_history(original_transaction_id)
    context = {
        "account": account,
        "original_transaction_id": original_transaction_id,
        "history": history,
        "product_names": Product.objects.names_for(
            (t.product_id for t in history.refunds), app=purchase.app
        ),
    }
    template = page_or_partial(request, "lookups/refund_history.html", "refunds")
    return render(request, template, context)
