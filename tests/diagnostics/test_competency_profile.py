"""The competency profile: thresholds, latest against previous scores, evidence, query counts."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import CompetencyFactory, CompetencyGroupFactory, make_event, make_teacher
from wagtail_iom.diagnostics import competency_profile as service
from wagtail_iom.diagnostics.radar import BARS, EMPTY, RADAR, radar_chart
from wagtail_iom.models import (
    AttendanceMark,
    Competency,
    CompetencyScore,
    DiagnosticResult,
    Registration,
)

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


TODAY = timezone.localdate()


def add_result(teacher, days_ago, scores, procedure="self", total=60, level="basic"):
    result = DiagnosticResult.objects.create(
        teacher=teacher,
        date=TODAY - datetime.timedelta(days=days_ago),
        procedure=procedure,
        total_score=total,
        level=level,
    )
    CompetencyScore.objects.bulk_create(
        CompetencyScore(result=result, competency=competency, score=score)
        for competency, score in scores.items()
    )
    return result


def row_of(rows, competency):
    return next(row for row in rows if row.competency.pk == competency.pk)


def attend(teacher, event, sessions=None):
    """Sign the teacher up to ``event`` and mark them present at ``sessions`` (all by default)."""
    registration = Registration.objects.create(event=event, user=teacher.user, status="confirmed")
    for session in sessions if sessions is not None else event.sessions.all():
        AttendanceMark.objects.create(registration=registration, session=session)
    return registration


@pytest.fixture
def comps():
    return {code: Competency.objects.get(code=code) for code in ("METH-1", "METH-2", "DIG-1")}


# Thresholds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (None, None),
        (0, "deficit"),
        (Decimal("49.9"), "deficit"),
        (50, None),  # the deficit threshold itself is not a deficit
        (Decimal("84.9"), None),
        (85, "proficit"),  # the proficit threshold itself is a proficit
        (100, "proficit"),
    ],
)
def test_classify_at_and_around_the_default_thresholds(score, expected):
    assert service.classify(score) == expected


def test_classify_follows_overridden_settings(settings):
    settings.WAGTAIL_IOM = {
        **settings.WAGTAIL_IOM,
        "DIAGNOSTICS_DEFICIT_BELOW": 40,
        "DIAGNOSTICS_PROFICIT_FROM": 70.5,
    }
    assert service.classify(Decimal("39.9")) == "deficit"
    assert service.classify(45) is None  # would be a deficit with the defaults
    assert service.classify(Decimal("70.4")) is None
    assert service.classify(Decimal("70.5")) == "proficit"
    assert service.deficit_threshold() == Decimal(40)


def test_deficits_and_proficits_use_the_latest_scores(comps):
    teacher = make_teacher(username="t1")
    add_result(teacher, 100, {comps["METH-1"]: 20, comps["METH-2"]: 90, comps["DIG-1"]: 30})
    add_result(teacher, 10, {comps["METH-1"]: 60, comps["METH-2"]: 95, comps["DIG-1"]: 10})

    deficits = service.deficits(teacher)
    assert [row.competency.code for row in deficits] == ["DIG-1"]  # METH-1 has grown out of it
    assert deficits[0].latest_score == Decimal(10)
    assert [row.competency.code for row in service.proficits(teacher)] == ["METH-2"]


def test_deficits_weakest_first_and_reusing_rows(comps, django_assert_num_queries):
    teacher = make_teacher(username="t1")
    add_result(teacher, 5, {comps["METH-1"]: 45, comps["METH-2"]: 5, comps["DIG-1"]: 30})
    assert [row.competency.code for row in service.deficits(teacher)] == [
        "METH-2",
        "DIG-1",
        "METH-1",
    ]
    rows = service.competency_profile(teacher)
    with django_assert_num_queries(0):
        assert len(service.deficits(teacher, rows=rows)) == 3
        assert service.proficits(teacher, rows=rows) == []


def test_no_diagnostics_no_deficits():
    teacher = make_teacher(username="t1")
    assert service.deficits(teacher) == []
    assert service.latest_results(teacher) == (None, None)
    rows = service.competency_profile(teacher)
    assert len(rows) == Competency.objects.count()
    assert all(row.latest is None and row.status is None for row in rows)


# Latest against previous --------------------------------------------------------------------


def test_latest_results_are_the_two_most_recent(comps):
    teacher = make_teacher(username="t1")
    oldest = add_result(teacher, 300, {comps["METH-1"]: 10})
    middle = add_result(teacher, 200, {comps["METH-1"]: 20})
    newest = add_result(teacher, 100, {comps["METH-1"]: 30})
    assert oldest.pk  # three results, the oldest is left out
    assert service.latest_results(teacher) == (newest, middle)


def test_same_day_results_follow_the_order_they_were_entered(comps):
    teacher = make_teacher(username="t1")
    # Two procedures on one day (one procedure has one result a day).
    first = add_result(teacher, 1, {comps["METH-1"]: 10})
    second = add_result(teacher, 1, {comps["METH-1"]: 70}, procedure="entry_test")
    assert service.latest_results(teacher) == (second, first)
    row = row_of(service.competency_profile(teacher), comps["METH-1"])
    assert (row.latest_score, row.previous_score) == (Decimal(70), Decimal(10))


def test_rows_compare_latest_with_previous(comps):
    teacher = make_teacher(username="t1")
    add_result(teacher, 400, {comps["METH-1"]: 10})
    add_result(teacher, 200, {comps["METH-1"]: 40, comps["METH-2"]: 70})
    add_result(teacher, 30, {comps["METH-1"]: Decimal("55.5"), comps["METH-2"]: 66})

    rows = service.competency_profile(teacher)
    meth1, meth2, dig1 = (row_of(rows, comps[c]) for c in ("METH-1", "METH-2", "DIG-1"))
    assert (meth1.latest_score, meth1.previous_score) == (Decimal("55.5"), Decimal(40))
    assert meth1.change == Decimal("15.5")
    assert meth1.status is None
    assert meth2.change == Decimal(-4)
    assert dig1.latest is None and dig1.previous is None and dig1.change is None


def test_a_partial_result_updates_only_the_competencies_it_scores(comps):
    """An entry test scoring one competency leaves the full diagnostics' other scores."""
    teacher = make_teacher(username="t1")
    full = add_result(teacher, 200, {comps["METH-1"]: 30, comps["DIG-1"]: 90})
    add_result(teacher, 10, {comps["METH-1"]: 80}, procedure="entry_test")

    rows = service.competency_profile(teacher)
    dig1 = row_of(rows, comps["DIG-1"])
    assert dig1.latest_score == Decimal(90)
    assert dig1.latest.result_id == full.pk
    assert dig1.previous is None
    assert row_of(rows, comps["METH-1"]).previous_score == Decimal(30)


