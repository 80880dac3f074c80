"""*Indicators (004)*: the share of teachers with a route, of routes carried out, and of
teachers who presented the results to the professional community, per municipality or school
and for the region; each role's scope, the exports and the command line."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.factories import MunicipalityFactory, SchoolFactory
from tests.reports.helpers import (
    CENTRE_HEAD,
    METHODIST,
    SCHOOL_HEAD,
    at,
    make_route,
    staff,
    teacher_in,
)
from wagtail_iom.core.access import ReportScope
from wagtail_iom.models import Route
from wagtail_iom.reports import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

URL = reverse("wagtail_iom_reports:indicators")
D = datetime.date(2021, 12, 15)
HEADINGS = [
    "Municipality",
    "Teachers",
    "Teachers with a route, %",
    "Routes carried out, %",
    "Teachers who presented the results",
    "Teachers who presented the results, %",
]


def day(month, number=1):
    return at(datetime.date(2021, month, number))


def presented(route, on, level="school"):
    Route.objects.filter(pk=route.pk).update(results_presented_level=level, results_presented_on=on)


@pytest.fixture
def region():
    first = MunicipalityFactory(name="Балашиха")
    second = MunicipalityFactory(name="Бронницы")
    small = SchoolFactory(municipality=first, short_name="СОШ № 1", teacher_count=10)
    SchoolFactory(municipality=first, short_name="СОШ № 2", teacher_count=10)
    other = SchoolFactory(municipality=second, short_name="СОШ № 3", teacher_count=5)
    t1, t2 = teacher_in(first, small), teacher_in(first, small)
    t3 = teacher_in(second, other)
    # t1 presented twice (two routes): counted once; t2 presented after the date asked.
    presented(make_route(t1, day(6), [(day(7), "completed")]), datetime.date(2021, 10, 1))
    presented(make_route(t1, day(6)), datetime.date(2021, 11, 1), "municipal")
    presented(make_route(t2, day(6), [(day(7), "completed")]), datetime.date(2022, 1, 20))
    make_route(t3, day(6), [(day(7), "approved")])
    return {"first": first, "second": second, "small": small}


def numbers(row):
    return [
        row.name,
        row.teachers,
        row.coverage,
        row.completion,
        row.presented,
        row.presented_share,
    ]


def test_per_municipality_and_the_region(region):
    report = services.indicators(as_of=D)
    assert [numbers(row) for row in [*report.rows, report.totals]] == [
        ["Балашиха", 20, 10.0, 66.7, 1, 5.0],
        ["Бронницы", 5, 20.0, 0.0, 0, 0.0],
        ["Total", 25, 12.0, 50.0, 1, 4.0],
    ]
    later = services.indicators(as_of=datetime.date(2022, 2, 1))
    assert numbers(later.totals)[4:] == [2, 8.0]


def test_per_school_and_the_scopes(region):
    report = services.indicators(as_of=D, group_by="school", municipality=region["first"])
    assert [numbers(row) for row in report.rows] == [
        ["СОШ № 1", 10, 20.0, 66.7, 1, 10.0],
        ["СОШ № 2", 10, 0.0, None, 0, 0.0],
    ]
    methodist = services.indicators(ReportScope(municipality_ids=[region["second"].pk]), as_of=D)
    assert [row.name for row in methodist.rows] == ["Бронницы"]
    school = services.indicators(
        ReportScope(school_ids=[region["small"].pk]), as_of=D, group_by="school"
    )
    assert [numbers(row) for row in school.rows] == [["СОШ № 1", 10, 20.0, 66.7, 1, 10.0]]


def test_the_query_count_is_flat(region, django_assert_num_queries):
    with django_assert_num_queries(5):
        services.indicators(as_of=D)
    for _index in range(4):
        teacher = teacher_in(region["second"])
        presented(make_route(teacher, day(6)), datetime.date(2021, 10, 1))
    with django_assert_num_queries(5):
        report = services.indicators(as_of=D)
    assert numbers(report.rows[1])[4:] == [4, 80.0]


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def test_the_admin_page_and_each_role(client, region):
    response = get(client, staff("head", CENTRE_HEAD), as_of="2021-12-15")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="iom-indicators"' in html and 'role="img"' in html
    assert '<td class="iom-presented">1</td>' in html
    methodist = staff("methodist", METHODIST, municipality=region["first"])
    rows = get(client, methodist, as_of="2021-12-15").context["report"].rows
    assert [row.name for row in rows] == ["Балашиха"]
    head = staff("school", SCHOOL_HEAD, school=region["small"])
    rows = get(client, head, as_of="2021-12-15").context["report"].rows
    assert [numbers(row) for row in rows] == [["СОШ № 1", 10, 20.0, 66.7, 1, 10.0]]


def test_csv_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="csv", as_of="2021-12-15")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        HEADINGS,
        ["Балашиха", "20", "10.0", "66.7", "1", "5.0"],
        ["Бронницы", "5", "20.0", "0.0", "0", "0.0"],
        ["Total", "25", "12.0", "50.0", "1", "4.0"],
    ]


def test_the_command(region):
    out = io.StringIO()
    call_command("iom_report", "indicators", "--as-of", "2021-12-15", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Total,25,12.0,50.0,1,4.0"
