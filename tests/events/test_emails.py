"""E-mails about sign-ups, event changes and reminders: sent on commit, once, in the language given."""

import datetime
import zoneinfo
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar

from tests.factories import UserFactory, make_event
from wagtail_iom import tasks
from wagtail_iom.events import emails as notifications
from wagtail_iom.events import signup
from wagtail_iom.events.calendar import calendar_domain, session_uid
from wagtail_iom.events.emails import NotificationKind, registration_changed
from wagtail_iom.models import EventPage, Registration, RegistrationStatus, SentNotification

pytestmark = [pytest.mark.django_db]

KALININGRAD = zoneinfo.ZoneInfo("Europe/Kaliningrad")

# A fixed day next year: its month's name tells the language of a subject ("5 марта").
EVENT_DAY = datetime.date(timezone.localdate().year + 1, 3, 5)
MONTH = {"ru": "марта", "en": "March"}


# Helpers ----------------------------------------------------------------------------------------


def event_on(resource_map, day=EVENT_DAY, start=(10, 0), **fields):
    fields.setdefault("timezone", "Europe/Kaliningrad")
    return make_event(
        resource_map,
        sessions=[(day, datetime.time(*start), datetime.time(start[0] + 3, 0))],
        **fields,
    )


def notify(capture, registration, kind, language=None):
    with capture(execute=True):
        registration_changed(registration, kind, language=language)


def html_of(message):
    assert len(message.alternatives) == 1
    content, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    return content


def calendars_in(message):
    found = []
    for attachment in message.attachments:
        filename, content, mimetype = attachment
        assert mimetype == "text/calendar"
        assert filename.endswith(".ics")
        found.append(Calendar.from_ical(content))
    return found


def edit_and_publish(event, sessions=None, **fields):
    """Edit the live page as the admin does: a new revision, published."""
    page = EventPage.objects.get(pk=event.pk)
    for name, value in fields.items():
        setattr(page, name, value)
    if sessions is not None:
        current = list(page.sessions.all())
        for item, changes in zip(current, sessions, strict=False):
            for name, value in changes.items():
                setattr(item, name, value)
        page.sessions = current
    page.save_revision().publish()
    return EventPage.objects.get(pk=event.pk)


def registration_in(kind, resource_map, teacher, superuser):
    """A registration of ``teacher`` in the status the e-mail ``kind`` is about."""
    user = teacher.user
    if kind == NotificationKind.REGISTERED:
        return signup.register(event_on(resource_map), user).registration
    if kind == NotificationKind.PENDING:
        return signup.register(event_on(resource_map, needs_approval=True), user).registration
    if kind == NotificationKind.WAITLISTED:
        event = event_on(resource_map, capacity=1)
        signup.register(event, UserFactory())
        return signup.register(event, user).registration
    if kind == NotificationKind.PROMOTED:
        event = event_on(resource_map, capacity=1)
        first = signup.register(event, UserFactory()).registration
        waiting = signup.register(event, user).registration
        (promoted,) = signup.cancel(first).promoted
        assert promoted.pk == waiting.pk
        return promoted
    if kind in (NotificationKind.APPROVED, NotificationKind.DECLINED):
        registration = signup.register(
            event_on(resource_map, needs_approval=True), user
        ).registration
        decide = signup.approve if kind == NotificationKind.APPROVED else signup.decline
        return decide(registration, superuser).registration
    if kind == NotificationKind.CANCELLED:
        registration = signup.register(event_on(resource_map), user).registration
        return signup.cancel(registration).registration
    raise AssertionError(kind)


# Every kind of sign-up e-mail -------------------------------------------------------------------

CONFIRMATIONS = {NotificationKind.REGISTERED, NotificationKind.PROMOTED, NotificationKind.APPROVED}


