"""E-mails about sign-ups and events, built on :mod:`wagtail_iom.core.mail`.

Each e-mail renders in the language it is given (the language of the request that caused it),
else in ``settings.LANGUAGE_CODE``: nothing about a person's language is stored.

Sign-ups
    Views and admin actions call :func:`registration_changed` after a change made through
    :mod:`wagtail_iom.events.signup`. It enqueues the ``wagtail_iom.notify_registration``
    Celery task once the transaction commits, with primary keys only. The confirmations
    (registered, promoted to a seat, approved) carry the event's ``.ics``.

Event cancelled or moved
    :func:`publication_changes` runs last after every publication of an event (see
    :func:`wagtail_iom.events.publishing.event_published`). When that publication raised the
    SEQUENCE of a session (its time, place or status changed), one task per event e-mails the
    event's active registrants. People moved up from the waiting list by the
    publication (more seats) are told too.

Reminders
    :func:`due_reminders` (from the hourly ``wagtail_iom.send_day_before_reminders`` task)
    finds every confirmed sign-up with a session tomorrow in the event's own timezone; each gets
    one reminder per session date.

Sent once
    Every e-mail has a key naming its occasion (see :func:`registration_key`,
    :func:`event_change_key`, :func:`reminder_key`). A task first inserts the key into
    :class:`~wagtail_iom.models.SentNotification` and sends only when it was new, in one
    transaction: a retried or repeated task sends nothing twice, and an e-mail that failed to
    go out leaves no key behind, so the retry sends it. A new occasion (a new status change, a
    new SEQUENCE, another day) has a new key.
"""

import datetime
import functools
import hashlib
import json

from django.utils import timezone

from wagtail_iom.core import mail, sites

# Reminders are not sent at night: from this hour (in the event's timezone) of the day before.
REMINDER_FROM_HOUR = 8


# Kinds ----------------------------------------------------------------------------------------


class NotificationKind:
    REGISTERED = "registered"  # confirmed seat
    PENDING = "pending"  # awaiting approval
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"  # moved up from the waiting list
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # the teacher cancelled their own sign-up
    EVENT_CANCELLED = "event_cancelled"
    EVENT_MOVED = "event_moved"
    REMINDER = "reminder"


def _expected_statuses():
    """The status a registration must still have for its e-mail to make sense when sent.

    A teacher who signs up and cancels before the worker runs gets the cancellation only.
    """
    from wagtail_iom.events.models import RegistrationStatus as S

    return {
        NotificationKind.REGISTERED: {S.CONFIRMED},
        NotificationKind.PENDING: {S.PENDING},
        NotificationKind.WAITLISTED: {S.WAITLISTED},
        NotificationKind.PROMOTED: {S.CONFIRMED, S.PENDING},
        NotificationKind.APPROVED: {S.CONFIRMED},
        NotificationKind.DECLINED: {S.DECLINED},
        NotificationKind.CANCELLED: {S.CANCELLED},
    }


REGISTRATION_KINDS = (
    NotificationKind.REGISTERED,
    NotificationKind.PENDING,
    NotificationKind.WAITLISTED,
    NotificationKind.PROMOTED,
    NotificationKind.APPROVED,
    NotificationKind.DECLINED,
    NotificationKind.CANCELLED,
)


# Keys -----------------------------------------------------------------------------------------


def registration_occasion(registration, kind):
    """What makes this change of a sign-up unique: the moment it was made."""
    moment = registration.updated_at
    if kind == NotificationKind.PROMOTED and registration.promoted_at is not None:
        # A promotion is told from the cancel view and from a publication: one key for both.
        moment = registration.promoted_at
    return moment.isoformat() if moment else ""


def registration_key(kind, registration_pk, occasion):
    return f"{kind}:{registration_pk}:{occasion}"


def event_change_key(kind, registration_pk, signature):
    return f"{kind}:{registration_pk}:{signature}"


def reminder_key(registration_pk, date):
    return f"{NotificationKind.REMINDER}:{registration_pk}:{date.isoformat()}"


def sequence_signature(event_pk):
    """The SEQUENCE of every session of the event, hashed: it changes when any of them rises."""
    from wagtail_iom.events.models import EventSessionCalendarState

    pairs = list(
        EventSessionCalendarState.objects.filter(session__page_id=event_pk)
        .order_by("session_id")
        .values_list("session_id", "sequence")
    )
    digest = hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:16]
    return f"seq-{sum(sequence for _pk, sequence in pairs)}-{digest}"


# Enqueueing -----------------------------------------------------------------------------------


