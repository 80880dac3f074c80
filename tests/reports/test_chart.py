"""The stacked bar chart's geometry."""

import datetime

from wagtail_iom.reports import chart
from wagtail_iom.reports.services import Report, Row, StatusGroup

GROUPS = [StatusGroup("a", "A", ("development",)), StatusGroup("b", "B", ("approved",))]


def report(*rows):
    return Report(
        groups=GROUPS,
        rows=[Row(name=name, counts=list(counts)) for name, counts in rows],
        totals=Row(name="Total", counts=[0, 0], is_total=True),
        as_of=datetime.date(2021, 12, 15),
    )


def test_bars_are_scaled_to_the_largest_row_and_stacked():
    drawn = chart.stacked_bars(report(("One", (10, 30)), ("Two", (0, 20))))
    first, second = drawn.bars
    assert [segment.count for segment in first.segments] == [10, 30]
    assert first.segments[0].x == str(chart.LABEL_WIDTH)
    assert float(first.segments[0].width) + float(first.segments[1].width) == chart.BAR_WIDTH
    assert float(first.segments[1].x) == chart.LABEL_WIDTH + chart.BAR_WIDTH / 4
    # An empty column draws no segment; the row's total follows its bar.
    assert [segment.label for segment in second.segments] == ["B"]
    assert float(second.segments[0].width) == chart.BAR_WIDTH / 2
    assert [item.label for item in drawn.legend] == ["A", "B"]
    assert first.segments[0].colour != first.segments[1].colour


def test_no_routes_draws_empty_bars():
    drawn = chart.stacked_bars(report(("One", (0, 0))))
    assert drawn.bars[0].segments == []
    assert drawn.height > 0
