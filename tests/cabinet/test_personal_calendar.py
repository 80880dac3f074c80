"""The teacher's personal calendar feed: own sign-ups only, at a secret address that can be replaced."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from tests.factories import UserFactory, make_event
from wagtail_iom.cabinet import personal_calendar as service
from wagtail_iom.events import signup
from wagtail_iom.events.calendar import session_uid
from wagtail_iom.models import EventSession, Registration, TeacherProfile

pytestmark = [pytest.mark.django_db]


def day(offset):
    return timezone.localdate() + datetime.timedelta(days=offset)


def event(resource_map, title, days=7, **fields):
    return make_event(
        resource_map,
        title=title,
        sessions=[(day(days), datetime.time(10, 0), datetime.time(12, 0))],
        **fields,
    )


def feed_url(profile):
    return reverse("wagtail_iom:personal_feed", args=[service.ensure_token(profile)])


def fetch(url, client=None, **headers):
    return (client or Client()).get(url, **headers)


def parse(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def summaries(calendar):
    return sorted(str(vevent["SUMMARY"]) for vevent in calendar.walk("VEVENT"))


# Tokens ---------------------------------------------------------------------------------------


def test_a_token_is_made_once_and_is_long_and_random(teacher, other_teacher):
    assert teacher.calendar_token is None
    token = service.ensure_token(teacher)
    assert len(token) >= 43
    assert service.ensure_token(teacher) == token
    assert TeacherProfile.objects.get(pk=teacher.pk).calendar_token == token
    assert service.ensure_token(other_teacher) != token


def test_ensure_token_uses_a_token_another_request_made_first(teacher):
    stale = TeacherProfile.objects.get(pk=teacher.pk)
    first = service.ensure_token(teacher)
    assert service.ensure_token(stale) == first


def test_regenerating_retires_the_old_address(client, teacher, resource_map):
    signup.register(event(resource_map, "Семинар"), teacher.user)
    old_url = feed_url(teacher)
    assert fetch(old_url).status_code == 200

    new_token = service.regenerate_token(teacher)

    assert fetch(old_url).status_code == 404
    new_url = reverse("wagtail_iom:personal_feed", args=[new_token])
    assert summaries(parse(fetch(new_url))) == ["Семинар"]


@pytest.mark.parametrize("token", ["unknown", "x" * 43, "a" * 200])
def test_an_unknown_token_is_a_404(client, teacher, token):
    service.ensure_token(teacher)
    assert fetch(reverse("wagtail_iom:personal_feed", args=[token])).status_code == 404


def test_an_inactive_users_feed_is_a_404(teacher):
    url = feed_url(teacher)
    teacher.user.is_active = False
    teacher.user.save()
    assert fetch(url).status_code == 404


# What the feed holds --------------------------------------------------------------------------


def test_the_feed_holds_the_teachers_own_sign_ups_only(resource_map, teacher, other_teacher):
    mine = event(resource_map, "Мой семинар")
    theirs = event(resource_map, "Чужой семинар")
    both = event(resource_map, "Общий семинар")
    event(resource_map, "Семинар без записей")
    signup.register(mine, teacher.user)
    signup.register(both, teacher.user)
    signup.register(theirs, other_teacher.user)
    signup.register(both, other_teacher.user)

    mine_feed = parse(fetch(feed_url(teacher)))
    theirs_feed = parse(fetch(feed_url(other_teacher)))

    assert summaries(mine_feed) == ["Мой семинар", "Общий семинар"]
    assert summaries(theirs_feed) == ["Общий семинар", "Чужой семинар"]
    # Nothing that names a person: no attendees, no organiser e-mail, no names.
    body = fetch(feed_url(teacher)).content.decode()
    for forbidden in ("ATTENDEE", teacher.user.email, other_teacher.user.email, "Петров"):
        assert forbidden not in body


def test_uids_and_sequence_are_those_of_the_public_feed(client, resource_map, teacher, rf):
    seminar = event(resource_map, "Семинар")
    signup.register(seminar, teacher.user)
    public = Calendar.from_ical(
        client.get(seminar.url + seminar.reverse_subpage("ics")).content
    ).walk("VEVENT")[0]

    personal = parse(fetch(feed_url(teacher))).walk("VEVENT")[0]

    session = EventSession.objects.get(page=seminar)
    assert str(personal["UID"]) == str(public["UID"]) == session_uid(session, "localhost")
    assert personal["SEQUENCE"] == public["SEQUENCE"]
    assert personal.decoded("DTSTART") == public.decoded("DTSTART")


def test_every_session_of_an_event_is_in_the_feed(resource_map, teacher):
    course = make_event(
        resource_map,
        title="Курс",
        sessions=[
            (day(3), datetime.time(10, 0), datetime.time(12, 0)),
            (day(10), datetime.time(10, 0), datetime.time(12, 0)),
        ],
    )
    signup.register(course, teacher.user)
    assert len(parse(fetch(feed_url(teacher))).walk("VEVENT")) == 2


def test_cancelled_and_declined_sign_ups_are_absent(resource_map, teacher, superuser):
    kept = event(resource_map, "Остаётся")
    cancelled = event(resource_map, "Отменённая запись")
    declined = event(resource_map, "Отклонённая запись", needs_approval=True)
    signup.register(kept, teacher.user)
    signup.cancel(signup.register(cancelled, teacher.user).registration)
    signup.decline(signup.register(declined, teacher.user).registration, superuser)

    assert summaries(parse(fetch(feed_url(teacher)))) == ["Остаётся"]


def test_pending_is_tentative_and_the_waiting_list_is_left_out(resource_map, teacher):
    confirmed = event(resource_map, "Подтверждено")
    pending = event(resource_map, "Ждёт одобрения", needs_approval=True)
    full = event(resource_map, "Мест нет", capacity=1)
    signup.register(confirmed, teacher.user)
    signup.register(pending, teacher.user)
    signup.register(full, UserFactory())
    signup.register(full, teacher.user)

    calendar = parse(fetch(feed_url(teacher)))

    statuses = {str(v["SUMMARY"]): str(v["STATUS"]) for v in calendar.walk("VEVENT")}
    assert statuses == {"Подтверждено": "CONFIRMED", "Ждёт одобрения": "TENTATIVE"}


def test_a_cancelled_event_stays_as_cancelled(resource_map, teacher):
    seminar = event(resource_map, "Семинар")
    signup.register(seminar, teacher.user)
    seminar.status, seminar.status_reason = "cancelled", "Нет площадки"
    seminar.save_revision().publish()

    (vevent,) = parse(fetch(feed_url(teacher))).walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED"


def test_unpublished_and_long_past_events_are_left_out(resource_map, teacher):
    hidden = event(resource_map, "Снято с публикации")
    old = event(resource_map, "Давний семинар", days=-(service.PAST_DAYS + 5))
    recent = event(resource_map, "Недавний семинар", days=-3)
    for page in (hidden, old, recent):
        Registration.objects.create(event=page, user=teacher.user)
    hidden.unpublish()

    assert summaries(parse(fetch(feed_url(teacher)))) == ["Недавний семинар"]


def test_an_unchanged_feed_answers_304(resource_map, teacher):
    signup.register(event(resource_map, "Семинар"), teacher.user)
    url = feed_url(teacher)
    first = fetch(url)
    assert first["ETag"]
    assert "private" in first["Cache-Control"]
    assert "public" not in first["Cache-Control"]

    assert fetch(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    signup.register(event(resource_map, "Второй семинар"), teacher.user)
    changed = fetch(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_the_feed_needs_no_login_and_accepts_only_get(teacher):
    url = feed_url(teacher)
    assert fetch(url).status_code == 200
    assert Client().post(url).status_code == 405


def test_the_feed_reads_a_fixed_number_of_queries(
    resource_map, teacher, django_assert_max_num_queries
):
    url = feed_url(teacher)
    signup.register(event(resource_map, "Первый"), teacher.user)
    client = Client()
    client.get(url)  # warm the site and content-type caches
    with django_assert_max_num_queries(8) as small:
        client.get(url)
    for number in range(10):
        signup.register(event(resource_map, f"Семинар {number}"), teacher.user)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(parse(client.get(url)).walk("VEVENT")) == 11


def test_the_service_builds_the_same_feed_without_a_request(resource_map, teacher):
    seminar = event(resource_map, "Семинар")
    signup.register(seminar, teacher.user)
    calendar = Calendar.from_ical(service.personal_calendar(teacher))
    (vevent,) = calendar.walk("VEVENT")
    session = EventSession.objects.get(page=seminar)
    assert str(vevent["UID"]) == session_uid(session, "localhost")


# The cabinet page -----------------------------------------------------------------------------


def test_the_page_shows_both_addresses(teacher_client, teacher):
    response = teacher_client.get(reverse("wagtail_iom:cabinet_calendar"))

    assert response.status_code == 200
    assert response.context["cabinet_section"] == "calendar"
    token = TeacherProfile.objects.get(pk=teacher.pk).calendar_token
    path = reverse("wagtail_iom:personal_feed", args=[token])
    page = response.content.decode()
    assert f'value="http://testserver{path}"' in page
    assert f'href="webcal://testserver{path}"' in page
    assert 'id="iom-calendar-regenerate"' in page
    assert "no-store" in response["Cache-Control"]  # personal data: never cached


def test_the_page_needs_a_signed_in_teacher(client):
    response = client.get(reverse("wagtail_iom:cabinet_calendar"))
    assert response.status_code == 302
    assert reverse("wagtail_iom:login") in response["Location"]


def test_regenerating_from_the_page(teacher_client, teacher):
    teacher_client.get(reverse("wagtail_iom:cabinet_calendar"))
    old = TeacherProfile.objects.get(pk=teacher.pk).calendar_token

    response = teacher_client.post(reverse("wagtail_iom:cabinet_calendar"))

    assert response.status_code == 302
    assert response["Location"] == reverse("wagtail_iom:cabinet_calendar")
    new = TeacherProfile.objects.get(pk=teacher.pk).calendar_token
    assert new and new != old
    assert fetch(reverse("wagtail_iom:personal_feed", args=[old])).status_code == 404
    assert fetch(reverse("wagtail_iom:personal_feed", args=[new])).status_code == 200


def test_regenerating_without_the_csrf_token_is_refused(teacher):
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher.user)
    client.get(reverse("wagtail_iom:cabinet_calendar"))
    old = TeacherProfile.objects.get(pk=teacher.pk).calendar_token

    response = client.post(reverse("wagtail_iom:cabinet_calendar"))

    assert response.status_code == 403
    assert TeacherProfile.objects.get(pk=teacher.pk).calendar_token == old


def test_regenerating_with_the_csrf_token_works(teacher):
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher.user)
    page = client.get(reverse("wagtail_iom:cabinet_calendar"))
    old = TeacherProfile.objects.get(pk=teacher.pk).calendar_token
    token = page.context["csrf_token"]

    response = client.post(
        reverse("wagtail_iom:cabinet_calendar"), {"csrfmiddlewaretoken": str(token)}
    )

    assert response.status_code == 302
    assert TeacherProfile.objects.get(pk=teacher.pk).calendar_token != old


def test_a_user_without_a_profile_cannot_reach_the_page(client):
    client.force_login(UserFactory())
    response = client.get(reverse("wagtail_iom:cabinet_calendar"))
    assert response.status_code == 302
    assert reverse("wagtail_iom:consent") in response["Location"]
