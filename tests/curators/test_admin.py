"""The "Curators" admin screens: staff roles, assigning curators, proposals, rights, CSRF."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory, make_teacher
from wagtail_iom.core import access
from wagtail_iom.curators import assignments as service
from wagtail_iom.models import (
    CuratorAssignment,
    StaffMembership,
    StaffRole,
    TeacherProfile,
    TeacherProposal,
    TeacherProposalStatus,
)

pytestmark = pytest.mark.django_db

ASSIGN = reverse("wagtail_iom_assignments:index")
PROPOSE = reverse("wagtail_iom_propose:index")
PROPOSALS = reverse("wagtail_iom_proposals:index")
ROLES = reverse("wagtail_iom_staff_roles:index")
ROLES_ADD = reverse("wagtail_iom_staff_roles:add")


def staff(username, role=None, *codenames, **place):
    user = UserFactory(username=username, first_name=username.capitalize(), last_name="Staff")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="wagtail_iom")
        )
    if role:
        StaffMembership.objects.create(user=user, role=role, **place)
    return user


def login(client, user):
    client.force_login(user)
    return client


def history_url(teacher):
    return reverse("wagtail_iom_assignments:history", args=[teacher.pk])


HEAD_PERMS = (
    "add_curatorassignment",
    "view_teacherprofile",
    "add_staffmembership",
    "change_staffmembership",
    "delete_staffmembership",
    "view_staffmembership",
)


@pytest.fixture
def places():
    return MunicipalityFactory(name="Гусевский округ"), MunicipalityFactory(name="Светлый")


@pytest.fixture
def head():
    return staff("head", StaffRole.CENTRE_HEAD, *HEAD_PERMS)


@pytest.fixture
def head_client(client, head):
    return login(client, head)


@pytest.fixture
def curator():
    return staff("curator", StaffRole.CURATOR, "view_teacherprofile", "view_route")


@pytest.fixture
def other_curator():
    return staff("curator2", StaffRole.CURATOR, "view_teacherprofile")


@pytest.fixture
def methodist(places):
    return staff(
        "methodist",
        StaffRole.MUNICIPAL_METHODIST,
        "add_teacherproposal",
        "view_teacherprofile",
        municipality=places[0],
    )


@pytest.fixture
def teachers(places):
    gusev, svetly = places
    school = SchoolFactory(municipality=gusev)
    in_gusev = [
        make_teacher(username=f"g{n}", last_name=f"Гусева{n}", municipality=gusev, school=school)
        for n in range(5)
    ]
    in_svetly = [
        make_teacher(username=f"s{n}", last_name=f"Светлова{n}", municipality=svetly)
        for n in range(2)
    ]
    return in_gusev, in_svetly


def listed(response):
    return [row[0].pk for row in response.context["rows"]]


def current_teacher_ids(curator=None):
    rows = CuratorAssignment.objects.filter(ended_at__isnull=True)
    if curator is not None:
        rows = rows.filter(curator=curator)
    return set(rows.values_list("teacher_id", flat=True))


# Assign curators ------------------------------------------------------------------------------


def test_screen_lists_filtered_teachers_with_curators(head_client, head, curator, teachers, places):
    service.assign(teachers[0][:1], curator, head)
    response = head_client.get(ASSIGN, {"municipality": places[0].pk})
    assert response.status_code == 200
    assert listed(response) == [t.pk for t in teachers[0]]
    assert response.context["rows"][0][1] == curator
    assert response.context["rows"][1][1] is None
    assert curator in response.context["curators"]
    content = response.content.decode()
    assert 'id="iom-select-all"' in content
    assert history_url(teachers[0][0]) in content

    response = head_client.get(ASSIGN, {"has_curator": "no"})
    assert set(listed(response)) == {t.pk for t in teachers[0][1:] + teachers[1]}
    response = head_client.get(ASSIGN, {"curator": curator.pk})
    assert listed(response) == [teachers[0][0].pk]
    response = head_client.get(ASSIGN, {"q": "светлова1"})
    assert listed(response) == [teachers[1][1].pk]


@pytest.mark.parametrize(
    "params",
    [
        {"municipality": "abc"},
        {"school": "999999"},
        {"has_curator": "maybe"},
        {"curator": "x"},
        {"p": "abc"},
        {"p": "99"},
        {"q": "x" * 500},
    ],
)
def test_bad_filter_values_do_not_fail(head_client, teachers, params):
    response = head_client.get(ASSIGN, params)
    assert response.status_code == 200


def test_bulk_assign_three_of_five_filtered(head_client, head, curator, teachers, places):
    chosen = teachers[0][:3]
    url = f"{ASSIGN}?municipality={places[0].pk}"
    response = head_client.post(
        url,
        {"action": "assign", "curator": curator.pk, "teacher": [t.pk for t in chosen]},
    )
    assert response.status_code == 302
    assert response["Location"] == url
    assert current_teacher_ids(curator) == {t.pk for t in chosen}
    assert all(row.assigned_by == head for row in CuratorAssignment.objects.filter(curator=curator))


def test_all_matching_the_filter_assigns_exactly_the_filtered(
    head_client, curator, teachers, places
):
    # Ticked boxes from the page do not narrow "all matching the filter".
    response = head_client.post(
        f"{ASSIGN}?municipality={places[0].pk}&p=1",
        {
            "action": "assign",
            "curator": curator.pk,
            "select_all": "1",
            "teacher": [teachers[0][0].pk],
        },
    )
    assert response.status_code == 302
    assert current_teacher_ids(curator) == {t.pk for t in teachers[0]}


def test_all_matching_combines_filters(head_client, head, curator, other_curator, teachers):
    service.assign(teachers[0][:2], curator, head)
    head_client.post(
        f"{ASSIGN}?has_curator=no",
        {"action": "assign", "curator": other_curator.pk, "select_all": "1"},
    )
    assert current_teacher_ids(curator) == {t.pk for t in teachers[0][:2]}
    assert current_teacher_ids(other_curator) == {t.pk for t in teachers[0][2:] + teachers[1]}


def test_all_matching_an_invalid_filter_changes_nothing(head_client, curator, teachers):
    response = head_client.post(
        f"{ASSIGN}?municipality=abc",
        {"action": "assign", "curator": curator.pk, "select_all": "1"},
    )
    assert response.status_code == 302
    assert not CuratorAssignment.objects.exists()


def test_reassign_ends_the_old_row(head_client, head, curator, other_curator, teachers):
    teacher = teachers[0][0]
    service.assign([teacher], curator, head)
    head_client.post(
        ASSIGN, {"action": "assign", "curator": other_curator.pk, "teacher": [teacher.pk]}
    )
    old, new = CuratorAssignment.objects.filter(teacher=teacher).order_by("pk")
    assert old.curator == curator and old.ended_at is not None and old.ended_by == head
    assert new.curator == other_curator and new.ended_at is None


def test_unassign_revokes_the_curators_access_on_the_next_request(
    head_client, head, curator, teachers
):
    teacher = teachers[0][0]
    service.assign([teacher], curator, head)
    curator_client = login(Client(), curator)
    inspect = reverse("wagtail_iom_teachers:inspect", args=[teacher.pk])
    assert curator_client.get(inspect).status_code == 200

    response = head_client.post(ASSIGN, {"action": "unassign", "teacher": [teacher.pk]})

    assert response.status_code == 302
    row = CuratorAssignment.objects.get(teacher=teacher)
    assert row.ended_at is not None and row.ended_by == head
    assert curator_client.get(inspect).status_code == 404
    next_request_user = get_user_model().objects.get(pk=curator.pk)
    assert teacher not in access.teacher_profiles_visible_to(next_request_user)
    assert not access.routes_visible_to(next_request_user).filter(teacher=teacher).exists()


def test_a_non_curator_as_curator_is_refused(head_client, head, teachers):
    not_a_curator = staff("editor")
    for candidate in (not_a_curator, head):
        response = head_client.post(
            ASSIGN,
            {"action": "assign", "curator": candidate.pk, "teacher": [teachers[0][0].pk]},
        )
        assert response.status_code == 302
    assert not CuratorAssignment.objects.exists()


@pytest.mark.parametrize("curator_value", ["", "abc", "999999"])
def test_assign_without_a_valid_curator_changes_nothing(head_client, teachers, curator_value):
    response = head_client.post(
        ASSIGN, {"action": "assign", "curator": curator_value, "teacher": [teachers[0][0].pk]}
    )
    assert response.status_code == 302
    assert not CuratorAssignment.objects.exists()


@pytest.mark.parametrize("bad", ["999999", "abc", "-1"])
def test_ids_outside_the_visible_teachers_are_refused(head_client, curator, teachers, bad):
    response = head_client.post(
        ASSIGN,
        {"action": "assign", "curator": curator.pk, "teacher": [teachers[0][0].pk, bad]},
    )
    assert response.status_code == 403
    assert not CuratorAssignment.objects.exists()


def test_ids_a_head_may_not_see_are_refused(curator, teachers):
    # The right to assign, but not to see teachers: no teacher id is accepted.
    blind_head = staff("blind", StaffRole.CENTRE_HEAD, "add_curatorassignment")
    client = login(Client(), blind_head)
    response = client.post(
        ASSIGN, {"action": "assign", "curator": curator.pk, "teacher": [teachers[0][0].pk]}
    )
    assert response.status_code == 403
    response = client.post(ASSIGN, {"action": "assign", "curator": curator.pk, "select_all": "1"})
    assert response.status_code == 302
    assert not CuratorAssignment.objects.exists()


def test_unknown_action_changes_nothing(head_client, curator, teachers):
    response = head_client.post(
        ASSIGN, {"action": "delete", "curator": curator.pk, "teacher": [teachers[0][0].pk]}
    )
    assert response.status_code == 302
    assert not CuratorAssignment.objects.exists()


@pytest.mark.parametrize("who", ["curator", "methodist", "school_head", "plain_staff"])
def test_only_the_centre_head_opens_the_assignment_screens(who, places, teachers, curator):
    users = {
        "curator": lambda: staff("c", StaffRole.CURATOR, "add_curatorassignment"),
        "methodist": lambda: staff(
            "m",
            StaffRole.MUNICIPAL_METHODIST,
            "add_curatorassignment",
            "view_teacherprofile",
            municipality=places[0],
        ),
        "school_head": lambda: staff(
            "s",
            StaffRole.SCHOOL_HEAD,
            "add_curatorassignment",
            "view_teacherprofile",
            school=teachers[0][0].school,
        ),
        # Centre staff without a role but without the right to assign either.
        "plain_staff": lambda: staff("p", None, "view_teacherprofile"),
    }
    client = login(Client(), users[who]())
    assert client.get(ASSIGN).status_code == 403
    assert client.get(history_url(teachers[0][0])).status_code == 403
    assert client.get(PROPOSALS).status_code == 403
    response = client.post(
        ASSIGN,
        {"action": "assign", "curator": curator.pk, "teacher": [t.pk for t in teachers[0]]},
    )
    assert response.status_code == 403
    assert not CuratorAssignment.objects.exists()
    # The menu does not offer the screen either.
    home = client.get(reverse("wagtailadmin_home"))
    assert ASSIGN not in home.content.decode()


def test_the_menu_offers_the_screens_to_the_head(head_client):
    content = head_client.get(reverse("wagtailadmin_home")).content.decode()
    assert ASSIGN in content
    assert PROPOSALS in content
    assert ROLES in content
    assert PROPOSE not in content  # the head has no right to propose


def test_csrf_is_enforced(head, curator, teachers):
    client = login(Client(enforce_csrf_checks=True), head)
    response = client.post(
        ASSIGN, {"action": "assign", "curator": curator.pk, "teacher": [teachers[0][0].pk]}
    )
    assert response.status_code == 403
    assert not CuratorAssignment.objects.exists()


def test_history_view(head_client, head, curator, other_curator, teachers):
    teacher = teachers[0][0]
    service.assign([teacher], curator, head)
    service.assign([teacher], other_curator, head)
    response = head_client.get(history_url(teacher))
    assert response.status_code == 200
    assert [row.curator for row in response.context["assignments"]] == [other_curator, curator]
    assert 'id="iom-assignment-history"' in response.content.decode()
    assert (
        head_client.get(reverse("wagtail_iom_assignments:history", args=[999999])).status_code
        == 404
    )


def test_screen_queries_do_not_grow_with_the_teachers(head_client, head, curator, places):
    municipality = places[0]
    school = SchoolFactory(municipality=municipality)

    def add(count, start):
        for n in range(start, start + count):
            teacher = make_teacher(
                username=f"q{n}", last_name=f"Учитель{n}", municipality=municipality, school=school
            )
            if n % 2:
                service.assign([teacher], curator, head)

    add(10, 0)
    head_client.get(ASSIGN)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert head_client.get(ASSIGN).status_code == 200
    add(190, 10)
    with CaptureQueriesContext(connection) as many:
        response = head_client.get(ASSIGN)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 50
    assert len(many) == len(few)


# Proposals ------------------------------------------------------------------------------------


def test_methodist_proposes_own_teachers(methodist, teachers):
    client = login(Client(), methodist)
    response = client.get(PROPOSE)
    assert response.status_code == 200
    assert listed(response) == [t.pk for t in teachers[0]]
    response = client.post(
        PROPOSE, {"teacher": [t.pk for t in teachers[0][:2]], "comment": "Дефициты"}
    )
    assert response.status_code == 302
    proposals = TeacherProposal.objects.all()
    assert {p.teacher_id for p in proposals} == {t.pk for t in teachers[0][:2]}
    assert all(p.proposed_by == methodist and p.comment == "Дефициты" for p in proposals)


def test_methodist_cannot_propose_another_municipalitys_teacher(methodist, teachers):
    client = login(Client(), methodist)
    response = client.post(
        PROPOSE, {"teacher": [teachers[0][0].pk, teachers[1][0].pk], "comment": ""}
    )
    assert response.status_code == 403
    assert not TeacherProposal.objects.exists()
    response = client.post(PROPOSE, {"teacher": ["abc"]})
    assert response.status_code == 403
    assert not TeacherProposal.objects.exists()


def test_methodists_filter_offers_only_own_municipalities(methodist, teachers, places):
    client = login(Client(), methodist)
    response = client.get(PROPOSE, {"municipality": places[1].pk})
    assert response.status_code == 200
    assert "municipality" in response.context["filter_form"].errors
    assert listed(response) == [t.pk for t in teachers[0]]


def test_too_long_comment_is_refused(methodist, teachers):
    client = login(Client(), methodist)
    response = client.post(PROPOSE, {"teacher": [teachers[0][0].pk], "comment": "x" * 2001})
    assert response.status_code == 302
    assert not TeacherProposal.objects.exists()


@pytest.mark.parametrize("who", ["curator", "school_head"])
def test_others_cannot_propose(who, teachers, places):
    user = {
        "curator": lambda: staff("c", StaffRole.CURATOR, "add_teacherproposal"),
        "school_head": lambda: staff(
            "s", StaffRole.SCHOOL_HEAD, "add_teacherproposal", school=teachers[0][0].school
        ),
    }[who]()
    client = login(Client(), user)
    assert client.get(PROPOSE).status_code == 403
    assert client.post(PROPOSE, {"teacher": [teachers[0][0].pk]}).status_code == 403
    assert not TeacherProposal.objects.exists()


def test_centre_accepts_proposals_with_a_curator(head_client, head, methodist, curator, teachers):
    created = service.propose(teachers[0][:3], methodist, "Просим").created
    response = head_client.get(PROPOSALS)
    assert response.status_code == 200
    assert {row[0].pk for row in response.context["rows"]} == {p.pk for p in created}
    response = head_client.post(
        PROPOSALS,
        {"action": "accept", "curator": curator.pk, "proposal": [p.pk for p in created[:2]]},
    )
    assert response.status_code == 302
    statuses = dict(TeacherProposal.objects.values_list("pk", "status"))
    assert statuses[created[0].pk] == TeacherProposalStatus.ACCEPTED
    assert statuses[created[2].pk] == TeacherProposalStatus.PROPOSED
    assert current_teacher_ids(curator) == {t.pk for t in teachers[0][:2]}


def test_accept_with_a_non_curator_changes_nothing(head_client, head, methodist, teachers):
    (proposal,) = service.propose(teachers[0][:1], methodist).created
    response = head_client.post(
        PROPOSALS, {"action": "accept", "curator": head.pk, "proposal": [proposal.pk]}
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == TeacherProposalStatus.PROPOSED
    assert not CuratorAssignment.objects.exists()


def test_centre_rejects_with_a_reason(head_client, methodist, teachers):
    (proposal,) = service.propose(teachers[0][:1], methodist).created
    response = head_client.post(
        PROPOSALS, {"action": "reject", "comment": "Уже есть маршрут", "proposal": [proposal.pk]}
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == TeacherProposalStatus.REJECTED
    response = head_client.get(PROPOSALS, {"status": "rejected"})
    assert response.context["rows"][0][2] == "Уже есть маршрут"
    # The methodist sees the reason next to the teacher.
    response = login(Client(), methodist).get(PROPOSE)
    rows = {row[0].pk: row for row in response.context["rows"]}
    assert rows[teachers[0][0].pk][3] == "Уже есть маршрут"


def test_deciding_unknown_proposals_is_refused(head_client, methodist, curator, teachers):
    (proposal,) = service.propose(teachers[0][:1], methodist).created
    response = head_client.post(
        PROPOSALS,
        {"action": "accept", "curator": curator.pk, "proposal": [proposal.pk, 999999]},
    )
    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == TeacherProposalStatus.PROPOSED


def test_proposals_list_queries_do_not_grow(head_client, head, methodist, curator, places):
    municipality = places[0]

    def add(count, start):
        teachers = [
            make_teacher(username=f"p{n}", last_name=f"Учитель{n}", municipality=municipality)
            for n in range(start, start + count)
        ]
        service.propose(teachers, methodist)
        service.assign(teachers[::2], curator, head)

    add(3, 0)
    head_client.get(PROPOSALS)
    with CaptureQueriesContext(connection) as few:
        head_client.get(PROPOSALS)
    add(30, 3)
    with CaptureQueriesContext(connection) as many:
        head_client.get(PROPOSALS)
    assert len(many) == len(few)


# Staff roles ----------------------------------------------------------------------------------


def test_head_manages_staff_roles(head_client, places):
    person = staff("newcurator")
    response = head_client.get(ROLES)
    assert response.status_code == 200
    response = head_client.post(ROLES_ADD, {"user": person.pk, "role": StaffRole.CURATOR})
    assert response.status_code == 302
    assert StaffMembership.objects.filter(user=person, role=StaffRole.CURATOR).exists()
    assert person in service.curators()
    export = head_client.get(ROLES, {"export": "csv"})
    assert export.status_code == 200
    assert "newcurator" in export.getvalue().decode("utf-8-sig")


def test_staff_role_validation(head_client, places):
    person = staff("newmethodist")
    response = head_client.post(
        ROLES_ADD, {"user": person.pk, "role": StaffRole.MUNICIPAL_METHODIST}
    )
    assert response.status_code == 200
    assert "municipality" in response.context["form"].errors
    response = head_client.post(ROLES_ADD, {"user": person.pk, "role": StaffRole.SCHOOL_HEAD})
    assert "school" in response.context["form"].errors
    response = head_client.post(
        ROLES_ADD,
        {"user": person.pk, "role": StaffRole.CURATOR, "municipality": places[0].pk},
    )
    assert response.context["form"].errors["municipality"].as_data()[0].code == "not_for_role"
    StaffMembership.objects.create(user=person, role=StaffRole.CURATOR)
    response = head_client.post(ROLES_ADD, {"user": person.pk, "role": StaffRole.CURATOR})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert StaffMembership.objects.filter(user=person).count() == 1


def test_teachers_are_not_offered_as_staff(head_client, teachers):
    response = head_client.get(ROLES_ADD)
    choices = response.context["form"].fields["user"].queryset
    assert not choices.filter(pk=teachers[0][0].user_id).exists()


@pytest.mark.parametrize("role", [StaffRole.CURATOR, StaffRole.MUNICIPAL_METHODIST])
def test_scoped_staff_cannot_manage_roles_even_with_the_permission(role, places):
    user = staff(
        "scoped",
        role,
        *HEAD_PERMS,
        **({"municipality": places[0]} if role == StaffRole.MUNICIPAL_METHODIST else {}),
    )
    client = login(Client(), user)
    assert client.get(ROLES).status_code != 200
    response = client.post(ROLES_ADD, {"user": user.pk, "role": StaffRole.CENTRE_HEAD})
    assert response.status_code != 200
    assert not StaffMembership.objects.filter(user=user, role=StaffRole.CENTRE_HEAD).exists()
    assert ROLES not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_teacher_profile_history_shows_the_assignment(admin_client, head, curator, teachers):
    teacher = teachers[0][0]
    service.assign([teacher], curator, head)
    response = admin_client.get(reverse("wagtail_iom_teachers:history", args=[teacher.pk]))
    assert response.status_code == 200
    (entry,) = response.context["object_list"]
    assert entry.action == service.LOG_ASSIGNED
    assert entry.data["curator"]["id"] == curator.pk
    # The registered formatter names the curator (names are not translated).
    assert "Curator Staff" in entry.message
    assert "Curator Staff" in response.content.decode()


def test_superuser_sees_the_screens(admin_client, teachers):
    assert admin_client.get(ASSIGN).status_code == 200
    assert admin_client.get(PROPOSALS).status_code == 200
    assert admin_client.get(PROPOSE).status_code == 200
    assert admin_client.get(ROLES).status_code == 200
    assert TeacherProfile.objects.count() == 7