def test_rows_follow_the_framework_order_by_group():
    later = CompetencyGroupFactory(name="Я последняя", sort_order=1000)
    first = CompetencyGroupFactory(name="Я первая", sort_order=0)
    b = CompetencyFactory(group=first, code="Z-B", sort_order=2)
    a = CompetencyFactory(group=first, code="Z-A", sort_order=1)
    c = CompetencyFactory(group=later, code="Z-C", sort_order=0)
    codes = [row.competency.code for row in service.competency_profile(make_teacher())]
    assert codes.index("Z-A") < codes.index("Z-B") < codes.index("Z-C")
    assert codes[-1] == c.code
    assert {a.code, b.code} <= set(codes)


def test_other_teachers_scores_never_count(comps):
    teacher = make_teacher(username="t1")
    other = make_teacher(username="t2")
    add_result(other, 5, {comps["METH-1"]: 5})
    assert row_of(service.competency_profile(teacher), comps["METH-1"]).latest is None
    assert service.deficits(teacher) == []


# Evidence -----------------------------------------------------------------------------------


def test_evidence_counts_attended_events_and_hours_of_marked_sessions(resource_map, comps):
    teacher = make_teacher(username="t1")
    day = TODAY - datetime.timedelta(days=20)
    course = make_event(
        resource_map,
        title="Курс по проектированию уроков",
        slug="course",
        sessions=[
            (day, datetime.time(10), datetime.time(12), 2),
            (day + datetime.timedelta(days=1), datetime.time(10), datetime.time(14), 4),
            (day + datetime.timedelta(days=2), datetime.time(10), datetime.time(14), 6),
        ],
        competencies=[comps["METH-1"], comps["METH-2"]],
    )
    seminar = make_event(
        resource_map,
        title="Семинар без часов",
        slug="seminar",
        sessions=[(day, datetime.time(15), datetime.time(16), None)],
        competencies=[comps["METH-1"]],
    )
    sessions = sorted(course.sessions.all(), key=lambda s: s.date)
    attend(teacher, course, sessions[:2])  # present at two of three sessions: 2 + 4 hours
    attend(teacher, seminar)  # hours not given: counts 0

    rows = service.competency_profile(teacher)
    meth1 = row_of(rows, comps["METH-1"]).evidence
    assert meth1.count == 2
    assert meth1.hours == Decimal(6)
    assert sorted(meth1.titles) == ["Курс по проектированию уроков", "Семинар без часов"]
    assert row_of(rows, comps["METH-2"]).evidence.hours == Decimal(6)
    assert row_of(rows, comps["DIG-1"]).evidence.count == 0


