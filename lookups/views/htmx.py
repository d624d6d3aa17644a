"""What every page shares about htmx."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def page_or_partial(request: HtmxHttpRequest, page: str, partial: str) -> str:
    """The whole page, or just one of its partials for an htmx request.

    A history restore (Back after the page was swapped) gets the whole page, since htmx puts
    it in place of everything.
    """
    if request.htmx and not request.htmx.history_restore_request:
        return f"{page}#{partial}"
    return page


# Marks an answer the desk explains, whatever its status: the browser shows it where the agent
# clicked (static/js/app.js). An unmarked error page has its heading and sentence shown there;
# "The desk did not answer" is kept for when nothing came back.
EXPLAINED = "Desk-Explained"


def render_answer(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The page's answer to an action: a success or a refusal in the server's own words."""
    response = render(request, template, context, status=status)
    response[EXPLAINED] = "1"
    return response
