"""Curator assignment and proposals (curators/assignments.py), without HTTP."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from wagtail.log_actions import registry as log_registry

from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory, make_teacher
from wagtail_iom.core import access
from wagtail_iom.core.models import TeacherLogEntry
from wagtail_iom.curators import assignments as service
from wagtail_iom.models import (
    CuratorAssignment,
    Route,
    StaffMembership,
    StaffRole,
    TeacherProposal,
    TeacherProposalStatus,
)

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


def give(user, *codenames):
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="wagtail_iom")
        )
    return user


def staff(username, role, *codenames, **place):
    user = UserFactory(username=username, first_name=username.capitalize(), last_name="Staff")
    StaffMembership.objects.create(user=user, role=role, **place)
    return give(user, *codenames)


def fresh(user):
    """A new user object, as the next request would load it (no cached roles or perms)."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def head():
    return staff("head", StaffRole.CENTRE_HEAD, "add_curatorassignment", "view_teacherprofile")


@pytest.fixture
def curator():
    return staff("curator", StaffRole.CURATOR, "view_teacherprofile", "view_route")


@pytest.fixture
def other_curator():
    return staff("curator2", StaffRole.CURATOR, "view_teacherprofile", "view_route")


@pytest.fixture
def places():
    gusev, svetly = MunicipalityFactory(name="Гусев"), MunicipalityFactory(name="Светлый")
    return gusev, svetly


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


def current_rows():
    return CuratorAssignment.objects.filter(ended_at__isnull=True)


def test_assign_creates_rows_and_counts(head, curator, teachers):
    chosen = teachers[0][:3]
    result = service.assign(chosen, curator, head)
    assert result == service.AssignmentResult(assigned=3, reassigned=0, unchanged=0)
    rows = current_rows()
    assert {r.teacher_id for r in rows} == {t.pk for t in chosen}
    assert all(r.curator == curator and r.assigned_by == head for r in rows)
    assert service.current_curator(chosen[0]) == curator
    assert service.current_curator(teachers[0][4]) is None


def test_assigning_again_keeps_the_row(head, curator, teachers):
    chosen = teachers[0][:2]
    service.assign(chosen, curator, head)
    before = set(current_rows().values_list("pk", flat=True))
    result = service.assign(chosen, curator, head)
    assert result == service.AssignmentResult(unchanged=2)
    assert set(current_rows().values_list("pk", flat=True)) == before
    assert CuratorAssignment.objects.count() == 2


def test_reassign_ends_the_old_row(head, curator, other_curator, teachers):
    teacher = teachers[0][0]
    service.assign([teacher], curator, head)
    result = service.assign([teacher, teachers[0][1]], other_curator, head)
    assert result == service.AssignmentResult(assigned=1, reassigned=1)
    history = list(service.assignment_history(teacher))
    assert [row.curator for row in history] == [other_curator, curator]
    new, old = history
    assert new.is_current and new.assigned_by == head
    assert old.ended_at is not None and old.ended_by == head
    assert service.current_curator(teacher) == other_curator


def test_assign_accepts_ids_and_querysets(head, curator, teachers, places):
    gusev, _ = places
    from wagtail_iom.models import TeacherProfile

    result = service.assign(TeacherProfile.objects.filter(municipality=gusev), curator, head)
    assert result.assigned == 5
    result = service.assign([teachers[1][0].pk], curator, head)
    assert result.assigned == 1
    assert current_rows().count() == 6


def test_assign_in_chunks(monkeypatch, head, curator, other_curator, teachers):
    """The whole filtered list can exceed what one query takes: ids go in chunks."""
    monkeypatch.setattr(service, "CHUNK", 2)
    everyone = teachers[0] + teachers[1]
    service.assign(everyone[:3], curator, head)
    result = service.assign(everyone, other_curator, head)
    assert result == service.AssignmentResult(assigned=4, reassigned=3)
    assert current_rows().filter(curator=other_curator).count() == 7
    assert CuratorAssignment.objects.filter(ended_at__isnull=False).count() == 3