def test_no_evidence_without_a_mark_or_for_untargeted_competencies(resource_map, comps):
    teacher = make_teacher(username="t1")
    signed_up = make_event(resource_map, slug="a", competencies=[comps["METH-1"]])
    attend(teacher, signed_up, sessions=[])  # signed up, never marked present
    untargeted = make_event(resource_map, slug="b")
    attend(teacher, untargeted)
    someone_elses = make_event(resource_map, slug="c", competencies=[comps["DIG-1"]])
    attend(make_teacher(username="t2"), someone_elses)

    rows = service.competency_profile(teacher)
    assert all(row.evidence.count == 0 for row in rows)
    assert set(service.attended_hours_by_event(teacher)) == {untargeted.pk}


# Query counts -------------------------------------------------------------------------------


def build_history(resource_map, teacher, comps, results, events, tag):
    for number in range(results):
        add_result(
            teacher,
            days_ago=500 - number,
            scores={c: (10 * number + i) % 100 for i, c in enumerate(comps.values())},
        )
    day = TODAY - datetime.timedelta(days=30)
    for number in range(events):
        event = make_event(
            resource_map,
            slug=f"{tag}-{number}",
            sessions=[
                (day, datetime.time(10), datetime.time(12), 2),
                (day + datetime.timedelta(days=1), datetime.time(10), datetime.time(12), 2),
            ],
            competencies=list(comps.values())[: 1 + number % 3],
        )
        attend(teacher, event)


def count_queries(func, *args):
    with CaptureQueriesContext(connection) as captured:
        func(*args)
    return len(captured)


def test_query_count_does_not_grow_with_results_sign_ups_or_marks(resource_map, comps):
    small = make_teacher(username="small")
    large = make_teacher(username="large")
    build_history(resource_map, small, comps, results=1, events=1, tag="s")
    build_history(resource_map, large, comps, results=8, events=6, tag="l")

    for func in (service.competency_profile, service.deficits, service.latest_results):
        func(small)  # warm caches (content types, settings)
        few = count_queries(func, small)
        many = count_queries(func, large)
        assert few == many, func.__name__
    assert count_queries(service.competency_profile, large) <= 4
    assert count_queries(service.deficits, large) <= 2


# The chart ----------------------------------------------------------------------------------


def test_radar_chart_has_one_axis_per_scored_competency_and_the_threshold_ring(comps):
    teacher = make_teacher(username="t1")
    add_result(teacher, 100, dict.fromkeys(comps.values(), 40))
    add_result(teacher, 5, dict.fromkeys(comps.values(), 100))
    chart = radar_chart(service.competency_profile(teacher))
    assert chart.kind == RADAR
    assert [axis.code for axis in chart.axes] == ["METH-1", "METH-2", "DIG-1"]
    assert [ring.value for ring in chart.rings] == [25, 50, 75, 100]
    assert chart.deficit_ring.value == 50
    # Full scores lie on the outer ring; the first axis points straight up.
    assert chart.latest_points == chart.rings[-1].points
    assert chart.axes[0].x == "240" and chart.axes[0].anchor == "middle"
    assert chart.has_previous and chart.previous_points
    assert len(chart.previous_markers) == 3


def test_radar_chart_skips_the_previous_outline_when_some_axes_have_none(comps):
    teacher = make_teacher(username="t1")
    add_result(teacher, 100, {comps["METH-1"]: 40})
    add_result(teacher, 5, dict.fromkeys(comps.values(), 60))
    chart = radar_chart(service.competency_profile(teacher))
    assert chart.kind == RADAR
    assert chart.previous_points == ""
    assert [m.code for m in chart.previous_markers] == ["METH-1"]


def test_chart_falls_back_to_bars_and_to_empty(comps):
    teacher = make_teacher(username="t1")
    assert radar_chart(service.competency_profile(teacher)).kind == EMPTY
    add_result(teacher, 5, {comps["METH-1"]: 30, comps["DIG-1"]: 100})
    chart = radar_chart(service.competency_profile(teacher))
    assert chart.kind == BARS
    assert [bar.code for bar in chart.bars] == ["METH-1", "DIG-1"]
    assert chart.bars[1].latest_width == "340"  # the full width of a bar
    assert not chart.has_previous
