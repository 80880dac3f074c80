"""E-mails of a route sent for approval or approved: its PDF to the school head and the methodists."""

import pytest
from django.core import mail

from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory
from tests.routes.documents_data import make_events, make_rich_teacher, make_route
from wagtail_iom import tasks
from wagtail_iom.models import (
    RouteStatus,
    RouteTransition,
    SentNotification,
    StaffMembership,
    StaffRole,
)
from wagtail_iom.routes.emails import route_key, route_status_changed, send_route_status

pytestmark = [pytest.mark.django_db]


def staff(username, role, **where):
    user = UserFactory(username=username, first_name="Анна", last_name=username.title())
    StaffMembership.objects.create(user=user, role=role, **where)
    return user


@pytest.fixture
def events(resource_map):
    return make_events(resource_map)


@pytest.fixture
def route(events):
    return make_route(make_rich_teacher("approved-teacher"), events)


@pytest.fixture
def people(route):
    """Who should hear of the route, and who should not."""
    teacher = route.teacher
    other_school = SchoolFactory(municipality=teacher.municipality)
    return {
        "head": staff("head", StaffRole.SCHOOL_HEAD, school=teacher.school),
        "methodist": staff(
            "methodist", StaffRole.MUNICIPAL_METHODIST, municipality=teacher.municipality
        ),
        "other_head": staff("other-head", StaffRole.SCHOOL_HEAD, school=other_school),
        "other_methodist": staff(
            "other-methodist", StaffRole.MUNICIPAL_METHODIST, municipality=MunicipalityFactory()
        ),
        "curator": staff("curator", StaffRole.CURATOR),
    }


def move(route, to_status, by=None, comment=""):
    """What the workflow does: record the transition and set the status."""
    record = RouteTransition.objects.create(
        route=route, from_status=route.status, to_status=to_status, by=by, comment=comment
    )
    route.status = to_status
    route.save(update_fields=["status", "updated_at"])
    return record


@pytest.mark.requires_tool("pango")
@pytest.mark.parametrize("status", [RouteStatus.SENT_FOR_APPROVAL, RouteStatus.APPROVED])
def test_the_pdf_goes_to_the_school_head_and_the_methodists_of_the_teacher(
    django_capture_on_commit_callbacks, route, people, status, superuser
):
    if status == RouteStatus.APPROVED:
        move(route, RouteStatus.SENT_FOR_APPROVAL)
    record = move(route, status, by=superuser, comment="Согласовано")

    with django_capture_on_commit_callbacks(execute=True):
        assert route_status_changed(route, status, transition=record, language="en")

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [people["head"].email, people["methodist"].email]
    )
    for message in mail.outbox:
        assert route.teacher.full_name in message.subject
        ((name, content, mimetype),) = message.attachments
        assert (name, mimetype) == (f"route-{route.pk}-full.pdf", "application/pdf")
        assert content.startswith(b"%PDF")
        ((html, html_type),) = message.alternatives
        assert html_type == "text/html" and route.teacher.full_name in html
        assert "Согласовано" in message.body
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    keys = set(SentNotification.objects.values_list("key", flat=True))
    assert route_key(status, route.pk, record.pk, people["head"].pk) in keys


@pytest.mark.requires_tool("pango")  # the e-mail carries the route's PDF
def test_nothing_is_sent_before_the_commit(django_capture_on_commit_callbacks, route, people):
    record = move(route, RouteStatus.SENT_FOR_APPROVAL)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        route_status_changed(route, RouteStatus.SENT_FOR_APPROVAL, transition=record)
        assert mail.outbox == []

    assert len(callbacks) == 1
    assert mail.outbox == []
    callbacks[0]()
    assert len(mail.outbox) == 2


@pytest.mark.requires_tool("pango")  # the e-mail carries the route's PDF
def test_a_repeated_task_sends_once(django_capture_on_commit_callbacks, route, people):
    record = move(route, RouteStatus.SENT_FOR_APPROVAL)

    with django_capture_on_commit_callbacks(execute=True):
        route_status_changed(route, RouteStatus.SENT_FOR_APPROVAL, transition=record)
    assert len(mail.outbox) == 2

    assert tasks.notify_route_status(route.pk, record.pk) == 0
    assert send_route_status(route.pk, record.pk) == 0
    assert len(mail.outbox) == 2


@pytest.mark.requires_tool("pango")  # the e-mail carries the route's PDF
def test_the_latest_transition_is_found_when_not_given(
    django_capture_on_commit_callbacks, route, people
):
    move(route, RouteStatus.SENT_FOR_APPROVAL)

    with django_capture_on_commit_callbacks(execute=True):
        assert route_status_changed(route, RouteStatus.SENT_FOR_APPROVAL)

    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    "status", [RouteStatus.RETURNED, RouteStatus.IMPLEMENTATION, RouteStatus.COMPLETED]
)
def test_other_statuses_send_nothing(django_capture_on_commit_callbacks, route, people, status):
    record = move(route, status)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert not route_status_changed(route, status, transition=record)

    assert callbacks == []
    assert mail.outbox == []
    assert send_route_status(route.pk, record.pk) == 0


def test_a_route_decided_before_the_task_ran_is_not_announced(route, people):
    sent = move(route, RouteStatus.SENT_FOR_APPROVAL)
    move(route, RouteStatus.APPROVED)

    assert send_route_status(route.pk, sent.pk) == 0
    assert mail.outbox == []


def test_a_transition_of_another_route_is_refused(route, people, events):
    other = make_route(route.teacher, events)
    record = move(other, RouteStatus.SENT_FOR_APPROVAL)

    assert send_route_status(route.pk, record.pk) == 0
    assert mail.outbox == []


def test_inactive_staff_and_staff_without_address_get_nothing(
    django_capture_on_commit_callbacks, route, people
):
    people["head"].is_active = False
    people["head"].save()
    people["methodist"].email = ""
    people["methodist"].save()
    record = move(route, RouteStatus.SENT_FOR_APPROVAL)

    with django_capture_on_commit_callbacks(execute=True):
        route_status_changed(route, RouteStatus.SENT_FOR_APPROVAL, transition=record)

    assert mail.outbox == []
