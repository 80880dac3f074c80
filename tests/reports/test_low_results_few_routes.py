"""*Low results and few routes*: per municipality, the mean of the teachers' latest overall
diagnostic scores against the routes per teacher; the thresholds, each role's scope, the
exports, the command line and the number of queries."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import MunicipalityFactory, SchoolFactory
from tests.reports.helpers import (
    CENTRE_HEAD,
    CURATOR,
    METHODIST,
    SCHOOL_HEAD,
    make_route,
    staff,
    teacher_in,
)
from wagtail_iom.core.access import ReportScope
from wagtail_iom.models import DiagnosticResult
from wagtail_iom.reports import services

pytestmark = [pytest.mark.django_db]

URL = reverse("wagtail_iom_reports:low_results_few_routes")
HEADINGS = [
    "Municipality",
    "Teachers",
    "Teachers with a diagnostic result",
    "Mean diagnostic score, %",
    "Routes",
    "Routes per teacher",
    "Low results and few routes",
]
TODAY = timezone.localdate()


def result(teacher, days_ago, score):
    return DiagnosticResult.objects.create(
        teacher=teacher,
        date=TODAY - datetime.timedelta(days=days_ago),
        procedure="self",
        level="basic",
        total_score=score,
    )


def route(teacher):
    return make_route(teacher, created=datetime.datetime.now(datetime.UTC))


@pytest.fixture
def region(db):
    low = MunicipalityFactory(name="Балашиха")
    fine = MunicipalityFactory(name="Бронницы")
    empty = MunicipalityFactory(name="Власиха")
    # Балашиха: the directory says 10 teachers; two diagnosed, latest 40 and 30: mean 35;
    # one route: 0.1 per teacher. Low on both: flagged.
    low_school = SchoolFactory(municipality=low, short_name="СОШ № 1", teacher_count=10)
    t1 = teacher_in(low, low_school)
    t2 = teacher_in(low, low_school)
    teacher_in(low, low_school)  # registered, never diagnosed
    result(t1, 300, 90)  # an older result does not count
    result(t1, 10, 40)
    result(t2, 20, 30)
    route(t1)
    # Бронницы: a school without the directory's number: the 2 registered teachers count.
    fine_school = SchoolFactory(municipality=fine, short_name="СОШ № 2", teacher_count=None)
    t3 = teacher_in(fine, fine_school)
    t4 = teacher_in(fine, fine_school)
    result(t3, 5, 45)
    route(t3)
    route(t4)
    return {"low": low, "fine": fine, "empty": empty, "school": low_school}


def numbers(report):
    return [
        (row.name, row.teachers, row.diagnosed, row.mean_score, row.routes, row.flagged)
        for row in report.rows
    ]


# The numbers ---------------------------------------------------------------------------------


def test_the_region(region):
    report = services.low_results_few_routes()
    assert numbers(report) == [
        ("Балашиха", 10, 2, Decimal("35.0"), 1, True),
        # Low mean, but one route per teacher: not flagged.
        ("Бронницы", 2, 1, Decimal("45.0"), 2, False),
        ("Власиха", 0, 0, None, 0, False),
    ]
    assert report.rows[0].routes_per_teacher == Decimal("0.10")
    assert report.rows[1].routes_per_teacher == Decimal("1.00")
    assert report.rows[2].routes_per_teacher is None
    totals = report.totals
    # The region's mean weighs each municipality by its diagnosed teachers: (35·2 + 45) / 3.
    assert (totals.teachers, totals.diagnosed, totals.mean_score, totals.routes) == (
        12,
        3,
        Decimal("38.3"),
        3,
    )
    assert [row.name for row in report.flagged] == ["Балашиха"]


def test_the_thresholds(region):
    report = services.low_results_few_routes(score_below=30)
    assert not report.flagged
    report = services.low_results_few_routes(score_below=50, routes_per_teacher_below=2)
    assert [row.name for row in report.flagged] == ["Балашиха", "Бронницы"]
    report = services.low_results_few_routes(flagged_only=True)
    assert [row.name for row in report.rows] == ["Балашиха"]
    assert report.totals.routes == 3  # the totals stay the region's


def test_a_methodist_and_a_school_head(region):
    report = services.low_results_few_routes(ReportScope(municipality_ids=[region["low"].pk]))
    assert numbers(report) == [("Балашиха", 10, 2, Decimal("35.0"), 1, True)]
    # A school head: the school's teachers (the directory's 10 of the school), its results and
    # routes, under its municipality's name.
    other = SchoolFactory(municipality=region["low"], teacher_count=90)
    teacher_in(region["low"], other)
    report = services.low_results_few_routes(ReportScope(school_ids=[region["school"].pk]))
    assert [(row.name, row.teachers, row.diagnosed, row.routes) for row in report.rows] == [
        ("Балашиха", 10, 2, 1)
    ]


def test_the_query_count_is_flat(region, django_assert_num_queries):
    with django_assert_num_queries(5):
        services.low_results_few_routes()
    for index in range(6):
        teacher = teacher_in(region["empty"])
        result(teacher, index + 1, 20 + index)
        route(teacher)
    with django_assert_num_queries(5):
        report = services.low_results_few_routes()
    assert numbers(report)[2] == ("Власиха", 6, 6, Decimal("22.5"), 6, False)


# The admin -----------------------------------------------------------------------------------


def get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def test_the_admin_page(client, region):
    response = get(client, staff("head", CENTRE_HEAD))
    assert response.status_code == 200
    assert not response.context["is_filtering"]  # no filter shown as chosen by default
    assert numbers(response.context["report"])[0][0] == "Балашиха"
    html = response.content.decode()
    assert 'id="iom-low-results-few-routes"' in html and 'role="img"' in html
    assert f'class="iom-flagged" data-municipality-id="{region["low"].pk}"' in html
    assert '<td class="iom-routes">3</td>' in html  # the totals row


def test_each_role_in_the_admin(client, region):
    methodist = staff("methodist", METHODIST, municipality=region["fine"])
    rows = get(client, methodist).context["report"].rows
    assert [row.name for row in rows] == ["Бронницы"]
    head = staff("school", SCHOOL_HEAD, school=region["school"])
    assert [row.diagnosed for row in get(client, head).context["report"].rows] == [2]


@pytest.mark.parametrize("role", [CURATOR, None])
def test_others_get_a_403(client, region, role):
    user = staff("other", role, perms=("view_route",) if role else ())
    assert get(client, user).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"score_below": "abc"},
        {"score_below": "101"},
        {"routes_per_teacher_below": "-1"},
        {"routes_per_teacher_below": "1e999"},
        {"flagged_only": "maybe"},
    ],
)
def test_bad_filters_are_a_form_error(client, region, params):
    response = get(client, staff("head", CENTRE_HEAD), **params)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert 'role="alert"' in response.content.decode()


@pytest.mark.usefixtures("english_messages")
def test_csv_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="csv", flagged_only="1")
    content = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(content))) == [
        HEADINGS,
        ["Балашиха", "10", "2", "35.0", "1", "0.10", "yes"],
        ["Total", "12", "3", "38.3", "3", "0.25", ""],
    ]


@pytest.mark.usefixtures("english_messages")
def test_xlsx_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADINGS
    assert values[1][0] == "Балашиха" and values[1][-1] == "yes"
    assert values[3][:4] == ["Власиха", 0, 0, None]


def test_the_query_count_of_the_page_is_flat(client, region):
    client.force_login(staff("head", CENTRE_HEAD))
    client.get(URL)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    before = count()
    for index in range(4):
        teacher = teacher_in(region["fine"])
        result(teacher, 1, 10 + index)
        route(teacher)
    assert count() == before


# The command line ----------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("iom_report", "low-results-few-routes", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("english_messages")
def test_csv_on_standard_output(region):
    assert run("--routes-per-teacher-below", "2").splitlines() == [
        ",".join(f'"{h}"' if "," in h else h for h in HEADINGS),
        "Балашиха,10,2,35.0,1,0.10,yes",
        "Бронницы,2,1,45.0,2,1.00,yes",
        "Власиха,0,0,,0,,",
        "Total,12,3,38.3,3,0.25,",
    ]


@pytest.mark.usefixtures("english_messages")
def test_flagged_only_to_an_xlsx_file(region, tmp_path):
    target = tmp_path / "low.xlsx"
    assert run("--flagged-only", "--format", "xlsx", "--output", str(target)) == ""
    values = [
        [cell.value for cell in row] for row in openpyxl.load_workbook(target).active.iter_rows()
    ]
    assert [row[0] for row in values] == ["Municipality", "Балашиха", "Total"]


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--score-below", "abc"], "--score-below: Enter a number."),
        (["--score-below", "150"], "--score-below: "),
        (["--routes-per-teacher-below", "-0.5"], "--routes-per-teacher-below: "),
    ],
)
def test_bad_input_is_a_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
