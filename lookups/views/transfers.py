"""Transfers waiting for a second pair of eyes: listed for approvers, approved or rejected."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from lookups.models import CustomerAccount, TransferRequest
from lookups.services.app_scope import AppScope, scope_of
from lookups.services.apple_actions import ActionRefused
from lookups.services.apple_actions.transfer_approval import approve_transfer, reject_transfer
from lookups.views.approval_status import attach_purchases
from lookups.views.htmx import HtmxHttpRequest, page_or_partial, render_answer
from lookups.views.permissions import approver_required

PAGE = "lookups/transfers.html"
# The oldest first: they have waited longest. More than this means the page is the least issue.
SHOWN = 200


@require_GET
@login_required
@approver_required
def transfers(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, PAGE, {"transfers": _open_transfers(scope_of(request.user))})


@require_POST
@login_required
@approver_required
def decide(request: HtmxHttpRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in ("approve", "reject"):
        raise Http404("Approve or reject")
    transfer = get_object_or_404(
        TransferRequest.objects.filter(scope_of(request.user).rows()).select_related(
            "account", "requested_by"
        ),
        pk=pk,
    )
    context: dict = {"transfer": transfer}
    status = 200
    try:
        if decision == "approve":
            context["change"] = approve_transfer(request.user, transfer)
        else:
            reject_transfer(request.user, transfer)
    except ActionRefused as refusal:
        context["refusal"] = refusal.sentence
        status = refusal.status
    transfer.refresh_from_db()
    _annotate([transfer])
    if not request.htmx:
        context["transfers"] = _open_transfers(scope_of(request.user))
    return render_answer(request, page_or_partial(request, PAGE, "row"), context, status=status)


def _open_transfers(apps: AppScope) -> list[TransferRequest]:
    """The open transfers of the apps the approver may see, the oldest first."""
    waiting = list(
        TransferRequest.objects.filter(apps.rows(), status=TransferRequest.Status.OPEN)
        .select_related("account", "requested_by")
        .order_by("created_at")[:SHOWN]
    )
    _annotate(waiting)
    return waiting


def _annotate(transfers: list[TransferRequest]) -> None:
    """Name the customer each transfer moves the purchase away from, and say what its purchase
    is now: a query for each."""
    attach_purchases(transfers)
    owners = CustomerAccount.objects.owners_of(transfer.token_before for transfer in transfers)
    for transfer in transfers:
        transfer.current_owner = owners.get(str(transfer.token_before))
