"""The route service: the period, validation, the workflow and completion marks."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from tests.factories import SchoolFactory, UserFactory, make_event, make_resource_map
from wagtail_iom.models import (
    AttendanceMark,
    CuratorAssignment,
    Registration,
    Route,
    RouteStatus,
    RouteTransition,
    StaffMembership,
    StaffRole,
    StepCompletion,
)
from wagtail_iom.routes import audit as route_audit
from wagtail_iom.routes import services as routes
from wagtail_iom.routes import workflow
from wagtail_iom.routes.services import RouteError

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


START = datetime.date(2027, 1, 10)


def stage(code, *steps):
    return {"type": "stage", "value": {"stage": code, "steps": list(steps)}}


def event_step(event, deadline=None):
    return {"type": "event", "value": {"event": event.pk, "deadline": deadline}}


def self_step(activity="Изучить ФГОС ООО", deadline=None):
    return {"type": "self_education", "value": {"activity": activity, "deadline": deadline}}


def make_route(teacher, roadmap=(), status=RouteStatus.DEVELOPMENT, **fields):
    values = {"starts_on": START, "ends_on": START + datetime.timedelta(days=365)}
    values.update(fields)
    route = Route.objects.create(teacher=teacher, roadmap=list(roadmap), status=status, **values)
    return Route.objects.get(pk=route.pk)  # read back: the stream's children have their ids


def staff(username, *perms, role=None, **role_fields):
    user = UserFactory(username=username)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="wagtail_iom", codename__in=perms)
    )
    if role:
        StaffMembership.objects.create(user=user, role=role, **role_fields)
    return type(user).objects.get(pk=user.pk)  # a fresh object: no cached permissions or roles


# The period -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (datetime.date(2027, 1, 31), 1, datetime.date(2027, 2, 28)),
        (datetime.date(2027, 11, 15), 3, datetime.date(2028, 2, 15)),
        (datetime.date(2028, 2, 29), 12, datetime.date(2029, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_months_end(day, months, expected):
    assert routes.add_months(day, months) == expected


@override_settings(WAGTAIL_IOM={"ROUTE_LENGTH_MONTHS": {"regular": (1, 36)}})
def test_period_bounds_follow_the_settings():
    """The overall bounds; the bounds by kind: tests/routes/test_route_kinds.py."""
    assert "ends_on" in routes.period_errors(START, START)
    assert "ends_on" in routes.period_errors(START, START - datetime.timedelta(days=1))
    assert "ends_on" in routes.period_errors(START, START + datetime.timedelta(days=20))
    assert routes.period_errors(START, routes.add_months(START, 1)) == {}
    assert routes.period_errors(START, routes.add_months(START, 36)) == {}
    assert "ends_on" in routes.period_errors(
        START, routes.add_months(START, 36) + datetime.timedelta(1)
    )
    with override_settings(
        WAGTAIL_IOM={
            "ROUTE_MIN_MONTHS": 6,
            "ROUTE_MAX_MONTHS": 12,
            "ROUTE_LENGTH_MONTHS": {"regular": (1, 12)},
        }
    ):
        assert "ends_on" in routes.period_errors(START, routes.add_months(START, 5))
        assert routes.period_errors(START, routes.add_months(START, 12)) == {}
        assert "ends_on" in routes.period_errors(START, routes.add_months(START, 13))


def test_a_deadline_outside_the_period_is_an_error_naming_the_step(teacher):
    route = make_route(
        teacher,
        [
            stage(
                "design",
                self_step(deadline=START + datetime.timedelta(days=10)),
                self_step(deadline=START + datetime.timedelta(days=400)),
            )
        ],
    )
    errors = routes.validate_route(route)
    assert set(errors) == {"roadmap"}
    assert "2" in str(errors["roadmap"])
    with pytest.raises(ValidationError):
        route.full_clean()


def test_an_event_with_sessions_outside_the_period_is_only_a_warning(teacher):
    resource_map = make_resource_map()
    event = make_event(
        resource_map,
        sessions=[(START - datetime.timedelta(days=3), datetime.time(10), datetime.time(12))],
    )
    route = make_route(teacher, [stage("implementation", event_step(event))])
    assert routes.validate_route(route) == {}
    (warning,) = routes.route_warnings(route)
    assert event.title in warning


# The workflow ---------------------------------------------------------------------------------


@pytest.fixture
def school(db):
    return SchoolFactory()


@pytest.fixture
def people(teacher, school):
    teacher.school = school
    teacher.municipality = school.municipality
    teacher.save()
    curator = staff("curator", "change_route", "view_route", role=StaffRole.CURATOR)
    CuratorAssignment.objects.create(teacher=teacher, curator=curator)
    head = staff("head", "view_route", "approve_route", role=StaffRole.SCHOOL_HEAD, school=school)
    other_school = SchoolFactory()
    other_head = staff(
        "otherhead", "view_route", "approve_route", role=StaffRole.SCHOOL_HEAD, school=other_school
    )
    methodist = staff(
        "methodist",
        "view_route",
        "audit_route",
        role=StaffRole.MUNICIPAL_METHODIST,
        municipality=school.municipality,
    )
    return {
        "curator": curator,
        "head": head,
        "other_head": other_head,
        "methodist": methodist,
    }


def test_the_whole_workflow_records_who_when_and_why(teacher, people):
    route = make_route(teacher)
    curator, head, methodist = people["curator"], people["head"], people["methodist"]
    assert workflow.allowed_transitions(route, curator) == [RouteStatus.SENT_FOR_APPROVAL]
    workflow.transition(route, RouteStatus.SENT_FOR_APPROVAL, curator)
    workflow.transition(route, RouteStatus.RETURNED, head, comment="Добавьте неформальный трек")
    workflow.transition(route, RouteStatus.SENT_FOR_APPROVAL, curator)
    workflow.transition(route, RouteStatus.APPROVED, head, comment="Согласовано")
    workflow.transition(route, RouteStatus.IMPLEMENTATION, curator)
    workflow.transition(route, RouteStatus.COMPLETED, curator)
    # A route becomes audited with its audit (routes/audit.py), never by a bare move.
    route_audit.record_audit(
        route,
        methodist,
        {"transfer_to_practice": "Применяет", "level_group": "basic", "conclusion": "Выполнен"},
        notify=False,
    )
    route.refresh_from_db()
    assert route.status == RouteStatus.AUDITED
    history = list(
        RouteTransition.objects.filter(route=route).values_list("to_status", "by__username")
    )
    assert history == [
        ("sent_for_approval", "curator"),
        ("returned", "head"),
        ("sent_for_approval", "curator"),
        ("approved", "head"),
        ("implementation", "curator"),
        ("completed", "curator"),
        ("audited", "methodist"),
    ]
    assert RouteTransition.objects.get(route=route, to_status="returned").comment


def test_a_move_the_status_does_not_allow_changes_nothing(teacher, people):
    route = make_route(teacher)
    with pytest.raises(RouteError) as caught:
        workflow.transition(route, RouteStatus.APPROVED, people["head"])
    assert caught.value.code == "not_allowed"
    with pytest.raises(RouteError):
        workflow.transition(route, "nonsense", people["curator"])
    route.refresh_from_db()
    assert route.status == RouteStatus.DEVELOPMENT
    assert not RouteTransition.objects.exists()


def test_only_the_head_of_the_teachers_school_approves(teacher, people):
    route = make_route(teacher, status=RouteStatus.SENT_FOR_APPROVAL)
    with pytest.raises(RouteError) as caught:
        workflow.transition(route, RouteStatus.APPROVED, people["other_head"])
    assert caught.value.code == "forbidden"
    with pytest.raises(RouteError):
        workflow.transition(route, RouteStatus.APPROVED, people["curator"])
    workflow.transition(route, RouteStatus.APPROVED, people["head"])
    assert Route.objects.get(pk=route.pk).status == RouteStatus.APPROVED


def test_returning_needs_a_comment(teacher, people):
    route = make_route(teacher, status=RouteStatus.SENT_FOR_APPROVAL)
    with pytest.raises(RouteError) as caught:
        workflow.transition(route, RouteStatus.RETURNED, people["head"], comment="  ")
    assert caught.value.code == "comment_required"
    assert Route.objects.get(pk=route.pk).status == RouteStatus.SENT_FOR_APPROVAL


def test_an_unassigned_curator_loses_the_route_on_the_next_request(teacher, people):
    route = make_route(teacher)
    curator = people["curator"]
    from wagtail_iom.core import access

    assert access.can_see_route(curator, route)
    CuratorAssignment.objects.filter(curator=curator).update(ended_at=timezone.now())
    fresh = type(curator).objects.get(pk=curator.pk)
    assert not access.can_see_route(fresh, route)
    assert not access.can_edit_route(fresh, route)
    with pytest.raises(RouteError):
        workflow.transition(route, RouteStatus.SENT_FOR_APPROVAL, fresh)


# Completion marks -----------------------------------------------------------------------------


def test_attendance_marks_the_event_step_done_without_editing_the_route(teacher):
    resource_map = make_resource_map()
    event = make_event(resource_map, sessions=[(START, datetime.time(10), datetime.time(12))])
    route = make_route(
        teacher,
        [stage("implementation", event_step(event), self_step()), stage("reflexive", self_step())],
    )
    steps = routes.route_steps(route)
    assert [s.done for s in steps] == [False, False, False]
    registration = Registration.objects.create(event=event, user=teacher.user)
    AttendanceMark.objects.create(registration=registration, session=event.sessions.first())
    StepCompletion.objects.create(route=route, step_id=steps[2].id, evidence_text="Эссе")
    steps = routes.route_steps(Route.objects.get(pk=route.pk))
    assert [s.done for s in steps] == [True, False, True]
    summary = routes.progress(steps)
    assert (summary["overall"].done, summary["overall"].total) == (2, 3)
    assert summary["by_stage"]["implementation"].done == 1
    assert summary["overall"].percent == 67


@pytest.mark.parametrize("size", [5, 100])
def test_reading_the_steps_takes_the_same_queries_for_any_number_of_steps(teacher, size):
    resource_map = make_resource_map(slug=f"m{size}")
    events = [make_event(resource_map, slug=f"e{size}-{n}", title=f"Событие {n}") for n in range(3)]
    steps = [event_step(events[n % 3]) if n % 2 else self_step() for n in range(size)]
    route = Route.objects.get(pk=make_route(teacher, [stage("implementation", *steps)]).pk)
    with CaptureQueriesContext(connection) as queries:
        listed = routes.route_steps(route)
    assert len(listed) == size
    # The teacher, the events of the stream (one query), attendance, sign-ups, completions.
    assert len(queries) <= 5, [q["sql"] for q in queries]
