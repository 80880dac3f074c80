"""What the teacher's cabinet shows: the overview and the list of sign-ups.

Plain functions over the teacher's own data; the views only render them. The number of queries
does not depend on how many sign-ups the teacher has.
"""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from wagtail_iom.core import access
from wagtail_iom.diagnostics import competency_profile
from wagtail_iom.events import signup
from wagtail_iom.events.models import EventSession, Registration, RegistrationStatus
from wagtail_iom.people.profile import profile_completeness

#: How many upcoming sign-ups the overview lists.
OVERVIEW_UPCOMING = 5


@dataclass(frozen=True)
class RegistrationRow:
    registration: Registration
    event: object
    next_session: object
    is_over: bool
    waiting_position: int | None

    @property
    def is_active(self):
        return self.registration.is_active

    @property
    def can_cancel(self):
        return self.registration.is_active and not self.is_over


def _own_registrations(user):
    sessions = EventSession.objects.order_by("date", "start_time")
    return (
        access.own_registrations(user)
        .select_related("event")
        .prefetch_related(Prefetch("event__sessions", queryset=sessions))
        .order_by("-created_at", "-pk")
    )


def _rows(registrations, now):
    registrations = list(registrations)
    places = signup.waiting_positions(registrations)
    rows = []
    for registration in registrations:
        event = registration.event
        sessions = list(event.sessions.all())
        upcoming = [s for s in sessions if s.ends_at and s.ends_at >= now]
        is_over = bool(sessions) and not upcoming
        rows.append(
            RegistrationRow(
                registration=registration,
                event=event,
                next_session=upcoming[0] if upcoming else (sessions[-1] if sessions else None),
                is_over=is_over,
                waiting_position=places.get(registration.pk),
            )
        )
    return rows


def _by_date(row):
    session = row.next_session
    return (session.starts_at if session else row.registration.created_at, row.registration.pk)


def registrations_overview(user, now=None):
    """The teacher's sign-ups: ``current`` (active, not over, soonest first) and ``history``
    (over, cancelled or declined; latest first)."""
    now = now or timezone.now()
    rows = _rows(_own_registrations(user), now)
    current = sorted((r for r in rows if r.is_active and not r.is_over), key=_by_date)
    history = sorted(
        (r for r in rows if not (r.is_active and not r.is_over)), key=_by_date, reverse=True
    )
    return {"current": current, "history": history}


def overview(profile, now=None):
    """The cabinet's first page: the next sign-ups, what the profile still lacks, the deficits
    found by diagnostics and the attended hours."""
    now = now or timezone.now()
    registrations = registrations_overview(profile.user, now)
    current = registrations["current"]
    attended = competency_profile.attended_hours_by_event(profile)
    return {
        "profile": profile,
        "completeness": profile_completeness(profile),
        "deficits": competency_profile.deficits(profile),
        "attended_count": len(attended),
        "attended_hours": sum((event.hours for event in attended.values()), 0),
        "upcoming": current[:OVERVIEW_UPCOMING],
        "upcoming_more": max(0, len(current) - OVERVIEW_UPCOMING),
        "counts": {
            "confirmed": sum(
                1 for r in current if r.registration.status == RegistrationStatus.CONFIRMED
            ),
            "pending": sum(
                1 for r in current if r.registration.status == RegistrationStatus.PENDING
            ),
            "waiting": sum(
                1 for r in current if r.registration.status == RegistrationStatus.WAITLISTED
            ),
        },
    }
