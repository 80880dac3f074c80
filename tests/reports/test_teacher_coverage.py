"""*Teacher coverage*: the numbers, each role's scope, the filters, the exports, the command
line and the number of queries."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tests.factories import MunicipalityFactory, SchoolFactory
from tests.reports.helpers import (
    CENTRE_HEAD,
    CURATOR,
    METHODIST,
    SCHOOL_HEAD,
    at,
    make_route,
    staff,
    teacher_in,
)
from wagtail_iom.core.access import ReportScope
from wagtail_iom.reports import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

URL = reverse("wagtail_iom_reports:teacher_coverage")
D = datetime.date(2021, 12, 15)
HEADINGS = [
    "Municipality",
    "Teachers",
    "Registered profiles",
    "Teachers with a route",
    "Teachers with a route, %",
    "Routes",
    "Routes completed",
    "Routes completed, %",
]


def day(month, number=1):
    return at(datetime.date(2021, month, number))


@pytest.fixture
def region():
    first = MunicipalityFactory(name="Балашиха")
    second = MunicipalityFactory(name="Бронницы")
    MunicipalityFactory(name="Власиха")  # no schools: its teachers are unknown
    small = SchoolFactory(municipality=first, short_name="СОШ № 1", teacher_count=10)
    large = SchoolFactory(municipality=first, short_name="СОШ № 2", teacher_count=40)
    unknown = SchoolFactory(municipality=second, short_name="СОШ № 3", teacher_count=None)
    t1, t2 = teacher_in(first, small), teacher_in(first, small)
    teacher_in(first, large)  # registered, no route
    make_route(t1, day(6), [(day(7), "approved"), (day(9), "completed")])
    make_route(t1, day(6))
    make_route(t2, day(6), [(day(7), "completed"), (day(10), "audited")])
    make_route(teacher_in(second, unknown), day(6), [(day(7), "approved")])
    make_route(teacher_in(), day(6), [(day(7), "completed")])  # no place
    return {"first": first, "second": second, "small": small, "large": large}


def numbers(row):
    return [
        row.name,
        row.teachers,
        row.profiles,
        row.with_route,
        row.coverage,
        row.routes,
        row.completed,
        row.completion,
    ]


def table(report):
    return [numbers(row) for row in [*report.rows, report.totals]]


def test_per_municipality(region):
    assert table(services.teacher_coverage(as_of=D)) == [
        ["Балашиха", 50, 3, 2, 4.0, 3, 2, 66.7],
        ["Бронницы", None, 1, 1, None, 1, 0, 0.0],
        ["Власиха", None, 0, 0, None, 0, 0, None],
        ["Not specified", None, 1, 1, None, 1, 1, 100.0],
        ["Total", None, 5, 4, None, 5, 3, 60.0],
    ]


def test_per_school(region):
    assert table(services.teacher_coverage(as_of=D, group_by="school")) == [
        ["СОШ № 1", 10, 2, 2, 20.0, 3, 2, 66.7],
        ["СОШ № 2", 40, 1, 0, 0.0, 0, 0, None],
        ["СОШ № 3", None, 1, 1, None, 1, 0, 0.0],
        ["Not specified", None, 1, 1, None, 1, 1, 100.0],
        ["Total", None, 5, 4, None, 5, 3, 60.0],
    ]


def test_as_of_and_created_period(region):
    report = services.teacher_coverage(
        as_of=datetime.date(2021, 8, 1), municipality=region["first"]
    )
    assert table(report) == [
        ["Балашиха", 50, 3, 2, 4.0, 3, 1, 33.3],
        ["Total", 50, 3, 2, 4.0, 3, 1, 33.3],
    ]
    before = services.teacher_coverage(
        as_of=datetime.date(2021, 5, 1), municipality=region["first"]
    )
    assert numbers(before.totals) == ["Total", 50, 3, 0, 0.0, 0, 0, None]
    later = services.teacher_coverage(
        as_of=D, created_from=datetime.date(2021, 7, 1), municipality=region["first"]
    )
    assert numbers(later.totals)[3:6] == [0, 0.0, 0]


def test_the_seed_figures():
    # Seed 002: «18% от количества педагогов», «17,5% от разработанных».
    row = services.CoverageRow("x", teachers=51000, profiles=0, with_route=9180, routes=9185,
                               completed=1607)  # fmt: skip
    assert (row.coverage, row.completion) == (18.0, 17.5)


def test_the_completed_group_of_the_setting(region, settings):
    settings.WAGTAIL_IOM = {
        "REPORT_STATUS_GROUPS": {
            "open": {"label": "Open", "statuses": ["development", "approved"]},
            "completed": {"label": "Done", "statuses": ["audited"]},
        }
    }
    report = services.teacher_coverage(as_of=D, municipality=region["first"])
    assert numbers(report.totals)[5:] == [3, 1, 33.3]


def test_scopes(region):
    methodist = ReportScope(municipality_ids=[region["first"].pk])
    assert [row.name for row in services.teacher_coverage(methodist, as_of=D).rows] == ["Балашиха"]
    head = ReportScope(school_ids=[region["large"].pk])
    assert table(services.teacher_coverage(head, as_of=D, group_by="school")) == [
        ["СОШ № 2", 40, 1, 0, 0.0, 0, 0, None],
        ["Total", 40, 1, 0, 0.0, 0, 0, None],
    ]


@pytest.mark.parametrize("group_by", ["municipality", "school"])
def test_the_query_count_is_flat(django_assert_num_queries, group_by):
    places = [MunicipalityFactory() for _index in range(2)]
    schools = [SchoolFactory(municipality=place, teacher_count=5) for place in places]

    def build(count):
        for index in range(count):
            teacher = teacher_in(places[index % 2], schools[index % 2])
            make_route(teacher, day(6), [(day(7), "completed")])

    expected = 4 if group_by == "municipality" else 3
    build(2)
    with django_assert_num_queries(expected):
        services.teacher_coverage(as_of=D, group_by=group_by)
    build(12)
    with django_assert_num_queries(expected):
        report = services.teacher_coverage(as_of=D, group_by=group_by)
    assert report.totals.routes == 14


# The admin -----------------------------------------------------------------------------------


def get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, {"as_of": "2021-12-15", **params})


def test_the_admin_page(client, region):
    response = get(client, staff("head", CENTRE_HEAD))
    assert response.status_code == 200
    assert table(response.context["report"])[0] == ["Балашиха", 50, 3, 2, 4.0, 3, 2, 66.7]
    html = response.content.decode()
    assert 'id="iom-teacher-coverage"' in html and 'role="img"' in html
    assert html.count('class="iom-unknown"') == 4  # Бронницы, Власиха, not specified, total


def test_each_role_in_the_admin(client, region):
    methodist = staff("methodist", METHODIST, municipality=region["first"])
    response = get(client, methodist, municipality=region["second"].pk)
    assert [row.name for row in response.context["report"].rows] == ["Балашиха"]
    head = staff("school", SCHOOL_HEAD, school=region["small"])
    assert table(get(client, head).context["report"]) == [
        ["СОШ № 1", 10, 2, 2, 20.0, 3, 2, 66.7],
        ["Total", 10, 2, 2, 20.0, 3, 2, 66.7],
    ]


@pytest.mark.parametrize("role", [CURATOR, None])
def test_others_get_a_403(client, region, role):
    user = staff("other", role, perms=("view_route",) if role else ())
    assert get(client, user).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "15.13.2021"},
        {"created_from": "2021-12-31", "created_to": "2021-05-01"},
        {"group_by": "teacher"},
        {"municipality": "abc"},
    ],
)
def test_bad_filters_are_a_form_error(client, region, params):
    response = get(client, staff("head", CENTRE_HEAD), **params)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert 'role="alert"' in response.content.decode()


def test_the_results_alone(client, region):
    url = reverse("wagtail_iom_reports:teacher_coverage_results")
    response = get(client, staff("head", CENTRE_HEAD), url)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()


def test_csv_export(client, region):
    response = get(
        client, staff("head", CENTRE_HEAD), export="csv", municipality=region["first"].pk
    )
    content = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(content))) == [
        HEADINGS,
        ["Балашиха", "50", "3", "2", "4.0", "3", "2", "66.7"],
        ["Total", "50", "3", "2", "4.0", "3", "2", "66.7"],
    ]


def test_xlsx_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADINGS
    assert values[1] == ["Балашиха", 50, 3, 2, 4, 3, 2, 66.7]
    assert values[-1] == ["Total", None, 5, 4, None, 5, 3, 60]


# The command line ----------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("iom_report", "teacher-coverage", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("english_messages")
def test_csv_on_standard_output(region):
    assert run("--as-of", "2021-12-15").splitlines() == [
        ",".join(f'"{h}"' if "," in h else h for h in HEADINGS),
        "Балашиха,50,3,2,4.0,3,2,66.7",
        "Бронницы,,1,1,,1,0,0.0",
        "Власиха,,0,0,,0,0,",
        "Not specified,,1,1,,1,1,100.0",
        "Total,,5,4,,5,3,60.0",
    ]


@pytest.mark.usefixtures("english_messages")
def test_per_school_to_an_xlsx_file(region, tmp_path):
    target = tmp_path / "coverage.xlsx"
    assert run("--group-by", "school", "--as-of", "2021-12-15", "--format", "xlsx",
               "--output", str(target)) == ""  # fmt: skip
    values = [
        [cell.value for cell in row] for row in openpyxl.load_workbook(target).active.iter_rows()
    ]
    assert values[0][0] == "School"
    assert values[1] == ["СОШ № 1", 10, 2, 2, 20, 3, 2, 66.7]
    assert values[-1] == ["Total", None, 5, 4, None, 5, 3, 60]


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2021-13-01"], "--as-of: Enter a valid date."),
        (["--created-from", "2021-12-31", "--created-to", "2021-05-01"], "--created-to: "),
        (["--group-by", "teacher"], "--group-by: Select a valid choice."),
        (["--format", "xlsx"], "needs --output"),
    ],
)
def test_bad_input_is_a_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_the_menu_items_are_shown_only_to_readers(client, region):
    coverage, attendance = URL, reverse("wagtail_iom_reports:attendance_by_event")
    client.force_login(staff("head", CENTRE_HEAD))
    page = client.get("/admin/").content.decode()
    assert coverage in page and attendance in page
    client.force_login(staff("curator", CURATOR))
    page = client.get("/admin/").content.decode()
    assert coverage not in page and attendance not in page
