"""Wagtail's site history report and objects' histories keep a staff member inside their scope.

Changes to teachers' profiles, routes, diagnostics and sign-ups are logged as
``TeacherLogEntry`` rows that name their teacher (core/history.py). A curator who holds every
permission on those models but is assigned one teacher reads, in the site history report, its
CSV and XLSX exports, its filters and every object's history, only the entries about that
teacher; the centre head reads them all.
"""

import datetime
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

from tests.factories import SchoolFactory, UserFactory, make_event, make_teacher
from wagtail_iom.core.models import TeacherLogEntry
from wagtail_iom.curators import assignments
from wagtail_iom.models import (
    CuratorAssignment,
    DiagnosticResult,
    Registration,
    Route,
    StaffMembership,
    StaffRole,
    TeacherProfile,
)

pytestmark = pytest.mark.django_db

MINE = "Своякова"
THEIRS = "Чужакова"
SITE_HISTORY = reverse("wagtailadmin_reports:site_history")


def grant_all_teacher_permissions(user):
    group = Group.objects.create(name=f"Все права на педагогов {user.username}")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="wagtail_iom",
            content_type__model__in=[
                "teacherprofile",
                "diagnosticresult",
                "route",
                "registration",
            ],
        ),
        Permission.objects.get(codename="access_admin"),
    )
    user.groups.add(group)


@pytest.fixture
def teachers(resource_map):
    """Two teachers, each with a profile change, a route and its revision, a diagnostic and a
    sign-up logged in Wagtail's log."""
    today = timezone.localdate()
    editor = UserFactory(username="editor", is_superuser=True)
    made = {}
    for key, last_name in (("mine", MINE), ("theirs", THEIRS)):
        school = SchoolFactory()
        teacher = make_teacher(
            username=key, last_name=last_name, school=school, municipality=school.municipality
        )
        log(teacher, "wagtail.edit", user=editor)
        route = Route.objects.create(
            teacher=teacher, starts_on=today, ends_on=today + datetime.timedelta(days=200)
        )
        log(route, "wagtail.create", user=editor)
        route.save_revision(user=editor, log_action=True)
        diagnostic = DiagnosticResult.objects.create(
            teacher=teacher, date=today, procedure="self", level="low", total_score=30
        )
        log(diagnostic, "wagtail.create", user=editor)
        registration = Registration.objects.create(
            event=make_event(resource_map, title=f"Семинар {key}"), user=teacher.user
        )
        log(registration, "wagtail.edit", user=editor)
        made[key] = {
            "teacher": teacher,
            "route": route,
            "diagnostic": diagnostic,
            "registration": registration,
        }
    return made


@pytest.fixture
def curator(teachers):
    user = UserFactory(username="curator", first_name="Кира", last_name="Кураторова")
    grant_all_teacher_permissions(user)
    StaffMembership.objects.create(user=user, role=StaffRole.CURATOR)
    CuratorAssignment.objects.create(teacher=teachers["mine"]["teacher"], curator=user)
    return user


def test_entries_about_teachers_name_their_teacher(teachers):
    for key in ("mine", "theirs"):
        made = teachers[key]
        for obj in (made["teacher"], made["route"], made["diagnostic"], made["registration"]):
            entries = log_registry.get_logs_for_instance(obj)
            assert entries.model is TeacherLogEntry
            assert entries.exists(), obj
            assert {entry.teacher_id for entry in entries} == {made["teacher"].pk}
    # Nothing about them went to Wagtail's unscoped log.
    assert not ModelLogEntry.objects.filter(
        content_type__app_label="wagtail_iom",
        content_type__model__in=["teacherprofile", "route", "diagnosticresult", "registration"],
    ).exists()


def test_the_site_history_report_shows_a_curator_only_their_teachers(client, curator, teachers):
    client.force_login(curator)
    response = client.get(SITE_HISTORY)
    assert response.status_code == 200
    body = response.content.decode()
    assert MINE in body
    assert THEIRS not in body
    # Every kind of entry about the own teacher is there (profile, route, revision, diagnostic,
    # sign-up), and none of the other's.
    visible = TeacherLogEntry.objects.viewable_by_user(curator)
    assert {entry.teacher_id for entry in visible} == {teachers["mine"]["teacher"].pk}
    assert (
        visible.count()
        == TeacherLogEntry.objects.filter(teacher=teachers["mine"]["teacher"]).count()
    )
    assert visible.count() >= 5


def test_the_site_history_exports_show_a_curator_only_their_teachers(client, curator, teachers):
    client.force_login(curator)
    csv_response = client.get(SITE_HISTORY, {"export": "csv"})
    assert csv_response.status_code == 200
    csv_body = b"".join(csv_response.streaming_content).decode("utf-8")
    assert MINE in csv_body
    assert THEIRS not in csv_body

    xlsx_response = client.get(SITE_HISTORY, {"export": "xlsx"})
    assert xlsx_response.status_code == 200
    content = (
        b"".join(xlsx_response.streaming_content)
        if getattr(xlsx_response, "streaming", False)
        else xlsx_response.content
    )
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row)
    assert MINE in cells
    assert THEIRS not in cells


