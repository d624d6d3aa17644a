"""What every page shares about htmx."""

from __future__ import annotations

from django.http import HttpRequest
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
