"""Sign-ups from the event page and the cabinet: views over events/signup.py."""

import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import bulk_events, make_event, make_resource_map, make_teacher
from wagtail_iom.events import signup
from wagtail_iom.events.emails import NotificationKind
from wagtail_iom.models import EventPage, Registration, RegistrationStatus


@pytest.fixture
def notified():
    with mock.patch("wagtail_iom.cabinet.views.registration_changed") as patched:
        yield patched


def kinds(notified):
    return [(c.args[0].user_id, c.args[1]) for c in notified.call_args_list]


def signup_url(event):
    return reverse("wagtail_iom:event_signup", args=[event.pk])


def test_the_event_page_offers_sign_in_to_visitors(client, resource_map):
    event = make_event(resource_map, capacity=3)
    response = client.get(event.url)
    assert response.status_code == 200
    assert response.context["signup"].state == signup.SignupState.OPEN
    assert reverse("wagtail_iom:login") in response.content.decode()
    assert signup_url(event) not in response.content.decode()


def test_the_event_page_offers_a_teacher_the_sign_up_button(teacher_client, resource_map):
    event = make_event(resource_map, capacity=3)
    response = teacher_client.get(event.url)
    html = response.content.decode()
    assert f'action="{signup_url(event)}"' in html
    assert response.context["signup"].seats_left == 3


def test_sign_up_confirms_a_seat_and_tells_the_teacher(
    teacher_client, teacher, resource_map, notified
):
    event = make_event(resource_map, capacity=3)
    response = teacher_client.post(signup_url(event), {"next": event.url})
    assert response.status_code == 302
    assert response["Location"] == event.url
    registration = Registration.objects.get(event=event, user=teacher.user)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert kinds(notified) == [(teacher.user.pk, NotificationKind.REGISTERED)]
    page = teacher_client.get(event.url)
    assert page.context["signup"].state == signup.SignupState.SIGNED_UP
    assert reverse("wagtail_iom:cancel_registration", args=[registration.pk]) in (
        page.content.decode()
    )


def test_sign_up_goes_back_to_next_without_looking_up_the_site(
    teacher_client, teacher, resource_map, notified
):
    """The form's "next" is where to go back to: the event's URL (a query for the site) is
    worked out only without it."""
    event = make_event(resource_map, capacity=3)
    with CaptureQueriesContext(connection) as queries:
        response = teacher_client.post(signup_url(event), {"next": "/somewhere/"})
    assert response["Location"] == "/somewhere/"
    assert not [q for q in queries.captured_queries if "wagtailcore_site" in q["sql"]]

    signup.cancel(Registration.objects.get(event=event, user=teacher.user))
    for fields in ({}, {"next": "https://elsewhere.example/"}):
        response = teacher_client.post(signup_url(event), fields)
        assert response["Location"] == event.url
        signup.cancel(Registration.objects.get(event=event, user=teacher.user))


def test_a_full_event_puts_the_teacher_on_the_waiting_list_with_the_position(
    teacher_client, teacher, resource_map, notified
):
    event = make_event(resource_map, capacity=1)
    first = make_teacher(username="first")
    signup.register(event, first.user)
    teacher_client.post(signup_url(event))
    registration = Registration.objects.get(event=event, user=teacher.user)
    assert registration.status == RegistrationStatus.WAITLISTED
    assert kinds(notified) == [(teacher.user.pk, NotificationKind.WAITLISTED)]
    page = teacher_client.get(event.url)
    assert page.context["signup"].waiting_position == 1
    cabinet = teacher_client.get(reverse("wagtail_iom:cabinet_registrations"))
    (row,) = cabinet.context["current"]
    assert row.waiting_position == 1


def test_the_page_offers_the_waiting_list_when_full(teacher_client, resource_map):
    event = make_event(resource_map, capacity=1)
    signup.register(event, make_teacher(username="first").user)
    response = teacher_client.get(event.url)
    assert response.context["signup"].state == signup.SignupState.WAITING_LIST


