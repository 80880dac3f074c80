"""Demo teachers: profiles, diagnostics, sign-ups with waiting lists, attendance; idempotent."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from sandbox.home.demo import teachers
from wagtail_iom.models import (
    AttendanceMark,
    CompetencyScore,
    DiagnosticResult,
    Registration,
    RegistrationStatus,
    TeacherProfile,
)

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "profiles": sorted(TeacherProfile.objects.values_list("pk", "user__username")),
        "registrations": sorted(Registration.objects.values_list("pk", "event_id", "status")),
        "marks": AttendanceMark.objects.count(),
        "results": DiagnosticResult.objects.count(),
        "scores": CompetencyScore.objects.count(),
    }


def test_demo_teachers_are_built_once_with_everything_a_cabinet_shows(capsys):
    call_command("load_demo_data")
    first = snapshot()
    call_command("load_demo_data")
    assert snapshot() == first
    assert len(first["profiles"]) == len(teachers.TEACHERS)
    statuses = {status for *_, status in first["registrations"]}
    assert {RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED} <= statuses
    assert RegistrationStatus.PENDING in statuses
    assert first["marks"] > 0
    assert first["results"] == 2 * len(teachers.TEACHERS)
    out = capsys.readouterr().out
    assert teachers.TEACHER_EMAIL in out and teachers.TEACHER_PASSWORD in out


def test_the_printed_demo_teacher_login_opens_the_cabinet():
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    client = Client()
    response = client.post(
        reverse("wagtail_iom:login"),
        {"username": teachers.TEACHER_EMAIL, "password": teachers.TEACHER_PASSWORD},
    )
    assert response.status_code == 302
    cabinet = client.get(reverse("wagtail_iom:cabinet"))
    assert cabinet.status_code == 200
    assert cabinet.context["upcoming"]


def test_demo_routes_cover_every_status_and_every_kind_of_step():
    from wagtail_iom.models import Route, RouteStatus, RouteTransition
    from wagtail_iom.routes.services import iter_steps

    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = sorted(Route.objects.values_list("pk", "status"))
    transitions = RouteTransition.objects.count()
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sorted(Route.objects.values_list("pk", "status")) == first
    assert RouteTransition.objects.count() == transitions
    assert set(RouteStatus.values) == {status for _pk, status in first}
    # An audited route has its audit (a route becomes audited only with one).
    from wagtail_iom.models import RouteAudit

    audited = {pk for pk, status in first if status == RouteStatus.AUDITED}
    assert set(RouteAudit.objects.values_list("route_id", flat=True)) == audited
    kinds = {child.block_type for route in Route.objects.all() for _s, child in iter_steps(route)}
    assert kinds == {
        "event",
        "choose_one",
        "self_education",
        "external_course",
        "mentoring",
        "task_row",
    }


def test_loading_the_demo_sends_no_e_mail(mailoutbox):
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert mailoutbox == []


def test_the_demo_framework_has_the_professional_standards_functions_and_skills():
    from sandbox.home.demo import framework
    from wagtail_iom.models import Competency, Route, RouteLayout
    from wagtail_iom.routes.documents import route_document

    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    competencies = Competency.objects.filter(code__in=framework.STANDARD)

    assert competencies.count() == len(framework.STANDARD)
    for competency in competencies:
        assert competency.labour_functions.startswith(("A/0", "B/0")), competency.code
        assert competency.knowledge_and_skills, competency.code
    # An editor's own words are kept when the demo is loaded again.
    competencies.filter(code="METH-1").update(labour_functions="Своя формулировка")
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Competency.objects.get(code="METH-1").labour_functions == "Своя формулировка"
    # The demo routes print them in the programme by competency groups.
    document = route_document(Route.objects.first(), RouteLayout.COMPETENCY_GROUPS)
    programme = next(table for table in document.tables() if table.key == "programme")
    assert any(row.cells[3] for row in programme.rows)
