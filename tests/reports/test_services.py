"""The routes-by-status report as plain rows: counts as of a date, the created period, the
status groups, the scopes, and a query count that does not grow with the routes."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import MunicipalityFactory, SchoolFactory
from tests.reports.helpers import at, make_route, teacher_in
from wagtail_iom.core.access import ReportScope
from wagtail_iom.reports import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

D = datetime.date(2021, 12, 15)


def counts(report):
    return {row.name: row.counts for row in report.rows}


@pytest.fixture
def places():
    return {
        "a": MunicipalityFactory(name="Балашиха"),
        "b": MunicipalityFactory(name="Бронницы"),
        "empty": MunicipalityFactory(name="Власиха"),
    }


def test_default_groups_follow_the_setting():
    groups = services.status_groups()
    assert [group.key for group in groups] == ["development", "implementation", "completed"]
    assert [group.label for group in groups] == [
        "In development",
        "In implementation",
        "Completed",
    ]
    assert groups[0].statuses == ("development", "sent_for_approval", "returned")
    assert groups[1].statuses == ("approved", "implementation")
    assert groups[2].statuses == ("completed", "audited")


def test_status_as_of_a_date_uses_the_last_transition_by_the_end_of_that_day(places):
    teacher = teacher_in(places["a"])
    # Still in development on D: approved only the day after.
    make_route(
        teacher, at(D.replace(day=1)), [(at(D + datetime.timedelta(days=1), 0, 30), "approved")]
    )
    # Approved late on D (Moscow time): in implementation.
    make_route(teacher, at(D.replace(day=1)), [(at(D, 23, 30), "approved")])
    # Completed before D, audited after D: completed.
    make_route(
        teacher,
        at(datetime.date(2021, 6, 1)),
        [
            (at(datetime.date(2021, 7, 1)), "sent_for_approval"),
            (at(datetime.date(2021, 7, 2)), "approved"),
            (at(datetime.date(2021, 7, 3)), "implementation"),
            (at(datetime.date(2021, 11, 30)), "completed"),
            (at(datetime.date(2022, 1, 10)), "audited"),
        ],
    )
    # Returned for revision before D: in development.
    make_route(
        teacher,
        at(datetime.date(2021, 9, 1)),
        [
            (at(datetime.date(2021, 9, 2)), "sent_for_approval"),
            (at(datetime.date(2021, 9, 3)), "returned"),
        ],
    )
    # Created after D: not counted.
    make_route(teacher, at(D + datetime.timedelta(days=1), 0, 5))

    report = services.routes_by_status(as_of=D)

    assert counts(report) == {"Балашиха": [2, 1, 1], "Бронницы": [0, 0, 0], "Власиха": [0, 0, 0]}
    assert report.totals.counts == [2, 1, 1]
    assert report.totals.name == "Total"


def test_every_municipality_has_a_row_in_name_order_and_the_unspecified_last(places):
    make_route(teacher_in(places["b"]), at(D))
    make_route(teacher_in(None), at(D))

    report = services.routes_by_status(as_of=D)

    assert [row.name for row in report.rows] == ["Балашиха", "Бронницы", "Власиха", "Not specified"]
    assert report.rows[-1].counts == [1, 0, 0]
    assert report.headings == ["Municipality", "In development", "In implementation", "Completed"]


def test_no_unspecified_row_without_such_routes(places):
    make_route(teacher_in(places["a"]), at(D))
    assert "Not specified" not in counts(services.routes_by_status(as_of=D))


def test_created_period_includes_both_days(places):
    teacher = teacher_in(places["a"])
    make_route(teacher, at(datetime.date(2021, 4, 30), 23, 59))  # before
    make_route(teacher, at(datetime.date(2021, 5, 1), 0, 0))  # first day
    make_route(teacher, at(datetime.date(2021, 12, 31), 23, 59))  # last day
    make_route(teacher, at(datetime.date(2022, 1, 1), 0, 0))  # after

    report = services.routes_by_status(
        as_of=datetime.date(2022, 6, 1),
        created_from=datetime.date(2021, 5, 1),
        created_to=datetime.date(2021, 12, 31),
    )

    assert counts(report)["Балашиха"] == [2, 0, 0]


def test_custom_groups_in_the_settings_order(settings, places):
    settings.WAGTAIL_IOM = {
        "REPORT_STATUS_GROUPS": {
            "done": {"label": "Done", "statuses": ["completed", "audited"]},
            "approved": {"label": "Approved", "statuses": ["approved"]},
        }
    }
    teacher = teacher_in(places["a"])
    make_route(teacher, at(D), [(at(D), "approved")])
    make_route(teacher, at(D), [(at(D), "completed")])
    make_route(teacher, at(D))  # in development: in no column

    report = services.routes_by_status(as_of=D)

    assert report.headings == ["Municipality", "Done", "Approved"]
    assert counts(report)["Балашиха"] == [1, 1]


def test_group_by_school(places):
    school = SchoolFactory(municipality=places["a"], short_name="СОШ № 1")
    SchoolFactory(municipality=places["b"], short_name="СОШ № 2")
    make_route(teacher_in(places["a"], school), at(D))
    make_route(teacher_in(places["a"], None), at(D))

    report = services.routes_by_status(as_of=D, group_by=services.GROUP_BY_SCHOOL)

    assert counts(report) == {
        "СОШ № 1": [1, 0, 0],
        "СОШ № 2": [0, 0, 0],
        "Not specified": [1, 0, 0],
    }
    assert report.headings[0] == "School"


def test_a_scope_limits_rows_and_counts(places):
    school = SchoolFactory(municipality=places["a"], short_name="СОШ № 1")
    make_route(teacher_in(places["a"], school), at(D))
    make_route(teacher_in(places["a"]), at(D))
    make_route(teacher_in(places["b"]), at(D))

    methodist = ReportScope(municipality_ids=[places["a"].pk])
    assert counts(services.routes_by_status(methodist, as_of=D)) == {"Балашиха": [2, 0, 0]}

    school_head = ReportScope(school_ids=[school.pk])
    report = services.routes_by_status(school_head, as_of=D, group_by=services.GROUP_BY_SCHOOL)
    assert counts(report) == {"СОШ № 1": [1, 0, 0]}
    assert report.totals.counts == [1, 0, 0]


def test_one_municipality_of_the_region(places):
    make_route(teacher_in(places["a"]), at(D))
    make_route(teacher_in(places["b"]), at(D))
    report = services.routes_by_status(as_of=D, municipality=places["b"])
    assert counts(report) == {"Бронницы": [1, 0, 0]}


def test_an_unknown_grouping_is_refused():
    with pytest.raises(ValueError):
        services.routes_by_status(group_by="teacher")


def build(size, places):
    for index in range(size):
        teacher = teacher_in(places["a"] if index % 2 else places["b"])
        make_route(teacher, at(D), [(at(D), "approved"), (at(D), "implementation")])


@pytest.mark.parametrize("group_by", [services.GROUP_BY_MUNICIPALITY, services.GROUP_BY_SCHOOL])
def test_the_query_count_does_not_grow_with_the_routes(places, group_by):
    SchoolFactory(municipality=places["a"])
    build(2, places)
    with CaptureQueriesContext(connection) as small:
        services.routes_by_status(as_of=D, group_by=group_by)
    build(20, places)
    with CaptureQueriesContext(connection) as large:
        report = services.routes_by_status(as_of=D, group_by=group_by)
    assert report.totals.counts == [0, 22, 0]
    assert len(large) == len(small) <= 3


def test_query_count_is_flat(django_assert_num_queries, places):
    build(3, places)
    with django_assert_num_queries(2):
        services.routes_by_status(as_of=D)
    build(30, places)
    with django_assert_num_queries(2):
        services.routes_by_status(as_of=D)
