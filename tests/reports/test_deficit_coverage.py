"""*Coverage of deficits*: per competency, the teachers whose latest score is a deficit against
the upcoming events with free seats that target it; each role's scope, the filters, the
exports, the command line and the number of queries."""

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
from django.utils import timezone

from tests.factories import (
    CompetencyFactory,
    CompetencyGroupFactory,
    MunicipalityFactory,
    SchoolFactory,
    make_event,
)
from tests.reports.helpers import CENTRE_HEAD, CURATOR, METHODIST, SCHOOL_HEAD, staff, teacher_in
from wagtail_iom.core.access import ReportScope
from wagtail_iom.models import CompetencyScore, DiagnosticResult, Registration
from wagtail_iom.reports import services

pytestmark = [pytest.mark.django_db]

URL = reverse("wagtail_iom_reports:deficit_coverage")
T = (datetime.time(10, 0), datetime.time(13, 0))
HEADINGS = [
    "Competency",
    "Teachers with the deficit",
    "Upcoming events with free seats",
    "Free seats",
    "Teachers without a free seat",
]


def diagnostics(teacher, day, **scores):
    """A diagnostics result of ``teacher`` on ``day`` with a score per competency."""
    result = DiagnosticResult.objects.create(
        teacher=teacher, date=day, procedure="self", level="basic", total_score=60
    )
    for competency, score in scores.items():
        CompetencyScore.objects.create(
            result=result, competency=COMPETENCIES[competency], score=score
        )
    return result


COMPETENCIES = {}


def upcoming(days=10):
    return [(timezone.localdate() + datetime.timedelta(days=days), *T)]


@pytest.fixture
def region(resource_map):
    group = CompetencyGroupFactory()
    COMPETENCIES.clear()
    for order, (code, name) in enumerate(
        (("K1", "Предметная"), ("K2", "Методическая"), ("K3", "Цифровая"))
    ):
        COMPETENCIES[code] = CompetencyFactory(group=group, code=code, name=name, sort_order=order)
    first = MunicipalityFactory(name="Балашиха")
    second = MunicipalityFactory(name="Бронницы")
    school = SchoolFactory(municipality=first, short_name="СОШ № 1")
    t1 = teacher_in(first, school)
    t2 = teacher_in(first, school)
    t3 = teacher_in(second, SchoolFactory(municipality=second))
    last_year = timezone.localdate() - datetime.timedelta(days=365)
    recently = timezone.localdate() - datetime.timedelta(days=30)
    # t1: K1 was a deficit, is no more; K2 is one now.
    diagnostics(t1, last_year, K1=30, K2=70)
    diagnostics(t1, recently, K1=80, K2=40)
    # t2: K1 and K2 deficits (an entry test scoring K2 alone keeps the K1 of before).
    diagnostics(t2, last_year, K1=20, K2=90)
    diagnostics(t2, recently, K2=10)
    # t3 (the other municipality): K1 and K3 deficits.
    diagnostics(t3, recently, K1=45, K3=5)
    # K1: one event of 2 seats, one taken, and one of no limit that has started (not counted).
    seminar = make_event(
        resource_map, upcoming(), slug="k1", capacity=2, competencies=[COMPETENCIES["K1"]]
    )
    Registration.objects.create(event=seminar, user=t3.user, status="confirmed")
    make_event(
        resource_map,
        [(timezone.localdate() - datetime.timedelta(days=1), *T)],
        slug="past",
        competencies=[COMPETENCIES["K1"]],
    )
    # K2: a full event (not counted) and an unlimited formal course.
    full = make_event(
        resource_map, upcoming(), slug="full", capacity=1, competencies=[COMPETENCIES["K2"]]
    )
    Registration.objects.create(event=full, user=t1.user, status="confirmed")
    make_event(
        resource_map,
        upcoming(20),
        slug="course",
        track="formal",
        kind="course",
        competencies=[COMPETENCIES["K2"], COMPETENCIES["K1"]],
    )
    # K3: no event at all.
    return {"first": first, "second": second, "school": school}


def ours(report):
    """The rows of the test's competencies (the framework of the migrations has others)."""
    return [row for row in report.rows if row.name[:2] in COMPETENCIES]


def numbers(report):
    return [
        (row.name[:2], row.teachers, row.events, row.seats, row.shortfall) for row in ours(report)
    ]


def teachers(report):
    return [row.teachers for row in ours(report)]


# The numbers ---------------------------------------------------------------------------------


def test_the_region(region):
    report = services.deficit_coverage()
    assert numbers(report) == [
        # K1: t2 (kept from before) and t3; the seminar's seat and the unlimited course.
        ("K1", 2, 2, None, 0),
        # K2: t1 and t2; the full event is not offered, the course has no limit.
        ("K2", 2, 1, None, 0),
        # K3: t3 and no event: the gap.
        ("K3", 1, 0, 0, 1),
    ]
    totals = report.totals
    assert (totals.teachers, totals.events, totals.seats, totals.shortfall) == (5, 2, None, 1)
    assert [row.name[:2] for row in report.gaps] == ["K3"]


