"""The sign-ups admin is scoped like routes: each staff member reaches the sign-ups of the
teachers their role reaches, and organisers those of the events they may edit."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.models import GroupPagePermission

from tests.factories import (
    MunicipalityFactory,
    SchoolFactory,
    UserFactory,
    make_event,
    make_teacher,
)
from wagtail_iom.models import CuratorAssignment, Registration, StaffMembership, StaffRole

pytestmark = pytest.mark.django_db

INDEX = "wagtail_iom_registrations:index"
APPROVE = "wagtail_iom_registrations:approve"


@pytest.fixture
def world(resource_map):
    """Two municipalities, a school in each, a teacher in each, both signed up (pending) to
    one event that needs approval."""
    north, south = MunicipalityFactory(name="Север"), MunicipalityFactory(name="Юг")
    north_school = SchoolFactory(municipality=north, name="Школа Север")
    south_school = SchoolFactory(municipality=south, name="Школа Юг")
    mine = make_teacher(username="mine", last_name="Свой", municipality=north, school=north_school)
    theirs = make_teacher(
        username="theirs", last_name="Чужой", municipality=south, school=south_school
    )
    event = make_event(resource_map, needs_approval=True, capacity=5, title="Семинар")
    registrations = {
        profile.user.username: Registration.objects.create(
            event=event, user=profile.user, status="pending"
        )
        for profile in (mine, theirs)
    }
    return {
        "north": north,
        "north_school": north_school,
        "mine": mine,
        "theirs": theirs,
        "event": event,
        "registrations": registrations,
    }


def staff(username, *codenames, role=None, **role_fields):
    user = UserFactory(username=username)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["access_admin", "view_registration", "decide_registration", *codenames]
        )
    )
    if role:
        StaffMembership.objects.create(user=user, role=role, **role_fields)
    return user


def listed(client, user, **params):
    client.force_login(user)
    response = client.get(reverse(INDEX), params)
    assert response.status_code == 200
    return {r.user.username for r in response.context["object_list"]}


def exported(client, user):
    client.force_login(user)
    response = client.get(reverse(INDEX), {"export": "csv"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))[1:]
    return {row[1] for row in rows}  # list_export: participant, e-mail, event, ...


def test_a_curator_lists_and_exports_only_the_assigned_teachers_sign_ups(client, world):
    curator = staff("curator", role=StaffRole.CURATOR)
    CuratorAssignment.objects.create(teacher=world["mine"], curator=curator)
    assert listed(client, curator) == {"mine"}
    assert listed(client, curator, q="Чужой") == set()
    assert exported(client, curator) == {world["mine"].user.email}


def test_a_curator_cannot_approve_a_sign_up_of_a_teacher_not_theirs(client, world):
    curator = staff("curator", role=StaffRole.CURATOR)
    CuratorAssignment.objects.create(teacher=world["mine"], curator=curator)
    foreign = world["registrations"]["theirs"]
    client.force_login(curator)
    response = client.get(reverse(APPROVE), {"id": foreign.pk})
    assert response.status_code == 200
    assert foreign not in response.context["pending"]
    client.post(reverse(APPROVE), {"id": foreign.pk})
    foreign.refresh_from_db()
    assert foreign.status == "pending"
    own = world["registrations"]["mine"]
    client.post(reverse(APPROVE), {"id": own.pk})
    own.refresh_from_db()
    assert own.status == "confirmed"


def test_a_methodist_reaches_the_municipality_and_a_school_head_the_school(client, world):
    methodist = staff("methodist", role=StaffRole.MUNICIPAL_METHODIST, municipality=world["north"])
    head = staff("head", role=StaffRole.SCHOOL_HEAD, school=world["north_school"])
    assert listed(client, methodist) == {"mine"}
    assert listed(client, head) == {"mine"}


def test_the_centre_head_reaches_everyone(client, world):
    centre = staff("centre", role=StaffRole.CENTRE_HEAD)
    assert listed(client, centre) == {"mine", "theirs"}


def test_an_unassigned_curator_sees_nothing(client, world):
    curator = staff("curator", role=StaffRole.CURATOR)
    assert listed(client, curator) == set()
    assert exported(client, curator) == set()


def test_an_organiser_sees_the_sign_ups_of_the_events_they_may_edit(client, world, resource_map):
    other_event = make_event(resource_map, title="Другое", capacity=5)
    Registration.objects.create(event=other_event, user=world["theirs"].user, status="confirmed")
    editors = Group.objects.create(name="Организаторы семинара")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    GroupPagePermission.objects.create(
        group=editors,
        page=world["event"],
        permission=Permission.objects.get(codename="change_page"),
    )
    organiser = UserFactory(username="organiser")
    organiser.groups.add(editors)
    client.force_login(organiser)
    response = client.get(reverse(INDEX))
    assert response.status_code == 200
    titles = {r.event.title for r in response.context["object_list"]}
    assert titles == {"Семинар"}
    assert {r.user.username for r in response.context["object_list"]} == {"mine", "theirs"}


def test_an_editor_of_no_event_gets_a_refusal(client, world):
    nobody = UserFactory(username="nobody")
    nobody.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(nobody)
    assert client.get(reverse(INDEX)).status_code == 403


def test_the_event_filter_lists_only_events_with_visible_sign_ups(client, world, resource_map):
    hidden = make_event(resource_map, title="Скрытое", capacity=5)
    Registration.objects.create(event=hidden, user=world["theirs"].user, status="confirmed")
    curator = staff("curator", role=StaffRole.CURATOR)
    CuratorAssignment.objects.create(teacher=world["mine"], curator=curator)
    client.force_login(curator)
    response = client.get(reverse(INDEX))
    choices = {str(e) for e in response.context["filters"].form.fields["event"].queryset}
    assert choices == {"Семинар"}