def registration_changed(registration, kind, language=None):
    """Tell the teacher about their sign-up once the transaction commits (a Celery task)."""
    if kind not in REGISTRATION_KINDS:
        raise ValueError(f"Not a kind of sign-up e-mail: {kind!r}")
    mail.enqueue_on_commit(
        "notify_registration",
        registration.pk,
        kind,
        registration_occasion(registration, kind),
        language,
    )


def publication_changes(event):
    """After a publication of ``event``: tell registrants what this publication changed.

    Called by :func:`wagtail_iom.events.publishing.event_published` after the calendar state is
    synced and the waiting list moved into new seats: a SEQUENCE raised now (``changed_at`` not before the publication)
    means the time, the place or the status of a session changed.
    """
    from wagtail_iom.events.models import (
        SEAT_HOLDING_STATUSES,
        EventSessionCalendarState,
        Registration,
    )

    since = event.last_published_at
    if not event.live or since is None:
        return
    changed = EventSessionCalendarState.objects.filter(
        session__page_id=event.pk, sequence__gt=0, changed_at__gte=since
    ).exists()
    if changed:
        mail.enqueue_on_commit("notify_event_changed", event.pk)
    promoted = Registration.objects.filter(
        event_id=event.pk, promoted_at__gte=since, status__in=SEAT_HOLDING_STATUSES
    )
    for registration in promoted:
        registration_changed(registration, NotificationKind.PROMOTED)


# Building ------------------------------------------------------------------------------------


def _greeting_name(user):
    profile = getattr(user, "iom_teacher_profile", None)
    if profile is not None:
        name = " ".join(part for part in (profile.first_name, profile.patronymic) if part)
        if name:
            return name
    return user.first_name


def _event_context(event, sessions=None):
    """What every e-mail about ``event`` shows; built once for all its registrants."""
    from wagtail_iom.core.timezones import timezone_label

    site = event.get_site()
    base_url = sites.base_url(site)
    sessions = list(sessions if sessions is not None else event.ordered_sessions())
    return {
        "event": event,
        "sessions": sessions,
        "first_date": sessions[0].date if sessions else None,
        "timezone_label": timezone_label(event.timezone),
        "event_url": event.get_full_url() or base_url + "/",
        "cabinet_url": mail.absolute_url(base_url, "wagtail_iom:cabinet_registrations"),
        "site_name": sites.site_name(site),
    }


def _person_context(registration):
    return {
        "user": registration.user,
        "name": _greeting_name(registration.user),
        "registration": registration,
    }


def _ics_attachment(event):
    """The event's ``.ics`` as an attachment, built once however many e-mails carry it.

    METHOD:PUBLISH inside: "add to my calendar". REQUEST would make mail apps show an
    invitation with replies to an organiser that a no-reply address cannot be.
    """
    from wagtail_iom.events.calendar import event_calendar

    @functools.cache
    def build():
        calendar = event_calendar(event, request_or_base_url=sites.base_url(event.get_site()))
        return calendar.to_ical().decode()

    return (f"{event.slug or 'event'}.ics", build, "text/calendar")


def _load_registration(registration_pk):
    from wagtail_iom.events.models import Registration

    return (
        Registration.objects.select_related("user", "user__iom_teacher_profile", "event")
        .filter(pk=registration_pk)
        .first()
    )


def send_registration_notification(registration_pk, kind, occasion, language=None):
    """The e-mail about one change of a sign-up; True when sent, False when not (again).

    ``occasion`` is :func:`registration_occasion` at the time of the change.
    """
    from wagtail_iom.events.models import RegistrationStatus
    from wagtail_iom.events.signup import waiting_position

    registration = _load_registration(registration_pk)
    if registration is None or not registration.user.email:
        return False
    if registration.status not in _expected_statuses()[kind]:
        return False
    event = registration.event
    attachments = []
    if kind in (NotificationKind.REGISTERED, NotificationKind.APPROVED) or (
        kind == NotificationKind.PROMOTED and registration.status == RegistrationStatus.CONFIRMED
    ):
        attachments.append(_ics_attachment(event))

    def build():
        context = {**_event_context(event), **_person_context(registration)}
        context["confirmed"] = registration.status == RegistrationStatus.CONFIRMED
        context["calendar_attached"] = bool(attachments)
        context["waiting_position"] = waiting_position(registration)
        return mail.render(
            kind,
            context,
            to=registration.user.email,
            language=language,
            attachments=attachments,
        )

    key = registration_key(kind, registration.pk, occasion)
    return mail.send_once(key, kind, registration.user, build)


