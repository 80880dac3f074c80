"""Automatic route drafts from diagnostics: the steps follow the deficits, the length follows the
level, routes under way and routes made by hand are left alone, a repeated run changes nothing
and e-mails once, an import finishes by drafting, staff build drafts on demand for their
teachers only."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CompetencyFactory,
    MunicipalityFactory,
    SchoolFactory,
    UserFactory,
    make_event,
    make_teacher,
)
from wagtail_iom.directory import draft_templates
from wagtail_iom.models import (
    CompetencyScore,
    CuratorAssignment,
    DiagnosticResult,
    Route,
    RouteKind,
    RouteSource,
    RouteStatus,
    StaffMembership,
    StaffRole,
    TeacherLogEntry,
)
from wagtail_iom.routes import drafts
from wagtail_iom.routes.blocks import RouteStage
from wagtail_iom.routes.services import add_months, iter_steps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

TODAY = timezone.localdate()


def in_days(days):
    return TODAY + datetime.timedelta(days=days)


def add_result(teacher, scores, days_ago=3, level="basic", procedure="self"):
    result = DiagnosticResult.objects.create(
        teacher=teacher,
        date=TODAY - datetime.timedelta(days=days_ago),
        procedure=procedure,
        total_score=40,
        level=level,
    )
    CompetencyScore.objects.bulk_create(
        CompetencyScore(result=result, competency=c, score=s) for c, s in scores.items()
    )
    return result


def assign(teacher, curator):
    CuratorAssignment.objects.create(teacher=teacher, curator=curator)


def steps_of(route):
    route.refresh_from_db()
    return [(stage, child.block_type, child.value) for stage, child in iter_steps(route)]


@pytest.fixture
def place():
    municipality = MunicipalityFactory(name="Гусевский городской округ")
    return municipality, SchoolFactory(municipality=municipality)


@pytest.fixture
def comps():
    return [
        CompetencyFactory(
            code=f"D-{n}",
            name=f"Компетенция {n}",
            self_education_recommendation=f"Изучить литературу по теме {n}",
        )
        for n in range(3)
    ]


@pytest.fixture
def curator():
    return UserFactory(username="curator", first_name="Анна", last_name="Кураторова")


@pytest.fixture
def teacher(place, curator):
    municipality, school = place
    teacher = make_teacher(username="t1", municipality=municipality, school=school)
    assign(teacher, curator)
    return teacher


def build(results, capture, **kwargs):
    with capture(execute=True):
        return drafts.build_drafts([r.pk for r in results], **kwargs)


# The content -------------------------------------------------------------------------------------


def test_each_deficit_gets_an_event_step_or_self_education(
    resource_map, teacher, comps, place, django_capture_on_commit_callbacks
):
    municipality, _school = place
    # Deficits: comps[0] (20) and comps[1] (35); comps[2] (90) is a proficit.
    result = add_result(teacher, {comps[0]: 20, comps[1]: 35, comps[2]: 90})
    far = make_event(resource_map, title="Далёкий курс", slug="far", competencies=[comps[0]])
    near = make_event(
        resource_map,
        title="Курс в округе",
        slug="near",
        competencies=[comps[0]],
        level="municipal",
        municipality=municipality,
    )
    make_event(
        resource_map,
        title="Нет мест",
        slug="full",
        competencies=[comps[1]],
        capacity=0,
    )
    make_event(
        resource_map,
        title="Прошедшее",
        slug="past",
        competencies=[comps[1]],
        sessions=[(in_days(-3), datetime.time(10), datetime.time(12))],
    )

    (outcome,) = build([result], django_capture_on_commit_callbacks)

    assert outcome.action == drafts.CREATED
    route = Route.objects.get(pk=outcome.route_id)
    assert (route.status, route.source, route.source_diagnostic) == (
        RouteStatus.DEVELOPMENT,
        RouteSource.DIAGNOSTICS,
        result,
    )
    steps = steps_of(route)
    assert [(stage, kind) for stage, kind, _value in steps] == [
        (RouteStage.IMPLEMENTATION, "event"),
        (RouteStage.IMPLEMENTATION, "self_education"),
    ]
    event_step, self_step = steps[0][2], steps[1][2]
    # The route editor's matching: the teacher's municipality first.
    assert event_step["event"].pk == near.pk != far.pk
    assert event_step["competencies"] == [str(comps[0].pk)]
    # No upcoming event with a seat covers comps[1]: its recommendation is suggested.
    assert self_step["activity"] == "Изучить литературу по теме 1"
    assert self_step["competencies"] == [str(comps[1].pk)]
    assert route.goal.count("\n") == 1 and route.tasks.count("\n") == 1
    assert "Компетенция 0" in route.goal.splitlines()[0]
    assert route.curator.username == "curator"
    assert route.revisions.count() == 1
    assert TeacherLogEntry.objects.filter(
        action=drafts.LOG_ACTION, teacher=teacher, object_id=str(route.pk)
    ).exists()


def test_one_event_covering_two_deficits_is_one_step(
    resource_map, teacher, comps, django_capture_on_commit_callbacks
):
    result = add_result(teacher, {comps[0]: 20, comps[1]: 30})
    both = make_event(resource_map, title="Общий курс", slug="both", competencies=comps[:2])

    (outcome,) = build([result], django_capture_on_commit_callbacks)

    steps = steps_of(Route.objects.get(pk=outcome.route_id))
    assert len(steps) == 1
    assert steps[0][2]["event"].pk == both.pk
    assert sorted(steps[0][2]["competencies"]) == sorted([str(comps[0].pk), str(comps[1].pk)])


def test_templates_are_rendered_with_their_placeholders(
    teacher, comps, django_capture_on_commit_callbacks
):
    comps[0].route_goal_template = "Цель: {competency} ({code}), {score} % < {threshold} %"
    comps[0].route_task_template = "Задача для {teacher}, уровень {level}, {unknown}"
    comps[0].save()
    result = add_result(teacher, {comps[0]: 20, comps[1]: 35}, level="basic")

    (outcome,) = build([result], django_capture_on_commit_callbacks)

    route = Route.objects.get(pk=outcome.route_id)
    goal_lines, task_lines = route.goal.splitlines(), route.tasks.splitlines()
    assert goal_lines[0] == "Цель: Компетенция 0 (D-0), 20 % < 50 %"
    assert task_lines[0] == f"Задача для {teacher.full_name}, уровень Basic, {{unknown}}"
    # comps[1] has no template: the default text names the competency and the score.
    assert "Компетенция 1" in goal_lines[1] and "35" in goal_lines[1]
    assert steps_of(route)[0][2]["task"] == task_lines[0]


def test_a_template_with_an_unknown_placeholder_is_refused(comps):
    comps[0].route_goal_template = "{competency} {name.__class__}"
    with pytest.raises(ValidationError) as error:
        comps[0].full_clean()
    assert "route_goal_template" in error.value.message_dict
    assert draft_templates.unknown_placeholders("{a} {competency} {a}") == ["a"]
    assert draft_templates.render("{competency.__class__}", {"competency": "x"}) == (
        "{competency.__class__}"
    )


def test_the_competency_form_refuses_a_bad_template(admin_client, comps):
    competency = comps[0]
    url = reverse("wagtail_iom_competency:edit", args=[competency.pk])
    response = admin_client.post(
        url,
        {
            "group": competency.group_id,
            "name": competency.name,
            "code": competency.code,
            "route_goal_template": "{oops}",
        },
    )
    assert response.status_code == 200
    competency.refresh_from_db()
    assert competency.route_goal_template == ""


# The length --------------------------------------------------------------------------------------


def test_a_low_level_teacher_gets_six_months_the_others_the_default(
    place, comps, django_capture_on_commit_callbacks
):
    low = make_teacher(username="low")
    basic = make_teacher(username="basic")
    results = [
        add_result(low, {comps[0]: 10}, level="low"),
        add_result(basic, {comps[0]: 10}, level="basic"),
    ]

    build(results, django_capture_on_commit_callbacks)

    low_route, basic_route = Route.objects.get(teacher=low), Route.objects.get(teacher=basic)
    assert (low_route.kind, low_route.ends_on) == (RouteKind.LOW_LEVEL, add_months(TODAY, 6))
    assert (basic_route.kind, basic_route.ends_on) == (RouteKind.REGULAR, add_months(TODAY, 12))


@override_settings(WAGTAIL_IOM={"ROUTE_DRAFT_MONTHS": 9})
def test_the_default_length_is_a_setting(teacher, comps, django_capture_on_commit_callbacks):
    build([add_result(teacher, {comps[0]: 10})], django_capture_on_commit_callbacks)
    assert Route.objects.get(teacher=teacher).ends_on == add_months(TODAY, 9)


@pytest.mark.parametrize(
    "value, bad",
    [
        ({"ROUTE_DRAFT_MONTHS": 9}, False),
        ({"ROUTE_DRAFT_MONTHS": 3}, True),  # a regular route: 6 to 12 months
        ({"ROUTE_DRAFT_MONTHS": "12"}, True),
        ({"ROUTE_DRAFT_LOW_LEVEL_MONTHS": 7}, True),  # a low-level route: 6 months
        ({"ROUTE_DRAFT_LOW_LEVEL_MONTHS": 7, "ROUTE_LENGTH_MONTHS": {"low_level": (6, 9)}}, False),
    ],
)
def test_the_draft_lengths_are_checked(value, bad):
    from wagtail_iom.checks import check_iom_settings

    with override_settings(WAGTAIL_IOM=value):
        ids = [error.id for error in check_iom_settings(None)]
    assert ("wagtail_iom.E018" in ids) is bad


# What is never touched ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [RouteStatus.IMPLEMENTATION, RouteStatus.SENT_FOR_APPROVAL, RouteStatus.APPROVED]
)
def test_a_route_under_way_is_never_touched(
    teacher, comps, status, django_capture_on_commit_callbacks
):
    route = Route.objects.create(
        teacher=teacher,
        starts_on=TODAY,
        ends_on=add_months(TODAY, 12),
        status=status,
        goal="Своя цель",
        source=RouteSource.DIAGNOSTICS,
    )
    before = Route.objects.filter(pk=route.pk).values().get()
    result = add_result(teacher, {comps[0]: 10})

    (outcome,) = build([result], django_capture_on_commit_callbacks)

    assert (outcome.action, outcome.reason, outcome.route_id) == (
        drafts.SKIPPED,
        drafts.ROUTE_UNDER_WAY,
        route.pk,
    )
    assert Route.objects.filter(pk=route.pk).values().get() == before
    assert Route.objects.filter(teacher=teacher).count() == 1
    assert mail.outbox == []


def test_a_route_in_development_made_by_hand_is_left_alone(
    teacher, comps, django_capture_on_commit_callbacks
):
    route = Route.objects.create(
        teacher=teacher, starts_on=TODAY, ends_on=add_months(TODAY, 12), goal="Своя цель"
    )
    (outcome,) = build([add_result(teacher, {comps[0]: 10})], django_capture_on_commit_callbacks)
    assert (outcome.action, outcome.reason) == (drafts.SKIPPED, drafts.MANUAL_DRAFT)
    route.refresh_from_db()
    assert route.goal == "Своя цель" and route.source == RouteSource.MANUAL


def test_a_finished_route_does_not_stop_a_new_draft(
    teacher, comps, django_capture_on_commit_callbacks
):
    Route.objects.create(
        teacher=teacher,
        starts_on=add_months(TODAY, -13),
        ends_on=add_months(TODAY, -1),
        status=RouteStatus.COMPLETED,
    )
    (outcome,) = build([add_result(teacher, {comps[0]: 10})], django_capture_on_commit_callbacks)
    assert outcome.action == drafts.CREATED


def test_a_teacher_without_deficits_gets_nothing(
    teacher, comps, django_capture_on_commit_callbacks
):
    (outcome,) = build([add_result(teacher, {comps[0]: 70})], django_capture_on_commit_callbacks)
    assert (outcome.action, outcome.reason) == (drafts.SKIPPED, drafts.NO_DEFICITS)
    assert not Route.objects.exists()
    assert mail.outbox == []


def test_a_teacher_who_withdrew_the_consent_gets_nothing(
    teacher, comps, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    teacher.consent.withdrawn_at = timezone.now()
    teacher.consent.save()
    (outcome,) = build([add_result(teacher, {comps[0]: 10})], django_capture_on_commit_callbacks)
    assert (outcome.action, outcome.reason) == (drafts.SKIPPED, drafts.PROCESSING_STOPPED)
    assert not Route.objects.exists()


def test_the_demo_framework_has_russian_templates_and_recommendations():
    from sandbox.home.demo import framework
    from wagtail_iom.models import Competency

    framework.fill_route_draft_texts()
    competencies = Competency.objects.filter(code__in=framework.SELF_EDUCATION)
    assert competencies.count() == len(framework.SELF_EDUCATION)
    for competency in competencies:
        assert competency.self_education_recommendation, competency.code
        for text in (competency.route_goal_template, competency.route_task_template):
            assert "{competency}" in text and draft_templates.template_errors(text) == ""
    # An editor's own words are kept when the demo is loaded again.
    competencies.filter(code="METH-1").update(route_goal_template="Своя цель: {competency}")
    framework.fill_route_draft_texts()
    assert Competency.objects.get(code="METH-1").route_goal_template == "Своя цель: {competency}"


# Repeated runs -----------------------------------------------------------------------------------


def test_a_repeated_run_creates_nothing_and_e_mails_once(
    resource_map, teacher, curator, comps, django_capture_on_commit_callbacks
):
    make_event(resource_map, slug="e1", competencies=[comps[0]])
    result = add_result(teacher, {comps[0]: 20, comps[1]: 30})

    first = build([result], django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([teacher.user.email, curator.email])
    route = Route.objects.get(teacher=teacher)
    revisions = route.revisions.count()

    second = build([result], django_capture_on_commit_callbacks)
    third = drafts.build_drafts_for_teachers([teacher.pk])

    assert first[0].action == drafts.CREATED
    assert [o.reason for o in second + third] == [drafts.UNCHANGED, drafts.UNCHANGED]
    assert Route.objects.filter(teacher=teacher).count() == 1
    assert route.revisions.count() == revisions
    assert len(mail.outbox) == 2
    # Sending again (a retried task) sends nothing either.
    from wagtail_iom.routes.emails import send_route_draft

    assert send_route_draft(route.pk, result.pk) == 0


def test_a_new_result_updates_the_draft_and_keeps_the_curators_steps(
    resource_map, teacher, comps, django_capture_on_commit_callbacks
):
    first = add_result(teacher, {comps[0]: 20}, days_ago=30)
    build([first], django_capture_on_commit_callbacks)
    route = Route.objects.get(teacher=teacher)
    # The curator adds a step of their own.
    own = make_event(resource_map, slug="own", title="Свой выбор")
    from wagtail_iom.routes.builder import add_event_step

    own_step = add_event_step(route, own)
    mail.outbox.clear()

    second = add_result(teacher, {comps[1]: 25}, days_ago=1, procedure="regional")
    (outcome,) = build([second], django_capture_on_commit_callbacks)

    assert (outcome.action, outcome.route_id) == (drafts.UPDATED, route.pk)
    route.refresh_from_db()
    assert route.source_diagnostic == second
    steps = steps_of(route)
    kinds = [(value.get("event").pk if kind == "event" else kind) for _s, kind, value in steps]
    assert kinds == [own.pk, "self_education", "self_education"]
    assert own_step in [child.id for _stage, child in iter_steps(route)]
    competencies = [value["competencies"] for _s, kind, value in steps if kind != "event"]
    # comps[0]'s latest score (20) stays a deficit, comps[1] (25) is new: the weakest first.
    assert competencies == [[str(comps[0].pk)], [str(comps[1].pk)]]
    assert len(mail.outbox) == 2
    # The listing filters routes by their source.
    assert Route.objects.filter(source=RouteSource.DIAGNOSTICS).count() == 1


def test_a_draft_whose_period_is_over_starts_again_and_follows_the_level(
    teacher, comps, django_capture_on_commit_callbacks
):
    build([add_result(teacher, {comps[0]: 20}, days_ago=400)], django_capture_on_commit_callbacks)
    route = Route.objects.get(teacher=teacher)
    Route.objects.filter(pk=route.pk).update(
        starts_on=add_months(TODAY, -14), ends_on=add_months(TODAY, -2)
    )
    low = add_result(teacher, {comps[0]: 10}, days_ago=1, level="low", procedure="regional")

    (outcome,) = build([low], django_capture_on_commit_callbacks)

    route.refresh_from_db()
    assert outcome.action == drafts.UPDATED
    assert (route.kind, route.starts_on, route.ends_on) == (
        RouteKind.LOW_LEVEL,
        TODAY,
        add_months(TODAY, 6),
    )


def test_a_draft_that_would_be_invalid_is_skipped_and_the_batch_goes_on(
    teacher, comps, django_capture_on_commit_callbacks
):
    build([add_result(teacher, {comps[0]: 20}, days_ago=400)], django_capture_on_commit_callbacks)
    route = Route.objects.get(teacher=teacher)
    # The curator added a step with a deadline in the old period; the period is over since.
    old_deadline = add_months(TODAY, -13)
    roadmap = list(route.roadmap.raw_data)
    for stage in roadmap:
        if stage["value"]["stage"] == RouteStage.IMPLEMENTATION:
            stage["value"]["steps"].append(
                {
                    "type": "self_education",
                    "id": "hand-made",
                    "value": {
                        "activity": "Курс по выбору",
                        "level": "personal",
                        "track": "informal",
                        "form": "",
                        "task": "",
                        "planned_result": "",
                        "competencies": [],
                        "deadline": old_deadline.isoformat(),
                    },
                }
            )
    Route.objects.filter(pk=route.pk).update(
        roadmap=roadmap, starts_on=add_months(TODAY, -14), ends_on=add_months(TODAY, -2)
    )
    other = make_teacher(username="other")
    results = [
        add_result(teacher, {comps[0]: 10}, days_ago=1),
        add_result(other, {comps[0]: 10}, days_ago=1),
    ]

    outcomes = build(results, django_capture_on_commit_callbacks)

    by_teacher = {o.teacher_id: o for o in outcomes}
    assert (by_teacher[teacher.pk].action, by_teacher[teacher.pk].reason) == (
        drafts.SKIPPED,
        drafts.INVALID_ROUTE,
    )
    assert by_teacher[teacher.pk].route_id == route.pk
    assert by_teacher[other.pk].action == drafts.CREATED
    route.refresh_from_db()
    assert route.ends_on == add_months(TODAY, -2)  # left as it was, for the curator


# After an import, on demand -----------------------------------------------------------------------


def test_an_import_finishes_by_drafting_routes(teacher, comps, django_capture_on_commit_callbacks):
    from wagtail_iom.diagnostics import importing

    teacher.user.email = "maria@example.org"
    teacher.user.save()
    day = (TODAY - datetime.timedelta(days=2)).strftime("%d.%m.%Y")
    content = (
        f"email;procedure;date;total score;level;{comps[0].code};{comps[1].code}\n"
        f"maria@example.org;regional;{day};30;low;20;90\n"
    ).encode()
    job = importing.create_preview(content, "r.csv", None)
    with django_capture_on_commit_callbacks(execute=True):
        importing.start_apply(job)

    route = Route.objects.get(teacher=teacher)
    assert route.source_diagnostic == DiagnosticResult.objects.get(teacher=teacher)
    assert route.kind == RouteKind.LOW_LEVEL
    assert [value["competencies"] for _s, _k, value in steps_of(route)] == [[str(comps[0].pk)]]
    assert teacher.user.email in [m.to[0] for m in mail.outbox]


def test_the_query_count_does_not_grow_with_the_number_of_new_drafts(
    resource_map, comps, django_capture_on_commit_callbacks
):
    make_event(resource_map, slug="q1", competencies=[comps[0]])
    results = [
        add_result(make_teacher(username=f"q{n}"), {comps[0]: 10, comps[1]: 20, comps[2]: 30})
        for n in range(7)
    ]
    drafts.build_drafts([results[0].pk])  # content types and the like are cached from here on
    with CaptureQueriesContext(connection) as two:
        outcomes = drafts.build_drafts([r.pk for r in results[1:3]])
    assert [o.action for o in outcomes] == [drafts.CREATED] * 2
    with CaptureQueriesContext(connection) as four:
        outcomes = drafts.build_drafts([r.pk for r in results[3:]])
    assert [o.action for o in outcomes] == [drafts.CREATED] * 4
    assert len(four.captured_queries) == len(two.captured_queries) <= 26
    for route in Route.objects.filter(pk__in=[o.route_id for o in outcomes]):
        assert route.latest_revision == route.revisions.get()
        assert route.latest_revision.content["goal"] == route.goal


def test_an_updated_draft_adds_one_query(resource_map, comps, django_capture_on_commit_callbacks):
    results = [
        add_result(make_teacher(username=f"u{n}"), {comps[0]: 10, comps[1]: 20}, days_ago=5)
        for n in range(4)
    ]
    drafts.build_drafts([r.pk for r in results])
    later = [add_result(r.teacher, {comps[0]: 30, comps[1]: 20}, days_ago=1) for r in results]
    with CaptureQueriesContext(connection) as one:
        (outcome,) = drafts.build_drafts([later[0].pk])
    assert outcome.action == drafts.UPDATED
    with CaptureQueriesContext(connection) as three:
        outcomes = drafts.build_drafts([r.pk for r in later[1:]])
    assert [o.action for o in outcomes] == [drafts.UPDATED] * 3
    assert len(three.captured_queries) == len(one.captured_queries) + 2


def test_the_e_mails_of_a_batch_go_in_one_task_once_each(
    comps, curator, django_capture_on_commit_callbacks
):
    from wagtail_iom.routes.emails import send_route_drafts

    teachers = []
    for n in range(4):
        teacher = make_teacher(username=f"m{n}")
        teacher.user.email = f"m{n}@example.org"
        teacher.user.save()
        assign(teacher, curator)
        teachers.append(teacher)
    results = [add_result(t, {comps[0]: 10}) for t in teachers]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcomes = drafts.build_drafts([r.pk for r in results])

    assert len(callbacks) == 1  # one task for the batch
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [f"m{n}@example.org" for n in range(4)] + [curator.email] * 4
    )
    pairs = [(o.route_id, r.pk) for o, r in zip(outcomes, results, strict=True)]
    # Sent once: a repeated task reads, finds them sent, and sends nothing, with the same
    # queries for one draft as for four.
    with CaptureQueriesContext(connection) as one:
        assert send_route_drafts(pairs[:1]) == 0
    with CaptureQueriesContext(connection) as four:
        assert send_route_drafts(pairs) == 0
    assert len(one.captured_queries) == len(four.captured_queries) == 4
    assert len(mail.outbox) == 8


ROLE_PERMISSIONS = ["view_route", "change_route", "add_route", "view_teacherprofile"]


def staff(username, role, **where):
    user = UserFactory(username=username)
    group, created = Group.objects.get_or_create(name="iom-drafts")
    if created:
        group.permissions.add(
            Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin"),
            *Permission.objects.filter(
                codename__in=ROLE_PERMISSIONS, content_type__app_label="wagtail_iom"
            ),
        )
    user.groups.add(group)
    StaffMembership.objects.create(user=user, role=role, **where)
    return user


def test_on_demand_a_curator_drafts_only_their_own_teachers(
    client, place, comps, django_capture_on_commit_callbacks
):
    municipality, _school = place
    curator = staff("curator-x", StaffRole.CURATOR)
    mine = make_teacher(username="mine", municipality=municipality)
    other = make_teacher(username="other", municipality=municipality)
    assign(mine, curator)
    for teacher in (mine, other):
        add_result(teacher, {comps[0]: 10})
    client.force_login(curator)
    url = reverse("wagtail_iom_routes:drafts")

    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"municipality": municipality.pk})

    assert response.status_code == 302
    assert list(Route.objects.values_list("teacher_id", "created_by_id")) == [(mine.pk, curator.pk)]
    index = client.get(reverse("wagtail_iom_routes:list"))
    assert b"data-iom-build-drafts" in index.content
    listing = client.get(reverse("wagtail_iom_routes:list"), {"source": "diagnostics"})
    assert listing.status_code == 200


def test_on_demand_is_refused_to_staff_who_do_not_edit_routes(client, place):
    municipality, _school = place
    methodist = staff("methodist-x", StaffRole.MUNICIPAL_METHODIST, municipality=municipality)
    methodist.groups.get().permissions.remove(Permission.objects.get(codename="change_route"))
    client.force_login(methodist)
    response = client.post(reverse("wagtail_iom_routes:drafts"), {})
    assert response.status_code in (302, 403)
    assert not Route.objects.exists()


def test_the_centre_head_filters_the_teachers(
    admin_client, place, comps, django_capture_on_commit_callbacks
):
    municipality, _school = place
    inside = make_teacher(username="inside", municipality=municipality)
    outside = make_teacher(username="outside", municipality=MunicipalityFactory())
    for teacher in (inside, outside):
        add_result(teacher, {comps[0]: 10})
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("wagtail_iom_routes:drafts"), {"municipality": municipality.pk})
    assert list(Route.objects.values_list("teacher_id", flat=True)) == [inside.pk]
    assert Route.objects.get().source == RouteSource.DIAGNOSTICS
    # Reports can count routes by source.
    assert Route.objects.filter(source_diagnostic__isnull=False).count() == 1
