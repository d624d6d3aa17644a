"""The refund request queue: Apple's open requests by deadline, and the agent's answer."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from lookups.forms import ConsumptionAnswerForm
from lookups.models import Purchase, RefundRequest
from lookups.services.refund_requests import (
    Answer,
    AnswerRefused,
    answer_refund_request,
    open_cases,
    recently_closed,
)
from lookups.views.htmx import HtmxHttpRequest, page_or_partial, render_answer
from lookups.views.permissions import refund_answerer_required

PAGE = "lookups/refund_requests.html"
URGENT = timedelta(hours=2)


@require_GET
@login_required
@refund_answerer_required
def queue(request: HtmxHttpRequest) -> HttpResponse:
    cases = open_cases()
    _annotate_all(cases)
    return render(
        request,
        PAGE,
        {"cases": cases, "closed": recently_closed(), "form": ConsumptionAnswerForm()},
    )


@require_POST
@login_required
@refund_answerer_required
def answer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(RefundRequest.objects.select_related("account"), pk=pk)
    form = ConsumptionAnswerForm(request.POST)
    context: dict = {"case": case, "form": form}
    status = 200
    if not form.is_valid():
        status = 400
    else:
        data = form.cleaned_data
        percent = data["consumed_percent"]
        try:
            context["sent"] = answer_refund_request(
                request.user,
                case,
                Answer(
                    customer_consented=data["customer_consented"],
                    delivery_status=data["delivery_status"],
                    sample_content_provided=data["sample_content_provided"],
                    consumption_percentage=None if percent is None else percent * 1000,
                    refund_preference=data["refund_preference"] or None,
                ),
            )
        except AnswerRefused as refused:
            context["refusal"] = refused.message
            status = refused.status
    case.refresh_from_db()
    _annotate(case)
    if not request.htmx:
        context["cases"] = [c for c in open_cases() if c.pk != case.pk]
        _annotate_all(context["cases"])
    return render_answer(request, page_or_partial(request, PAGE, "case"), context, status=status)


def _annotate(case: RefundRequest) -> None:
    _annotate_all([case])


def _annotate_all(cases: list[RefundRequest]) -> None:
    """`_annotate` for a whole queue in two queries, whatever its length."""
    ids = {case.original_transaction_id for case in cases}
    pictures = {
        purchase.original_transaction_id: purchase
        for purchase in Purchase.objects.filter(
            environment=settings.APPSTORE_ENVIRONMENT, original_transaction_id__in=ids
        )
    }
    refunded = dict(
        RefundRequest.objects.filter(
            original_transaction_id__in=ids, decision=RefundRequest.Decision.REFUNDED
        )
        .values_list("original_transaction_id")
        .annotate(count=Count("pk"))
    )
    now = timezone.now()
    for case in cases:
        left = case.deadline - now
        case.time_left = max(left, timedelta(0))
        case.is_urgent = left < URGENT
        itself = case.decision == RefundRequest.Decision.REFUNDED
        case.refunds_before = refunded.get(case.original_transaction_id, 0) - itself
        case.purchase = pictures.get(case.original_transaction_id)
