"""The competency profile as a chart drawn on the server: geometry only, no markup.

:func:`radar_chart` turns the rows of :func:`~wagtail_iom.diagnostics.competency_profile.
competency_profile` into the coordinates that the template
``wagtail_iom/includes/radar_chart.html`` writes out as SVG: one axis per scored competency,
grid rings at 25, 50, 75 and 100 %, a dashed ring at the deficit threshold, the latest scores
as a filled polygon and the previous ones as a dashed outline.

A radar needs three axes. With one or two scored competencies the chart is a set of
horizontal bars instead (``kind == "bars"``); with none, ``kind == "empty"`` and the template
shows a note. The table beside the chart always carries every value: the chart adds nothing
that is not in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from wagtail_iom.diagnostics.competency_profile import deficit_threshold

RADAR = "radar"
BARS = "bars"
EMPTY = "empty"

GRID_LEVELS = (25, 50, 75, 100)

# The drawing area, in SVG user units; the SVG scales to its container through the viewBox.
WIDTH = 480
HEIGHT = 400
CENTER_X = WIDTH / 2
CENTER_Y = HEIGHT / 2
RADIUS = 160
LABEL_OFFSET = 14

# Bars (fewer than three competencies).
BAR_LEFT = 100
BAR_WIDTH = 340
BAR_HEIGHT = 22
BAR_GAP = 44
BAR_TOP = 36


def _fmt(value: float) -> str:
    """A coordinate with two decimals and no trailing zeros: compact, stable markup."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _points(coordinates) -> str:
    return " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coordinates)


@dataclass
class Axis:
    code: str
    name: str
    x: str
    y: str
    label_x: str
    label_y: str
    anchor: str
    baseline: str


@dataclass
class Ring:
    value: int
    points: str
    label_x: str = ""
    label_y: str = ""


@dataclass
class Marker:
    x: str
    y: str
    code: str
    score: Decimal


@dataclass
class Bar:
    code: str
    name: str
    y: str
    label_y: str
    previous_y: str
    latest_width: str
    previous_width: str | None
    latest: Decimal
    previous: Decimal | None
    value_x: str


@dataclass
class Chart:
    kind: str
    width: int = WIDTH
    height: int = HEIGHT
    deficit_below: Decimal = Decimal(0)
    axes: list[Axis] = field(default_factory=list)
    rings: list[Ring] = field(default_factory=list)
    deficit_ring: Ring | None = None
    latest_points: str = ""
    latest_markers: list[Marker] = field(default_factory=list)
    previous_points: str = ""
    previous_markers: list[Marker] = field(default_factory=list)
    has_previous: bool = False
    bars: list[Bar] = field(default_factory=list)
    # Bars: the x of the deficit threshold and of the grid lines.
    deficit_x: str = ""
    grid_x: list[tuple[int, str]] = field(default_factory=list)
    bar_left: str = _fmt(BAR_LEFT)
    bar_label_x: str = _fmt(BAR_LEFT - 8)
    grid_top: str = _fmt(BAR_TOP - 12)
    grid_bottom: str = ""
    center_x: str = _fmt(CENTER_X)
    center_y: str = _fmt(CENTER_Y)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def axis_count(self) -> int:
        return len(self.axes) or len(self.bars)


def _angle(index: int, count: int) -> float:
    """Axis ``index`` of ``count``: the first points up, the rest follow clockwise."""
    return -math.pi / 2 + 2 * math.pi * index / count


def _polar(index: int, count: int, value: float, radius: float = RADIUS):
    angle = _angle(index, count)
    r = radius * max(0.0, min(float(value), 100.0)) / 100
    return CENTER_X + r * math.cos(angle), CENTER_Y + r * math.sin(angle)


def _anchor(x: float) -> str:
    if abs(x - CENTER_X) < 1:
        return "middle"
    return "start" if x > CENTER_X else "end"


def _baseline(y: float) -> str:
    if abs(y - CENTER_Y) < 1:
        return "middle"
    return "hanging" if y > CENTER_Y else "auto"