@pytest.mark.parametrize("kind", notifications.REGISTRATION_KINDS)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_each_kind_is_one_email_with_html_in_the_language_given(
    kind, language, resource_map, teacher, superuser, django_capture_on_commit_callbacks
):
    registration = registration_in(kind, resource_map, teacher, superuser)

    notify(django_capture_on_commit_callbacks, registration, kind, language)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [teacher.user.email]
    assert registration.event.title in message.subject
    other = "en" if language == "ru" else "ru"
    assert f"5 {MONTH[language]}" in message.subject
    assert MONTH[other] not in message.subject
    html = html_of(message)
    assert f'<html lang="{language}">' in html
    assert registration.event.title in html
    assert registration.event.title in message.body
    assert "<p" not in message.body  # the plain part is plain
    # Greeted by name and patronymic, as Russian teachers are addressed.
    assert "Мария Петровна" in message.body
    assert SentNotification.objects.filter(user=teacher.user, kind=kind).count() == 1


@pytest.mark.parametrize("kind", sorted(CONFIRMATIONS))
def test_confirmations_carry_the_events_ics(
    kind, resource_map, teacher, superuser, django_capture_on_commit_callbacks, rf
):
    registration = registration_in(kind, resource_map, teacher, superuser)
    assert registration.status == RegistrationStatus.CONFIRMED

    notify(django_capture_on_commit_callbacks, registration, kind, "ru")

    (calendar,) = calendars_in(mail.outbox[0])
    assert str(calendar["METHOD"]) == "PUBLISH"
    (vevent,) = calendar.walk("VEVENT")
    session = registration.event.sessions.get()
    # The same UID as the public feeds: importing it and subscribing make one event.
    assert str(vevent["UID"]) == session_uid(session, calendar_domain(rf.get("/")))
    assert vevent.decoded("DTSTART") == datetime.datetime.combine(
        EVENT_DAY, datetime.time(10, 0), tzinfo=KALININGRAD
    )
    assert calendar.walk("VTIMEZONE")


@pytest.mark.parametrize(
    "kind",
    sorted(set(notifications.REGISTRATION_KINDS) - CONFIRMATIONS),
)
def test_other_sign_up_emails_have_no_attachment(
    kind, resource_map, teacher, superuser, django_capture_on_commit_callbacks
):
    registration = registration_in(kind, resource_map, teacher, superuser)
    notify(django_capture_on_commit_callbacks, registration, kind, "en")
    assert mail.outbox[0].attachments == []


def test_a_promotion_to_a_pending_seat_has_no_ics(
    resource_map, teacher, django_capture_on_commit_callbacks
):
    event = event_on(resource_map, capacity=1, needs_approval=True)
    first = signup.register(event, UserFactory()).registration
    signup.register(event, teacher.user)
    (promoted,) = signup.cancel(first).promoted
    assert promoted.status == RegistrationStatus.PENDING

    notify(django_capture_on_commit_callbacks, promoted, NotificationKind.PROMOTED, "en")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].attachments == []


def test_the_waiting_list_email_says_the_place(
    resource_map, teacher, django_capture_on_commit_callbacks
):
    event = event_on(resource_map, capacity=1)
    signup.register(event, UserFactory())
    signup.register(event, UserFactory())
    registration = signup.register(event, teacher.user).registration

    notify(django_capture_on_commit_callbacks, registration, NotificationKind.WAITLISTED, "en")

    assert "number 2" in mail.outbox[0].body


def test_without_a_language_the_site_language_is_used(
    resource_map, teacher, django_capture_on_commit_callbacks, settings
):
    registration = signup.register(event_on(resource_map), teacher.user).registration
    notify(django_capture_on_commit_callbacks, registration, NotificationKind.REGISTERED)
    assert settings.LANGUAGE_CODE == "ru"
    assert MONTH["ru"] in mail.outbox[0].subject


def test_special_characters_are_not_escaped_in_the_plain_text_and_subject(
    resource_map, teacher, django_capture_on_commit_callbacks
):
    event = event_on(resource_map, title='Семинар "Читаем & считаем" <5–9 классы>')
    registration = signup.register(event, teacher.user).registration
    notify(django_capture_on_commit_callbacks, registration, NotificationKind.REGISTERED, "en")
    message = mail.outbox[0]
    assert 'Семинар "Читаем & считаем" <5–9 классы>' in message.subject
    assert 'Семинар "Читаем & считаем" <5–9 классы>' in message.body
    assert "Семинар &quot;Читаем &amp; считаем&quot; &lt;5–9 классы&gt;" in html_of(message)


# On commit, once ------------------------------------------------------------------------------


