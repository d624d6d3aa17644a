"""Linking a purchase to a customer: choose the customer, confirm, send; and Adapty's step again.

One URL serves the three steps: GET shows the search panel (or, with `?account=`, the confirm
form), POST sends the confirmed link. What the purchase carries now is read from the desk's
picture of it (or from Apple), never from the browser; `?lookup=` only says where to go back to.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from lookups.forms import AccountSearchForm, LinkForm, is_transaction_id
from lookups.models import (
    AdaptyDelivery,
    CustomerAccount,
    Lookup,
    Purchase,
    RefusedLink,
    TokenChange,
    TransferRequest,
)
from lookups.services.adapty_delivery import (
    adapty_enabled_for,
    deliver_again,
    deliver_unless_granted,
    latest_adapty_delivery,
    why_not_sent_to_adapty,
)
from lookups.services.apple_actions import ActionRefused
from lookups.services.linking import (
    AlreadyLinked,
    LinkRequest,
    LinkStillBeingSent,
    is_still_being_sent,
    link_purchase,
    purchase_for_link,
    still_current_links,
)
from lookups.services.purchase_picture import changed_outside_the_desk, pictured_purchase
from lookups.services.refused_links import record_refusal
from lookups.services.settling import waiting_for_apple
from lookups.views.accounts import SEARCH_LIMIT, search_accounts
from lookups.views.htmx import HtmxHttpRequest, page_or_partial, render_answer
from lookups.views.permissions import linker_required

PAGE = "lookups/link.html"
# The event a link's answer sends so the order it was made from shows itself again.
ORDER_CHANGED = "orderChanged"


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@login_required
@linker_required
def link(request: HtmxHttpRequest, original_transaction_id: str) -> HttpResponse:
    if not is_transaction_id(original_transaction_id):
        raise Http404("Not a transaction ID")
    context = _link_context(request, original_transaction_id)
    if request.method == "POST":
        return _submit(request, context)
    if "q" in request.GET:
        return _choices(request, context)
    _add_purchase(request, context, original_transaction_id)
    if _as_pk(request.GET.get("account")) is not None:
        return _confirm(request, context)
    return _panel(request, context)


def _link_context(request: HtmxHttpRequest, original_transaction_id: str) -> dict[str, Any]:
    lookup_id = _as_pk(request.POST.get("lookup") or request.GET.get("lookup"))
    # Only the agent's own lookup serves as the way back; it is never trusted for the purchase.
    lookup = (
        Lookup.objects.filter(pk=lookup_id, agent=request.user).first()
        if lookup_id is not None
        else None
    )
    return {"original_transaction_id": original_transaction_id, "lookup": lookup}


def _add_purchase(request, context: dict[str, Any], original_transaction_id: str) -> None:
    """The purchase as Apple shows it now (fresh picture or a read), and whom it points at."""
    try:
        purchase = purchase_for_link(original_transaction_id, request.user)
    except ActionRefused as refusal:
        context.update(purchase=pictured_purchase(original_transaction_id), apple_problem=refusal)
        _add_owner(context, context["purchase"])
        return
    context["purchase"] = purchase
    _add_owner(context, purchase)


def _add_owner(context: dict[str, Any], purchase: Purchase | None) -> None:
    token = purchase.app_account_token if purchase else None
    context.update(
        current_token=str(token) if token else None,
        current_account=CustomerAccount.objects.owner_of(token),
        changed_outside=bool(purchase and token and changed_outside_the_desk(purchase)),
    )


def _choices(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    search = AccountSearchForm(request.GET)
    context.update(search=search, accounts=search_accounts(search), limit=SEARCH_LIMIT)
    return render(request, page_or_partial(request, PAGE, "choices"), context)


def _panel(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    search = AccountSearchForm(request.GET)
    context.update(search=search, accounts=search_accounts(search), limit=SEARCH_LIMIT)
    return render(request, page_or_partial(request, PAGE, "panel"), context)


def _confirm(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    chosen = get_object_or_404(CustomerAccount, pk=_as_pk(request.GET.get("account")))
    form = LinkForm(
        initial={
            "account": chosen.pk,
            "request_id": uuid.uuid4(),
            # Retry after a failed link brings the ticket back.
            "ticket_reference": request.GET.get("ticket", "")[:100],
        }
    )
    context.update(form=form, account=chosen)
    return render(request, page_or_partial(request, PAGE, "confirm"), context)


def _submit(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    original_transaction_id = context["original_transaction_id"]
    form = LinkForm(request.POST)
    if not form.is_valid():
        _record_form_refusal(request, original_transaction_id, form)
        context["purchase"] = pictured_purchase(original_transaction_id)
        _add_owner(context, context["purchase"])
        context.update(form=form, account=form.cleaned_data.get("account"))
        return render_answer(
            request, page_or_partial(request, PAGE, "confirm"), context, status=422
        )
    data = form.cleaned_data
    link_request = LinkRequest(
        original_transaction_id=original_transaction_id,
        account=data["account"],
        ticket_reference=data["ticket_reference"],
        request_id=data["request_id"],
        confirm_move=data["confirm_relink"],
        lookup=context["lookup"],
    )
    try:
        answer = link_purchase(request.user, link_request)
    except LinkStillBeingSent as still:
        return _outcome(request, context, change=still.change, still_sending=True, status=202)
    except ActionRefused as refusal:
        # A link's own refusal, or the engine's (another app's purchase): nothing reached Apple.
        purchase = pictured_purchase(original_transaction_id)
        context["purchase"] = purchase
        _add_owner(context, purchase)
        if getattr(refusal, "reason", None) == RefusedLink.Reason.NEEDS_CONFIRMATION:
            form.add_error("confirm_relink", refusal.message)
            context.update(form=form, account=data["account"])
            return render_answer(
                request, page_or_partial(request, PAGE, "confirm"), context, status=422
            )
        context.update(
            refusal=refusal.message, account=data["account"], ticket=data["ticket_reference"]
        )
        return render_answer(
            request, page_or_partial(request, PAGE, "outcome"), context, status=refusal.status
        )
    context["purchase"] = pictured_purchase(original_transaction_id)
    if isinstance(answer, AlreadyLinked):
        delivery = deliver_unless_granted(request.user, original_transaction_id, answer.account)
        context.update(already_linked=answer.account)
        if delivery is not None:
            context.update(
                _outcome_context(delivery.token_change, still_sending=False, delivery=delivery)
            )
        return render(request, page_or_partial(request, PAGE, "outcome"), context)
    if isinstance(answer, TransferRequest):
        context.update(transfer=answer)
        return render_answer(
            request, page_or_partial(request, PAGE, "outcome"), context, status=202
        )
    # This request made the call: if it is still pending, Apple did not answer in time.
    response = _outcome(request, context, change=answer, still_sending=False)
    if answer.outcome == TokenChange.Outcome.SUCCEEDED:
        # The order on the page shows the purchase's old customer: it fetches itself again.
        trigger_client_event(response, ORDER_CHANGED)
    return response


def _outcome(
    request: HtmxHttpRequest,
    context: dict[str, Any],
    *,
    change: TokenChange,
    still_sending: bool,
    status: int = 200,
) -> HttpResponse:
    context.update(
        _outcome_context(change, still_sending=still_sending, delivery=context.get("delivery"))
    )
    context.setdefault("purchase", pictured_purchase(change.original_transaction_id))
    return render_answer(request, page_or_partial(request, PAGE, "outcome"), context, status=status)


def _outcome_context(
    change: TokenChange, *, still_sending: bool, delivery: AdaptyDelivery | None = None
) -> dict[str, Any]:
    """How a link stands: Apple's answer (or the wait for it) and Adapty's, and whether to poll."""
    delivery = delivery or _adapty_delivery(change)
    wait = waiting_for_apple(change)
    adapty_on_its_way = delivery is not None and delivery.outcome in (
        AdaptyDelivery.Outcome.QUEUED,
        AdaptyDelivery.Outcome.SENT,
    )
    return {
        "change": change,
        "still_sending": still_sending,
        "delivery": delivery,
        "adapty_not_sent": "" if delivery else why_not_sent_to_adapty(change),
        "wait": wait,
        # The page asks again until nothing is on its way; a wait given up on is settled too.
        "polling": (change.outcome == TokenChange.Outcome.PENDING and not (wait and wait.gave_up))
        or adapty_on_its_way,
    }


def _record_form_refusal(request: HtmxHttpRequest, original_transaction_id: str, form) -> None:
    cleaned = form.cleaned_data
    problems = "; ".join(
        f"{field}: {' '.join(errors)}" if field != "__all__" else " ".join(errors)
        for field, errors in form.errors.items()
    )
    record_refusal(
        request.user,
        original_transaction_id,
        reason=RefusedLink.Reason.INVALID_FORM,
        message=f"The form was incomplete or invalid: {problems}",
        account=cleaned.get("account"),
        ticket_reference=cleaned.get("ticket_reference") or "",
        request_id=cleaned.get("request_id"),
    )


@vary_on_headers("HX-Request")
@require_GET
@login_required
@linker_required
def link_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """How a sent link stands now; the outcome polls it here until Apple and Adapty have answered.

    The same address is the outcome's "Check again" link, so it works without JavaScript too.
    """
    changes = TokenChange.objects.select_related("account", "agent", "lookup", "app")
    change = get_object_or_404(changes, pk=pk)
    lookup = change.lookup
    own_lookup = lookup if lookup is not None and lookup.agent_id == request.user.pk else None
    context: dict[str, Any] = {
        "original_transaction_id": change.original_transaction_id,
        "lookup": own_lookup,
    }
    return _outcome(request, context, change=change, still_sending=is_still_being_sent(change))


def _adapty_delivery(change: TokenChange) -> AdaptyDelivery | None:
    if change.outcome != TokenChange.Outcome.SUCCEEDED or not adapty_enabled_for(change):
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
    """Send a linked purchase to Adapty again, alone, with its app's key; the App Store link is
    not touched."""
    change = get_object_or_404(
        TokenChange.objects.select_related("account", "lookup", "app"),
        pk=pk,
        outcome=TokenChange.Outcome.SUCCEEDED,
    )
    if not adapty_enabled_for(change):
        raise Http404("Adapty is not configured for this purchase's app")
    if not still_current_links([change]):
        # Granting access again to the customer the purchase was moved away from would be wrong.
        raise Http404("The purchase has been linked to another customer since")
    delivery = deliver_again(request.user, change)
    context: dict[str, Any] = {
        "original_transaction_id": change.original_transaction_id,
        "lookup": change.lookup,
        "delivery": delivery,
    }
    return _outcome(request, context, change=change, still_sending=False)
