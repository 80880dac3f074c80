"""A teacher's personal calendar feed: the events they signed up for, at a secret address.

The address is ``/calendar/<token>/``; the token (``TeacherProfile.calendar_token``) is the
only key, since calendar apps fetch feeds without logging in. Regenerating it retires the old
address at once: whoever had it gets a 404.

What the feed holds
    Every session of the live events the teacher holds a sign-up for: confirmed
    (``STATUS:CONFIRMED``) and awaiting approval (``STATUS:TENTATIVE``: the seat is kept, the
    decision is not made). Places on the waiting list are left out: the teacher has no seat,
    and a calendar full of events they may not attend is worse than none; the event appears
    when they move up (and they are e-mailed). A cancelled or declined sign-up leaves the
    feed, and calendar apps delete it. A cancelled event stays, as ``STATUS:CANCELLED``, while
    the sign-up does. Past events stay for :data:`PAST_DAYS` days.

Same identities as the public feeds
    Sessions are built by :func:`wagtail_iom.events.calendar.build_calendar`: the same UID
    (the session's primary key and the site's host name), SEQUENCE and VTIMEZONE as the
    resource map's feed, so a session in both calendars is one event that updates alike.

Nobody else's data
    :func:`profile_for_token` finds one profile; :func:`personal_events` reads that profile's
    user's sign-ups only.
"""

import datetime
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar.prop import vText

from wagtail_iom.core import sites
from wagtail_iom.events import calendar as calendar_service
from wagtail_iom.events.models import (
    EventPage,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from wagtail_iom.people.models import TeacherProfile

#: Sessions that ended longer ago than this leave the feed.
PAST_DAYS = 365

#: Random bytes in a token; ``secrets.token_urlsafe`` turns 32 into 43 characters.
TOKEN_BYTES = 32

#: The longest token looked up: anything longer is not ours (the column holds 64).
MAX_TOKEN_LENGTH = 64

FEED_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING)


def _new_token():
    return secrets.token_urlsafe(TOKEN_BYTES)


def ensure_token(profile) -> str:
    """The profile's token, made on first use. Safe when two requests make it at once."""
    if profile.calendar_token:
        return profile.calendar_token
    token = _new_token()
    updated = TeacherProfile.objects.filter(pk=profile.pk, calendar_token__isnull=True).update(
        calendar_token=token
    )
    if not updated:  # another request made one first: use theirs
        token = TeacherProfile.objects.values_list("calendar_token", flat=True).get(pk=profile.pk)
        if not token:  # it was set to an empty string somehow: start again
            return regenerate_token(profile)
    profile.calendar_token = token
    return token


def regenerate_token(profile) -> str:
    """A new token for the profile; the old address answers 404 from now on."""
    for _attempt in range(3):
        token = _new_token()
        try:
            with transaction.atomic():
                TeacherProfile.objects.filter(pk=profile.pk).update(calendar_token=token)
        except IntegrityError:  # 2^-256: only if the random source is broken
            continue
        profile.calendar_token = token
        return token
    raise RuntimeError("Could not make a unique calendar token.")


def profile_for_token(token):
    """The profile whose feed ``token`` opens, or None (unknown, retired, inactive user)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (
        TeacherProfile.objects.select_related("user")
        .filter(calendar_token=token, user__is_active=True)
        .first()
    )


def personal_registrations(profile):
    """The sign-ups the feed shows: the profile's user's own, confirmed or pending."""
    return Registration.objects.filter(user_id=profile.user_id, status__in=FEED_STATUSES)


def personal_events(profile, now=None, event_ids=None):
    """The live events of the feed, with what the calendar shows (sessions prefetched).

    ``event_ids``: the events of :func:`personal_registrations`, when already read.
    """
    now = now or timezone.now()
    recent = now - datetime.timedelta(days=PAST_DAYS)
    if event_ids is None:
        event_ids = personal_registrations(profile).values("event_id")
    queryset = (
        EventPage.objects.live()
        .filter(pk__in=event_ids)
        .filter(pk__in=EventSession.objects.filter(ends_at__gte=recent).values("page_id"))
        .order_by("pk")
    )
    return calendar_service.for_calendar(queryset)


def feed_name(site_name=""):
    """The calendar's name in calendar apps."""
    if site_name:
        return _("My events: %(site)s") % {"site": site_name}
    return _("My events")


def personal_calendar(profile, request_or_base_url=None, site_name="", now=None) -> bytes:
    """The profile's feed as iCalendar bytes (see the module's docstring).

    ``request_or_base_url`` decides the URLs and the UIDs' host name, as for the public
    feeds: pass the request to match them exactly. Without it, the default site's.
    """
    if request_or_base_url is None:
        request_or_base_url = sites.base_url()
    statuses = dict(personal_registrations(profile).values_list("event_id", "status"))
    events = list(personal_events(profile, now=now, event_ids=list(statuses)))
    calendar = calendar_service.build_calendar(
        events, request_or_base_url=request_or_base_url, name=feed_name(site_name), now=now
    )
    pending_events = {pk for pk, status in statuses.items() if status == RegistrationStatus.PENDING}
    if pending_events:
        domain = calendar_service.calendar_domain(request_or_base_url)
        tentative = {
            calendar_service.session_uid(session, domain)
            for event in events
            if event.pk in pending_events and event.status != EventStatus.CANCELLED
            for session in event.sessions.all()
        }
        for vevent in calendar.walk("VEVENT"):
            if str(vevent.get("UID")) in tentative:
                # A new value for this VEVENT only: the sessions of one event share the
                # property objects that build_calendar made once.
                vevent["STATUS"] = vText("TENTATIVE")
    return calendar.to_ical()