def test_the_email_is_enqueued_only_when_the_transaction_commits(
    resource_map, teacher, django_capture_on_commit_callbacks
):
    registration = signup.register(event_on(resource_map), teacher.user).registration

    with django_capture_on_commit_callbacks() as callbacks:
        registration_changed(registration, NotificationKind.REGISTERED, language="en")
        assert mail.outbox == []
    assert mail.outbox == []  # not committed: nothing ran
    assert len(callbacks) == 1

    callbacks[0]()
    assert len(mail.outbox) == 1


def test_a_rolled_back_change_sends_nothing(
    resource_map, teacher, django_capture_on_commit_callbacks
):
    registration = signup.register(event_on(resource_map), teacher.user).registration

    class Rollback(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Rollback), transaction.atomic():
            registration_changed(registration, NotificationKind.REGISTERED, language="en")
            raise Rollback

    assert callbacks == []
    assert mail.outbox == []


def test_the_same_task_run_twice_sends_once(resource_map, teacher):
    registration = signup.register(event_on(resource_map), teacher.user).registration
    occasion = notifications.registration_occasion(registration, NotificationKind.REGISTERED)
    args = (registration.pk, NotificationKind.REGISTERED, occasion, "en")

    assert tasks.notify_registration.delay(*args).get() is True
    assert tasks.notify_registration.delay(*args).get() is False
    tasks.notify_registration(*args)

    assert len(mail.outbox) == 1
    assert SentNotification.objects.count() == 1


def test_a_new_occasion_sends_again(resource_map, teacher, django_capture_on_commit_callbacks):
    event = event_on(resource_map)
    registration = signup.register(event, teacher.user).registration
    notify(django_capture_on_commit_callbacks, registration, NotificationKind.REGISTERED, "en")
    cancelled = signup.cancel(registration).registration
    notify(django_capture_on_commit_callbacks, cancelled, NotificationKind.CANCELLED, "en")
    again = signup.register(event, teacher.user).registration
    notify(django_capture_on_commit_callbacks, again, NotificationKind.REGISTERED, "en")

    assert len(mail.outbox) == 3
    assert SentNotification.objects.filter(kind=NotificationKind.REGISTERED).count() == 2


def test_a_change_undone_before_the_task_runs_is_not_told(
    resource_map, teacher, django_capture_on_commit_callbacks
):
    registration = signup.register(event_on(resource_map), teacher.user).registration
    with django_capture_on_commit_callbacks() as callbacks:
        registration_changed(registration, NotificationKind.REGISTERED, language="en")
    signup.cancel(registration)  # before the worker got to it

    callbacks[0]()

    assert mail.outbox == []
    assert not SentNotification.objects.exists()


