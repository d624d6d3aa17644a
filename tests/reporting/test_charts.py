"""Chart geometry: round numbers on the value axis, a day's bars stacking up to its total."""

from __future__ import annotations

from datetime import date

import pytest

from lookups.reporting import charts


@pytest.mark.parametrize(
    ("largest", "expected"),
    [
        (0, [0, 1]),
        (2, [0, 1, 2]),
        (3, [0, 1, 2, 3, 4, 5]),
        (13, [0, 5, 10, 15, 20]),
        (150, [0, 50, 100, 150, 200]),
        (999, [0, 200, 400, 600, 800, 1000]),
    ],
)
def test_the_value_axis_falls_on_round_numbers(largest, expected):
    assert charts.ticks(charts.nice_ceiling(largest)) == expected


def test_a_days_bars_stack_up_to_its_total():
    series = [charts.Series("a", "A", "series-good"), charts.Series("b", "B", "series-bad")]
    day = date(2026, 11, 17)
    chart = charts.stacked_columns(
        "t", "T", series, [(day, [2, 1], 3), (day, [0, 0], 0)], empty_message="none"
    )

    lower, upper = chart.bars
    assert (lower.css, upper.css) == ("series-good", "series-bad")
    assert lower.y + lower.height == chart.baseline
    assert upper.y + upper.height == lower.y
    plot_height = chart.baseline - charts.TOP
    assert lower.height + upper.height == pytest.approx(plot_height * 3 / 5)
    assert chart.empty is None
