"""Linking a purchase to a customer: choose the customer, confirm, send; and Adapty's step again.

One URL serves the three steps: GET shows the search panel (or, with `?account=`, the confirm
form), POST sends the confirmed link.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from lookups.forms import AccountSearchForm, LinkForm, is_transaction_id
from lookups.models import AdaptyDelivery, CustomerAccount, Lookup, TokenChange
from lookups.services.adapty_delivery import adapty_enabled, latest_adapty_delivery, send_to_adapty
from lookups.services.linking import LinkRefused, LinkRequest, link_purchase, still_current_links
from lookups.services.looking_up import latest_shown_transaction
from lookups.services.purchases import is_uuid
from lookups.views.accounts import SEARCH_LIMIT, search_accounts
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import linker_required

PAGE = "lookups/link.html"


@require_http_methods(["GET", "POST"])
@login_required
@linker_required
def link(request: HtmxHttpRequest, original_transaction_id: str) -> HttpResponse:
    if not is_transaction_id(original_transaction_id):
        raise Http404("Not a transaction ID")
    context = _link_context(request, original_transaction_id)
    if request.method == "POST":
        return _submit(request, context)
    if _as_pk(request.GET.get("account")) is not None:
        return _confirm(request, context)
    return _panel(request, context)


def _link_context(request: HtmxHttpRequest, original_transaction_id: str) -> dict[str, Any]:
    """The purchase as the agent's lookup showed it, and whom it is linked to now."""
    lookup_id = _as_pk(request.POST.get("lookup") or request.GET.get("lookup"))
    lookup = Lookup.objects.filter(pk=lookup_id).first() if lookup_id is not None else None
    latest = latest_shown_transaction(lookup, original_transaction_id)
    current_token = latest.app_account_token if latest else None
    current_account = (
        CustomerAccount.objects.filter(app_account_token=current_token).first()
        if is_uuid(current_token)
        else None
    )
    return {
        "original_transaction_id": original_transaction_id,
        "lookup": lookup,
        "latest": latest,
        "current_token": current_token or None,
        "current_account": current_account,
    }


def _panel(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    search = AccountSearchForm(request.GET)
    context.update(search=search, accounts=search_accounts(search), limit=SEARCH_LIMIT)
    partial = "choices" if "q" in request.GET else "panel"
    return render(request, page_or_partial(request, PAGE, partial), context)


def _confirm(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    chosen = get_object_or_404(CustomerAccount, pk=_as_pk(request.GET.get("account")))
    lookup = context["lookup"]
    form = LinkForm(
        initial={
            "account": chosen.pk,
            "expected_token": context["current_token"],
            "request_id": uuid.uuid4(),
            "lookup": lookup.pk if lookup else None,
            # Retry after a failed link brings the ticket back.
            "ticket_reference": request.GET.get("ticket", "")[:100],
        },
        current_account=context["current_account"],
    )
    context.update(form=form, account=chosen)
    return render(request, page_or_partial(request, PAGE, "confirm"), context)


def _submit(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    form = LinkForm(request.POST, current_account=context["current_account"])
    if not form.is_valid():
        context.update(form=form, account=form.cleaned_data.get("account"))
        return render(request, page_or_partial(request, PAGE, "confirm"), context, status=422)
    data = form.cleaned_data
    lookup, latest = context["lookup"], context["latest"]
    link_request = LinkRequest(
        original_transaction_id=context["original_transaction_id"],
        account=data["account"],
        expected_token=data.get("expected_token"),
        ticket_reference=data["ticket_reference"],
        request_id=data["request_id"],
        lookup=lookup,
        product_id=(latest.product_id if latest else None) or "",
        order_id=lookup.order_id if lookup else "",
    )
    try:
        change = link_purchase(request.user, link_request)
    except LinkRefused as refusal:
        context.update(
            refusal=refusal.message, account=data["account"], ticket=data["ticket_reference"]
        )
        return render(request, page_or_partial(request, PAGE, "outcome"), context, status=409)
    context.update(change=change, delivery=_adapty_delivery(change))
    return render(request, page_or_partial(request, PAGE, "outcome"), context)


def _adapty_delivery(change: TokenChange) -> AdaptyDelivery | None:
    if change.outcome != TokenChange.Outcome.SUCCEEDED or not adapty_enabled():
        return None
    return latest_adapty_delivery(change)


def _as_pk(value: str | None) -> int | None:
    """An ID from the query string: plain digits that fit the database's integers, or None."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


@require_POST
@login_required
@linker_required
def adapty_retry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Send a linked purchase to Adapty again, alone; the App Store link is not touched."""
    if not adapty_enabled():
        raise Http404("Adapty is not configured")
    change = get_object_or_404(
        TokenChange.objects.select_related("account", "lookup"),
        pk=pk,
        outcome=TokenChange.Outcome.SUCCEEDED,
    )
    if not still_current_links([change]):
        # Granting access again to the customer the purchase was moved away from would be wrong.
        raise Http404("The purchase has been linked to another customer since")
    delivery = send_to_adapty(request.user, change)
    context = {
        "original_transaction_id": change.original_transaction_id,
        "lookup": change.lookup,
        "latest": latest_shown_transaction(change.lookup, change.original_transaction_id),
        "change": change,
        "delivery": delivery,
    }
    return render(request, page_or_partial(request, PAGE, "outcome"), context)
