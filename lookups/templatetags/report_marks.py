"""The reports' many small marks (a chart's bars, a daily table's rows) written in one go.

Ninety days draw hundreds of bars and table cells; placed one template variable at a time they
were a third of the reports page's time. The markup is what the templates wrote, escaped the
same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from django import template
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from lookups.reporting.charts import Bar

register = template.Library()


@register.filter
def svg_bars(bars: Sequence[Bar]) -> SafeString:
    """A chart's bars as SVG rects, each titled; numbers as Python writes them (no l10n)."""
    return format_html_join(
        "",
        '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>\n',
        ((bar.css, bar.x, bar.y, bar.width, bar.height, bar.title) for bar in bars),
    )


def _count_writer() -> Callable[[int], str]:
    """Counts written as a template writes them (django.utils.formats.number_format), with the
    reader's separators looked up once instead of three times for each of hundreds of cells."""
    decimal = get_format("DECIMAL_SEPARATOR")
    grouping = get_format("NUMBER_GROUPING")
    thousands = get_format("THOUSAND_SEPARATOR")
    return lambda value: numberformat.format(
        value, decimal, grouping=grouping, thousand_sep=thousands
    )


@register.filter
def daily_rows(rows: Sequence[tuple[date, Sequence[int], int]]) -> SafeString:
    """`DailyCounts.rows()` as table rows: the day, each outcome's count, the day's total."""
    count = _count_writer()
    return format_html_join(
        "",
        '<tr><th scope="row">{}</th>{}<td>{}</td></tr>\n',
        (
            (
                day.isoformat(),
                format_html_join("", "<td>{}</td>", ((count(value),) for value in values)),
                count(total),
            )
            for day, values, total in rows
        ),
    )
