"""The reports' bars and daily rows written in one go, as the templates wrote them."""

from __future__ import annotations

from datetime import date

from django.template import Context, Template
from django.test import override_settings

from lookups.reporting.charts import Bar
from lookups.templatetags.report_marks import daily_rows, svg_bars

ROWS = [(date(2026, 11, 16), [1234, 0, 7], 1241), (date(2026, 11, 17), [0, 0, 0], 0)]


def test_bars_are_rects_with_escaped_titles_and_plain_numbers():
    bars = [Bar(x=48.5, y=12, width=5.25, height=200.0, css="series-good", title="<b> & 1,234")]

    assert svg_bars(bars) == (
        '<rect class="bar series-good" x="48.5" y="12" width="5.25" height="200.0">'
        "<title>&lt;b&gt; &amp; 1,234</title></rect>\n"
    )


def test_no_bars_write_nothing():
    assert svg_bars([]) == ""


def test_each_day_is_a_row_of_its_counts_and_total():
    assert daily_rows(ROWS) == (
        '<tr><th scope="row">2026-11-16</th><td>1234</td><td>0</td><td>7</td><td>1241</td></tr>\n'
        '<tr><th scope="row">2026-11-17</th><td>0</td><td>0</td><td>0</td><td>0</td></tr>\n'
    )


@override_settings(USE_THOUSAND_SEPARATOR=True)
def test_counts_are_written_as_a_template_writes_them():
    template = Template(
        '{% for day, values, total in rows %}<tr><th scope="row">{{ day|date:"Y-m-d" }}</th>'
        "{% for value in values %}<td>{{ value }}</td>{% endfor %}<td>{{ total }}</td></tr>\n"
        "{% endfor %}"
    )

    assert daily_rows(ROWS) == template.render(Context({"rows": ROWS}))
    assert "<td>1,234</td>" in daily_rows(ROWS)