@pytest.mark.parametrize("role", [None, StaffRole.MUNICIPAL_METHODIST, StaffRole.CENTRE_HEAD])
def test_a_non_curator_is_refused(head, teachers, places, role):
    not_a_curator = UserFactory(username="someone")
    if role:
        StaffMembership.objects.create(
            user=not_a_curator,
            role=role,
            municipality=places[0] if role == StaffRole.MUNICIPAL_METHODIST else None,
        )
    with pytest.raises(service.AssignmentError) as caught:
        service.assign(teachers[0], not_a_curator, head)
    assert caught.value.code == "not_a_curator"
    assert "curator role" in caught.value.message
    assert not CuratorAssignment.objects.exists()


def test_an_inactive_curator_is_refused(head, curator, teachers):
    curator.is_active = False
    curator.save()
    with pytest.raises(service.AssignmentError):
        service.assign(teachers[0], curator, head)
    assert not CuratorAssignment.objects.exists()


def test_curators_lists_role_holders_once(curator, other_curator, head):
    StaffMembership.objects.create(user=curator, role=StaffRole.CENTRE_HEAD)
    assert list(service.curators()) == sorted(
        [curator, other_curator], key=lambda u: (u.last_name, u.first_name, u.username)
    )


def test_unassign_ends_rows_and_revokes_access(head, curator, teachers):
    teacher, untouched = teachers[0][0], teachers[0][1]
    service.assign([teacher, untouched], curator, head)
    route = Route.objects.create(
        teacher=teacher,
        curator=curator,
        starts_on=datetime.date(2025, 9, 1),
        ends_on=datetime.date(2026, 6, 1),
    )
    seen = fresh(curator)
    assert teacher in access.teacher_profiles_visible_to(seen)
    assert route in access.routes_visible_to(seen)

    result = service.unassign([teacher, teachers[0][2]], head)

    assert result == service.UnassignResult(unassigned=1, not_assigned=1)
    row = CuratorAssignment.objects.get(teacher=teacher)
    assert row.ended_at is not None and row.ended_by == head
    assert service.current_curator(teacher) is None
    next_request = fresh(curator)
    assert teacher not in access.teacher_profiles_visible_to(next_request)
    assert route not in access.routes_visible_to(next_request)
    assert not access.can_see_route(next_request, route)
    # The other teacher stays with the curator.
    assert untouched in access.teacher_profiles_visible_to(next_request)


def test_every_change_is_logged_on_the_teacher(head, curator, other_curator, teachers):
    teacher = teachers[0][0]
    service.assign([teacher], curator, head)
    service.assign([teacher], other_curator, head)
    service.unassign([teacher], head)
    entries = list(
        log_registry.get_logs_for_instance(teacher)
        .order_by("timestamp", "pk")
        .select_related("user")
    )
    assert [e.action for e in entries] == [
        service.LOG_ASSIGNED,
        service.LOG_ASSIGNED,
        service.LOG_UNASSIGNED,
    ]
    assert all(e.user == head for e in entries)
    assert entries[0].label == teacher.full_name
    assert entries[1].data["previous_curator"]["id"] == curator.pk
    assert entries[1].data["curator"]["id"] == other_curator.pk
    assert entries[2].data["curator"]["id"] == other_curator.pk
    # The admin's history can read them: each action has a label and a message.
    messages = [log_registry.get_formatter(e).format_message(e) for e in entries]
    assert "Curator" in messages[0] and "Curator2" in messages[1] and "Curator" in messages[1]


def test_filter_teachers(head, curator, teachers, places):
    from wagtail_iom.models import TeacherProfile

    gusev, svetly = places
    service.assign(teachers[0][:2], curator, head)
    everyone = TeacherProfile.objects.all()
    assert service.filter_teachers(everyone, municipality=svetly).count() == 2
    assert service.filter_teachers(everyone, has_curator=True).count() == 2
    assert service.filter_teachers(everyone, has_curator=False).count() == 5
    assert service.filter_teachers(everyone, municipality=gusev, has_curator=False).count() == 3
    assert service.filter_teachers(everyone, curator=curator).count() == 2
    assert list(service.filter_teachers(everyone, search="гусева3")) == [teachers[0][3]]
    assert service.filter_teachers(everyone, search="мария петровна").count() == 7


