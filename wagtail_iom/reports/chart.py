"""The report's chart drawn on the server: one stacked horizontal bar per row, a segment per
status group. Geometry only; ``wagtail_iom/admin/reports/stacked_bars.html`` writes the SVG.
The table beside the chart carries every number: the chart adds nothing that is not in it."""

from __future__ import annotations

from dataclasses import dataclass

# SVG user units; the SVG scales to its container through the viewBox.
WIDTH = 960
LABEL_WIDTH = 320
# Row names longer than 40 characters end with "…" (stacked_bars.html), so that Cyrillic names,
# wider than CHAR_WIDTH on average, fit the label's width; the table has them whole.
#: The width of a character at the chart's 12-unit font, rounded up, to place the legend.
CHAR_WIDTH = 7
BAR_WIDTH = WIDTH - LABEL_WIDTH - 60
BAR_HEIGHT = 16
ROW_HEIGHT = 24
TOP = 28  # room for the legend
# Colours told apart with colour-blindness too (Okabe–Ito); they repeat past eight columns.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _fmt(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass
class Segment:
    group_index: int
    label: str
    count: int
    x: str
    width: str
    colour: str


@dataclass
class Bar:
    name: str
    total: int
    y: str
    text_y: str
    total_x: str
    segments: list[Segment]


@dataclass
class LegendItem:
    group_index: int
    label: str
    x: int
    colour: str


@dataclass
class Chart:
    width: int
    height: int
    label_width: int
    bars: list[Bar]
    legend: list[LegendItem]


def stacked_bars(report) -> Chart:
    """Bars for the report's rows (not the totals), scaled to the largest row total."""
    largest = max((row.total for row in report.rows), default=0) or 1
    bars = []
    for index, row in enumerate(report.rows):
        top = TOP + index * ROW_HEIGHT
        x = float(LABEL_WIDTH)
        segments = []
        for group_index, (group, count) in enumerate(zip(report.groups, row.counts, strict=True)):
            width = BAR_WIDTH * count / largest
            if count:
                segments.append(
                    Segment(
                        group_index, group.label, count, _fmt(x), _fmt(width), colour(group_index)
                    )
                )
            x += width
        bars.append(
            Bar(
                name=row.name,
                total=row.total,
                y=_fmt(top),
                text_y=_fmt(top + BAR_HEIGHT - 4),
                total_x=_fmt(x + 4),
                segments=segments,
            )
        )
    legend = []
    x = LABEL_WIDTH
    for index, group in enumerate(report.groups):
        legend.append(LegendItem(group_index=index, label=group.label, x=x, colour=colour(index)))
        # The swatch, the label, and a gap: the next item starts after this one's text.
        x += 16 + len(str(group.label)) * CHAR_WIDTH + 24
    return Chart(
        width=max(WIDTH, x),
        height=TOP + max(len(bars), 1) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        bars=bars,
        legend=legend,
    )
