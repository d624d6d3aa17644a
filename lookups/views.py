"""Agent pages. Each view serves its full page, or with htmx only the fragment that changed."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from . import services
from .appstore import Transaction
from .forms import AccountSearchForm, HistoryForm, LinkForm, OrderLookupForm, is_transaction_id
from .models import AdaptyDelivery, CustomerAccount, Lookup, TokenChange

SEARCH_LIMIT = 20

agent_required = permission_required("lookups.look_up_orders", raise_exception=True)
linker_required = permission_required("lookups.link_purchases", raise_exception=True)
# Auditors and managers read customer accounts in the admin; these pages are the agents' own.
account_viewer_required = agent_required


def _template(request: HttpRequest, page: str, fragment: str) -> str:
    """The whole page, or just one of its partials for an htmx request."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{page}#{fragment}"
    return page


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.has_perm("lookups.look_up_orders"):
        return redirect("lookups:look_up")
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def look_up(request: HttpRequest) -> HttpResponse:
    form = OrderLookupForm(request.GET or None)
    result = None
    if form.is_valid():
        result = services.look_up_order(request.user, form.cleaned_data["order_id"])
    context = {"form": form, "result": result, "groups": _group_purchases(result)}
    return render(request, _template(request, "lookups/look_up.html", "results"), context)