def _ring(count: int, value: float) -> str:
    return _points(_polar(i, count, value) for i in range(count))


def radar_chart(rows) -> Chart:
    """The chart of the latest and previous scores of ``rows`` (competencies never scored
    are left out: they have nothing to draw, and the table lists them)."""
    threshold = deficit_threshold()
    scored = [row for row in rows if row.latest is not None]
    if not scored:
        return Chart(kind=EMPTY, deficit_below=threshold)
    if len(scored) < 3:
        return _bars(scored, threshold)

    count = len(scored)
    chart = Chart(kind=RADAR, deficit_below=threshold)
    for level in GRID_LEVELS:
        label_x, label_y = _polar(0, count, level)
        chart.rings.append(
            Ring(
                value=level,
                points=_ring(count, level),
                label_x=_fmt(label_x + 4),
                label_y=_fmt(label_y),
            )
        )
    chart.deficit_ring = Ring(value=int(threshold), points=_ring(count, float(threshold)))

    for index, row in enumerate(scored):
        x, y = _polar(index, count, 100)
        label_x, label_y = _polar(index, count, 100, RADIUS + LABEL_OFFSET)
        chart.axes.append(
            Axis(
                code=row.competency.code,
                name=row.competency.name,
                x=_fmt(x),
                y=_fmt(y),
                label_x=_fmt(label_x),
                label_y=_fmt(label_y),
                anchor=_anchor(label_x),
                baseline=_baseline(label_y),
            )
        )

    latest = [_polar(i, count, row.latest.score) for i, row in enumerate(scored)]
    chart.latest_points = _points(latest)
    chart.latest_markers = [
        Marker(x=_fmt(x), y=_fmt(y), code=row.competency.code, score=row.latest.score)
        for (x, y), row in zip(latest, scored, strict=True)
    ]
    previous = [
        (i, row, _polar(i, count, row.previous.score))
        for i, row in enumerate(scored)
        if row.previous is not None
    ]
    chart.has_previous = bool(previous)
    chart.previous_markers = [
        Marker(x=_fmt(x), y=_fmt(y), code=row.competency.code, score=row.previous.score)
        for _, row, (x, y) in previous
    ]
    # An outline only when every axis has a previous score: joining the points of some axes
    # only would draw a shape that means nothing. The markers show the rest.
    if len(previous) == count:
        chart.previous_points = _points(point for _, _, point in previous)
    return chart


def _bar_x(value) -> float:
    return BAR_LEFT + BAR_WIDTH * max(0.0, min(float(value), 100.0)) / 100


def _bars(scored, threshold) -> Chart:
    height = BAR_TOP + len(scored) * (BAR_HEIGHT + BAR_GAP) + 10
    chart = Chart(kind=BARS, deficit_below=threshold, height=height)
    chart.grid_x = [(level, _fmt(_bar_x(level))) for level in (0, *GRID_LEVELS)]
    chart.deficit_x = _fmt(_bar_x(threshold))
    chart.grid_bottom = _fmt(height - 6)
    for index, row in enumerate(scored):
        top = BAR_TOP + index * (BAR_HEIGHT + BAR_GAP)
        previous = row.previous.score if row.previous else None
        chart.bars.append(
            Bar(
                code=row.competency.code,
                name=row.competency.name,
                y=_fmt(top),
                label_y=_fmt(top + BAR_HEIGHT / 2),
                previous_y=_fmt(top + BAR_HEIGHT + 4),
                latest_width=_fmt(_bar_x(row.latest.score) - BAR_LEFT),
                previous_width=(
                    _fmt(_bar_x(previous) - BAR_LEFT) if previous is not None else None
                ),
                latest=row.latest.score,
                previous=previous,
                value_x=_fmt(_bar_x(row.latest.score) + 6),
            )
        )
    chart.has_previous = any(bar.previous is not None for bar in chart.bars)
    return chart
