"""Routes in the admin: who reaches which route on every endpoint, the editor, the workflow, the
"new route" flow, suggestions, and the listing's query count."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import nested_form_data, streamfield

from tests.factories import (
    CompetencyFactory,
    MunicipalityFactory,
    SchoolFactory,
    UserFactory,
    make_event,
    make_teacher,
)
from wagtail_iom.models import (
    CompetencyScore,
    CuratorAssignment,
    DiagnosticResult,
    Route,
    RouteComment,
    RouteStatus,
    RouteTransition,
    StaffMembership,
    StaffRole,
)
from wagtail_iom.routes import builder as route_builder
from wagtail_iom.routes.blocks import RouteStage
from wagtail_iom.routes.services import add_months, iter_steps

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
END = add_months(TODAY, 12)
T10, T12 = datetime.time(10, 0), datetime.time(12, 0)


def url(name, *args):
    return reverse(f"wagtail_iom_routes:{name}", args=args)


# People ---------------------------------------------------------------------------------------


ROLE_PERMISSIONS = {
    StaffRole.CURATOR: [
        "view_route", "change_route", "add_route", "delete_route", "view_teacherprofile",
    ],
    StaffRole.CENTRE_HEAD: [
        "view_route", "change_route", "add_route", "delete_route", "approve_route",
        "audit_route", "view_teacherprofile",
    ],
    StaffRole.MUNICIPAL_METHODIST: ["view_route", "audit_route", "view_teacherprofile"],
    StaffRole.SCHOOL_HEAD: ["view_route", "approve_route", "view_teacherprofile"],
}  # fmt: skip


def role_group(role):
    group, created = Group.objects.get_or_create(name=f"iom-{role}")
    if created:
        group.permissions.add(
            Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin")
        )
        for codename in ROLE_PERMISSIONS[role]:
            group.permissions.add(
                Permission.objects.get(codename=codename, content_type__app_label="wagtail_iom")
            )
    return group


def staff(username, role, **where):
    user = UserFactory(username=username, first_name=username.capitalize(), last_name="Staff")
    user.groups.add(role_group(role))
    StaffMembership.objects.create(user=user, role=role, **where)
    return user


@pytest.fixture
def world():
    """Two municipalities; teacher A (school 1) assigned to the curator, teacher B (another
    municipality) and teacher C (school 2 of A's municipality) not."""
    m1, m2 = MunicipalityFactory(name="Гусев"), MunicipalityFactory(name="Светлый")
    s1, s2 = SchoolFactory(municipality=m1), SchoolFactory(municipality=m1)
    s3 = SchoolFactory(municipality=m2)
    a = make_teacher(username="a", last_name="Алексеева", municipality=m1, school=s1)
    b = make_teacher(username="b", last_name="Борисова", municipality=m2, school=s3)
    c = make_teacher(username="c", last_name="Васильева", municipality=m1, school=s2)
    curator = staff("curator", StaffRole.CURATOR)
    head = staff("head", StaffRole.CENTRE_HEAD)
    methodist = staff("methodist", StaffRole.MUNICIPAL_METHODIST, municipality=m1)
    school_head = staff("director", StaffRole.SCHOOL_HEAD, school=s1)
    CuratorAssignment.objects.create(teacher=a, curator=curator, assigned_by=head)
    routes = {
        key: route_builder.create_route(teacher, curator, TODAY, END, head)
        for key, teacher in (("a", a), ("b", b), ("c", c))
    }
    return {
        "m1": m1, "m2": m2, "s1": s1, "teachers": {"a": a, "b": b, "c": c},
        "curator": curator, "head": head, "methodist": methodist, "school_head": school_head,
        "routes": routes,
    }  # fmt: skip


def login(client, user):
    client.force_login(user)
    return client


def listed(response):
    return sorted(route.teacher.last_name for route in response.context["object_list"])


def state(route):
    """Everything an endpoint could change about a route."""
    fresh = Route.objects.get(pk=route.pk)
    return {
        "status": fresh.status,
        "updated_at": fresh.updated_at,
        "roadmap": fresh.roadmap.get_prep_value(),
        "profile_snapshot": fresh.profile_snapshot,
        "curator": fresh.curator_id,
        "ends_on": fresh.ends_on,
        "goal": fresh.goal,
        "revisions": fresh.revisions.count(),
        "transitions": RouteTransition.objects.filter(route=fresh).count(),
        "comments": RouteComment.objects.filter(route=fresh).count(),
    }


def refused(response):
    """403, or Wagtail's way of saying it in the admin: back to the dashboard with a message."""
    return response.status_code == 403 or (
        response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    )


def set_status(route, status):
    Route.objects.filter(pk=route.pk).update(status=status)
    route.status = status


def form_data(route, steps=(), **fields):
    """The editor's POST data for ``route``, with ``steps`` in the implementation stage."""
    data = {
        "starts_on": route.starts_on.isoformat(),
        "ends_on": route.ends_on.isoformat(),
        "kind": route.kind,
        "goal": route.goal,
        "tasks": route.tasks,
        "further_support": "",
        "self_and_non_formal_education": "",
        "sources": "",
        "roadmap": streamfield(
            [("stage", {"stage": RouteStage.IMPLEMENTATION, "steps": streamfield(list(steps))})]
        ),
    }
    if route.curator_id:
        data["curator"] = str(route.curator_id)
    data.update(fields)
    return nested_form_data(data)


def event_step(event, deadline=""):
    return (
        "event",
        {"event": str(event.pk), "level": "", "form": "", "planned_result": "",
         "result_presentation": "", "deadline": deadline},
    )  # fmt: skip


def choose_one_step(*events):
    options = {
        str(n): {"value": str(e.pk), "deleted": "", "order": str(n), "id": ""}
        for n, e in enumerate(events)
    }
    options["count"] = str(len(events))
    return ("choose_one", {"options": options, "planned_result": "", "deadline": ""})


# Every endpoint of another teacher's route ------------------------------------------------------


def endpoints(route, event):
    pk = route.pk
    first = route.revisions.order_by("created_at", "id").first().pk
    bulk = reverse("wagtail_bulk_action", args=["wagtail_iom", "route", "delete"]) + f"?id={pk}"
    return [
        ("get", url("edit", pk), None),
        ("post", url("edit", pk), form_data(route, goal="Чужая цель")),
        ("get", url("inspect", pk), None),
        ("get", url("history", pk), None),
        ("get", url("history_results", pk), None),
        ("get", url("usage", pk), None),
        ("get", url("revisions_compare", pk, "earliest", "latest"), None),
        ("get", url("revisions_revert", pk, first), None),
        ("post", url("revisions_revert", pk, first), form_data(route, goal="Чужая цель")),
        ("get", url("delete", pk), None),
        ("post", url("delete", pk), {}),
        ("get", url("transition", pk, RouteStatus.SENT_FOR_APPROVAL), None),
        ("post", url("transition", pk, RouteStatus.SENT_FOR_APPROVAL), {"comment": "x"}),
        ("post", url("refresh_snapshot", pk), {}),
        ("post", url("add_step", pk), {"event": event.pk, "stage": "design"}),
        ("post", url("comment", pk), {"text": "Замечание"}),
        ("post", url("recommendations", pk), {"further_support": "Чужое"}),
        ("get", reverse("wagtail_iom_route_chooser:chosen", args=[pk]), None),
        ("get", bulk, None),
        ("post", bulk, {}),
    ]


@pytest.fixture
def target_event(resource_map):
    competency = CompetencyFactory()
    return make_event(resource_map, competencies=[competency], slug="target", title="Цель")


def test_a_curator_reaches_nothing_of_an_unassigned_teachers_route(client, world, target_event):
    login(client, world["curator"])
    other = world["routes"]["b"]
    before = state(other)
    for method, address, data in endpoints(other, target_event):
        response = getattr(client, method)(address, data or {})
        assert response.status_code == 404 or refused(response), (method, address)
    assert state(other) == before
    assert Route.objects.filter(pk=other.pk).exists()


def test_the_same_endpoints_answer_for_the_own_route(client, world, target_event):
    """The refusals above are about the route, not broken URLs."""
    login(client, world["curator"])
    own = world["routes"]["a"]
    for method, address, _data in endpoints(own, target_event):
        if method == "get":
            response = client.get(address)
            assert response.status_code in (200, 302), (address, response.status_code)


def test_listing_chooser_and_export_leave_out_other_routes(client, world):
    login(client, world["curator"])
    assert listed(client.get(url("list"))) == ["Алексеева"]

    export = client.get(url("list"), {"export": "csv"})
    assert export.status_code == 200
    body = (
        b"".join(export.streaming_content).decode() if export.streaming else export.content.decode()
    )
    assert "Алексеева" in body
    assert "Борисова" not in body and "Васильева" not in body

    choose = client.get(reverse("wagtail_iom_route_chooser:choose"))
    assert choose.status_code == 200
    assert [r.pk for r in choose.context["results"]] == [world["routes"]["a"].pk]

    multiple = client.get(
        reverse("wagtail_iom_route_chooser:chosen_multiple"),
        {"id": [world["routes"]["a"].pk, world["routes"]["b"].pk]},
    )
    assert multiple.status_code == 200
    assert str(world["routes"]["a"].pk) in multiple.content.decode()
    assert f'"id": {world["routes"]["b"].pk}' not in multiple.content.decode()
    assert client.get(reverse("wagtail_iom_route_chooser:create")).status_code == 404


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("head", ["Алексеева", "Борисова", "Васильева"]),
        ("methodist", ["Алексеева", "Васильева"]),
        ("school_head", ["Алексеева"]),
        ("curator", ["Алексеева"]),
    ],
)
def test_listing_by_role(client, world, who, expected):
    login(client, world[who])
    response = client.get(url("list"))
    assert response.status_code == 200
    assert listed(response) == expected


