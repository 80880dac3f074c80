"""The resource map's queries: which events a visitor sees, filtered, sorted, by month.

Every page, calendar and feed of the map gets its events from :func:`visible_events`, so that
drafts and private pages never leak into any of them.
"""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_iom.core import access
from wagtail_iom.directory.models import Competency
from wagtail_iom.events.filters import EventFilterSet
from wagtail_iom.events.models import EventPage, EventSession


class FilterError(ValueError):
    """The query string asks for something the map cannot show; ``errors`` say what."""

    def __init__(self, errors, filterset=None):
        self.errors = errors
        self.filterset = filterset
        super().__init__(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        )


def visible_events(root_page=None):
    """Live, public events (no drafts, no private pages), below ``root_page`` if given."""
    queryset = access.public_events(EventPage.objects.all())
    if root_page is not None:
        queryset = queryset.descendant_of(root_page)
    return queryset


def with_listing_data(queryset):
    """What a list, a calendar or a feed shows of each event, in a fixed number of queries."""
    return queryset.select_related("municipality").prefetch_related(
        Prefetch("sessions", queryset=EventSession.objects.order_by("date", "start_time")),
        Prefetch("competencies", queryset=Competency.objects.select_related("group")),
    )


def order_by_next_session(queryset, now=None):
    """Sort by the next session still to come; events that are over, by their last session."""
    now = now or timezone.now()
    next_start = (
        EventSession.objects.filter(page=OuterRef("pk"), ends_at__gte=now)
        .order_by("starts_at")
        .values("starts_at")[:1]
    )
    # Subqueries, not Min() over a join: no GROUP BY over every column of the page.
    first_start = (
        EventSession.objects.filter(page=OuterRef("pk"))
        .order_by("starts_at")
        .values("starts_at")[:1]
    )
    return queryset.annotate(
        next_session_at=Subquery(next_start), first_session_at=Subquery(first_start)
    ).order_by("next_session_at", "first_session_at", "pk")


def filter_events(params, root_page=None, now=None, upcoming_by_default=True):
    """Apply the map's query parameters; raise :class:`FilterError` for values it cannot use.

    Lists and feeds show upcoming events unless ``when=past`` is asked for; a month calendar
    passes ``upcoming_by_default=False`` to show the whole month.
    """
    filterset = EventFilterSet(
        params or None,
        queryset=visible_events(root_page),
        now=now,
        upcoming_by_default=upcoming_by_default,
    )
    if filterset.is_bound and not filterset.is_valid():
        raise FilterError(
            {field: [str(m) for m in msgs] for field, msgs in filterset.errors.items()}, filterset
        )
    return filterset


CALENDAR_SESSION_FIELDS = (
    "date",
    "start_time",
    "end_time",
    "page__title",
    "page__url_path",
    "page__path",
    "page__depth",
    "page__locale_id",
    "page__content_type_id",
    "page__track",
    "page__status",
)


@dataclass
class CalendarDay:
    date: datetime.date
    in_month: bool
    is_today: bool
    sessions: list


@dataclass
class MonthCalendar:
    year: int
    month: int
    weeks: list  # lists of seven CalendarDay
    previous: datetime.date
    next: datetime.date

    @property
    def first_day(self):
        return datetime.date(self.year, self.month, 1)

    @property
    def days_with_sessions(self):
        return [day for week in self.weeks for day in week if day.in_month and day.sessions]


def parse_month(value, today=None):
    """``YYYY-MM`` → the first day of that month; the current month when empty."""
    today = today or timezone.localdate()
    if not value:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in value.split("-"))
        if not 1900 <= year <= 2200:
            raise ValueError(year)
        return datetime.date(year, month, 1)
    except (ValueError, TypeError):
        raise FilterError(
            {"month": [_("Use the form YYYY-MM, e.g. 2026-12, for a month between 1900 and 2200.")]}
        ) from None


def month_calendar(events_queryset, first_day, today=None):
    """A month grid (weeks from Monday) with each day's sessions of the given events.

    A session belongs to the day on which it happens in its event's own timezone: a meeting at
    23:30 in Kaliningrad is on that day, whatever the server's timezone.
    """
    today = today or timezone.localdate()
    weeks_of_dates = calendar.Calendar(firstweekday=0).monthdatescalendar(
        first_day.year, first_day.month
    )
    start, end = weeks_of_dates[0][0], weeks_of_dates[-1][-1]
    sessions = (
        EventSession.objects.filter(page__in=events_queryset.values("pk"), date__range=(start, end))
        .select_related("page")
        # What a day's cell shows of its events, not the whole pages.
        .only(*CALENDAR_SESSION_FIELDS)
        .order_by("date", "start_time", "page__title")
    )
    by_date = defaultdict(list)
    for session in sessions:
        by_date[session.date].append(session)
    weeks = [
        [
            CalendarDay(
                date=day,
                in_month=day.month == first_day.month,
                is_today=day == today,
                sessions=by_date.get(day, []),
            )
            for day in week
        ]
        for week in weeks_of_dates
    ]
    previous = (first_day - datetime.timedelta(days=1)).replace(day=1)
    following = (first_day + datetime.timedelta(days=32)).replace(day=1)
    return MonthCalendar(first_day.year, first_day.month, weeks, previous, following)


def month_filter_params(params):
    """The filters that make sense for a whole month: period and date range do not apply."""
    cleaned = params.copy()
    for key in ("when", "date_from", "date_to", "page", "month"):
        cleaned.pop(key, None)
    return cleaned
