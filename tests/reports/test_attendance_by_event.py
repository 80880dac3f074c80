"""*Attendance by event*: the numbers, each role's scope, the filters, the exports, the
command line and the number of queries."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MunicipalityFactory, SchoolFactory, make_event
from tests.reports.helpers import CENTRE_HEAD, CURATOR, METHODIST, SCHOOL_HEAD, staff, teacher_in
from wagtail_iom.core.access import ReportScope
from wagtail_iom.models import AttendanceMark, Registration
from wagtail_iom.reports import services

pytestmark = [pytest.mark.django_db]

URL = reverse("wagtail_iom_reports:attendance_by_event")
T = (datetime.time(10, 0), datetime.time(13, 0))
HEADINGS = ["Event", "First session", "Confirmed sign-ups", "Attended", "Attended, %"]


def sign_up(event, teacher, status="confirmed", marked=()):
    """A sign-up of ``teacher``, marked present at the sessions numbered ``marked``."""
    registration = Registration.objects.create(event=event, user=teacher.user, status=status)
    sessions = list(event.sessions.order_by("date"))
    for number in marked:
        AttendanceMark.objects.create(registration=registration, session=sessions[number])
    return registration


@pytest.fixture
def region(resource_map):
    first = MunicipalityFactory(name="Балашиха")
    second = MunicipalityFactory(name="Бронницы")
    first_school = SchoolFactory(municipality=first, short_name="СОШ № 1")
    second_school = SchoolFactory(municipality=second, short_name="СОШ № 2")
    t1 = teacher_in(first, first_school)
    t2 = teacher_in(first, first_school)
    t3 = teacher_in(second, second_school)
    t4 = teacher_in(second, second_school)
    seminar = make_event(
        resource_map,
        [(datetime.date(2021, 10, 5), *T)],
        title="=Семинар",
        slug="seminar",
        municipality=first,
        track="non_formal",
    )
    course = make_event(
        resource_map,
        [(datetime.date(2021, 11, 10), *T), (datetime.date(2021, 12, 20), *T)],
        title="Курс",
        slug="course",
        municipality=second,
        track="formal",
        kind="course",
    )
    make_event(
        resource_map,
        [(datetime.date(2022, 2, 1), *T)],
        title="Наставничество",
        slug="mentoring",
        municipality=first,
        track="informal",
        kind="mentoring",
    )
    sign_up(seminar, t1, marked=[0])
    sign_up(seminar, t2)
    sign_up(seminar, t3, marked=[0])
    sign_up(seminar, t4, status="cancelled")
    sign_up(course, t1, marked=[1])
    sign_up(course, t3, marked=[0, 1])  # two sessions: one teacher
    sign_up(course, t4, status="waitlisted")
    return {"first": first, "second": second, "school": second_school}


def numbers(report):
    return [(row.name, row.confirmed, row.attended, row.share) for row in report.rows]


# The numbers ---------------------------------------------------------------------------------


def test_the_region(region):
    report = services.attendance_by_event()
    assert numbers(report) == [
        ("=Семинар", 3, 2, 66.7),
        ("Курс", 2, 2, 100.0),
        ("Наставничество", 0, 0, None),
    ]
    assert (report.totals.confirmed, report.totals.attended, report.totals.share) == (5, 4, 80.0)
    assert report.rows[1].first_session == datetime.date(2021, 11, 10)


def test_sessions_in_a_period_and_only_their_marks(region):
    report = services.attendance_by_event(
        sessions_from=datetime.date(2021, 11, 1), sessions_to=datetime.date(2021, 11, 30)
    )
    assert numbers(report) == [("Курс", 2, 1, 50.0)]


def test_track_and_municipality(region):
    assert numbers(services.attendance_by_event(track="formal")) == [("Курс", 2, 2, 100.0)]
    report = services.attendance_by_event(municipality=region["first"])
    assert [row.name for row in report.rows] == ["=Семинар", "Наставничество"]


def test_a_methodist_reads_the_events_of_the_municipality(region):
    scope = ReportScope(municipality_ids=[region["first"].pk])
    assert numbers(services.attendance_by_event(scope)) == [
        ("=Семинар", 3, 2, 66.7),
        ("Наставничество", 0, 0, None),
    ]


def test_a_school_head_reads_the_sign_ups_of_the_school(region):
    scope = ReportScope(school_ids=[region["school"].pk])
    report = services.attendance_by_event(scope)
    assert numbers(report) == [("=Семинар", 1, 1, 100.0), ("Курс", 1, 1, 100.0)]
    assert (report.totals.confirmed, report.totals.attended) == (2, 2)


def test_the_query_count_is_flat(resource_map, django_assert_num_queries):
    place = MunicipalityFactory()

    def build(count, start):
        for index in range(count):
            event = make_event(
                resource_map,
                [(datetime.date(2021, 10, 5), *T), (datetime.date(2021, 10, 6), *T)],
                slug=f"e{start + index}",
                municipality=place,
            )
            sign_up(event, teacher_in(place), marked=[0, 1])
            sign_up(event, teacher_in(place))

    build(2, 0)
    with django_assert_num_queries(2):
        services.attendance_by_event(ReportScope(municipality_ids=[place.pk]))
    build(8, 2)
    with django_assert_num_queries(2):
        report = services.attendance_by_event(ReportScope(municipality_ids=[place.pk]))
    assert (report.totals.confirmed, report.totals.attended) == (20, 10)


# The admin -----------------------------------------------------------------------------------


def get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def test_the_admin_page(client, region):
    response = get(client, staff("head", CENTRE_HEAD))
    assert response.status_code == 200
    assert numbers(response.context["report"])[0] == ("=Семинар", 3, 2, 66.7)
    html = response.content.decode()
    assert 'id="iom-attendance-by-event"' in html and 'role="img"' in html
    assert '<td class="iom-confirmed">5</td>' in html  # the totals row


def test_each_role_in_the_admin(client, region):
    methodist = staff("methodist", METHODIST, municipality=region["first"])
    # Another municipality is not offered, and changes nothing.
    response = get(client, methodist, municipality=region["second"].pk)
    assert [row.name for row in response.context["report"].rows] == [
        "=Семинар",
        "Наставничество",
    ]
    head = staff("school", SCHOOL_HEAD, school=region["school"])
    assert numbers(get(client, head).context["report"]) == [
        ("=Семинар", 1, 1, 100.0),
        ("Курс", 1, 1, 100.0),
    ]


@pytest.mark.parametrize("role", [CURATOR, None])
def test_others_get_a_403(client, region, role):
    user = staff("other", role, perms=("view_route",) if role else ())
    assert get(client, user).status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"sessions_from": "31.13.2021"},
        {"sessions_from": "2021-12-31", "sessions_to": "2021-05-01"},
        {"track": "nothing"},
        {"municipality": "99999999999999999999999"},
    ],
)
def test_bad_filters_are_a_form_error(client, region, params):
    response = get(client, staff("head", CENTRE_HEAD), **params)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert 'role="alert"' in response.content.decode()


def test_the_results_alone(client, region):
    url = reverse("wagtail_iom_reports:attendance_by_event_results")
    response = get(client, staff("head", CENTRE_HEAD), url, track="formal")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert numbers(response.context["report"]) == [("Курс", 2, 2, 100.0)]


@pytest.mark.usefixtures("english_messages")
def test_csv_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="csv", track="non_formal")
    content = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(content))) == [
        HEADINGS,
        ["'=Семинар", "2021-10-05", "3", "2", "66.7"],
        ["Total", "", "3", "2", "66.7"],
    ]


@pytest.mark.usefixtures("english_messages")
def test_xlsx_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="xlsx", track="formal")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADINGS
    assert values[1][0] == "Курс" and values[1][2:] == [2, 2, 100]
    assert values[-1][0] == "Total" and values[-1][2:] == [2, 2, 100]


def test_the_query_count_of_the_page_is_flat(client, region, resource_map):
    client.force_login(staff("head", CENTRE_HEAD))
    client.get(URL)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    before = count()
    for index in range(5):
        event = make_event(resource_map, [(datetime.date(2021, 9, 1), *T)], slug=f"x{index}")
        sign_up(event, teacher_in(region["first"]), marked=[0])
    assert count() == before


# The command line ----------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("iom_report", "attendance-by-event", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("english_messages")
def test_csv_on_standard_output(region):
    assert run("--sessions-from", "2021-10-01", "--sessions-to", "2021-12-31").splitlines() == [
        'Event,First session,Confirmed sign-ups,Attended,"Attended, %"',
        "'=Семинар,2021-10-05,3,2,66.7",
        "Курс,2021-11-10,2,2,100.0",
        "Total,,5,4,80.0",
    ]


@pytest.mark.usefixtures("english_messages")
def test_options(region):
    rows = list(csv.reader(io.StringIO(run("--municipality", str(region["second"].pk)))))
    assert rows[1:] == [["Курс", "2021-11-10", "2", "2", "100.0"], ["Total", "", "2", "2", "100.0"]]
    assert run("--track", "informal").splitlines()[1:] == [
        "Наставничество,2022-02-01,0,0,",
        "Total,,0,0,",
    ]


@pytest.mark.usefixtures("english_messages")
def test_xlsx_to_a_file(region, tmp_path):
    target = tmp_path / "attendance.xlsx"
    assert run("--format", "xlsx", "--output", str(target)) == ""
    sheet = openpyxl.load_workbook(target).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADINGS
    assert sheet.cell(row=2, column=1).data_type == "s"  # "=Семинар" is text, not a formula
    assert values[-1] == ["Total", None, 5, 4, 80]


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sessions-from", "2021-13-01"], "--sessions-from: Enter a valid date."),
        (["--sessions-from", "2021-12-31", "--sessions-to", "2021-05-01"], "--sessions-to: "),
        (["--track", "nothing"], "--track: Select a valid choice."),
        (["--municipality", "abc"], "--municipality: "),
        (["--format", "xlsx"], "needs --output"),
    ],
)
def test_bad_input_is_a_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