def test_a_track_narrows_the_events(region):
    report = services.deficit_coverage(track="non_formal")
    assert numbers(report) == [("K1", 2, 1, 1, 1), ("K2", 2, 0, 0, 2), ("K3", 1, 0, 0, 1)]
    assert report.totals.shortfall == 4


def test_a_municipality_narrows_the_teachers(region):
    report = services.deficit_coverage(municipality=region["second"])
    assert teachers(report) == [1, 0, 1]


def test_a_methodist_and_a_school_head_count_their_teachers(region):
    scope = ReportScope(municipality_ids=[region["first"].pk])
    assert teachers(services.deficit_coverage(scope)) == [1, 2, 0]
    scope = ReportScope(school_ids=[region["school"].pk])
    assert teachers(services.deficit_coverage(scope)) == [1, 2, 0]


def test_the_query_count_is_flat(region, resource_map, django_assert_num_queries):
    with django_assert_num_queries(5):
        services.deficit_coverage()
    for index in range(5):
        teacher = teacher_in(region["first"])
        diagnostics(teacher, timezone.localdate(), K1=10, K2=10, K3=10)
        make_event(
            resource_map,
            upcoming(),
            slug=f"more-{index}",
            capacity=3,
            competencies=[COMPETENCIES["K3"]],
        )
    with django_assert_num_queries(5):
        report = services.deficit_coverage()
    assert numbers(report)[2] == ("K3", 6, 5, 15, 0)


# The admin -----------------------------------------------------------------------------------


def get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def test_the_admin_page(client, region):
    response = get(client, staff("head", CENTRE_HEAD))
    assert response.status_code == 200
    assert numbers(response.context["report"])[2] == ("K3", 1, 0, 0, 1)
    html = response.content.decode()
    assert 'id="iom-deficit-coverage"' in html and 'role="img"' in html
    assert 'class="iom-gap"' in html
    assert '<td class="iom-teachers">5</td>' in html  # the totals row


def test_each_role_in_the_admin(client, region):
    methodist = staff("methodist", METHODIST, municipality=region["first"])
    # Another municipality is not offered, and changes nothing.
    response = get(client, methodist, municipality=region["second"].pk)
    assert teachers(response.context["report"]) == [1, 2, 0]
    head = staff("school", SCHOOL_HEAD, school=region["school"])
    assert teachers(get(client, head).context["report"]) == [1, 2, 0]


@pytest.mark.parametrize("role", [CURATOR, None])
def test_others_get_a_403(client, region, role):
    user = staff("other", role, perms=("view_route",) if role else ())
    assert get(client, user).status_code == 403


@pytest.mark.parametrize(
    "params", [{"track": "nothing"}, {"municipality": "99999999999999999999999"}]
)
def test_bad_filters_are_a_form_error(client, region, params):
    response = get(client, staff("head", CENTRE_HEAD), **params)
    assert response.status_code == 200
    assert response.context["report"] is None
    assert 'role="alert"' in response.content.decode()


@pytest.mark.usefixtures("english_messages")
def test_csv_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="csv", track="non_formal")
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == HEADINGS
    by_name = {row[0]: row for row in rows}
    assert by_name["K1 — Предметная"] == ["K1 — Предметная", "2", "1", "1", "1"]
    assert rows[-1] == ["Total", "5", "1", "1", "4"]


@pytest.mark.usefixtures("english_messages")
def test_xlsx_export(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADINGS
    by_name = {row[0]: row for row in values}
    assert by_name["K1 — Предметная"] == ["K1 — Предметная", 2, 2, "no limit", 0]
    assert by_name["K3 — Цифровая"] == ["K3 — Цифровая", 1, 0, 0, 1]


def test_the_query_count_of_the_page_is_flat(client, region, resource_map):
    client.force_login(staff("head", CENTRE_HEAD))
    client.get(URL)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    before = count()
    for index in range(4):
        diagnostics(teacher_in(region["first"]), timezone.localdate(), K3=10)
        make_event(resource_map, upcoming(), slug=f"y{index}", competencies=[COMPETENCIES["K3"]])
    assert count() == before


# The command line ----------------------------------------------------------------------------


def run(*args):
    out = io.StringIO()
    call_command("iom_report", "deficit-coverage", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("english_messages")
def test_csv_on_standard_output(region):
    lines = run("--municipality", str(region["second"].pk)).splitlines()
    assert [line for line in lines if line[:2] in ("Co", "K1", "K2", "K3", "To")] == [
        ",".join(HEADINGS),
        "K1 — Предметная,1,2,no limit,0",
        "K2 — Методическая,0,1,no limit,0",
        "K3 — Цифровая,1,0,0,1",
        "Total,2,2,no limit,1",
    ]


@pytest.mark.usefixtures("english_messages")
def test_xlsx_to_a_file(region, tmp_path):
    target = tmp_path / "deficits.xlsx"
    assert run("--format", "xlsx", "--output", str(target), "--track", "formal") == ""
    values = [
        [cell.value for cell in row] for row in openpyxl.load_workbook(target).active.iter_rows()
    ]
    assert values[-1] == ["Total", 5, 1, "no limit", 1]


@pytest.mark.usefixtures("english_messages")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--track", "nothing"], "--track: Select a valid choice."),
        (["--municipality", "abc"], "--municipality: "),
    ],
)
def test_bad_input_is_a_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
