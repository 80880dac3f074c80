"""Who read what: staff opening, printing or exporting a teacher's profile, diagnostics or
route leave a row in the access log; the head of the centre reads it in the admin, filtered
and exported; writing it costs one query a page and a constant number an export."""

import datetime
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, make_teacher
from wagtail_iom.models import (
    CuratorAssignment,
    DiagnosticResult,
    Route,
    StaffMembership,
    StaffRole,
)
from wagtail_iom.people import access_log
from wagtail_iom.people.models import PersonalDataAccess, PersonalDataAccessAction

pytestmark = pytest.mark.django_db

Action = PersonalDataAccessAction
ACCESS_LOG = reverse("wagtail_iom_access_log:index")


def staff_with_teacher_permissions(username, role, **place):
    user = UserFactory(username=username, first_name="Кира", last_name=username.capitalize())
    group = Group.objects.create(name=f"Права {username}")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_iom",
            content_type__model__in=["teacherprofile", "diagnosticresult", "route"],
        ),
        Permission.objects.get(codename="access_admin"),
    )
    user.groups.add(group)
    StaffMembership.objects.create(user=user, role=role, **place)
    return user


def make_route(teacher):
    today = timezone.localdate()
    route = Route.objects.create(
        teacher=teacher, starts_on=today, ends_on=today + datetime.timedelta(days=200)
    )
    route.save_revision()
    return route


@pytest.fixture
def mine():
    teacher = make_teacher(username="mine", last_name="Своякова")
    diagnostic = DiagnosticResult.objects.create(
        teacher=teacher,
        date=timezone.localdate(),
        procedure="self",
        level="low",
        total_score=30,
    )
    return {"teacher": teacher, "route": make_route(teacher), "diagnostic": diagnostic}


@pytest.fixture
def curator(mine):
    user = staff_with_teacher_permissions("curator", StaffRole.CURATOR)
    CuratorAssignment.objects.create(teacher=mine["teacher"], curator=user)
    return user


@pytest.fixture
def head():
    return staff_with_teacher_permissions("head", StaffRole.CENTRE_HEAD)


def pages(mine):
    teacher, route, diagnostic = mine["teacher"], mine["route"], mine["diagnostic"]
    return [
        (
            reverse("wagtail_iom_teachers:edit", args=[teacher.pk]),
            Action.VIEW_PROFILE,
            str(teacher.pk),
        ),
        (
            reverse("wagtail_iom_teachers:inspect", args=[teacher.pk]),
            Action.VIEW_PROFILE,
            str(teacher.pk),
        ),
        (
            reverse("wagtail_iom_diagnostics:edit", args=[diagnostic.pk]),
            Action.VIEW_DIAGNOSTIC,
            str(diagnostic.pk),
        ),
        (reverse("wagtail_iom_routes:edit", args=[route.pk]), Action.VIEW_ROUTE, str(route.pk)),
        (
            reverse("wagtail_iom_routes:inspect", args=[route.pk]),
            Action.VIEW_ROUTE,
            str(route.pk),
        ),
        (
            reverse("wagtail_iom_route_print:print", args=[route.pk, "full", "html"]),
            Action.PRINT_ROUTE,
            str(route.pk),
        ),
    ]


def test_opening_and_printing_a_teachers_data_is_logged(client, curator, mine):
    client.force_login(curator)
    for url, action, object_id in pages(mine):
        before = PersonalDataAccess.objects.count()
        response = client.get(url)
        assert response.status_code == 200, url
        assert PersonalDataAccess.objects.count() == before + 1, url
        record = PersonalDataAccess.objects.latest("pk")
        assert record.staff_member == curator
        assert record.teacher == mine["teacher"]
        assert record.action == action
        assert record.object_id == object_id
    assert PersonalDataAccess.objects.filter(action=Action.PRINT_ROUTE).get().detail == "full.html"


def test_logging_adds_one_query_to_a_page(client, curator, mine, monkeypatch):
    client.force_login(curator)
    for url, _action, _object_id in pages(mine):
        client.get(url)  # warm caches (content types, site)
        with CaptureQueriesContext(connection) as logged:
            client.get(url)
        with monkeypatch.context() as patched:
            patched.setattr(access_log, "record", lambda *args, **kwargs: None)
            with CaptureQueriesContext(connection) as unlogged:
                client.get(url)
        assert len(logged) - len(unlogged) == 1, url


def test_pages_refused_or_not_found_log_nothing(client, curator):
    theirs = make_teacher(username="theirs", last_name="Чужакова")
    route = make_route(theirs)
    client.force_login(curator)
    for url in (
        reverse("wagtail_iom_teachers:edit", args=[theirs.pk]),
        reverse("wagtail_iom_routes:inspect", args=[route.pk]),
        reverse("wagtail_iom_route_print:print", args=[route.pk, "full", "pdf"]),
    ):
        assert client.get(url).status_code in (403, 404)
    assert not PersonalDataAccess.objects.exists()


