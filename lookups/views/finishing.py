"""Finish Transaction from the order page: an agent who delivered a consumable by hand says so."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from lookups.forms import FinishForm, is_transaction_id
from lookups.models import TransactionFinish
from lookups.services.apple_actions import ActionRefused
from lookups.services.finishing import FinishRequest, finish_transaction
from lookups.services.purchase_picture import pictured_purchase
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_work_required

PAGE = "lookups/finish.html"


@require_http_methods(["GET", "POST"])
@login_required
@agent_work_required
def finish(request: HtmxHttpRequest, transaction_id: str) -> HttpResponse:
    if not is_transaction_id(transaction_id):
        raise Http404("Not a transaction ID")
    context: dict = {
        "transaction_id": transaction_id,
        "purchase": pictured_purchase(transaction_id),
        "earlier": TransactionFinish.objects.filter(transaction_id=transaction_id).select_related(
            "agent"
        )[:10],
    }
    order_id = (request.GET.get("order") or request.POST.get("order_id") or "")[:32]
    context["order_id"] = order_id
    if request.method == "GET":
        context["form"] = FinishForm(initial={"request_id": uuid.uuid4(), "order_id": order_id})
        return render(request, PAGE, context)
    form = FinishForm(request.POST)
    if not form.is_valid():
        context["form"] = form
        return render(request, PAGE, context, status=400)
    status = 200
    try:
        context["finished"] = finish_transaction(
            request.user,
            FinishRequest(
                transaction_id,
                form.cleaned_data["note"],
                form.cleaned_data["request_id"],
                form.cleaned_data["order_id"],
            ),
        )
    except ActionRefused as refusal:
        context["refusal"] = refusal.sentence
        context["form"] = form
        status = refusal.status
    return render(request, page_or_partial(request, PAGE, "outcome"), context, status=status)