def test_signing_up_twice_keeps_one_registration(teacher_client, teacher, resource_map, notified):
    event = make_event(resource_map, capacity=3)
    teacher_client.post(signup_url(event))
    teacher_client.post(signup_url(event))
    assert Registration.objects.filter(event=event, user=teacher.user).count() == 1
    assert len(notified.call_args_list) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "cancelled", "status_reason": "Болезнь лектора"},
        {"registration_closes_at": timezone.now() - datetime.timedelta(hours=1)},
        {"registration_opens_at": timezone.now() + datetime.timedelta(days=1)},
    ],
    ids=["cancelled", "closed", "not-open-yet"],
)
def test_refused_sign_ups_give_a_message_and_change_nothing(
    teacher_client, resource_map, notified, fields
):
    event = make_event(resource_map, capacity=3, **fields)
    response = teacher_client.post(signup_url(event), follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not Registration.objects.filter(event=event).exists()
    assert not notified.called


def test_an_unpublished_event_is_not_found(teacher_client, resource_map):
    event = make_event(resource_map, publish=False)
    assert teacher_client.post(signup_url(event)).status_code == 404
    assert not Registration.objects.exists()


def test_sign_up_needs_post(teacher_client, resource_map):
    event = make_event(resource_map)
    assert teacher_client.get(signup_url(event)).status_code == 405


def test_sign_up_needs_a_signed_in_teacher_with_consent(client, resource_map, django_user_model):
    event = make_event(resource_map)
    response = client.post(signup_url(event))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtail_iom:login"))
    user = django_user_model.objects.create_user("noconsent", "n@example.org", "x")
    client.force_login(user)
    response = client.post(signup_url(event))
    assert response["Location"].startswith(reverse("wagtail_iom:consent"))
    assert not Registration.objects.exists()


def test_an_outside_next_url_is_ignored(teacher_client, resource_map):
    event = make_event(resource_map)
    response = teacher_client.post(signup_url(event), {"next": "https://evil.example/"})
    assert response["Location"] == event.url


def test_cancelling_promotes_the_first_in_line_and_tells_them(
    teacher_client, teacher, resource_map, notified
):
    event = make_event(resource_map, capacity=1)
    mine = signup.register(event, teacher.user).registration
    waiting = make_teacher(username="waiting")
    signup.register(event, waiting.user)
    response = teacher_client.post(reverse("wagtail_iom:cancel_registration", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == RegistrationStatus.CANCELLED
    promoted = Registration.objects.get(user=waiting.user)
    assert promoted.status == RegistrationStatus.CONFIRMED
    assert kinds(notified) == [
        (teacher.user.pk, NotificationKind.CANCELLED),
        (waiting.user.pk, NotificationKind.PROMOTED),
    ]


def test_another_teachers_registration_is_not_found_and_unchanged(
    teacher_client, other_teacher, resource_map, notified
):
    event = make_event(resource_map, capacity=2)
    theirs = signup.register(event, other_teacher.user).registration
    url = reverse("wagtail_iom:cancel_registration", args=[theirs.pk])
    assert teacher_client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RegistrationStatus.CONFIRMED
    cabinet = teacher_client.get(reverse("wagtail_iom:cabinet_registrations"))
    assert cabinet.context["current"] == [] and cabinet.context["history"] == []
    assert not notified.called


def test_every_sign_up_post_is_refused_without_a_csrf_token(teacher, resource_map):
    event = make_event(resource_map, capacity=2)
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher.user)
    assert client.post(signup_url(event)).status_code == 403
    assert not Registration.objects.exists()
    registration = signup.register(event, teacher.user).registration
    url = reverse("wagtail_iom:cancel_registration", args=[registration.pk])
    assert client.post(url).status_code == 403
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CONFIRMED


def test_the_cabinet_splits_current_and_earlier_sign_ups(teacher_client, teacher, resource_map):
    past_day = timezone.localdate() - datetime.timedelta(days=3)
    soon = make_event(resource_map, title="Скоро", slug="soon")
    past = make_event(
        resource_map,
        title="Прошло",
        slug="past",
        sessions=[(past_day, datetime.time(10), datetime.time(12))],
    )
    cancelled = make_event(resource_map, title="Отменил", slug="cancelled")
    signup.register(soon, teacher.user)
    Registration.objects.create(event=past, user=teacher.user)
    signup.cancel(signup.register(cancelled, teacher.user).registration)
    response = teacher_client.get(reverse("wagtail_iom:cabinet_registrations"))
    assert [r.event.pk for r in response.context["current"]] == [soon.pk]
    assert {r.event.pk for r in response.context["history"]} == {past.pk, cancelled.pk}
    overview = teacher_client.get(reverse("wagtail_iom:cabinet"))
    assert overview.status_code == 200
    head, body = overview.content.decode().split("</title>", 1)
    assert "iom-deficits-title" in body and "iom-deficits-title" not in head
    assert [r.event.pk for r in overview.context["upcoming"]] == [soon.pk]
    assert overview.context["counts"]["confirmed"] == 1


def _sign_up_for_all(teacher, count, resource_map):
    bulk_events(resource_map, count)
    events = list(EventPage.objects.child_of(resource_map))
    statuses = [RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, "cancelled"]
    Registration.objects.bulk_create(
        Registration(event=e, user=teacher.user, status=statuses[n % 3])
        for n, e in enumerate(events)
    )


@pytest.mark.parametrize("url_name", ["cabinet", "cabinet_registrations"])
def test_cabinet_query_count_does_not_grow_with_sign_ups(client, db, url_name):
    counts = []
    for number, size in enumerate((10, 500)):
        teacher = make_teacher(username=f"qc{number}")
        _sign_up_for_all(teacher, size, make_resource_map(slug=f"map{number}"))
        client.force_login(teacher.user)
        url = reverse(f"wagtail_iom:{url_name}")
        client.get(url)  # warm the site and page caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
        shown = response.context.get("current") or response.context.get("upcoming")
        assert shown, "the page lists the sign-ups"
    assert counts[0] == counts[1], counts