def test_a_failed_send_leaves_no_key_so_the_retry_sends(resource_map, teacher, monkeypatch):
    registration = signup.register(event_on(resource_map), teacher.user).registration
    occasion = notifications.registration_occasion(registration, NotificationKind.REGISTERED)
    send = EmailMultiAlternatives.send

    def broken(self, *args, **kwargs):
        raise SMTPException("the mail server is down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken)
    with pytest.raises(SMTPException):
        notifications.send_registration_notification(
            registration.pk, NotificationKind.REGISTERED, occasion, "en"
        )
    assert not SentNotification.objects.exists()

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    assert notifications.send_registration_notification(
        registration.pk, NotificationKind.REGISTERED, occasion, "en"
    )
    assert len(mail.outbox) == 1


def test_an_unknown_kind_is_refused(resource_map, teacher):
    registration = signup.register(event_on(resource_map), teacher.user).registration
    with pytest.raises(ValueError):
        registration_changed(registration, "something")


def test_a_user_without_an_email_address_gets_nothing(
    resource_map, teacher, django_capture_on_commit_callbacks
):
    teacher.user.email = ""
    teacher.user.save()
    registration = signup.register(event_on(resource_map), teacher.user).registration
    notify(django_capture_on_commit_callbacks, registration, NotificationKind.REGISTERED, "en")
    assert mail.outbox == []


# Event cancelled or moved ---------------------------------------------------------------------


@pytest.fixture
def event_with_registrants(resource_map, teacher, other_teacher):
    """Capacity 1: the teacher holds the seat, the other teacher waits, a third cancelled."""
    event = event_on(resource_map, capacity=1)
    signup.register(event, teacher.user)
    signup.register(event, other_teacher.user)
    gone = signup.register(event, UserFactory(username="gone")).registration
    signup.cancel(gone)
    mail.outbox.clear()
    return event


def test_a_cancelled_event_emails_its_active_registrants_once(
    event_with_registrants, teacher, other_teacher, django_capture_on_commit_callbacks
):
    event = event_with_registrants
    with django_capture_on_commit_callbacks(execute=True):
        event = edit_and_publish(event, status="cancelled", status_reason="Болезнь лектора")

    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [teacher.user.email, other_teacher.user.email]
    )
    for message in mail.outbox:
        assert event.title in message.subject
        assert "Болезнь лектора" in message.body
        html_of(message)
    # The seat holder's .ics marks it cancelled in the calendar; the waiting one has none.
    by_person = {message.to[0]: message for message in mail.outbox}
    (calendar,) = calendars_in(by_person[teacher.user.email])
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert by_person[other_teacher.user.email].attachments == []

    # The task again, and a new publication with nothing changed: nobody is told twice.
    assert tasks.notify_event_changed.delay(event.pk).get() == 0
    with django_capture_on_commit_callbacks(execute=True):
        edit_and_publish(event, summary="Новое описание")
    assert len(mail.outbox) == 2
    assert SentNotification.objects.filter(kind=NotificationKind.EVENT_CANCELLED).count() == 2


def test_a_new_time_emails_registrants_with_the_updated_ics(
    event_with_registrants, teacher, django_capture_on_commit_callbacks
):
    event = event_with_registrants
    with django_capture_on_commit_callbacks(execute=True):
        edit_and_publish(event, sessions=[{"start_time": datetime.time(15, 0)}])

    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == [teacher.user.email])
    assert "15:00" in message.body
    (calendar,) = calendars_in(message)
    (vevent,) = calendar.walk("VEVENT")
    assert int(vevent["SEQUENCE"]) == 1
    assert vevent.decoded("DTSTART").hour == 15

    # Moved once more: a new SEQUENCE, a new e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        edit_and_publish(event, venue_address="г. Калининград, ул. Новая, 1")
    assert len(mail.outbox) == 4
    assert SentNotification.objects.filter(kind=NotificationKind.EVENT_MOVED).count() == 4


