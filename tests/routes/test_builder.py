"""The route builder: snapshots of sections 1 and 2, a new route, suggested events, event steps."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction

from tests.factories import (
    CompetencyFactory,
    MunicipalityFactory,
    SchoolFactory,
    UserFactory,
    make_event,
    make_teacher,
)
from wagtail_iom.models import (
    Achievement,
    CommunityMembership,
    CompetencyScore,
    DiagnosticResult,
    FurtherEducation,
    ProfessionalRequest,
    RegionalProject,
    Registration,
    Route,
    RouteStatus,
)
from wagtail_iom.routes import builder as route_builder
from wagtail_iom.routes.blocks import RouteStage
from wagtail_iom.routes.services import RouteError, add_months, iter_steps

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


TODAY = timezone.localdate()
T10, T12 = datetime.time(10, 0), datetime.time(12, 0)


def in_days(days):
    return TODAY + datetime.timedelta(days=days)


def add_result(teacher, days_ago, scores, total=55, level="basic"):
    result = DiagnosticResult.objects.create(
        teacher=teacher,
        date=TODAY - datetime.timedelta(days=days_ago),
        procedure="self",
        procedure_name="Самодиагностика",
        total_score=total,
        level=level,
    )
    CompetencyScore.objects.bulk_create(
        CompetencyScore(result=result, competency=c, score=s) for c, s in scores.items()
    )
    return result


@pytest.fixture
def place():
    municipality = MunicipalityFactory(name="Гусевский городской округ")
    return municipality, SchoolFactory(municipality=municipality, name="Школа № 1")


@pytest.fixture
def comps():
    return [CompetencyFactory(code=f"T-{n}", name=f"Компетенция {n}") for n in range(3)]


@pytest.fixture
def teacher_with_data(place, comps):
    municipality, school = place
    teacher = make_teacher(
        username="t1",
        municipality=municipality,
        school=school,
        position="Учитель физики",
        qualification_category="highest",
        attestation_date=datetime.date(2024, 3, 15),
        teaching_experience_years=12,
        mentoring_role="mentor",
        mentoring_partner="Петрова А. А.",
    )
    FurtherEducation.objects.create(
        profile=teacher, kind="regional", place="ИРО", programme="Цифровая школа", hours=36,
        completed_on=TODAY - datetime.timedelta(days=100), certificate_number="123",
    )  # fmt: skip
    FurtherEducation.objects.create(
        profile=teacher, kind="federal", place="Академия", programme="Старый курс", hours=72,
        completed_on=TODAY - datetime.timedelta(days=5 * 365),
    )  # fmt: skip
    Achievement.objects.create(
        profile=teacher, direction="methodical", description="Статья", year=TODAY.year
    )
    CommunityMembership.objects.create(profile=teacher, name="РМО физиков", status="head")
    RegionalProject.objects.create(profile=teacher, name="Точка роста", role="наставник")
    ProfessionalRequest.objects.create(
        profile=teacher, interest_areas="Цифровые инструменты", goal="Освоить цифровые сервисы"
    )
    add_result(teacher, 30, {comps[0]: 20, comps[1]: 40, comps[2]: 90})
    return teacher


def new_route(teacher, starts_on=TODAY, ends_on=None, curator=None):
    return route_builder.create_route(
        teacher, curator, starts_on, ends_on or add_months(TODAY, 12), None
    )


# Snapshots ------------------------------------------------------------------------------------


def test_take_snapshot_fills_sections_one_and_two(teacher_with_data, comps):
    route = Route(teacher=teacher_with_data, starts_on=TODAY, ends_on=add_months(TODAY, 6))
    route_builder.take_snapshot(route)

    profile = route.profile_snapshot
    card = {row["field"]: row["value"] for row in profile["card"]}
    assert [row["field"] for row in profile["card"]] == list(route_builder.CARD_FIELDS)
    assert card["full_name"] == "Иванова Мария Петровна"
    assert card["municipality"] == "Гусевский городской округ"
    assert card["school"] == "Школа № 1"
    assert card["qualification_category"] == "Highest category"
    assert card["teaching_experience_years"] == "12"
    assert card["attestation_date"]  # a display string
    groups = {group["kind"]: group for group in profile["further_education"]}
    assert [c["programme"] for c in groups["regional"]["courses"]] == ["Цифровая школа"]
    assert groups["federal"]["courses"] == []  # older than three years
    assert groups["regional"]["hours"] == 36
    directions = {group["direction"]: group["items"] for group in profile["achievements"]}
    assert [item["description"] for item in directions["methodical"]] == ["Статья"]
    assert directions["informational"] == []
    assert profile["communities"] == [
        {"name": "РМО физиков", "status": "head", "status_label": "Head"}
    ]
    assert profile["regional_projects"] == [{"name": "Точка роста", "role": "наставник"}]
    assert profile["mentoring"]["role"] == "mentor"
    assert profile["mentoring"]["partner"] == "Петрова А. А."

    diagnostics = route.diagnostics_snapshot
    assert diagnostics["latest"]["procedure"] == "self"
    assert diagnostics["latest"]["procedure_name"] == "Самодиагностика"
    assert diagnostics["latest"]["total_score"] == 55.0
    assert diagnostics["latest"]["level"] == "basic"
    assert [d["competency_id"] for d in diagnostics["deficits"]] == [comps[0].pk, comps[1].pk]
    assert diagnostics["deficits"][0]["score"] == 20.0
    assert [p["competency_id"] for p in diagnostics["proficits"]] == [comps[2].pk]
    assert diagnostics["request"]["goal"] == "Освоить цифровые сервисы"
    assert route.snapshot_taken_at is not None
    # Plain JSON: what the database stores is what comes back.
    assert json.loads(json.dumps(route.profile_snapshot)) == route.profile_snapshot
    assert json.loads(json.dumps(route.diagnostics_snapshot)) == route.diagnostics_snapshot


def test_snapshot_of_an_empty_profile(place):
    teacher = make_teacher(username="empty")
    route = Route(teacher=teacher, starts_on=TODAY, ends_on=add_months(TODAY, 6))
    route_builder.take_snapshot(route)
    assert route.diagnostics_snapshot["latest"] is None
    assert route.diagnostics_snapshot["deficits"] == []
    assert route.diagnostics_snapshot["request"] is None
    card = {row["field"]: row["value"] for row in route.profile_snapshot["card"]}
    assert card["municipality"] == ""
    assert card["attestation_date"] == ""


def test_refresh_snapshot_saves_a_revision(teacher_with_data, comps):
    route = new_route(teacher_with_data)
    revisions = route.revisions.count()
    CommunityMembership.objects.create(profile=teacher_with_data, name="Клуб", status="member")
    route_builder.refresh_snapshot(route, by_user=None)
    route.refresh_from_db()
    assert [c["name"] for c in route.profile_snapshot["communities"]] == ["РМО физиков", "Клуб"]
    assert route.revisions.count() == revisions + 1


def test_refresh_snapshot_refused_once_sent(teacher_with_data):
    route = new_route(teacher_with_data)
    Route.objects.filter(pk=route.pk).update(status=RouteStatus.SENT_FOR_APPROVAL)
    before = route.profile_snapshot
    CommunityMembership.objects.create(profile=teacher_with_data, name="Клуб", status="member")
    with pytest.raises(RouteError) as error:
        route_builder.refresh_snapshot(route, by_user=None)
    assert error.value.code == "not_editable"
    route.refresh_from_db()
    assert route.profile_snapshot == before


# Creating -------------------------------------------------------------------------------------


def test_create_route(teacher_with_data):
    curator = UserFactory(username="cur")
    route = route_builder.create_route(
        teacher_with_data, curator, TODAY, add_months(TODAY, 12), curator
    )
    route.refresh_from_db()
    assert route.status == RouteStatus.DEVELOPMENT
    assert route.curator == curator
    assert route.created_by == curator
    assert [stage.value["stage"] for stage in route.roadmap] == RouteStage.ORDER
    assert list(iter_steps(route)) == []
    assert route.profile_snapshot["card"]
    assert route.diagnostics_snapshot["deficits"]
    assert route.goal == "Освоить цифровые сервисы"
    assert route.revisions.count() == 1
    assert route.latest_revision is not None


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (TODAY, TODAY),  # ends when it starts
        (TODAY, TODAY - datetime.timedelta(days=1)),  # ends before it starts
        (TODAY, TODAY + datetime.timedelta(days=10)),  # shorter than a month
        (TODAY, add_months(TODAY, 37)),  # longer than three years
    ],
)
def test_create_route_refuses_a_bad_period(teacher_with_data, starts, ends):
    with pytest.raises(ValidationError) as error:
        route_builder.create_route(teacher_with_data, None, starts, ends, None)
    assert "ends_on" in error.value.message_dict
    assert not Route.objects.exists()


# Suggestions ----------------------------------------------------------------------------------


@pytest.fixture
def event_factory(resource_map):
    counter = iter(range(1000))

    def factory(competencies, days=10, **fields):
        number = next(counter)
        fields.setdefault("title", f"Событие {number}")
        fields.setdefault("slug", f"event-{number}")
        sessions = fields.pop("sessions", None) or [(in_days(days), T10, T12)]
        return make_event(resource_map, sessions=sessions, competencies=competencies, **fields)

    return factory


def titles(suggestion):
    return [item.event.title for item in suggestion.events]


def test_suggestions_order_municipality_then_level_then_date(
    teacher_with_data, comps, event_factory, place
):
    municipality, _school = place
    other = MunicipalityFactory()
    target = [comps[0]]
    event_factory(target, days=5, title="Федеральное", level="federal")
    event_factory(target, days=20, title="Региональное позже", level="regional")
    event_factory(target, days=15, title="Региональное раньше", level="regional")
    event_factory(target, days=30, title="Своё муниципальное", level="municipal",
                  municipality=municipality)  # fmt: skip
    event_factory(target, days=2, title="Чужое муниципальное", level="municipal",
                  municipality=other)  # fmt: skip
    route = new_route(teacher_with_data)

    suggestions = route_builder.suggest_events(route)

    assert [s.competency_id for s in suggestions] == [comps[0].pk, comps[1].pk]
    assert titles(suggestions[0]) == [
        "Своё муниципальное",
        "Чужое муниципальное",
        "Региональное раньше",
        "Региональное позже",
        "Федеральное",
    ]
    assert suggestions[0].events[0].in_teacher_municipality
    assert titles(suggestions[1]) == []


def test_suggestions_leave_out_what_cannot_be_taken(
    teacher_with_data, comps, event_factory, resource_map
):
    target = [comps[0]]
    now = timezone.now()
    event_factory(target, title="Подходит", capacity=2)
    event_factory([comps[0], comps[2]], title="Другая компетенция")
    event_factory([comps[2]], title="Не дефицит")
    event_factory(target, days=-3, title="Прошло")
    event_factory(target, title="Отменено", status="cancelled", status_reason="Болезнь")
    event_factory(target, title="Запись закрыта", registration_closes_at=now - datetime.timedelta(hours=1))  # fmt: skip
    event_factory(target, title="Запись откроется", registration_opens_at=now + datetime.timedelta(days=1))  # fmt: skip
    event_factory(target, title="Черновик", publish=False)
    full = event_factory(target, title="Мест нет", capacity=1)
    Registration.objects.create(event=full, user=UserFactory(), status="confirmed")
    waiting = event_factory(target, title="Только ожидание", capacity=1)
    Registration.objects.create(event=waiting, user=UserFactory(), status="waitlisted")
    private = event_factory(target, title="Закрытое")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    route = new_route(teacher_with_data)

    got = set(titles(route_builder.suggest_events(route, limit_per_deficit=20)[0]))

    assert got == {"Подходит", "Другая компетенция", "Запись откроется", "Только ожидание"}


def test_suggestions_respect_the_limit_and_skip_events_in_the_roadmap(
    teacher_with_data, comps, event_factory
):
    events = [event_factory([comps[0]], days=3 + n, title=f"E{n}") for n in range(4)]
    route = new_route(teacher_with_data)
    assert titles(route_builder.suggest_events(route, limit_per_deficit=2)[0]) == ["E0", "E1"]
    route_builder.add_event_step(route, events[0], by_user=None)
    route.refresh_from_db()
    assert titles(route_builder.suggest_events(route, limit_per_deficit=2)[0]) == ["E1", "E2"]


def test_suggestion_seats_left(teacher_with_data, comps, event_factory):
    event = event_factory([comps[0]], capacity=3)
    Registration.objects.create(event=event, user=UserFactory(), status="confirmed")
    route = new_route(teacher_with_data)
    item = route_builder.suggest_events(route)[0].events[0]
    assert item.seats_left == 2
    assert item.first_session.date == in_days(10)


def test_suggestion_queries_do_not_grow_with_deficits(teacher_with_data, comps, event_factory):
    route = new_route(teacher_with_data)
    for competency in comps[:2]:
        event_factory([competency])
    route = Route.objects.get(pk=route.pk)
    with CaptureQueriesContext(connection) as few:
        result = route_builder.suggest_events(route)
    assert sum(len(s.events) for s in result) == 2

    many = [CompetencyFactory() for _ in range(8)]
    add_result(teacher_with_data, 1, dict.fromkeys(many, 10))
    for competency in many:
        event_factory([competency])
        event_factory([competency])
    route_builder.refresh_snapshot(route, by_user=None)
    route = Route.objects.get(pk=route.pk)
    with CaptureQueriesContext(connection) as lots:
        result = route_builder.suggest_events(route)
    assert len(result) == 10
    assert sum(len(s.events) for s in result) == 18
    assert len(lots) == len(few)


# Adding an event as a step --------------------------------------------------------------------


def test_add_event_step(teacher_with_data, comps, event_factory):
    event = event_factory(
        [comps[0], comps[2]],
        level="municipal",
        sessions=[(in_days(10), T10, T12), (in_days(40), T10, T12)],
    )
    route = new_route(teacher_with_data)
    revisions = route.revisions.count()

    step_id = route_builder.add_event_step(route, event, RouteStage.DESIGN, by_user=None)

    route.refresh_from_db()
    steps = [(stage, child) for stage, child in iter_steps(route)]
    assert len(steps) == 1
    stage, child = steps[0]
    assert stage == RouteStage.DESIGN
    assert child.id == step_id
    assert child.block_type == "event"
    assert child.value["event"].pk == event.pk
    assert child.value["level"] == "municipal"
    assert child.value["competencies"] == [str(comps[0].pk)]  # the proficit is left out
    assert child.value["deadline"] == in_days(40)
    assert route.revisions.count() == revisions + 1
    route.full_clean()


def test_add_event_step_deadline_outside_the_period_is_left_empty(
    teacher_with_data, comps, event_factory
):
    event = event_factory([comps[0]], days=60)
    # A one-month route: shorter than a regular route's default bounds.
    with override_settings(WAGTAIL_IOM={"ROUTE_LENGTH_MONTHS": {"regular": (1, 12)}}):
        route = new_route(teacher_with_data, ends_on=add_months(TODAY, 1))
        route_builder.add_event_step(route, event, by_user=None)
        route.refresh_from_db()
        ((stage, child),) = iter_steps(route)
        assert stage == route_builder.DEFAULT_EVENT_STAGE
        assert child.value["deadline"] is None
        route.full_clean()


def test_add_event_step_recreates_a_missing_stage_in_order(teacher_with_data, comps, event_factory):
    event = event_factory([comps[0]])
    route = new_route(teacher_with_data)
    route.roadmap = [
        ("stage", {"stage": RouteStage.DIAGNOSTIC_MOTIVATIONAL, "steps": []}),
        ("stage", {"stage": RouteStage.REFLEXIVE, "steps": []}),
    ]
    route.save()
    route_builder.add_event_step(route, event, RouteStage.IMPLEMENTATION, by_user=None)
    route.refresh_from_db()
    assert [s.value["stage"] for s in route.roadmap] == [
        RouteStage.DIAGNOSTIC_MOTIVATIONAL,
        RouteStage.IMPLEMENTATION,
        RouteStage.REFLEXIVE,
    ]


def test_add_event_step_refusals(teacher_with_data, comps, event_factory):
    event = event_factory([comps[0]])
    route = new_route(teacher_with_data)
    route_builder.add_event_step(route, event, by_user=None)
    route.refresh_from_db()
    roadmap = route.roadmap.get_prep_value()

    with pytest.raises(RouteError) as duplicate:
        route_builder.add_event_step(route, event, by_user=None)
    assert duplicate.value.code == "duplicate"
    with pytest.raises(RouteError) as stage:
        route_builder.add_event_step(route, event_factory([comps[0]]), "nowhere", by_user=None)
    assert stage.value.code == "unknown_stage"
    Route.objects.filter(pk=route.pk).update(status=RouteStatus.APPROVED)
    with pytest.raises(RouteError) as status:
        route_builder.add_event_step(route, event_factory([comps[0]]), by_user=None)
    assert status.value.code == "not_editable"

    route.refresh_from_db()
    assert route.roadmap.get_prep_value() == roadmap


def test_without_a_municipality_no_event_counts_as_the_teachers(comps, event_factory):
    teacher = make_teacher(username="nowhere")
    add_result(teacher, 3, {comps[0]: 10})
    event_factory([comps[0]], days=9, title="Без муниципалитета")
    event_factory([comps[0]], days=4, title="С муниципалитетом", municipality=MunicipalityFactory())
    route = new_route(teacher)
    (suggestion,) = route_builder.suggest_events(route)
    assert titles(suggestion) == ["С муниципалитетом", "Без муниципалитета"]
    assert not any(item.in_teacher_municipality for item in suggestion.events)