def _group_purchases(result: services.LookupResult | None) -> list[dict]:
    """Rows for the table; the link action sits on the latest transaction of each purchase."""
    if result is None:
        return []
    latest: dict[str, Transaction] = {}
    for purchase in result.purchases:
        txn = purchase.transaction
        if txn is None or txn.original_transaction_id is None:
            continue
        current = latest.get(txn.original_transaction_id)
        if current is None or services.purchase_recency(txn.raw) > services.purchase_recency(
            current.raw
        ):
            latest[txn.original_transaction_id] = txn
    return [
        {
            "purchase": purchase,
            "is_latest": purchase.transaction is not None
            and latest.get(purchase.transaction.original_transaction_id) is purchase.transaction,
        }
        for purchase in result.purchases
    ]


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def history(request: HttpRequest, transaction_id: str) -> HttpResponse:
    if not is_transaction_id(transaction_id):
        raise Http404("Not a transaction ID")
    form = HistoryForm(request.GET)
    result = None
    if form.is_valid():
        result = services.transaction_history(
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
    fragment = "rows" if request.GET.get("revision") else "results"
    return render(request, _template(request, "lookups/history.html", fragment), context)


@vary_on_headers("HX-Request")
@require_GET
@login_required
@account_viewer_required
def accounts(request: HttpRequest) -> HttpResponse:
    form = AccountSearchForm(request.GET)
    found: list[CustomerAccount] = []
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        found = list(CustomerAccount.objects.search(query)[:SEARCH_LIMIT])
    context = {"form": form, "accounts": found, "query": query, "limit": SEARCH_LIMIT}
    return render(request, _template(request, "lookups/accounts.html", "results"), context)


@require_GET
@login_required
@account_viewer_required
def account(request: HttpRequest, pk: int) -> HttpResponse:
    changes = TokenChange.objects.select_related("agent").order_by("-created_at")
    customer = get_object_or_404(
        CustomerAccount.objects.prefetch_related(Prefetch("token_changes", queryset=changes)),
        pk=pk,
    )
    succeeded = [
        c for c in customer.token_changes.all() if c.outcome == TokenChange.Outcome.SUCCEEDED
    ]
    # A purchase moved on to another customer since is no longer this customer's.
    current = services.current_links(c.original_transaction_id for c in succeeded)
    linked = [c for c in succeeded if current[c.original_transaction_id].pk == c.pk]
    context = {"account": customer, "changes": customer.token_changes.all(), "linked": linked}
    return render(request, "lookups/account.html", context)


def _as_pk(value: str | None) -> int | None:
    """An ID from the query string: plain digits that fit the database's integers, or None."""
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


@require_http_methods(["GET", "POST"])
@login_required
@linker_required
def link(request: HttpRequest, original_transaction_id: str) -> HttpResponse:
    if not is_transaction_id(original_transaction_id):
        raise Http404("Not a transaction ID")
    lookup_id = _as_pk(request.POST.get("lookup") or request.GET.get("lookup"))
    lookup = Lookup.objects.filter(pk=lookup_id).first() if lookup_id is not None else None
    purchase = services.latest_verified_payload(lookup, original_transaction_id) or {}
    current_token = purchase.get("appAccountToken") or None
    current_account = (
        CustomerAccount.objects.filter(app_account_token=current_token).first()
        if current_token and services.is_uuid(current_token)
        else None
    )
    context = {
        "original_transaction_id": original_transaction_id,
        "lookup": lookup,
        "purchase": purchase,
        "current_token": current_token,
        "current_account": current_account,
    }
    page = "lookups/link.html"

    if request.method == "POST":
        form = LinkForm(request.POST, current_account=current_account)
        if not form.is_valid():
            context.update(form=form, account=form.cleaned_data.get("account"))
            return render(request, _template(request, page, "confirm"), context, status=422)
        data = form.cleaned_data
        link_request = services.LinkRequest(
            original_transaction_id=original_transaction_id,
            account=data["account"],
            expected_token=data.get("expected_token"),
            ticket_reference=data["ticket_reference"],
            request_id=data["request_id"],
            lookup=lookup,
            product_id=purchase.get("productId", ""),
            order_id=lookup.order_id if lookup else "",
        )
        try:
            change = services.link_purchase(request.user, link_request)
        except services.LinkRefused as refusal:
            context.update(refusal=refusal.message)
            return render(request, _template(request, page, "outcome"), context, status=409)
        context.update(change=change, delivery=_adapty_delivery(change))
        return render(request, _template(request, page, "outcome"), context)

    chosen_id = _as_pk(request.GET.get("account"))
    if chosen_id is not None:
        chosen = get_object_or_404(CustomerAccount, pk=chosen_id)
        form = LinkForm(
            initial={
                "account": chosen.pk,
                "expected_token": current_token,
                "request_id": uuid.uuid4(),
                "lookup": lookup.pk if lookup else None,
            },
            current_account=current_account,
        )
        context.update(form=form, account=chosen)
        return render(request, _template(request, page, "confirm"), context)

    search = AccountSearchForm(request.GET)
    found: list[CustomerAccount] = []
    if search.is_valid() and search.cleaned_data["q"]:
        found = list(CustomerAccount.objects.search(search.cleaned_data["q"])[:SEARCH_LIMIT])
    context.update(search=search, accounts=found, limit=SEARCH_LIMIT)
    fragment = "choices" if "q" in request.GET else "panel"
    return render(request, _template(request, page, fragment), context)


def _adapty_delivery(change: TokenChange) -> AdaptyDelivery | None:
    if change.outcome != TokenChange.Outcome.SUCCEEDED or not services.adapty_enabled():
        return None
    return services.latest_adapty_delivery(change)


@require_POST
@login_required
@linker_required
def adapty_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a linked purchase to Adapty again, alone; the App Store link is not touched."""
    if not services.adapty_enabled():
        raise Http404("Adapty is not configured")
    change = get_object_or_404(
        TokenChange.objects.select_related("account", "lookup"),
        pk=pk,
        outcome=TokenChange.Outcome.SUCCEEDED,
    )
    if services.current_links([change.original_transaction_id])[change.original_transaction_id] != (
        change
    ):
        # Granting access again to the customer the purchase was moved away from would be wrong.
        raise Http404("The purchase has been linked to another customer since")
    delivery = services.send_to_adapty(request.user, change)
    purchase = services.latest_verified_payload(change.lookup, change.original_transaction_id)
    context = {
        "original_transaction_id": change.original_transaction_id,
        "lookup": change.lookup,
        "purchase": purchase or {},
        "change": change,
        "delivery": delivery,
    }
    return render(request, _template(request, "lookups/link.html", "outcome"), context)
