"""The refund request queue: Apple's open requests by deadline, and the agent's answer."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from lookups.forms import ConsumptionAnswerForm
from lookups.models import RefundRequest
from lookups.services.app_scope import scope_of
from lookups.services.apple_actions import ActionRefused
from lookups.services.purchase_picture import pictures_of
from lookups.services.refund_requests import (
    Answer,
    answer_refund_request,
    open_case_count,
    open_cases,
    recently_closed,
    refund_counts,
    refunds_before,
)
from lookups.views.htmx import HtmxHttpRequest, page_or_partial, render_answer
from lookups.views.permissions import refund_answerer_required

PAGE = "lookups/refund_requests.html"
URGENT = timedelta(hours=2)


@require_GET
@login_required
@refund_answerer_required
def queue(request: HtmxHttpRequest) -> HttpResponse:
    # Only the cases of the apps this agent may see.
    apps = scope_of(request.user)
    cases = open_cases(apps)
    _annotate_all(cases)
    context = {
        "cases": cases,
        "open_total": open_case_count(apps),
        "closed": recently_closed(apps=apps),
        "form": ConsumptionAnswerForm(),
    }
    return render(request, PAGE, context)


@require_POST
@login_required
@refund_answerer_required
def answer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(
        RefundRequest.objects.filter(scope_of(request.user).rows()).select_related("account"),
        pk=pk,
    )
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
                data["request_id"],
            )
        except ActionRefused as refused:
            context["refusal"] = refused.sentence
            status = refused.status
    case.refresh_from_db()
    _annotate(case)
    if not request.htmx:
        context["cases"] = [c for c in open_cases(scope_of(request.user)) if c.pk != case.pk]
        _annotate_all(context["cases"])
    return render_answer(request, page_or_partial(request, PAGE, "case"), context, status=status)


def _annotate_all(cases: list[RefundRequest]) -> None:
    """`_annotate` for a whole queue: two queries for all the cases, not two a case."""
    refunded = refund_counts(cases)
    purchases = pictures_of(cases)
    for case in cases:
        _annotate(
            case,
            refunds=refunded.get(case.original_transaction_id, 0),
            purchase=purchases.get((case.environment, case.original_transaction_id)),
        )


def _annotate(case: RefundRequest, **known: object) -> None:
    """What the queue shows beside a case; `refunds` and `purchase` when read for all at once."""
    left = case.deadline - timezone.now()
    case.time_left = max(left, timedelta(0))
    case.is_urgent = left < URGENT
    if known:
        case.refunds_before, case.purchase = known["refunds"], known["purchase"]
    else:
        case.refunds_before = refunds_before(case)
        case.purchase = pictures_of([case]).get((case.environment, case.original_transaction_id))
    # Each case's form carries its own request id: sent twice, it is one answer.
    case.answer_request_id = uuid.uuid4()
