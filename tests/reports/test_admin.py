"""*Reports → Routes by status* in the admin: who reads it, which rows they see, the
filters, the chart beside the table, and the exports."""

import csv
import datetime
import io

import openpyxl
import pytest
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

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

URL = reverse("wagtail_iom_reports:routes_by_status")
D = datetime.date(2021, 12, 15)


@pytest.fixture
def region():
    first = MunicipalityFactory(name="Балашиха")
    second = MunicipalityFactory(name="=Бронницы")
    school = SchoolFactory(municipality=first, short_name="СОШ № 1")
    other_school = SchoolFactory(municipality=first, short_name="СОШ № 2")
    make_route(teacher_in(first, school), at(D), [(at(D), "approved")])
    make_route(teacher_in(first, other_school), at(D))
    make_route(teacher_in(second), at(D), [(at(D), "completed")])
    return {"first": first, "second": second, "school": school}


def rows_of(response):
    return [(row.name, row.counts) for row in response.context["report"].rows]


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, {"as_of": "2021-12-15", **params})


def test_the_centre_head_reads_the_region(client, region):
    response = get(client, staff("head", CENTRE_HEAD))
    assert response.status_code == 200
    assert rows_of(response) == [("=Бронницы", [0, 0, 1]), ("Балашиха", [1, 1, 0])]
    html = response.content.decode()
    assert 'role="img"' in html and 'aria-labelledby="iom-report-chart-title"' in html
    assert "<caption>" in html and '<th scope="row">Балашиха</th>' in html


def test_the_centre_head_chooses_a_municipality(client, region):
    response = get(client, staff("head", CENTRE_HEAD), municipality=region["second"].pk)
    assert rows_of(response) == [("=Бронницы", [0, 0, 1])]


def test_a_methodist_reads_the_own_municipality(client, region):
    methodist = staff("methodist", METHODIST, municipality=region["first"])
    assert rows_of(get(client, methodist)) == [("Балашиха", [1, 1, 0])]
    # Choosing another municipality is not offered, and changes nothing.
    response = get(client, methodist, municipality=region["second"].pk)
    assert rows_of(response) == [("Балашиха", [1, 1, 0])]
    assert rows_of(get(client, methodist, group_by="school")) == [
        ("СОШ № 1", [0, 1, 0]),
        ("СОШ № 2", [1, 0, 0]),
    ]


def test_a_school_head_reads_the_own_school(client, region):
    head = staff("school", SCHOOL_HEAD, school=region["school"])
    response = get(client, head, group_by="municipality")
    assert rows_of(response) == [("СОШ № 1", [0, 1, 0])]
    assert response.context["report"].totals.counts == [0, 1, 0]


@pytest.mark.parametrize("role", [CURATOR, None])
def test_others_get_a_403(client, region, role):
    # A curator with the permission; staff without the permission to view routes.
    user = staff("other", role, perms=("view_route",) if role else ())
    response = get(client, user)
    assert response.status_code == 403


def test_the_menu_item_is_shown_only_to_readers(client, region):
    client.force_login(staff("head", CENTRE_HEAD))
    assert (
        URL
        in client.get(
            reverse("wagtailadmin_reports:index") if False else "/admin/"
        ).content.decode()
    )
    client.force_login(staff("curator", CURATOR))
    assert URL not in client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"as_of": "15.13.2021"}, "Enter a valid date."),
        ({"created_from": "2021-12-31", "created_to": "2021-05-01"}, "is before its start"),
        ({"group_by": "teacher"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_a_form_error(client, region, params, message):
    response = get(client, staff("head", CENTRE_HEAD), **params)
    assert response.status_code == 200
    assert response.context["report"] is None
    html = response.content.decode()
    assert 'role="alert"' in html
    assert message in html


def test_csv_export_with_totals_and_no_formula(client, region):
    response = get(client, staff("head", CENTRE_HEAD), export="csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(content))) == [
        ["Municipality", "In development", "In implementation", "Completed"],
        ["'=Бронницы", "0", "0", "1"],
        ["Балашиха", "1", "1", "0"],
        ["Total", "1", "1", "1"],
    ]


def test_xlsx_export(client, region):
    response = get(
        client, staff("methodist", METHODIST, municipality=region["first"]), export="xlsx"
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["Municipality", "In development", "In implementation", "Completed"],
        ["Балашиха", 1, 1, 0],
        ["Total", 1, 1, 0],
    ]


def test_the_query_count_does_not_grow_with_the_routes(
    client, region, django_assert_max_num_queries
):
    head = staff("head", CENTRE_HEAD)
    client.force_login(head)
    client.get(URL)  # warm up the session and the admin's caches

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"as_of": "2021-12-15"}).status_code == 200
        return len(queries)

    before = count()
    for _index in range(15):
        make_route(teacher_in(region["first"]), at(D))
    assert count() == before


def test_the_filters_refresh_the_results_alone(client, region):
    client.force_login(staff("head", CENTRE_HEAD))
    page = client.get(URL).content.decode()
    for name in ("as_of", "created_from", "created_to", "group_by", "municipality"):
        assert f'name="{name}"' in page
    response = client.get(
        reverse("wagtail_iom_reports:routes_by_status_results"), {"as_of": "2021-12-15"}
    )
    assert response.status_code == 200
    assert "<caption>" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_a_school_head_is_offered_no_municipality_nor_grouping(client, region):
    client.force_login(staff("school", SCHOOL_HEAD, school=region["school"]))
    page = client.get(URL).content.decode()
    assert 'name="as_of"' in page
    assert 'name="municipality"' not in page
    assert 'name="group_by"' not in page