def send_event_change_notifications(event_pk, language=None):
    """E-mail the active registrants that the event is cancelled, or that its time or place
    changed. Returns how many were sent; each registrant once per SEQUENCE signature."""
    from wagtail_iom.events.models import (
        ACTIVE_STATUSES,
        SEAT_HOLDING_STATUSES,
        EventPage,
        EventStatus,
        Registration,
    )

    event = EventPage.objects.filter(pk=event_pk).first()
    if event is None or not event.live:
        return 0
    kind = (
        NotificationKind.EVENT_CANCELLED
        if event.status == EventStatus.CANCELLED
        else NotificationKind.EVENT_MOVED
    )
    signature = sequence_signature(event.pk)
    sessions = event.ordered_sessions()
    registrations = (
        Registration.objects.filter(event_id=event.pk, status__in=ACTIVE_STATUSES)
        .select_related("user", "user__iom_teacher_profile")
        .order_by("pk")
    )
    ics = _ics_attachment(event)
    shared = _event_context(event, sessions)
    sent = 0
    for registration in registrations:
        if not registration.user.email:
            continue
        # Those with a seat may have the event in their calendar: the new .ics updates it.
        attachments = [ics] if registration.status in SEAT_HOLDING_STATUSES else []

        def build(registration=registration, attachments=attachments):
            context = {**shared, **_person_context(registration)}
            context["calendar_attached"] = bool(attachments)
            return mail.render(
                kind,
                context,
                to=registration.user.email,
                language=language,
                attachments=attachments,
            )

        key = event_change_key(kind, registration.pk, signature)
        sent += mail.send_once(key, kind, registration.user, build)
    return sent


# Reminders ------------------------------------------------------------------------------------


def due_reminders(now=None):
    """``[(registration pk, session date)]`` of reminders due now and not sent yet.

    A reminder is due for every confirmed sign-up to a live, not cancelled event with a
    session tomorrow in the event's own timezone, from :data:`REMINDER_FROM_HOUR` there.
    """
    from wagtail_iom.core.models import SentNotification
    from wagtail_iom.events.models import (
        EventSession,
        EventStatus,
        Registration,
        RegistrationStatus,
    )

    now = now or timezone.now()
    utc_today = now.astimezone(datetime.UTC).date()
    # Tomorrow somewhere on Earth is between today and the day after tomorrow in UTC.
    sessions = (
        EventSession.objects.filter(
            date__gte=utc_today,
            date__lte=utc_today + datetime.timedelta(days=2),
            page__live=True,
        )
        .exclude(page__status=EventStatus.CANCELLED)
        .select_related("page")
        .only("date", "page__timezone", "page__live", "page__status")
    )
    due_dates = {}
    for session in sessions:
        local_now = now.astimezone(session.page.tzinfo)
        tomorrow = local_now.date() + datetime.timedelta(days=1)
        if session.date == tomorrow and local_now.hour >= REMINDER_FROM_HOUR:
            due_dates.setdefault(session.page_id, set()).add(session.date)
    if not due_dates:
        return []
    registrations = Registration.objects.filter(
        event_id__in=due_dates, status=RegistrationStatus.CONFIRMED
    ).values_list("pk", "event_id")
    pairs = [
        (registration_pk, date)
        for registration_pk, event_id in registrations
        for date in sorted(due_dates[event_id])
    ]
    keys = {reminder_key(pk, date): (pk, date) for pk, date in pairs}
    sent = set(SentNotification.objects.filter(key__in=keys).values_list("key", flat=True))
    return sorted(pair for key, pair in keys.items() if key not in sent)


def send_day_before_reminders(now=None):
    """Enqueue a ``send_reminder`` task for each of :func:`due_reminders`; how many."""
    due = due_reminders(now)
    for registration_pk, date in due:
        mail.enqueue("send_reminder", registration_pk, date.isoformat())
    return len(due)


def send_reminder(registration_pk, date, language=None, now=None):
    """The reminder of a confirmed sign-up's sessions on ``date``; True when sent."""
    from wagtail_iom.events.models import RegistrationStatus

    if isinstance(date, str):
        date = datetime.date.fromisoformat(date)
    registration = _load_registration(registration_pk)
    if registration is None or not registration.user.email:
        return False
    event = registration.event
    if registration.status != RegistrationStatus.CONFIRMED or not event.live or event.is_cancelled:
        return False
    # A retry that comes too late says nothing about a day that has begun.
    local_today = (now or timezone.now()).astimezone(event.tzinfo).date()
    if date <= local_today:
        return False
    sessions = [session for session in event.ordered_sessions() if session.date == date]
    if not sessions:
        return False

    def build():
        context = {**_event_context(event, sessions), **_person_context(registration)}
        context["all_sessions"] = event.ordered_sessions()
        return mail.render(
            NotificationKind.REMINDER,
            context,
            to=registration.user.email,
            language=language,
        )

    key = reminder_key(registration.pk, date)
    return mail.send_once(key, NotificationKind.REMINDER, registration.user, build)
