"""The customer's app download (Get App Transaction Info), on the agent's request."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookups.forms import is_transaction_id
from lookups.services.app_download import app_download as read_app_download
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import agent_required


@vary_on_headers("HX-Request")
@require_GET
@login_required
@agent_required
def app_download(request: HtmxHttpRequest, transaction_id: str) -> HttpResponse:
    if not is_transaction_id(transaction_id):
        raise Http404("Not a transaction ID")
    context = {"transaction_id": transaction_id, "download": read_app_download(transaction_id)}
    template = page_or_partial(request, "lookups/app_download.html", "download")
    return render(request, template, context)
