"""*Routes by source*: routes per municipality (or school) created by staff or drafted from
diagnostics; the period, each role's scope, the exports, the command line and the queries."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
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

pytestmark = [pytest.mark.django_db]

URL = reverse("wagtail_iom_reports:routes_by_source")
HEADINGS = ["Municipality", "Created by staff", "Drafted from diagnostics"]


def route(teacher, day, source="manual"):
    made = make_route(teacher, at(day))
    Route.objects.filter(pk=made.pk).update(source=source)
    return made


@pytest.fixture
def region(db):
    first = MunicipalityFactory(name="Балашиха")
    second = MunicipalityFactory(name="Бронницы")
    MunicipalityFactory(name="Власиха")
    school = SchoolFactory(municipality=first, short_name="СОШ № 1")
    t1 = teacher_in(first, school)
    t2 = teacher_in(first, SchoolFactory(municipality=first, short_name="СОШ № 3"))
    t3 = teacher_in(second, SchoolFactory(municipality=second, short_name="СОШ № 2"))
    route(t1, datetime.date(2021, 6, 1))
    route(t1, datetime.date(2022, 1, 10), "diagnostics")
    route(t2, datetime.date(2022, 1, 11), "diagnostics")
    route(t3, datetime.date(2022, 2, 1), "diagnostics")
    route(teacher_in(), datetime.date(2022, 2, 2))  # a teacher without a municipality
    return {"first": first, "second": second, "school": school}


def numbers(report):
    return [(row.name, *row.counts) for row in report.rows]


@pytest.mark.usefixtures("english_messages")
def test_the_region(region):
    report = services.routes_by_source()
    assert numbers(report) == [
        ("Балашиха", 1, 2),
        ("Бронницы", 0, 1),
        ("Власиха", 0, 0),
        ("Not specified", 1, 0),
    ]
    assert report.totals.counts == [2, 3]
    assert report.headings[1:] == HEADINGS[1:]


def test_a_period_and_the_schools(region):
    report = services.routes_by_source(
        created_from=datetime.date(2022, 1, 1),
        created_to=datetime.date(2022, 1, 31),
        group_by=services.GROUP_BY_SCHOOL,
        municipality=region["first"],
    )
    assert numbers(report) == [("СОШ № 1", 0, 1), ("СОШ № 3", 0, 1)]


def test_a_methodist_and_a_school_head(region):
    report = services.routes_by_source(ReportScope(municipality_ids=[region["second"].pk]))
    assert numbers(report) == [("Бронницы", 0, 1)]
    report = services.routes_by_source(
        ReportScope(school_ids=[region["school"].pk]), group_by=services.GROUP_BY_SCHOOL
    )
    assert numbers(report) == [("СОШ № 1", 1, 1)]


def test_the_query_count_is_flat(region, django_assert_num_queries):
    with django_assert_num_queries(2):
        services.routes_by_source()
    for index in range(5):
        route(teacher_in(region["second"]), datetime.date(2022, 3, index + 1), "diagnostics")
    with django_assert_num_queries(2):
        assert services.routes_by_source().totals.counts == [2, 8]


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def test_the_admin_page_and_each_role(client, region):
    response = get(client, staff("head", CENTRE_HEAD))
    assert response.status_code == 200
    assert 'id="iom-routes-by-source"' in response.content.decode()
    assert numbers(response.context["report"])[0] == ("Балашиха", 1, 2)
    methodist = staff("methodist", METHODIST, municipality=region["first"])
    assert numbers(get(client, methodist, municipality=region["second"].pk).context["report"]) == [
        ("Балашиха", 1, 2)
    ]
    head = staff("school", SCHOOL_HEAD, school=region["school"])
    assert numbers(get(client, head).context["report"]) == [("СОШ № 1", 1, 1)]


def test_a_bad_period_is_a_form_error(client, region):
    response = get(
        client, staff("head", CENTRE_HEAD), created_from="2022-12-31", created_to="2022-01-01"
    )
    assert response.status_code == 200
    assert response.context["report"] is None


@pytest.mark.usefixtures("english_messages")
def test_csv_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == HEADINGS
    assert rows[1] == ["Балашиха", "1", "2"]
    assert rows[-1] == ["Total", "2", "3"]


def run(*args):
    out = io.StringIO()
    call_command("iom_report", "routes-by-source", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("english_messages")
def test_the_command(region):
    assert run("--created-from", "2022-01-01").splitlines() == [
        ",".join(HEADINGS),
        "Балашиха,0,2",
        "Бронницы,0,1",
        "Власиха,0,0",
        "Not specified,1,0",
        "Total,1,3",
    ]
    with pytest.raises(CommandError, match="--created-to: "):
        run("--created-from", "2022-12-31", "--created-to", "2022-01-01")
    with pytest.raises(CommandError, match="--as-of"):
        run("--as-of", "2022-01-01")  # a route's source has no date
