"""Finding a customer account, and everything the desk knows about it on one page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from lookups.forms import AccountSearchForm, NoteForm
from lookups.models import CustomerAccount, CustomerNote, Product, TokenChange
from lookups.services.account_timeline import purchases_of, refund_requests_of, timeline
from lookups.services.app_scope import scope_of, settings_app_name_when_shown
from lookups.services.extension_offers import extension_offers
from lookups.services.linking import still_current_links
from lookups.services.live import account_topic, purchase_topic
from lookups.services.notes import NoteRefused, add_note, edit_note
from lookups.services.recent_customers import recent_customers, touch
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_required, agent_work_required
from lookups.views.trainer import panel_context

SEARCH_LIMIT = 20
# A customer may hold hundreds of purchases: the newest this many in the table, all on request.
PURCHASES_SHOWN = 50
# A refused note shows the whole page again with the reason: a page, not a failed load.
REFUSED = 200


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
    if not query and not form.errors:
        # Nothing typed yet: the customers this agent worked on last, instead of a blank page.
        context["recent"] = recent_customers(request.user)
    return render(request, page_or_partial(request, "lookups/accounts.html", "results"), context)


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def account(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(CustomerAccount, pk=pk)
    if not request.htmx:
        touch(request.user, customer)
    return _account_page(request, customer)


@require_POST
@login_required
@agent_work_required
def new_note(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(CustomerAccount, pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            add_note(
                request.user,
                customer,
                form.cleaned_data["text"],
                ticket=form.cleaned_data["ticket_reference"],
            )
        except NoteRefused as refused:
            form.add_error("text", str(refused))
    if form.errors:
        return _account_page(request, customer, note_form=form, status=REFUSED)
    touch(request.user, customer)
    return redirect(reverse("lookups:account", args=[customer.pk]) + "#notes")


@require_POST
@login_required
@agent_work_required
def change_note(request: HtmxHttpRequest, pk: int, note_pk: int) -> HttpResponse:
    note = get_object_or_404(CustomerNote.objects.select_related("account"), pk=note_pk, account=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            edit_note(
                request.user,
                note,
                form.cleaned_data["text"],
                ticket=form.cleaned_data["ticket_reference"],
            )
        except NoteRefused as refused:
            form.add_error("text", str(refused))
    if form.errors:
        return _account_page(request, note.account, edit_form=form, editing=note.pk, status=REFUSED)
    return redirect(reverse("lookups:account", args=[pk]) + f"#note-{note.pk}")


def _account_page(
    request: HtmxHttpRequest,
    customer: CustomerAccount,
    *,
    note_form: NoteForm | None = None,
    edit_form: NoteForm | None = None,
    editing: int | None = None,
    status: int = 200,
) -> HttpResponse:
    # Only the apps this agent may see: another app's purchases are not theirs to see.
    apps = scope_of(request.user)
    changes = list(
        TokenChange.objects.filter(apps.rows(), account=customer)
        .select_related("agent", "app")
        .order_by("-created_at")
    )
    succeeded = [c for c in changes if c.outcome == TokenChange.Outcome.SUCCEEDED]
    notes = list(customer.notes.select_related("author", "edited_by").order_by("-created_at"))
    purchases = purchases_of(customer, apps)
    refund_requests = refund_requests_of(customer, purchases, apps)
    shown = purchases if request.GET.get("purchases") == "all" else purchases[:PURCHASES_SHOWN]
    context = {
        "account": customer,
        "changes": changes,
        # A purchase moved on to another customer since is no longer this customer's.
        "linked": still_current_links(succeeded),
        "notes": notes,
        "note_form": note_form or NoteForm(),
        "edit_form": edit_form,
        "editing": editing,
        "purchases": shown,
        "purchase_total": len(purchases),
        "refund_requests": refund_requests,
        "revoked": [
            p for p in purchases if p.revocation_date or p.status in ("revoked", "refunded")
        ],
        "timeline": timeline(
            customer,
            purchases,
            refund_requests=refund_requests,
            notes=notes,
            changes=changes,
            apps=apps,
        ),
    }
    # Each purchase's product by its own app's name for it.
    context["product_names"] = Product.objects.names_in_apps(
        [(c.app_id, c.product_id) for c in context["linked"]]
        + [(p.app_id, p.product_id) for p in purchases]
        + [(p.app_id, p.next_renewal_product_id) for p in purchases]
    )
    context["settings_app_name"] = settings_app_name_when_shown()
    context["extension_offers"] = extension_offers(purchases)
    context["live_topics"] = [account_topic(customer.pk)] + [
        purchase_topic(purchase.original_transaction_id) for purchase in purchases
    ]
    context.update(panel_context())
    # After a simulator step, htmx asks for the purchase picture and timeline again.
    template = page_or_partial(request, "lookups/account.html", "picture")
    return render(request, template, context, status=status)
