"""How the admin's lists over big tables count their rows and fetch a page of them.

Django's changelist counts every matching row, then asks for the page: a search runs twice (a
trigram scan over a million accounts for the count, the same scan again for the page), and the
count reads every match to print a number nobody needs to the last digit.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ESTIMATE_ABOVE rows; past that, on PostgreSQL, trusts the planner.

    The admin counts the list on every page, and an exact COUNT(*) reads every matching row:
    over 100 ms a million, to print a number nobody needs to the last digit.
    """

    ESTIMATE_ABOVE = 50_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connections[queryset.db].vendor == "postgresql":
            plan = json.loads(queryset.order_by().explain(format="json"))
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            if estimate > self.ESTIMATE_ABOVE:
                return estimate
        return super().count


class SearchPaginator(Paginator):
    """A searched list: its matches' primary keys, in the list's order, read in one query up to
    a bound; the count is theirs ("more than" the bound past it), and a page is its rows by key.

    The search runs once. The planner's estimate of a search is a guess (a trigram match can be
    off a thousandfold), so the matches are counted, but never more than the bound: "customer"
    matches every account, and nobody pages through a million of them.
    """

    MATCHES_COUNTED = 1000

    def __init__(self, object_list: QuerySet, per_page: int, *, rows: QuerySet, page_asked: int):
        super().__init__(object_list, per_page)
        # The bound grows with the page asked for, so "next" leads on while there are more.
        self.bound = max(self.MATCHES_COUNTED, page_asked * per_page)
        self.rows = rows

    @cached_property
    def matched_pks(self) -> list:
        return list(self.object_list.values_list("pk", flat=True)[: self.bound + 1])

    @cached_property
    def count(self) -> int:
        return len(self.matched_pks)

    @property
    def more_than_counted(self) -> bool:
        return self.count > self.bound

    def rows_of(self, pks: list) -> QuerySet:
        """These rows, in the list's order, found by key: the search is not run again."""
        return self.rows.filter(pk__in=pks)

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        pks = self.matched_pks[bottom : bottom + self.per_page]
        return self._get_page(self.rows_of(pks), number, self)


class BigTableChangeList(ChangeList):
    """Searches once (see SearchPaginator), and links each row without resolving a URL per row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        one_page = (self.show_all and self.can_show_all) or not self.multi_page
        if isinstance(self.paginator, SearchPaginator) and one_page:
            # A list of one page (or "show all") is every match, within the bound: by key too,
            # not searched again.
            self.result_list = self.paginator.rows_of(self.paginator.matched_pks)

    @cached_property
    def _change_url(self) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(ROW_KEY,),
            current_app=self.model_admin.admin_site.name,
        )

    def url_for_result(self, result: Model) -> str:
        # One reverse() for the page rather than one a row: a tenth of a list's time.
        return self._change_url.replace(ROW_KEY, quote(str(getattr(result, self.pk_attname))))


# Stands for the row's key in the change URL resolved once; no key looks like it.
ROW_KEY = "row-key-placeholder"


class BigTableAdmin(admin.ModelAdmin):
    """The lists of a table of millions: estimated when whole, searched once when searched."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # Django's list writes each cell through its display machinery: a hundred rows cost more
    # than the queries that read them. Fifty fill a screen; search and filters find the rest.
    list_per_page = 50

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return BigTableChangeList

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        if not request.GET.get(SEARCH_VAR, "").strip():
            return super().get_paginator(
                request, queryset, per_page, orphans, allow_empty_first_page
            )
        # The page's rows come from the unfiltered list, in the list's order with its joins.
        rows = self.get_queryset(request).order_by(*queryset.query.order_by)
        rows.query.select_related = queryset.query.select_related
        return SearchPaginator(queryset, per_page, rows=rows, page_asked=page_asked(request))


def page_asked(request: HttpRequest) -> int:
    number = request.GET.get(PAGE_VAR, "1")
    return int(number) if number.isascii() and number.isdigit() else 1