def test_an_edit_that_changes_no_time_or_place_emails_nobody(
    event_with_registrants, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        edit_and_publish(event_with_registrants, title="Семинар: новое название")
    assert mail.outbox == []


def test_event_changes_are_enqueued_on_commit(
    event_with_registrants, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        edit_and_publish(event_with_registrants, status="cancelled", status_reason="Нет площадки")
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 2


def test_seats_added_on_publish_tell_those_who_moved_up(
    event_with_registrants, other_teacher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        edit_and_publish(event_with_registrants, capacity=2)

    (message,) = mail.outbox
    assert message.to == [other_teacher.user.email]
    assert SentNotification.objects.get().kind == NotificationKind.PROMOTED
    assert len(calendars_in(message)) == 1


# Reminders the day before ---------------------------------------------------------------------


@pytest.fixture
def local_today():
    return timezone.now().astimezone(KALININGRAD).date()


def noon(day):
    return datetime.datetime.combine(day, datetime.time(12, 0), tzinfo=KALININGRAD)


def test_tomorrows_confirmed_sign_ups_are_reminded_once(
    resource_map, teacher, other_teacher, local_today
):
    day = datetime.timedelta(days=1)
    tomorrow = event_on(resource_map, day=local_today + day, title="Завтрашний семинар")
    today = event_on(resource_map, day=local_today, title="Сегодняшний семинар")
    after = event_on(resource_map, day=local_today + 2 * day, title="Послезавтрашний семинар")
    # Signed up in the morning, before today's event starts, whatever the time the test runs.
    morning = datetime.datetime.combine(local_today, datetime.time(8, 0), tzinfo=KALININGRAD)
    reminded = signup.register(tomorrow, teacher.user, now=morning).registration
    signup.register(today, teacher.user, now=morning)
    signup.register(after, teacher.user, now=morning)
    signup.cancel(signup.register(tomorrow, other_teacher.user, now=morning).registration)

    assert notifications.due_reminders(noon(local_today)) == [(reminded.pk, local_today + day)]
    assert notifications.send_day_before_reminders(noon(local_today)) == 1

    (message,) = mail.outbox
    assert message.to == [teacher.user.email]
    assert "Завтрашний семинар" in message.subject
    assert "10:00" in message.subject
    html_of(message)
    assert SentNotification.objects.get().key == f"reminder:{reminded.pk}:{local_today + day}"

    # The next hourly run, and the task run again: nothing more.
    later = noon(local_today) + datetime.timedelta(hours=1)
    assert notifications.due_reminders(later) == []
    assert notifications.send_day_before_reminders(later) == 0
    assert tasks.send_reminder.delay(reminded.pk, (local_today + day).isoformat()).get() is False
    assert len(mail.outbox) == 1


def test_one_reminder_per_day_however_many_sessions(resource_map, teacher, local_today):
    tomorrow = local_today + datetime.timedelta(days=1)
    event = make_event(
        resource_map,
        timezone="Europe/Kaliningrad",
        sessions=[
            (tomorrow, datetime.time(10, 0), datetime.time(12, 0)),
            (tomorrow, datetime.time(14, 0), datetime.time(16, 0)),
            (tomorrow + datetime.timedelta(days=7), datetime.time(10, 0), datetime.time(12, 0)),
        ],
    )
    signup.register(event, teacher.user)

    assert notifications.send_day_before_reminders(noon(local_today)) == 1

    (message,) = mail.outbox
    assert "10:00" in message.body and "14:00" in message.body


def test_no_reminders_at_night(resource_map, teacher, local_today):
    event = event_on(resource_map, day=local_today + datetime.timedelta(days=1))
    signup.register(event, teacher.user)
    night = datetime.datetime.combine(local_today, datetime.time(3, 0), tzinfo=KALININGRAD)
    assert notifications.due_reminders(night) == []


def test_tomorrow_is_the_events_own_tomorrow(resource_map, teacher, local_today):
    """At 01:30 in Kaliningrad it is already 11:30 in Vladivostok: an event there on the day
    after is due, one in Kaliningrad on the same day after is not (night there)."""
    moment = datetime.datetime.combine(local_today, datetime.time(1, 30), tzinfo=KALININGRAD)
    vladivostok = zoneinfo.ZoneInfo("Asia/Vladivostok")
    their_tomorrow = moment.astimezone(vladivostok).date() + datetime.timedelta(days=1)
    far = event_on(resource_map, day=their_tomorrow, timezone="Asia/Vladivostok")
    near = event_on(resource_map, day=local_today + datetime.timedelta(days=1))
    far_registration = signup.register(far, teacher.user).registration
    signup.register(near, teacher.user)

    assert notifications.due_reminders(moment) == [(far_registration.pk, their_tomorrow)]


def test_cancelled_events_are_not_reminded(resource_map, teacher, local_today):
    event = event_on(resource_map, day=local_today + datetime.timedelta(days=1))
    signup.register(event, teacher.user)
    edit_and_publish(event, status="cancelled", status_reason="Нет площадки")
    mail.outbox.clear()
    assert notifications.due_reminders(noon(local_today)) == []


def test_pending_and_waitlisted_sign_ups_are_not_reminded(
    resource_map, teacher, other_teacher, local_today
):
    tomorrow = local_today + datetime.timedelta(days=1)
    pending = event_on(resource_map, day=tomorrow, needs_approval=True)
    full = event_on(resource_map, day=tomorrow, capacity=1)
    signup.register(pending, teacher.user)
    signup.register(full, other_teacher.user)
    signup.register(full, teacher.user)
    due = notifications.due_reminders(noon(local_today))
    assert [Registration.objects.get(pk=pk).user for pk, _day in due] == [other_teacher.user]


def test_the_periodic_task_is_scheduled(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    entries = [
        entry
        for entry in schedule.values()
        if entry["task"] == tasks.send_day_before_reminders.name
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] <= 60 * 60