def test_the_report_filters_offer_a_curator_nothing_from_outside(client, curator, teachers):
    """The "user" filter lists only the authors of visible entries."""
    other_editor = UserFactory(username="other-editor", last_name="Посторонний")
    log(teachers["theirs"]["route"], "wagtail.edit", user=other_editor)
    client.force_login(curator)
    body = client.get(SITE_HISTORY).content.decode()
    assert "Посторонний" not in body
    # Filtering the report by the other teacher's route's content type still hides it.
    route_type = ContentType.objects.get_for_model(Route)
    body = client.get(SITE_HISTORY, {"object_type": route_type.pk}).content.decode()
    assert MINE in body
    assert THEIRS not in body


def test_the_centre_head_and_a_superuser_read_every_entry(client, teachers):
    head = UserFactory(username="head")
    grant_all_teacher_permissions(head)
    StaffMembership.objects.create(user=head, role=StaffRole.CENTRE_HEAD)
    for user in (head, UserFactory(username="root", is_superuser=True)):
        client.force_login(user)
        body = client.get(SITE_HISTORY).content.decode()
        assert MINE in body
        assert THEIRS in body
        assert TeacherLogEntry.objects.viewable_by_user(user).count() == (
            TeacherLogEntry.objects.count()
        )


@pytest.mark.parametrize("role", [StaffRole.MUNICIPAL_METHODIST, StaffRole.SCHOOL_HEAD])
def test_methodists_and_school_heads_read_their_teachers_entries(client, teachers, role):
    mine = teachers["mine"]["teacher"]
    user = UserFactory(username=f"staff-{role}")
    grant_all_teacher_permissions(user)
    if role == StaffRole.MUNICIPAL_METHODIST:
        StaffMembership.objects.create(user=user, role=role, municipality=mine.municipality)
    else:
        StaffMembership.objects.create(user=user, role=role, school=mine.school)
    theirs = teachers["theirs"]["teacher"]
    assert (theirs.municipality_id, theirs.school_id) != (mine.municipality_id, mine.school_id)
    client.force_login(user)
    body = client.get(SITE_HISTORY).content.decode()
    assert MINE in body
    assert THEIRS not in body


def test_an_objects_history_shows_the_entries_about_it(client, curator, teachers):
    client.force_login(curator)
    route = teachers["mine"]["route"]
    response = client.get(reverse("wagtail_iom_routes:history", args=[route.pk]))
    assert response.status_code == 200
    shown = list(response.context["object_list"])
    assert shown
    assert {entry.teacher_id for entry in shown} == {teachers["mine"]["teacher"].pk}
    assert {entry.object_id for entry in shown} == {str(route.pk)}
    foreign = teachers["theirs"]["route"]
    response = client.get(reverse("wagtail_iom_routes:history", args=[foreign.pk]))
    assert response.status_code in (403, 404)


def test_an_entry_about_a_deleted_teacher_stays_for_those_who_see_everyone(curator, teachers):
    theirs = teachers["theirs"]["teacher"]
    pk = theirs.pk
    head = UserFactory(username="head", is_superuser=True)
    theirs.delete()
    assert not TeacherProfile.objects.filter(pk=pk).exists()
    assert TeacherLogEntry.objects.viewable_by_user(head).filter(teacher_id=pk).exists()
    assert not TeacherLogEntry.objects.viewable_by_user(curator).filter(teacher_id=pk).exists()


def test_curator_assignments_are_logged_about_the_teacher(curator, teachers):
    mine = teachers["mine"]["teacher"]
    theirs = teachers["theirs"]["teacher"]
    other_curator = UserFactory(username="other-curator")
    StaffMembership.objects.create(user=other_curator, role=StaffRole.CURATOR)
    assignments.assign(TeacherProfile.objects.filter(pk=theirs.pk), other_curator, curator)
    entry = TeacherLogEntry.objects.filter(object_id=str(theirs.pk)).latest("timestamp")
    assert entry.teacher_id == theirs.pk
    assert not TeacherLogEntry.objects.viewable_by_user(curator).filter(pk=entry.pk).exists()
    assert mine.pk != theirs.pk


@pytest.mark.parametrize("export", [None, "csv", "xlsx"])
def test_the_site_history_lists_and_exports_pages_other_models_and_teachers_together(
    client, teachers, resource_map, export
):
    """The report unites three log models (Wagtail's pages and models, and the teachers'):
    every row comes back, in the listing and both exports, on every supported Django."""
    school = SchoolFactory(short_name="Школа с журналом")
    log(school, "wagtail.edit", user=UserFactory(username="school-editor", is_superuser=True))
    log(resource_map, "wagtail.edit")
    client.force_login(UserFactory(username="root", is_superuser=True))
    params = {"export": export} if export else {}
    response = client.get(SITE_HISTORY, params)
    assert response.status_code == 200
    if export == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        body = " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row)
    elif export == "csv":
        body = b"".join(response.streaming_content).decode("utf-8")
    else:
        body = response.content.decode()
    assert "Школа с журналом" in body
    assert resource_map.title in body
    assert MINE in body
    assert THEIRS in body
