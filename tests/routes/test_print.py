"""The printed route's views: the teacher's own routes in the cabinet, scoped routes in the admin."""

import io

import docx
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import SchoolFactory, UserFactory
from tests.routes.documents_data import EVENT_TITLE, make_events, make_rich_teacher, make_route
from wagtail_iom.models import RouteLayout, StaffMembership, StaffRole

pytestmark = [pytest.mark.django_db]

TEACHER_NAME = "Иванова Мария Петровна"
CONTENT_TYPES = {
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# WeasyPrint makes the PDF: it needs Pango from the system (tests/tools.py).
FORMATS = ["html", pytest.param("pdf", marks=pytest.mark.requires_tool("pango")), "docx"]


@pytest.fixture
def events(resource_map):
    return make_events(resource_map)


@pytest.fixture
def route(events):
    return make_route(make_rich_teacher("printed"), events)


def cabinet_url(route, layout="full", fmt="html"):
    return reverse("wagtail_iom:cabinet_route_print", args=(route.pk, layout, fmt))


def admin_url(route, layout="full", fmt="html"):
    return reverse("wagtail_iom_route_print:print", args=(route.pk, layout, fmt))


def check_file(response, route, layout, fmt):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(CONTENT_TYPES[fmt])
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "html":
        text = body.decode()
        assert TEACHER_NAME in text and EVENT_TITLE in text
        assert 'id="table-' in text
        # The toolbar links the other formats of the same route.
        assert cabinet_url(route, layout, "pdf") in text or admin_url(route, layout, "pdf") in text
    else:
        disposition = response["Content-Disposition"]
        assert disposition == f'attachment; filename="route-{route.pk}-{layout}.{fmt}"'
        if fmt == "pdf":
            assert body.startswith(b"%PDF")
        else:
            word = docx.Document(io.BytesIO(body))
            assert word.tables
            assert any(TEACHER_NAME in p.text for p in word.paragraphs)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", RouteLayout.values)
def test_the_teacher_prints_the_own_route(client, route, layout, fmt):
    client.force_login(route.teacher.user)

    response = client.get(cabinet_url(route, layout, fmt))

    check_file(response, route, layout, fmt)
    assert "no-cache" in response.get("Cache-Control", "") or "max-age=0" in response.get(
        "Cache-Control", ""
    )


def test_another_teachers_route_is_not_found(client, route, events):
    other = make_rich_teacher("someone-else")
    client.force_login(other.user)

    for fmt in ("html", "pdf", "docx"):
        assert client.get(cabinet_url(route, "full", fmt)).status_code == 404


@pytest.mark.parametrize(
    ("layout", "fmt"),
    [("wide", "html"), ("full", "xls"), ("full", "PDF"), ("compact", "txt"), ("FULL", "pdf")],
)
def test_an_unknown_layout_or_format_is_not_found(client, route, layout, fmt):
    client.force_login(route.teacher.user)

    assert client.get(cabinet_url(route, layout, fmt)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, route):
    response = client.get(cabinet_url(route))

    assert response.status_code == 302
    assert reverse("wagtail_iom:login") in response["Location"]


def test_printing_changes_nothing(client, route):
    client.force_login(route.teacher.user)
    before = (route.status, route.updated_at)

    assert client.post(cabinet_url(route)).status_code == 405
    route.refresh_from_db()
    assert (route.status, route.updated_at) == before


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", RouteLayout.values)
def test_the_admin_prints_any_route(admin_client, route, layout, fmt):
    check_file(admin_client.get(admin_url(route, layout, fmt)), route, layout, fmt)


def staff_member(role=None, **where):
    user = UserFactory(username=f"staff-{role}-{UserFactory._meta.model.objects.count()}")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "view_route"])
    )
    if role:
        StaffMembership.objects.create(user=user, role=role, **where)
    return user


@pytest.mark.requires_tool("pango")
def test_the_admin_print_is_scoped_by_the_staff_members_roles(client, route):
    own_head = staff_member(StaffRole.SCHOOL_HEAD, school=route.teacher.school)
    other_head = staff_member(StaffRole.SCHOOL_HEAD, school=SchoolFactory())
    methodist = staff_member(StaffRole.MUNICIPAL_METHODIST, municipality=route.teacher.municipality)

    client.force_login(own_head)
    assert client.get(admin_url(route, "compact", "pdf")).status_code == 200
    client.force_login(methodist)
    assert client.get(admin_url(route, "full", "html")).status_code == 200
    client.force_login(other_head)
    for fmt in ("html", "pdf", "docx"):
        assert client.get(admin_url(route, "full", fmt)).status_code == 404


def test_the_admin_print_needs_the_permission_to_view_routes(client, route):
    user = UserFactory(username="no-view")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)

    assert client.get(admin_url(route)).status_code == 404


def test_the_admin_print_refuses_unknown_layouts_and_formats(admin_client, route):
    assert admin_client.get(admin_url(route, "wide", "pdf")).status_code == 404
    assert admin_client.get(admin_url(route, "full", "odt")).status_code == 404
    assert (
        admin_client.get(admin_url(route).replace(f"/{route.pk}/", "/999999/")).status_code == 404
    )


def test_the_admin_url_name_and_path(route):
    assert admin_url(route, "compact", "pdf").endswith(f"/iom/routes/{route.pk}/print/compact.pdf")
