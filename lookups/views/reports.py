"""The managers' pages: the reports, and the CSV exports of what they show."""

from __future__ import annotations

from datetime import UTC, date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookups.forms import ReportFilterForm
from lookups.models import Lookup, TokenChange
from lookups.reporting import charts, exports, figures
from lookups.reporting.figures import (
    Report,
    background_work,
    build_report,
    extension_days,
    refund_weeks,
    unlinked_offer_codes,
)
from lookups.views.htmx import HtmxHttpRequest, page_or_partial
from lookups.views.permissions import export_required, reports_required

# Lookups and token changes share "failed"; the colours mean the same on both charts.
_OUTCOME_CSS = {
    Lookup.Outcome.FOUND: "series-good",
    Lookup.Outcome.NOT_FOUND: "series-neutral",
    Lookup.Outcome.FAILED: "series-bad",
    Lookup.Outcome.HELD: "series-waiting",
    TokenChange.Outcome.PENDING: "series-waiting",
    TokenChange.Outcome.SUCCEEDED: "series-good",
}


def _today() -> date:
    """Today in UTC: the reports count whole UTC days."""
    return timezone.now().astimezone(UTC).date()


@vary_on_headers("HX-Request")
@require_GET
@login_required
@reports_required
def reports(request: HtmxHttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET, today=_today(), user=request.user)
    report = build_report(form.filters()) if form.is_valid() else None
    context = {
        "form": form,
        "report": report,
        "background": background_work(),
        "unlinked": unlinked_offer_codes(form.scope),
        "unlinked_counted_up_to": figures.UNLINKED_COUNTED_UP_TO,
    }
    if report is not None:
        filters = report.filters
        dates = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
        agent = {"agent": filters.agent.pk} if filters.agent else {}
        apps = {
            **({"app": filters.app.pk} if filters.app else {}),
            **({"environment": filters.environment} if filters.environment else {}),
        }
        context.update(
            charts=_charts(report),
            extensions=extension_days(filters),
            refund_weeks=refund_weeks(filters),
            # Explicit dates, so a download made after midnight still matches the page.
            export_query=urlencode({**dates, **agent, **apps}),
            accounts_query=urlencode(dates),
            refunds_query=urlencode({**dates, **apps}),
        )
    return render(request, page_or_partial(request, "lookups/reports.html", "report"), context)


@require_GET
@login_required
@export_required
def export(request: HtmxHttpRequest, table: str) -> HttpResponse:
    spec = exports.TABLES.get(table)
    if spec is None:
        raise Http404("No such export")
    form = ReportFilterForm(request.GET, today=_today(), user=request.user)
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        return HttpResponseBadRequest(" ".join(problems), content_type="text/plain")
    filters = form.filters()
    return exports.stream_csv(
        request.user,
        spec,
        filters.rows_of(spec.model),
        filters=filters.as_record(with_agent=spec.has_agent),
        filename=spec.filename(filters.slug),
        # For Excel on Windows by default; ?bom=0 for tools that take the mark for data.
        with_bom=request.GET.get("bom") != "0",
    )


def _series(choices: list[tuple[str, str]]) -> list[charts.Series]:
    return [
        charts.Series(key, str(label), _OUTCOME_CSS.get(key, "series-other"))
        for key, label in choices
    ]


def _charts(report: Report) -> dict[str, charts.Chart]:
    filters = report.filters
    period = f"{filters.start:%d %b %Y} to {filters.end:%d %b %Y}"
    offer = report.offer_codes
    return {
        "lookups": charts.stacked_columns(
            "lookups-per-day",
            f"Lookups per day by outcome, {period}",
            _series(report.lookups.outcomes),
            report.lookups.rows(),
            empty_message="No lookups in this range.",
        ),
        "token_changes": charts.stacked_columns(
            "token-changes-per-day",
            f"Token changes per day by outcome, {period}",
            _series(report.token_changes.outcomes),
            report.token_changes.rows(),
            empty_message="No token changes in this range.",
        ),
        "agents": charts.horizontal_bars(
            "top-agents",
            f"Agents with the most lookups and links, {period}",
            [
                charts.Series("lookups", "Lookups", "series-lookups"),
                charts.Series("links", "Links", "series-links"),
            ],
            [(agent.username, [agent.lookups, agent.links]) for agent in report.agents],
            empty_message="No agent looked up or linked anything in this range.",
        ),
        "error_codes": charts.horizontal_bars(
            "error-codes",
            f"Apple's error codes by count, {period}",
            [
                charts.Series("lookups", "On lookups", "series-lookups"),
                charts.Series("token_changes", "On token changes", "series-changes"),
            ],
            [(str(code.code), [code.lookups, code.token_changes]) for code in report.error_codes],
            empty_message="Apple returned no errors in this range.",
            label_width=90,
        ),
        "offer_codes": charts.donut(
            "offer-code-share",
            f"Offer codes among the purchases linked, {period}",
            [
                (charts.Series("offer_codes", "Offer codes", "series-links"), offer.offer_codes),
                (charts.Series("others", "Other purchases", "series-neutral"), offer.others),
            ],
            centre_text="n/a" if offer.percent is None else f"{offer.percent:.0f}%",
            empty_message="No purchases linked in this range.",
        ),
    }
