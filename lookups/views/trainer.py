"""The trainers' panel (local mode only): a step of the simulator's demo life, and its echo.

Each page here is absent (404) unless the desk runs locally against the simulator.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from lookups.forms import TrainerStepForm
from lookups.models import AppStoreNotification
from lookups.services import trainer_life
from lookups.views.htmx import HtmxHttpRequest, page_or_partial, render_answer
from lookups.views.permissions import agent_work_required

# The event the account and lookup pages listen for to show the purchase picture again.
PICTURE_CHANGED = "purchase-picture-changed"


def panel_context() -> dict:
    """What the account and lookup pages need to show the panel; nothing off local mode."""
    if not trainer_life.trainer_panel_on():
        return {}
    return {"trainer_panel": True, "trainer_actions": trainer_life.PURCHASE_ACTIONS.items()}


def _local_only() -> None:
    if not trainer_life.trainer_panel_on():
        raise Http404("The simulator's panel exists only in local mode")


@require_POST
@login_required
@agent_work_required
def life_step(request: HtmxHttpRequest) -> HttpResponse:
    _local_only()
    form = TrainerStepForm(request.POST)
    if form.is_valid():
        step = trainer_life.take_step(
            form.cleaned_data["action"], form.cleaned_data["original_transaction_id"]
        )
        status = 200
    else:
        errors = "; ".join(message for messages_ in form.errors.values() for message in messages_)
        step, status = trainer_life.LifeStep(action="", refusal=errors), 422
    if request.htmx:
        return render_answer(
            request, "lookups/trainer_step.html#step", {"step": step}, status=status
        )
    if step.refusal:
        messages.error(request, f"The simulator refused: {step.refusal}")
    else:
        messages.success(request, f"The simulator sent {_named(step)}.")
    back = request.POST.get("back", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("lookups:look_up")


@require_GET
@login_required
@agent_work_required
def life_notification(request: HtmxHttpRequest, notification_uuid: str) -> HttpResponse:
    """Whether the desk has stored and applied the notification a step sent."""
    _local_only()
    row = trainer_life.notification_arrived(notification_uuid)
    applied = row is not None and row.state != AppStoreNotification.State.RECEIVED
    context = {"notification_uuid": notification_uuid, "row": row, "applied": applied}
    template = page_or_partial(request, "lookups/trainer_step.html", "arrival")
    response = render(request, template, context)
    if applied and request.htmx:
        trigger_client_event(response, PICTURE_CHANGED)
    return response


def _named(step: trainer_life.LifeStep) -> str:
    return step.notification_type + (f" ({step.subtype})" if step.subtype else "")