def test_a_teachers_own_print_in_the_cabinet_is_not_logged(client, mine):
    client.force_login(mine["teacher"].user)
    url = reverse("wagtail_iom:cabinet_route_print", args=[mine["route"].pk, "full", "html"])
    assert client.get(url).status_code == 200
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize(
    ("listing", "action"),
    [
        ("wagtail_iom_routes:list", Action.EXPORT_ROUTES),
        ("wagtail_iom_diagnostics:index", Action.EXPORT_DIAGNOSTICS),
    ],
)
def test_an_export_logs_each_teacher_in_it_with_constant_queries(
    client, head, monkeypatch, listing, action
):
    client.force_login(head)

    def export_queries(fmt):
        with CaptureQueriesContext(connection) as logged:
            response = client.get(reverse(listing), {"export": fmt})
            assert response.status_code == 200
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        with monkeypatch.context() as patched:
            patched.setattr(access_log, "record_export", lambda *args, **kwargs: 0)
            with CaptureQueriesContext(connection) as unlogged:
                response = client.get(reverse(listing), {"export": fmt})
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
        return len(logged) - len(unlogged)

    teachers = []
    added = []
    for count in (2, 7):
        while len(teachers) < count:
            teacher = make_teacher(
                username=f"t{len(teachers)}", last_name=f"Педагог{len(teachers)}"
            )
            make_route(teacher)
            DiagnosticResult.objects.create(
                teacher=teacher,
                date=timezone.localdate(),
                procedure="self",
                level="low",
                total_score=40,
            )
            teachers.append(teacher)
        PersonalDataAccess.objects.all().delete()
        added.append(export_queries("csv"))
        records = PersonalDataAccess.objects.filter(action=action)
        assert set(records.values_list("teacher_id", flat=True)) == {t.pk for t in teachers}
        assert records.count() == count
        assert set(records.values_list("staff_member_id", flat=True)) == {head.pk}
        assert set(records.values_list("detail", flat=True)) == {"csv"}
    assert added[0] == added[1] <= 2


def test_a_curators_export_logs_only_the_teachers_it_holds(client, curator, mine):
    make_route(make_teacher(username="theirs", last_name="Чужакова"))
    client.force_login(curator)
    response = client.get(reverse("wagtail_iom_routes:list"), {"export": "xlsx"})
    assert response.status_code == 200
    records = PersonalDataAccess.objects.filter(action=Action.EXPORT_ROUTES)
    assert list(records.values_list("teacher_id", flat=True)) == [mine["teacher"].pk]
    assert records.get().detail == "xlsx"


def test_a_sign_up_export_is_logged(client, superuser, teacher, resource_map):
    from tests.factories import make_event
    from wagtail_iom.models import Registration

    Registration.objects.create(event=make_event(resource_map), user=teacher.user)
    client.force_login(superuser)
    response = client.get(reverse("wagtail_iom_registrations:index"), {"export": "csv"})
    b"".join(response.streaming_content)
    record = PersonalDataAccess.objects.get()
    assert (record.teacher, record.action) == (teacher, Action.EXPORT_REGISTRATIONS)


# The access log screen ------------------------------------------------------------------------


@pytest.fixture
def logged(curator, head, mine):
    other = make_teacher(username="other", last_name="Другова")
    access_log.record(curator, Action.VIEW_ROUTE, mine["teacher"].pk, object_id=mine["route"].pk)
    access_log.record(head, Action.VIEW_PROFILE, other.pk, object_id=other.pk)
    access_log.record(head, Action.PRINT_ROUTE, mine["teacher"].pk, detail="compact.pdf")
    return {"other": other}


def test_the_centre_head_reads_and_filters_the_access_log(client, head, curator, mine, logged):
    client.force_login(head)
    response = client.get(ACCESS_LOG)
    assert response.status_code == 200
    assert len(response.context["object_list"]) == 3

    by_teacher = client.get(ACCESS_LOG, {"teacher": mine["teacher"].pk})
    assert {r.teacher_id for r in by_teacher.context["object_list"]} == {mine["teacher"].pk}
    assert len(by_teacher.context["object_list"]) == 2

    by_staff = client.get(ACCESS_LOG, {"staff_member": curator.pk})
    assert [r.action for r in by_staff.context["object_list"]] == [Action.VIEW_ROUTE]

    by_action = client.get(ACCESS_LOG, {"action": Action.PRINT_ROUTE})
    assert [r.detail for r in by_action.context["object_list"]] == ["compact.pdf"]

    today = timezone.localdate()
    by_date = client.get(ACCESS_LOG, {"at_after": today + datetime.timedelta(days=1)})
    assert len(by_date.context["object_list"]) == 0


def test_the_access_log_exports_as_csv_and_xlsx(client, head, curator, mine, logged):
    client.force_login(head)
    response = client.get(ACCESS_LOG, {"export": "csv", "staff_member": curator.pk})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "Своякова" in body
    assert "Curator" in body or "Куратор" in body  # the staff member's name
    assert "Другова" not in body

    response = client.get(ACCESS_LOG, {"export": "xlsx"})
    content = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert len(rows) == 4  # the headings and three records


def test_only_the_centre_head_reads_the_access_log(client, curator, logged):
    client.force_login(curator)
    response = client.get(ACCESS_LOG)
    assert response.status_code == 403
    assert client.get(ACCESS_LOG, {"export": "csv"}).status_code == 403
    admin_home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert ACCESS_LOG not in admin_home


def test_the_access_log_is_in_the_reports_menu_of_the_centre_head(client, head):
    client.force_login(head)
    assert ACCESS_LOG in client.get(reverse("wagtailadmin_home")).content.decode()


@pytest.mark.parametrize("value", ["abc", "99999999999999999999999", "1\x00"])
def test_bad_filter_values_are_not_a_server_error(client, head, logged, value):
    client.force_login(head)
    for name in ("teacher", "staff_member", "at_after"):
        assert client.get(ACCESS_LOG, {name: value}).status_code in (200, 400)
