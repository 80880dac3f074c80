"""The start of a route (000 §5.2): a teacher asks for one from the cabinet, a school head
recommends teachers of the own school; both land in the municipality's proposals with their
origin, the methodists are e-mailed once per request, and the centre proceeds as before."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory, make_teacher
from wagtail_iom.curators import assignments
from wagtail_iom.curators import emails as curator_emails
from wagtail_iom.models import (
    Route,
    StaffMembership,
    StaffRole,
    TeacherProfile,
    TeacherProposal,
    TeacherProposalOrigin,
    TeacherProposalStatus,
)
from wagtail_iom.routes import teacher as route_teacher
from wagtail_iom.routes.models import RouteStatus
from wagtail_iom.routes.services import RouteError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

ASK = reverse("wagtail_iom:cabinet_route_request")
ROUTES = reverse("wagtail_iom:cabinet_routes")
RECOMMEND = reverse("wagtail_iom_recommend:index")
PROPOSE = reverse("wagtail_iom_propose:index")
PROPOSALS = reverse("wagtail_iom_proposals:index")


def staff(username, role=None, *codenames, email=True, **place):
    user = UserFactory(
        username=username,
        first_name=username.capitalize(),
        last_name="Staff",
        email=f"{username}@example.org" if email else "",
    )
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="wagtail_iom")
        )
    if role:
        StaffMembership.objects.create(user=user, role=role, **place)
    return user


def login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def place():
    municipality = MunicipalityFactory(name="Гусевский округ")
    return municipality, SchoolFactory(municipality=municipality, name="Школа № 1")


@pytest.fixture
def maria(place):
    return make_teacher(username="maria", municipality=place[0], school=place[1])


@pytest.fixture
def methodists(place):
    return [
        staff(
            "methodist",
            StaffRole.MUNICIPAL_METHODIST,
            "add_teacherproposal",
            "view_teacherprofile",
            municipality=place[0],
        ),
        staff("methodist2", StaffRole.MUNICIPAL_METHODIST, municipality=place[0]),
        staff("elsewhere", StaffRole.MUNICIPAL_METHODIST, municipality=MunicipalityFactory()),
    ]


@pytest.fixture
def school_head(place):
    return staff(
        "principal",
        StaffRole.SCHOOL_HEAD,
        "add_teacherproposal",
        "view_teacherprofile",
        school=place[1],
    )


def route(teacher, status):
    today = timezone.localdate()
    return Route.objects.create(
        teacher=teacher,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=200),
        status=status,
        roadmap=[],
    )


# The teacher's request ------------------------------------------------------------------------


def test_the_teacher_asks_and_the_methodists_are_emailed_once(
    maria, methodists, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(maria.user)
    page = client.get(ROUTES)
    assert page.status_code == 200
    assert page.context["route_request"]["can_ask"]
    assert "Запросить индивидуальный маршрут" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ASK, {"comment": "Хочу освоить формирующее оценивание"})
    assert response.status_code == 302
    proposal = TeacherProposal.objects.get()
    assert (proposal.teacher, proposal.origin, proposal.proposed_by, proposal.status) == (
        maria,
        TeacherProposalOrigin.TEACHER,
        maria.user,
        TeacherProposalStatus.PROPOSED,
    )
    assert proposal.comment == "Хочу освоить формирующее оценивание"
    assert sorted(m.to[0] for m in mailoutbox) == [
        "methodist2@example.org",
        "methodist@example.org",
    ]
    assert "запрашивает индивидуальный образовательный маршрут" in mailoutbox[0].body
    assert "формирующее" in mailoutbox[0].body
    # A repeated task sends nothing again.
    assert curator_emails.send_route_request(proposal.pk) == 0
    assert len(mailoutbox) == 2
    follow = client.get(ROUTES)
    assert follow.context["route_request"]["open_request"] == proposal
    assert not follow.context["route_request"]["can_ask"]


def test_a_second_request_is_refused_with_a_message(maria, methodists):
    client = login(maria.user)
    client.post(ASK, {"comment": ""})
    response = client.post(ASK, {"comment": ""}, follow=True)
    assert response.status_code == 200
    assert "уже ждёт рассмотрения в центре" in response.content.decode()
    assert TeacherProposal.objects.count() == 1


def test_a_proposal_by_the_methodist_counts_as_an_open_request(maria, methodists):
    assignments.propose([maria], methodists[0], "")
    with pytest.raises(RouteError) as error:
        route_teacher.ask_for_route(maria)
    assert error.value.code == "already_requested"


@pytest.mark.parametrize(
    "status", [RouteStatus.DEVELOPMENT, RouteStatus.APPROVED, RouteStatus.IMPLEMENTATION]
)
def test_a_teacher_with_a_route_under_way_is_refused(maria, status):
    route(maria, status)
    response = login(maria.user).post(ASK, {"comment": ""}, follow=True)
    assert "У вас уже есть маршрут" in response.content.decode()
    assert not TeacherProposal.objects.exists()


def test_a_completed_route_allows_a_new_request(maria):
    route(maria, RouteStatus.COMPLETED)
    assert route_teacher.ask_for_route(maria).origin == TeacherProposalOrigin.TEACHER


def test_a_teacher_without_a_municipality_is_told_what_to_do():
    teacher = make_teacher(username="nowhere")
    client = login(teacher.user)
    assert not client.get(ROUTES).context["route_request"]["can_ask"]
    response = client.post(ASK, {"comment": ""}, follow=True)
    assert "не указан муниципалитет" in response.content.decode()
    assert not TeacherProposal.objects.exists()


def test_a_too_long_comment_is_refused(maria):
    response = login(maria.user).post(ASK, {"comment": "x" * 2001}, follow=True)
    assert response.status_code == 200
    assert not TeacherProposal.objects.exists()


def test_not_a_teacher_gets_no_request(client, maria):
    # Anonymous: to the sign-in page.
    assert client.post(ASK, {"comment": ""}).status_code == 302
    # A signed-in user without a teacher's profile: sent to the consent step, nothing made.
    user = UserFactory(username="no-profile")
    response = login(user).post(ASK, {"comment": ""})
    assert response.status_code in (302, 403)
    assert not TeacherProposal.objects.exists()


def test_only_post_with_csrf(maria):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maria.user)
    assert client.get(ASK).status_code == 405
    assert client.post(ASK, {"comment": ""}).status_code == 403
    assert not TeacherProposal.objects.exists()


# The school head's recommendation ------------------------------------------------------------


def test_the_school_head_lists_and_recommends_own_teachers(
    school_head, maria, place, methodists, mailoutbox, django_capture_on_commit_callbacks
):
    colleague = make_teacher(username="colleague", municipality=place[0], school=place[1])
    other_school = SchoolFactory(municipality=place[0])
    stranger = make_teacher(username="stranger", municipality=place[0], school=other_school)
    client = login(school_head)
    page = client.get(RECOMMEND)
    assert page.status_code == 200
    assert {row[0].pk for row in page.context["rows"]} == {maria.pk, colleague.pk}
    assert stranger.pk not in {row[0].pk for row in page.context["rows"]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            RECOMMEND, {"teacher": [maria.pk, colleague.pk], "comment": "Молодые"}
        )
    assert response.status_code == 302
    proposals = TeacherProposal.objects.order_by("pk")
    assert [(p.teacher_id, p.origin, p.proposed_by) for p in proposals] == [
        (maria.pk, TeacherProposalOrigin.SCHOOL_HEAD, school_head),
        (colleague.pk, TeacherProposalOrigin.SCHOOL_HEAD, school_head),
    ]
    # One e-mail per recommendation to each methodist of the municipality.
    assert len(mailoutbox) == 4
    assert "рекомендует" in mailoutbox[0].body


@pytest.mark.parametrize("bad", ["another_school", "abc", "99999999999999999999999"])
def test_the_school_head_cannot_recommend_outside_the_school(school_head, maria, place, bad):
    stranger = make_teacher(username="stranger", school=SchoolFactory(municipality=place[0]))
    value = {"another_school": stranger.pk}.get(bad, bad)
    response = login(school_head).post(RECOMMEND, {"teacher": [maria.pk, value]})
    assert response.status_code == 403
    assert not TeacherProposal.objects.exists()


def test_the_school_head_filter_ignores_bad_values(school_head, maria):
    response = login(school_head).get(RECOMMEND, {"school": "x", "origin": "nope", "p": "z"})
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["methodist", "curator", "head_without_permission", "teacher"])
def test_only_school_heads_recommend(who, maria, place, methodists):
    user = {
        "methodist": lambda: methodists[0],
        "curator": lambda: staff("c", StaffRole.CURATOR, "add_teacherproposal"),
        "head_without_permission": lambda: staff("s", StaffRole.SCHOOL_HEAD, school=place[1]),
        "teacher": lambda: maria.user,
    }[who]()
    client = login(user)
    assert client.get(RECOMMEND).status_code in (302, 403)
    assert client.post(RECOMMEND, {"teacher": [maria.pk]}).status_code in (302, 403)
    assert not TeacherProposal.objects.exists()


def test_a_recommended_teacher_awaiting_the_centre_is_not_recommended_twice(school_head, maria):
    route_teacher.ask_for_route(maria)
    result = assignments.propose([maria], school_head, "", origin=TeacherProposalOrigin.SCHOOL_HEAD)
    assert result.already_proposed == [maria]
    assert TeacherProposal.objects.count() == 1


# The municipality's proposals and the centre ---------------------------------------------------


def test_the_origin_shows_and_filters_and_the_centre_proceeds_as_before(
    maria, place, methodists, school_head
):
    colleague = make_teacher(username="colleague", municipality=place[0], school=place[1])
    third = make_teacher(username="third", municipality=place[0])
    route_teacher.ask_for_route(maria)
    assignments.propose([colleague], school_head, "", origin=TeacherProposalOrigin.SCHOOL_HEAD)
    assignments.propose([third], methodists[0], "")

    methodist = login(methodists[0])
    page = methodist.get(PROPOSE, {"origin": "teacher"})
    assert [row[0].pk for row in page.context["rows"]] == [maria.pk]
    assert "Запрос педагога" in page.content.decode()
    page = methodist.get(PROPOSE, {"origin": "school_head"})
    assert [row[0].pk for row in page.context["rows"]] == [colleague.pk]

    head = staff("centre", StaffRole.CENTRE_HEAD, "add_curatorassignment", "view_teacherprofile")
    curator = staff("tutor", StaffRole.CURATOR)
    centre = login(head)
    page = centre.get(PROPOSALS, {"origin": "school_head"})
    assert [row[0].teacher_id for row in page.context["rows"]] == [colleague.pk]
    assert "Рекомендация руководителя ОО" in page.content.decode()
    assert len(centre.get(PROPOSALS).context["rows"]) == 3
    request = TeacherProposal.objects.get(teacher=maria)
    response = centre.post(
        PROPOSALS, {"action": "accept", "proposal": [request.pk], "curator": curator.pk}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == TeacherProposalStatus.ACCEPTED
    assert assignments.current_curator(maria) == curator
    # Accepted and assigned: nothing is open any more, and no route exists yet.
    assert route_teacher.route_request_state(maria)["can_ask"]


def test_a_decided_proposal_is_not_emailed(maria, methodists, mailoutbox):
    proposal = route_teacher.ask_for_route(maria)
    assignments.reject_proposal(proposal, methodists[0], "")
    assert curator_emails.send_route_request(proposal.pk) == 0
    assert mailoutbox == []


def test_the_recommend_screen_queries_do_not_grow_with_the_teachers(school_head, place):
    def add(count, start):
        for n in range(start, start + count):
            make_teacher(username=f"q{n}", municipality=place[0], school=place[1])

    add(5, 0)
    client = login(school_head)
    client.get(RECOMMEND)  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(RECOMMEND).status_code == 200
    add(60, 5)
    teachers = list(TeacherProfile.objects.filter(school=place[1]).order_by("pk"))
    assignments.propose(teachers[::2], school_head, "", origin=TeacherProposalOrigin.SCHOOL_HEAD)
    with CaptureQueriesContext(connection) as many:
        response = client.get(RECOMMEND)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 50
    assert len(many) == len(few)
