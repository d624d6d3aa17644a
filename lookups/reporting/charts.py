"""Chart geometry for the reports page, drawn by templates as inline SVG.

Plain numbers in, shapes out: the template only places what is computed here. Colours come from
CSS classes (`series-*`), since the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

WIDTH = 720
# Room for the value axis on the left and the day labels below.
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
MAX_DAY_LABELS = 8


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    css: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    css: str = "label"


@dataclass(frozen=True)
class Gridline:
    y: float
    label: Text


@dataclass(frozen=True)
class Arc:
    """One part of a donut: a dash of a circle's stroke, starting where the last one ended."""

    dash: float
    gap: float
    offset: float
    css: str
    title: str


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    width: int
    height: int
    legend: Sequence[Series]
    bars: list[Bar] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    gridlines: list[Gridline] = field(default_factory=list)
    arcs: list[Arc] = field(default_factory=list)
    # Where the donut sits, and its radius and ring width, when the chart is one.
    donut: tuple[float, float, float, float] | None = None
    # Said inside the chart when there is nothing to draw.
    empty: Text | None = None
    plot_left: float = LEFT
    plot_right: float = WIDTH - RIGHT
    baseline: float = 0


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at least `value`, so gridlines fall on round numbers."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def ticks(top: int) -> list[int]:
    """Whole, evenly spaced values from 0 to `top` (a nice_ceiling), at most six of them."""
    parts = next(n for n in (5, 4, 2, 1) if top % n == 0 and nice_ceiling(top // n) == top // n)
    return [top * n // parts for n in range(parts + 1)]


def _gridlines(top: int, y_of, left: float) -> list[Gridline]:
    return [Gridline(y_of(v), Text(left - 6, y_of(v) + 4, f"{v:,}", "end")) for v in ticks(top)]


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def stacked_columns(
    slug: str,
    title: str,
    series: Sequence[Series],
    rows: Sequence[tuple[date, Sequence[int], int]],
    *,
    empty_message: str,
    height: int = 240,
) -> Chart:
    """One column per day, its outcomes stacked; `rows` as `DailyCounts.rows()` gives them."""
    plot_height = height - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    baseline = TOP + plot_height
    top = nice_ceiling(max((total for _, _, total in rows), default=0))

    def y_of(value: float) -> float:
        return round(baseline - plot_height * value / top, 2)

    slot = plot_width / max(len(rows), 1)
    bar_width = round(max(slot * 0.7, 1), 2)
    bars: list[Bar] = []
    texts: list[Text] = []
    every = max(math.ceil(len(rows) / MAX_DAY_LABELS), 1)
    for index, (day, values, _total) in enumerate(rows):
        x = round(LEFT + index * slot + (slot - bar_width) / 2, 2)
        stacked = 0
        for part, value in zip(series, values, strict=True):
            if not value:
                continue
            bars.append(
                Bar(
                    x=x,
                    y=y_of(stacked + value),
                    width=bar_width,
                    height=round(y_of(stacked) - y_of(stacked + value), 2),
                    css=part.css,
                    title=f"{day.isoformat()}: {value:,} {part.label.lower()}",
                )
            )
            stacked += value
        if index % every == 0:
            texts.append(Text(round(LEFT + index * slot + slot / 2, 2), height - 8, day_label(day)))

    nothing = not any(total for _, _, total in rows)
    centre = (LEFT + plot_width / 2, TOP + plot_height / 2)
    return Chart(
        slug=slug,
        title=title,
        width=WIDTH,
        height=height,
        legend=series,
        bars=bars,
        texts=texts,
        gridlines=_gridlines(top, y_of, LEFT),
        empty=Text(*centre, empty_message) if nothing else None,
        baseline=baseline,
    )


def horizontal_bars(
    slug: str,
    title: str,
    series: Sequence[Series],
    rows: Sequence[tuple[str, Sequence[int]]],
    *,
    empty_message: str,
    label_width: int = 150,
    width: int = 560,
) -> Chart:
    """A group of bars per row (one per series), longest scale first; labels on the left."""
    bar_height, gap = 16, 12
    group = bar_height * len(series) + gap
    height = TOP + max(len(rows), 1) * group + BOTTOM
    left = label_width
    right = width - 60  # room for the value after the longest bar
    top = nice_ceiling(max((max(values, default=0) for _, values in rows), default=0))

    def x_of(value: float) -> float:
        return round(left + (right - left) * value / top, 2)

    bars: list[Bar] = []
    texts: list[Text] = []
    for index, (label, values) in enumerate(rows):
        y = TOP + index * group
        texts.append(Text(left - 8, y + bar_height * len(series) / 2 + 4, label, "end"))
        for offset, (part, value) in enumerate(zip(series, values, strict=True)):
            bar_y = y + offset * bar_height
            if value:
                bars.append(
                    Bar(
                        x=left,
                        y=bar_y,
                        width=round(x_of(value) - left, 2),
                        height=bar_height - 2,
                        css=part.css,
                        title=f"{label}: {value:,} {part.label.lower()}",
                    )
                )
            texts.append(Text(x_of(value) + 4, bar_y + bar_height - 3, f"{value:,}", "start"))

    baseline = height - BOTTOM + 4
    texts.extend(Text(x_of(v), height - 8, f"{v:,}") for v in ticks(top))
    nothing = not any(any(values) for _, values in rows)
    return Chart(
        slug=slug,
        title=title,
        width=width,
        height=height,
        legend=series,
        bars=bars,
        texts=texts,
        empty=Text((left + right) / 2, TOP + group / 2, empty_message) if nothing else None,
        plot_left=left,
        plot_right=right,
        baseline=baseline,
    )


def donut(
    slug: str,
    title: str,
    parts: Sequence[tuple[Series, int]],
    *,
    centre_text: str,
    empty_message: str,
) -> Chart:
    """A ring split into the parts' shares: the headline figure inside, each part's beside."""
    width, height = 480, 220
    cx, cy, radius, ring = 110.0, 110.0, 80.0, 28.0
    circumference = 2 * math.pi * radius
    total = sum(value for _, value in parts)
    arcs: list[Arc] = []
    texts = [Text(cx, cy + 10, centre_text, css="headline")]
    done = 0.0
    for index, (part, value) in enumerate(parts):
        if total:
            texts.append(
                Text(
                    cx + radius + ring + 16,
                    cy - 8 + 24 * index,
                    f"{part.label}: {value:,} ({100 * value / total:.0f}%)",
                    "start",
                )
            )
        if not value:
            continue
        dash = circumference * value / total
        arcs.append(
            Arc(
                dash=round(dash, 3),
                gap=round(circumference - dash, 3),
                offset=round(-done, 3),
                css=part.css,
                title=f"{part.label}: {value:,} of {total:,}",
            )
        )
        done += dash
    return Chart(
        slug=slug,
        title=title,
        width=width,
        height=height,
        legend=[part for part, _ in parts],
        arcs=arcs,
        texts=texts,
        donut=(cx, cy, radius, ring),
        empty=Text(cx + radius + ring + 16, cy + 4, empty_message, "start") if not total else None,
    )