def test_unassigning_revokes_on_the_next_request(client, world):
    login(client, world["curator"])
    own = world["routes"]["a"]
    assert client.get(url("edit", own.pk)).status_code == 200
    CuratorAssignment.objects.filter(curator=world["curator"]).update(
        ended_at=timezone.now(), ended_by=world["head"]
    )
    before = state(own)
    assert client.get(url("edit", own.pk)).status_code == 404
    assert client.post(url("edit", own.pk), form_data(own, goal="После")).status_code == 404
    assert listed(client.get(url("list"))) == []
    assert state(own) == before


def test_a_curator_without_view_permission_sees_no_listing(client, world):
    user = UserFactory(username="nobody")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    login(client, user)
    assert client.get(url("list")).status_code in (302, 403)
    assert client.get(url("edit", world["routes"]["a"].pk)).status_code in (302, 403, 404)


# The workflow ------------------------------------------------------------------------------------


def test_a_school_head_approves_a_route_of_the_own_school_only(client, world):
    own, other = world["routes"]["a"], world["routes"]["c"]
    for route in (own, other):
        set_status(route, RouteStatus.SENT_FOR_APPROVAL)
    login(client, world["school_head"])

    inspect = client.get(url("inspect", own.pk))
    assert inspect.status_code == 200
    assert [t["to"] for t in inspect.context["transitions"]] == [
        RouteStatus.APPROVED,
        RouteStatus.RETURNED,
    ]
    assert client.get(url("transition", own.pk, RouteStatus.APPROVED)).status_code == 200
    response = client.post(url("transition", own.pk, RouteStatus.APPROVED), {"comment": "Да"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.status == RouteStatus.APPROVED
    record = RouteTransition.objects.get(route=own)
    assert (record.from_status, record.to_status, record.by, record.comment) == (
        RouteStatus.SENT_FOR_APPROVAL,
        RouteStatus.APPROVED,
        world["school_head"],
        "Да",
    )
    history = client.get(url("history", own.pk))
    assert history.status_code == 200

    before = state(other)
    response = client.post(url("transition", other.pk, RouteStatus.APPROVED), {"comment": ""})
    assert response.status_code == 404
    assert state(other) == before


def test_a_school_head_cannot_edit(client, world):
    route = world["routes"]["a"]
    login(client, world["school_head"])
    before = state(route)
    assert refused(client.get(url("edit", route.pk)))
    assert refused(client.post(url("edit", route.pk), form_data(route, goal="Нет")))
    assert state(route) == before


def test_a_methodist_reads_and_comments_but_cannot_edit(client, world):
    route = world["routes"]["a"]
    login(client, world["methodist"])
    before = state(route)

    inspect = client.get(url("inspect", route.pk))
    assert inspect.status_code == 200
    assert inspect.context["can_comment"]
    assert inspect.context["transitions"] == []
    assert 'id="iom-route-comment-form"' in inspect.content.decode()
    assert refused(client.get(url("edit", route.pk)))
    assert refused(client.post(url("edit", route.pk), form_data(route, goal="Нет")))
    assert refused(client.post(url("refresh_snapshot", route.pk)))
    assert client.get(url("revisions_compare", route.pk, "earliest", "latest")).status_code == 200
    assert state(route) == before

    response = client.post(url("comment", route.pk), {"text": "Добавьте стажировку"})
    assert response.status_code == 302
    comment = RouteComment.objects.get(route=route)
    assert (comment.kind, comment.author, comment.text) == (
        RouteComment.Kind.REMARK,
        world["methodist"],
        "Добавьте стажировку",
    )
    assert client.post(url("comment", route.pk), {"text": ""}).status_code == 302
    assert RouteComment.objects.filter(route=route).count() == 1

    other = world["routes"]["b"]
    assert client.post(url("comment", other.pk), {"text": "x"}).status_code == 404
    assert not RouteComment.objects.filter(route=other).exists()


@pytest.mark.parametrize("status", [RouteStatus.DEVELOPMENT, RouteStatus.COMPLETED])
def test_a_methodist_of_the_municipality_writes_the_recommendations(client, world, status):
    """Section 4 «заполняется куратором / тьютором / муниципальным методистом» (000)."""
    route = world["routes"]["a"]
    set_status(route, status)
    login(client, world["methodist"])
    revisions = route.revisions.count()

    inspect = client.get(url("inspect", route.pk))
    assert 'id="iom-route-recommendations-form"' in inspect.content.decode()
    data = {
        "further_support": "Участие в конкурсе «Педагог года»",
        "self_and_non_formal_education": "Вебинары ЦНППМ",
        "sources": "Журнал «Математика в школе»",
    }
    response = client.post(url("recommendations", route.pk), data)

    assert response.status_code == 302
    route.refresh_from_db()
    assert (route.further_support, route.self_and_non_formal_education, route.sources) == (
        data["further_support"],
        data["self_and_non_formal_education"],
        data["sources"],
    )
    assert route.revisions.count() == revisions + 1
    # Nothing else of the route is theirs to change.
    assert route.goal == "" and route.status == status
    # Not the route of another municipality, and not the school head.
    other = world["routes"]["b"]
    assert client.post(url("recommendations", other.pk), data).status_code == 404
    login(client, world["school_head"])
    assert refused(client.post(url("recommendations", route.pk), {"sources": "Нет"}))
    route.refresh_from_db()
    assert route.sources == data["sources"]


def test_a_methodist_audits_a_completed_route_with_the_audit_form(client, world):
    route = world["routes"]["a"]
    set_status(route, RouteStatus.COMPLETED)
    login(client, world["methodist"])
    # A bare move to audited is refused: the audit is recorded with its form
    # (tests/routes/test_audit.py).
    client.post(url("transition", route.pk, RouteStatus.AUDITED), {"comment": "Проверено"})
    route.refresh_from_db()
    assert route.status == RouteStatus.COMPLETED
    client.post(
        url("audit", route.pk),
        {"transfer_to_practice": "Применяет", "level_group": "basic", "conclusion": "Проверено"},
    )
    route.refresh_from_db()
    assert route.status == RouteStatus.AUDITED


@pytest.mark.parametrize(
    ("status", "to"),
    [
        (RouteStatus.DEVELOPMENT, RouteStatus.APPROVED),  # the curator may not approve
        (RouteStatus.DEVELOPMENT, RouteStatus.COMPLETED),  # not a move from here
        (RouteStatus.COMPLETED, RouteStatus.DEVELOPMENT),
        (RouteStatus.AUDITED, RouteStatus.RETURNED),
    ],
)
def test_a_transition_the_status_does_not_allow_changes_nothing(client, world, status, to):
    route = world["routes"]["a"]
    set_status(route, status)
    login(client, world["curator"])
    before = state(route)
    assert client.get(url("transition", route.pk, to)).status_code == 302
    response = client.post(url("transition", route.pk, to), {"comment": "Попытка"}, follow=True)
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert state(route) == before


def test_an_unknown_status_is_not_found(client, world):
    login(client, world["curator"])
    route = world["routes"]["a"]
    assert client.post(url("transition", route.pk, "nonsense"), {}).status_code == 404


def test_returning_needs_a_comment(client, world):
    route = world["routes"]["a"]
    set_status(route, RouteStatus.SENT_FOR_APPROVAL)
    login(client, world["school_head"])
    before = state(route)
    response = client.post(url("transition", route.pk, RouteStatus.RETURNED), {"comment": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["comment"]
    assert state(route) == before
    client.post(url("transition", route.pk, RouteStatus.RETURNED), {"comment": "Уточните сроки"})
    route.refresh_from_db()
    assert route.status == RouteStatus.RETURNED


def test_the_curator_sends_for_approval_and_loses_the_editor(client, world):
    route = world["routes"]["a"]
    login(client, world["curator"])
    client.post(url("transition", route.pk, RouteStatus.SENT_FOR_APPROVAL), {"comment": ""})
    route.refresh_from_db()
    assert route.status == RouteStatus.SENT_FOR_APPROVAL
    before = state(route)
    response = client.get(url("edit", route.pk))
    assert response.status_code == 302
    assert response.url == url("inspect", route.pk)
    assert refused(client.post(url("edit", route.pk), form_data(route, goal="Поздно")))
    assert refused(client.post(url("refresh_snapshot", route.pk)))
    assert state(route) == before


# The editor ----------------------------------------------------------------------------------


@pytest.fixture
def curator_client(client, world):
    return login(client, world["curator"])


def test_the_editor_saves_a_roadmap_and_a_revision(curator_client, world, resource_map):
    route = world["routes"]["a"]
    event = make_event(resource_map, slug="e1", title="Семинар 1")
    revisions = route.revisions.count()
    response = curator_client.post(
        url("edit", route.pk),
        form_data(route, [event_step(event, add_months(TODAY, 2).isoformat())], goal="Новая"),
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.goal == "Новая"
    ((stage, child),) = iter_steps(route)
    assert (stage, child.value["event"].pk) == (RouteStage.IMPLEMENTATION, event.pk)
    assert route.revisions.count() == revisions + 1
    assert route.teacher == world["teachers"]["a"]  # read-only

    compare = curator_client.get(url("revisions_compare", route.pk, "earliest", "latest"))
    assert compare.status_code == 200
    assert compare.context["comparison"]
    assert any(c.field.name == "roadmap" for c in compare.context["comparison"])


def test_a_curator_cannot_hand_the_route_to_someone_else(curator_client, world):
    route = world["routes"]["a"]
    response = curator_client.post(
        url("edit", route.pk), form_data(route, curator=str(world["head"].pk))
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.curator == world["curator"]


def test_the_centre_head_may_only_choose_a_curator(client, world):
    login(client, world["head"])
    route = world["routes"]["a"]
    before = state(route)
    response = client.post(
        url("edit", route.pk), form_data(route, curator=str(world["teachers"]["b"].user.pk))
    )
    assert response.status_code == 200
    assert "curator" in response.context["form"].errors
    assert state(route) == before


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"ends_on": TODAY.isoformat()}, "ends_on"),
        ({"ends_on": (TODAY - datetime.timedelta(days=5)).isoformat()}, "ends_on"),
        ({"ends_on": add_months(TODAY, 40).isoformat()}, "ends_on"),
        ({"ends_on": (TODAY + datetime.timedelta(days=7)).isoformat()}, "ends_on"),
    ],
)
def test_the_editor_refuses_a_bad_period(curator_client, world, fields, error_field):
    route = world["routes"]["a"]
    before = state(route)
    response = curator_client.post(url("edit", route.pk), form_data(route, **fields))
    assert response.status_code == 200
    assert error_field in response.context["form"].errors
    assert state(route) == before


def test_the_editor_refuses_a_deadline_outside_the_period(curator_client, world, resource_map):
    route = world["routes"]["a"]
    event = make_event(resource_map, slug="e2", title="Семинар 2")
    before = state(route)
    late = add_months(END, 2).isoformat()
    response = curator_client.post(
        url("edit", route.pk), form_data(route, [event_step(event, late)])
    )
    assert response.status_code == 200
    assert "roadmap" in response.context["form"].errors
    assert state(route) == before


def test_the_editor_refuses_a_choice_of_one_option(curator_client, world, resource_map):
    route = world["routes"]["a"]
    one = make_event(resource_map, slug="o1", title="Вариант 1")
    two = make_event(resource_map, slug="o2", title="Вариант 2")
    before = state(route)
    response = curator_client.post(url("edit", route.pk), form_data(route, [choose_one_step(one)]))
    assert response.status_code == 200
    (error,) = response.context["form"].errors.as_data()["roadmap"]
    # The error sits on the options of the first step of the first stage.
    stage_errors = error.as_json_data()["blockErrors"][0]["blockErrors"]
    assert "options" in stage_errors["steps"]["blockErrors"][0]["blockErrors"]
    assert state(route) == before

    response = curator_client.post(
        url("edit", route.pk), form_data(route, [choose_one_step(one, two)])
    )
    assert response.status_code == 302


def test_the_edit_page_shows_warnings_suggestions_and_history(curator_client, world, resource_map):
    teacher = world["teachers"]["a"]
    competency = CompetencyFactory()
    result = DiagnosticResult.objects.create(
        teacher=teacher, date=TODAY, procedure="self", total_score=40, level="low"
    )
    CompetencyScore.objects.create(result=result, competency=competency, score=20)
    late = make_event(
        resource_map, slug="late", title="Поздний курс",
        sessions=[(add_months(END, 1), T10, T12)], competencies=[competency],
    )  # fmt: skip
    soon = make_event(
        resource_map, slug="soon", title="Скорый семинар",
        sessions=[(TODAY + datetime.timedelta(days=3), T10, T12)], competencies=[competency],
    )  # fmt: skip
    route = world["routes"]["a"]
    route_builder.refresh_snapshot(route, world["curator"])
    route_builder.add_event_step(route, late, by_user=world["curator"])

    response = curator_client.get(url("edit", route.pk))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="iom-route-warnings"' in content
    assert len(response.context["route_warnings"]) == 1
    suggestions = response.context["suggestions"]
    assert [item.event.pk for item in suggestions[0].events] == [soon.pk]
    assert f'data-iom-suggestion="{soon.pk}"' in content
    assert 'id="iom-route-refresh-form"' in content
    assert 'form="iom-route-refresh-form"' in content
    assert 'id="iom-route-history"' in content


# Suggestions and the snapshot ------------------------------------------------------------------


def test_adding_a_suggested_event(curator_client, world, resource_map):
    route = world["routes"]["a"]
    event = make_event(resource_map, slug="s1", title="Предложенное")
    response = curator_client.post(
        url("add_step", route.pk), {"event": event.pk, "stage": RouteStage.DESIGN}
    )
    assert response.status_code == 302
    route.refresh_from_db()
    ((stage, child),) = iter_steps(route)
    assert (stage, child.value["event"].pk) == (RouteStage.DESIGN, event.pk)


@pytest.mark.parametrize("kind", ["draft", "missing", "text", "cancelled", "stage"])
def test_adding_an_event_that_cannot_be_suggested_is_refused(
    curator_client, world, resource_map, kind
):
    route = world["routes"]["a"]
    draft = make_event(resource_map, slug="d1", title="Черновик", publish=False)
    cancelled = make_event(
        resource_map, slug="c1", title="Отменено", status="cancelled", status_reason="Нет"
    )
    public = make_event(resource_map, slug="p1", title="Открытое")
    data = {
        "draft": {"event": draft.pk},
        "missing": {"event": 999999},
        "text": {"event": "abc"},
        "cancelled": {"event": cancelled.pk},
        "stage": {"event": public.pk, "stage": "nowhere"},
    }[kind]
    before = state(route)
    response = curator_client.post(url("add_step", route.pk), data, follow=True)
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert state(route) == before


def test_add_step_is_post_only(curator_client, world):
    assert curator_client.get(url("add_step", world["routes"]["a"].pk)).status_code == 405


def test_refreshing_the_snapshot(curator_client, world):
    from wagtail_iom.models import CommunityMembership

    route = world["routes"]["a"]
    CommunityMembership.objects.create(
        profile=world["teachers"]["a"], name="Клуб физиков", status="member"
    )
    response = curator_client.post(url("refresh_snapshot", route.pk))
    assert response.status_code == 302
    route.refresh_from_db()
    assert [c["name"] for c in route.profile_snapshot["communities"]] == ["Клуб физиков"]


# Creating -------------------------------------------------------------------------------------


def test_the_new_route_flow(curator_client, world):
    teacher = world["teachers"]["a"]
    Route.objects.filter(teacher=teacher).delete()
    assert curator_client.get(url("add")).status_code == 200
    response = curator_client.post(
        url("add"),
        {"teacher": teacher.pk, "starts_on": TODAY.isoformat(), "ends_on": END.isoformat()},
    )
    route = Route.objects.get(teacher=teacher)
    assert response.status_code == 302
    assert response.url == url("edit", route.pk)
    assert route.curator == world["curator"]
    assert route.created_by == world["curator"]
    assert route.profile_snapshot["card"]
    assert [s.value["stage"] for s in route.roadmap] == RouteStage.ORDER
    assert route.revisions.count() == 1


def test_the_new_route_form_suggests_an_end_its_kind_allows(curator_client, world):
    from wagtail_iom.models import DiagnosticResult
    from wagtail_iom.routes.services import add_months

    teacher = world["teachers"]["a"]
    page = curator_client.get(url("add"), {"teacher": teacher.pk})
    assert page.context["form"].initial["ends_on"] == add_months(TODAY, 12)
    DiagnosticResult.objects.create(
        teacher=teacher, date=TODAY, procedure="self", level="low", total_score=20
    )
    page = curator_client.get(url("add"), {"teacher": teacher.pk})
    assert page.context["form"].initial["teacher"] == teacher
    assert page.context["form"].initial["ends_on"] == add_months(TODAY, 6)
    # An id past 64 bits is no teacher, not an error.
    assert curator_client.get(url("add"), {"teacher": "9" * 30}).status_code == 200


@pytest.mark.parametrize(
    ("teacher_key", "ends_on", "error_field"),
    [
        ("b", END, "teacher"),  # not one of the curator's teachers
        ("a", TODAY, "ends_on"),
        ("a", add_months(TODAY, 40), "ends_on"),
    ],
)
def test_the_new_route_flow_refuses(curator_client, world, teacher_key, ends_on, error_field):
    count = Route.objects.count()
    response = curator_client.post(
        url("add"),
        {
            "teacher": world["teachers"][teacher_key].pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": ends_on.isoformat(),
        },
    )
    assert response.status_code == 200
    assert error_field in response.context["form"].errors
    assert Route.objects.count() == count


def test_a_visible_but_unassigned_teacher_is_refused(client, world):
    """A curator who is also the methodist of B's municipality sees B but does not curate B."""
    curator = world["curator"]
    StaffMembership.objects.create(
        user=curator, role=StaffRole.MUNICIPAL_METHODIST, municipality=world["m2"]
    )
    login(client, curator)
    count = Route.objects.count()
    response = client.post(
        url("add"),
        {
            "teacher": world["teachers"]["b"].pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": END.isoformat(),
        },  # fmt: skip
    )
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["teacher"]] == [
        "not_assigned"
    ]
    assert Route.objects.count() == count
    # B's route is readable for the methodist role, not editable.
    assert client.get(url("inspect", world["routes"]["b"].pk)).status_code == 200
    assert client.get(url("edit", world["routes"]["b"].pk)).status_code == 302


def test_methodists_and_school_heads_do_not_create(client, world):
    for who in ("methodist", "school_head"):
        login(client, world[who])
        assert refused(client.get(url("add")))


# Deleting -------------------------------------------------------------------------------------


def test_deleting_only_in_development(curator_client, world):
    route = world["routes"]["a"]
    set_status(route, RouteStatus.IMPLEMENTATION)
    assert refused(curator_client.post(url("delete", route.pk)))
    assert Route.objects.filter(pk=route.pk).exists()
    set_status(route, RouteStatus.DEVELOPMENT)
    assert curator_client.post(url("delete", route.pk)).status_code == 302
    assert not Route.objects.filter(pk=route.pk).exists()


# Query counts ---------------------------------------------------------------------------------


def fill_steps(route, events, count):
    steps = [
        {
            "type": "event",
            "value": {"event": events[n % len(events)].pk, "competencies": []},
            "id": f"step-{n}",
        }  # fmt: skip
        for n in range(count)
    ]
    route.roadmap = [{"type": "stage", "value": {"stage": "implementation", "steps": steps}}]
    route.save()


def listing_queries(client):
    client.get(url("list"))  # warm caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("list"))
    assert response.status_code == 200
    return len(queries)


def test_listing_queries_do_not_grow_with_steps(client, world, resource_map):
    events = [make_event(resource_map, slug=f"q{n}", title=f"Событие {n}") for n in range(3)]
    login(client, world["head"])
    for route in world["routes"].values():
        fill_steps(route, events, 5)
    few = listing_queries(client)
    for route in world["routes"].values():
        fill_steps(route, events, 100)
    assert listing_queries(client) == few


def test_listing_queries_do_not_grow_with_routes(client, world):
    for who in ("head", "curator"):
        login(client, world[who])
        few = listing_queries(client)
        assert Route.objects.count() == 3
        for n in range(27):
            teacher = world["teachers"]["abc"[n % 3]]
            route_builder.create_route(teacher, world["curator"], TODAY, END, world["head"])
        assert listing_queries(client) == few
        Route.objects.exclude(pk__in=[r.pk for r in world["routes"].values()]).delete()


# Reverting, search and filters --------------------------------------------------------------------


def test_reverting_restores_the_content_but_not_the_status(curator_client, world):
    route = world["routes"]["a"]
    first = route.revisions.order_by("created_at", "id").first()
    curator_client.post(url("edit", route.pk), form_data(route, goal="Вторая версия"))
    set_status(route, RouteStatus.IMPLEMENTATION)
    Route.objects.filter(pk=route.pk).update(reflection="Рефлексия педагога")

    assert curator_client.get(url("revisions_revert", route.pk, first.pk)).status_code == 200
    response = curator_client.post(
        url("revisions_revert", route.pk, first.pk), form_data(route, goal=route.goal)
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.status == RouteStatus.IMPLEMENTATION
    assert route.reflection == "Рефлексия педагога"
    assert route.teacher == world["teachers"]["a"]


def test_search_by_teacher_name(client, world):
    login(client, world["head"])
    assert listed(client.get(url("list"), {"q": "алексеева"})) == ["Алексеева"]
    assert listed(client.get(url("list"), {"q": "Мария Борис"})) == ["Борисова"]
    assert listed(client.get(url("list"), {"q": "Сидоров"})) == []


def test_filters(client, world):
    login(client, world["head"])
    set_status(world["routes"]["b"], RouteStatus.IMPLEMENTATION)
    later = add_months(END, 6)
    Route.objects.filter(pk=world["routes"]["c"].pk).update(
        starts_on=add_months(TODAY, 13), ends_on=later
    )
    Route.objects.filter(pk=world["routes"]["c"].pk).update(curator=world["head"])
    StaffMembership.objects.create(user=world["head"], role=StaffRole.CURATOR)
    assert listed(client.get(url("list"), {"status": "implementation"})) == ["Борисова"]
    assert listed(client.get(url("list"), {"municipality": world["m2"].pk})) == ["Борисова"]
    assert listed(client.get(url("list"), {"curator": world["head"].pk})) == ["Васильева"]
    period = {"period_from": add_months(TODAY, 13).isoformat(), "period_to": later.isoformat()}
    assert listed(client.get(url("list"), period)) == ["Васильева"]
    assert listed(client.get(url("list"), {"status": "nonsense"})) == [
        "Алексеева", "Борисова", "Васильева"
    ]  # fmt: skip


def test_bulk_delete_of_the_own_route(curator_client, world):
    route = world["routes"]["a"]
    bulk = reverse("wagtail_bulk_action", args=["wagtail_iom", "route", "delete"])
    mixed = f"{bulk}?id={route.pk}&id={world['routes']['b'].pk}"
    response = curator_client.get(mixed)
    assert response.status_code == 200
    assert "Борисова" not in response.content.decode()  # another's route is not even named
    curator_client.post(mixed)
    assert not Route.objects.filter(pk=route.pk).exists()
    assert Route.objects.filter(pk=world["routes"]["b"].pk).exists()


def test_the_inspect_page_lists_the_steps(client, world, resource_map):
    route = world["routes"]["a"]
    event = make_event(resource_map, slug="i1", title="Шаг мероприятия")
    route_builder.add_event_step(route, event, by_user=world["curator"])
    login(client, world["methodist"])
    response = client.get(url("inspect", route.pk))
    assert response.status_code == 200
    (stage,) = response.context["stages"]
    assert stage["code"] == route_builder.DEFAULT_EVENT_STAGE
    assert [step.event.pk for step in stage["steps"]] == [event.pk]
    assert 'id="iom-snapshot-diagnostics"' not in response.content.decode()  # no diagnostics


def test_saving_keeps_what_changed_while_the_editor_was_open(curator_client, world, monkeypatch):
    from wagtail_iom.routes.admin import RouteAdminForm

    route = world["routes"]["a"]
    original = RouteAdminForm.clean

    def clean_while_the_teacher_writes(self):
        Route.objects.filter(pk=route.pk).update(
            reflection="Написано только что", status=RouteStatus.IMPLEMENTATION
        )
        return original(self)

    monkeypatch.setattr(RouteAdminForm, "clean", clean_while_the_teacher_writes)
    response = curator_client.post(url("edit", route.pk), form_data(route, goal="Правка"))
    assert response.status_code == 302
    route.refresh_from_db()
    assert (route.goal, route.reflection, route.status) == (
        "Правка",
        "Написано только что",
        RouteStatus.IMPLEMENTATION,
    )


def test_saving_is_refused_when_the_route_was_sent_meanwhile(curator_client, world, monkeypatch):
    from wagtail_iom.routes.admin import RouteAdminForm

    route = world["routes"]["a"]
    original = RouteAdminForm.clean

    def clean_while_sent(self):
        Route.objects.filter(pk=route.pk).update(status=RouteStatus.SENT_FOR_APPROVAL)
        return original(self)

    monkeypatch.setattr(RouteAdminForm, "clean", clean_while_sent)
    revisions = route.revisions.count()
    response = curator_client.post(url("edit", route.pk), form_data(route, goal="Поздно"))
    # Wagtail turns the refusal into the form's error message: the page is shown again.
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    route.refresh_from_db()
    assert route.goal != "Поздно"
    assert route.status == RouteStatus.SENT_FOR_APPROVAL
    assert route.revisions.count() == revisions


def test_saving_keeps_an_option_the_teacher_picked_while_the_editor_was_open(
    curator_client, world, resource_map, monkeypatch
):
    from wagtail_iom.routes import teacher as route_cabinet
    from wagtail_iom.routes.admin import RouteAdminForm

    route = world["routes"]["a"]
    first = make_event(resource_map, slug="pick-1", title="Курс 1")
    second = make_event(resource_map, slug="pick-2", title="Курс 2")
    response = curator_client.post(
        url("edit", route.pk), form_data(route, steps=[choose_one_step(first, second)])
    )
    assert response.status_code == 302
    route.refresh_from_db()
    (step,) = [child for _stage, child in iter_steps(route)]
    assert step.block_type == "choose_one"
    # The curator's next save carries the choose-one step, with its id, as loaded.
    data = form_data(route, steps=[choose_one_step(first, second)], goal="Правка куратора")
    data["roadmap-0-id"] = route.roadmap[0].id
    data["roadmap-0-value-steps-0-id"] = step.id
    original = RouteAdminForm.clean

    def clean_while_the_teacher_chooses(self):
        route_cabinet.choose_option(
            Route.objects.get(pk=route.pk), step.id, second.pk, route.teacher.user
        )
        return original(self)

    monkeypatch.setattr(RouteAdminForm, "clean", clean_while_the_teacher_chooses)
    response = curator_client.post(url("edit", route.pk), data)
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.goal == "Правка куратора"
    (kept,) = [child for _stage, child in iter_steps(route)]
    assert (kept.id, kept.block_type, kept.value["event"].pk) == (step.id, "event", second.pk)
