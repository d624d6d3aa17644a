"""Finding a customer account, and what the desk has done for it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookups.forms import AccountSearchForm
from lookups.models import CustomerAccount, Product, TokenChange
from lookups.services.account_timeline import purchases_of, timeline
from lookups.services.extension_offers import extension_offers
from lookups.services.linking import still_current_links
from lookups.services.live import account_topic, purchase_topic
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_required
from lookups.views.trainer import panel_context

SEARCH_LIMIT = 20


def search_accounts(form: AccountSearchForm) -> list[CustomerAccount]:
    """The first SEARCH_LIMIT accounts matching a valid search form; none for an empty one."""
    if not form.is_valid() or not form.cleaned_data["q"]:
        return []
    return list(CustomerAccount.objects.search(form.cleaned_data["q"])[:SEARCH_LIMIT])


# Auditors and managers read customer accounts in the admin; these pages are the agents' own.
@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def accounts(request: HtmxHttpRequest) -> HttpResponse:
    form = AccountSearchForm(request.GET)
    found = search_accounts(form)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    context = {"form": form, "accounts": found, "query": query, "limit": SEARCH_LIMIT}
    return render(request, page_or_partial(request, "lookups/accounts.html", "results"), context)


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def account(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    changes = TokenChange.objects.select_related("agent").order_by("-created_at")
    customer = get_object_or_404(
        CustomerAccount.objects.prefetch_related(Prefetch("token_changes", queryset=changes)),
        pk=pk,
    )
    succeeded = [
        c for c in customer.token_changes.all() if c.outcome == TokenChange.Outcome.SUCCEEDED
    ]
    context = {
        "account": customer,
        "changes": customer.token_changes.all(),
        # A purchase moved on to another customer since is no longer this customer's.
        "linked": still_current_links(succeeded),
    }
    purchases = purchases_of(customer)
    context["product_names"] = Product.objects.names_for(
        [c.product_id for c in context["linked"]]
        + [p.product_id for p in purchases]
        + [p.next_renewal_product_id for p in purchases]
    )
    context.update(purchases=purchases, timeline=timeline(customer, purchases))
    context["extension_offers"] = extension_offers(purchases)
    context["live_topics"] = [account_topic(customer.pk)] + [
        purchase_topic(purchase.original_transaction_id) for purchase in purchases
    ]
    context.update(panel_context())
    # After a simulator step, htmx asks for the purchase picture and timeline again.
    return render(request, page_or_partial(request, "lookups/account.html", "picture"), context)