# Proposals ------------------------------------------------------------------------------------


@pytest.fixture
def methodist(places):
    return staff(
        "methodist",
        StaffRole.MUNICIPAL_METHODIST,
        "add_teacherproposal",
        "view_teacherprofile",
        municipality=places[0],
    )


def test_methodist_proposes_own_municipality_only(methodist, teachers):
    own, other = teachers[0][:2], teachers[1][:1]
    result = service.propose(own + other, methodist, "Дефициты по итогам диагностики")
    assert [p.teacher for p in result.created] == own
    assert result.refused == other
    assert set(TeacherProposal.objects.values_list("teacher_id", flat=True)) == {t.pk for t in own}
    proposal = TeacherProposal.objects.get(teacher=own[0])
    assert proposal.proposed_by == methodist
    assert proposal.comment == "Дефициты по итогам диагностики"
    assert proposal.status == TeacherProposalStatus.PROPOSED
    assert log_registry.get_logs_for_instance(own[0]).filter(action=service.LOG_PROPOSED).exists()


def test_a_pending_proposal_is_not_repeated(methodist, teachers):
    service.propose(teachers[0][:1], methodist)
    result = service.propose(teachers[0][:2], methodist)
    assert result.already_proposed == teachers[0][:1]
    assert [p.teacher for p in result.created] == teachers[0][1:2]
    assert TeacherProposal.objects.count() == 2


def test_without_the_right_nobody_proposes(curator, teachers, places):
    result = service.propose(teachers[0], curator)
    assert result.refused == teachers[0] and not result.created
    methodist_without_permission = staff(
        "m2", StaffRole.MUNICIPAL_METHODIST, municipality=places[0]
    )
    assert not service.propose(teachers[0], methodist_without_permission).created
    assert not TeacherProposal.objects.exists()


def test_accept_proposal_assigns(methodist, head, curator, teachers):
    teacher = teachers[0][0]
    (proposal,) = service.propose([teacher], methodist).created
    result = service.accept_proposal(proposal, curator, head)
    assert result.assigned == 1
    proposal.refresh_from_db()
    assert proposal.status == TeacherProposalStatus.ACCEPTED
    assert proposal.decided_by == head and proposal.decided_at is not None
    assert service.current_curator(teacher) == curator
    with pytest.raises(service.AssignmentError) as caught:
        service.accept_proposal(proposal, curator, head)
    assert caught.value.code == "already_decided"


def test_accept_with_a_non_curator_changes_nothing(methodist, head, teachers):
    (proposal,) = service.propose(teachers[0][:1], methodist).created
    with pytest.raises(service.AssignmentError):
        service.accept_proposal(proposal, head, head)
    proposal.refresh_from_db()
    assert proposal.status == TeacherProposalStatus.PROPOSED
    assert not CuratorAssignment.objects.exists()


def test_reject_proposal_keeps_the_reason(methodist, head, teachers):
    (proposal,) = service.propose(teachers[0][:1], methodist, "Просим включить").created
    service.reject_proposal(proposal, head, "Маршрут уже составлен в прошлом году")
    proposal.refresh_from_db()
    assert proposal.status == TeacherProposalStatus.REJECTED
    assert proposal.comment == "Просим включить"
    assert service.rejection_comments([proposal]) == {
        proposal.pk: "Маршрут уже составлен в прошлом году"
    }
    with pytest.raises(service.AssignmentError):
        service.reject_proposal(proposal, head, "again")
    assert not CuratorAssignment.objects.exists()
    # A rejected teacher may be proposed again.
    assert service.propose(teachers[0][:1], methodist).created


def test_log_entries_are_teacher_log_entries(head, curator, teachers):
    service.assign(teachers[0][:3], curator, head)
    entries = TeacherLogEntry.objects.filter(action=service.LOG_ASSIGNED)
    assert entries.count() == 3
    # Each names its teacher, so the site history shows it only within the staff's scope.
    assert {entry.teacher_id for entry in entries} == {t.pk for t in teachers[0][:3]}
    # One action: one uuid, so the admin's history groups them.
    assert entries.values("uuid").distinct().count() == 1
