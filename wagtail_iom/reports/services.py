"""The reports' numbers as plain rows and totals, for the admin view, its exports and the
``iom_report`` command alike.

:func:`routes_by_status` is the table of the Moscow-region analysis (seed 002): routes per
municipality (or school) in each status group of ``WAGTAIL_IOM["REPORT_STATUS_GROUPS"]``, as of
a date. A route's status on a date is the ``to_status`` of its last transition at or before the
end of that day (in the site's timezone), else the status it was created in; routes created
after that day are not counted. The status is computed by the database (a subquery per route
inside one aggregate query), so the report costs the same few queries for ten routes or ten
thousand.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, Exists, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.conf import iom_settings
from wagtail_iom.core.access import ReportScope
from wagtail_iom.diagnostics.competency_profile import deficit_threshold
from wagtail_iom.diagnostics.models import CompetencyScore, DiagnosticResult
from wagtail_iom.directory.models import Competency, Municipality, School
from wagtail_iom.events.models import (
    EventPage,
    EventSession,
    Registration,
    RegistrationStatus,
)
from wagtail_iom.people.models import TeacherProfile
from wagtail_iom.routes.builder import suggestible_events
from wagtail_iom.routes.models import Route, RouteSource, RouteTransition

GROUP_BY_MUNICIPALITY = "municipality"
GROUP_BY_SCHOOL = "school"
GROUP_BY_CHOICES = [
    (GROUP_BY_MUNICIPALITY, _("Municipality")),
    (GROUP_BY_SCHOOL, _("School")),
]


@dataclass(frozen=True)
class StatusGroup:
    """One column of the report: a heading and the route statuses it counts."""

    key: str
    label: str
    statuses: tuple[str, ...]


def status_groups() -> list[StatusGroup]:
    """The columns, in the setting's order."""
    return [
        StatusGroup(key=str(key), label=str(value["label"]), statuses=tuple(value["statuses"]))
        for key, value in iom_settings.REPORT_STATUS_GROUPS.items()
    ]


@dataclass
class Row:
    """One line of a report: a place (None: "not specified") and a count per status group."""

    name: str
    counts: list[int]
    place_id: int | None = None
    is_total: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Report:
    groups: list[StatusGroup]
    rows: list[Row]
    totals: Row
    as_of: datetime.date
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    group_by: str = GROUP_BY_MUNICIPALITY
    headings: list[str] = field(default_factory=list)

    def table(self) -> list[list]:
        """Heading, rows and the totals row as lists of cells (the exports' content)."""
        return [self.headings] + [[row.name, *row.counts] for row in [*self.rows, self.totals]]


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the site's timezone (TIME_ZONE)."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone()
    )


def status_as_of(routes, day: datetime.date):
    """``routes`` created by the end of ``day``, annotated with ``status_as_of``."""
    end = start_of_day(day + datetime.timedelta(days=1))
    last_before = (
        RouteTransition.objects.filter(route=OuterRef("pk"), at__lt=end)
        .order_by("-at", "-pk")
        .values("to_status")[:1]
    )
    # A route's status changes only through transitions: with none, its current status is the
    # one it was created in; else the first transition's starting point is.
    initial = (
        RouteTransition.objects.filter(route=OuterRef("pk"))
        .order_by("at", "pk")
        .values("from_status")[:1]
    )
    return routes.filter(created_at__lt=end).annotate(
        status_as_of=Coalesce(Subquery(last_before), Subquery(initial), F("status"))
    )


def routes_by_status(
    scope: ReportScope | None = None,
    *,
    as_of: datetime.date | None = None,
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
    group_by: str = GROUP_BY_MUNICIPALITY,
    municipality: Municipality | None = None,
) -> Report:
    """Routes per place (``group_by``) and status group as of ``as_of`` (today by default),
    counting the routes created within ``created_from``–``created_to`` (both days included)
    of the teachers in ``scope`` (the whole region by default), optionally of one
    ``municipality``.

    Every place in the scope has a row, zeros included; routes whose teacher has no place are
    counted in a last "Not specified" row, shown when there are any.
    """
    if group_by not in dict(GROUP_BY_CHOICES):
        raise ValueError(f"Unknown grouping: {group_by!r}")
    scope = scope or ReportScope(region=True)
    as_of = as_of or timezone.localdate()
    groups = status_groups()
    routes = _routes_in(scope, municipality, created_from, created_to)
    aggregates = {
        f"group_{index}": Count("pk", filter=Q(status_as_of__in=group.statuses))
        for index, group in enumerate(groups)
    }
    rows, totals = _rows_per_place(
        status_as_of(routes, as_of), aggregates, scope, group_by, municipality
    )
    heading = dict(GROUP_BY_CHOICES)[group_by]
    return Report(
        groups=groups,
        rows=rows,
        totals=totals,
        as_of=as_of,
        created_from=created_from,
        created_to=created_to,
        group_by=group_by,
        headings=[str(heading), *(group.label for group in groups)],
    )


def _profiles_in(scope, municipality=None):
    """The teachers' profiles in ``scope`` (of one ``municipality`` when given)."""
    profiles = TeacherProfile.objects.all()
    if not scope.region:
        profiles = profiles.filter(scope.teachers())
    if municipality is not None:
        profiles = profiles.filter(municipality=municipality)
    return profiles


def _routes_in(scope, municipality, created_from, created_to):
    """The routes of the teachers in ``scope`` (of one ``municipality``), created within
    ``created_from``–``created_to`` (both days included)."""
    routes = Route.objects.all()
    if not scope.region:
        routes = routes.filter(teacher__in=_profiles_in(scope).values("pk"))
    if municipality is not None:
        routes = routes.filter(teacher__municipality=municipality)
    if created_from:
        routes = routes.filter(created_at__gte=start_of_day(created_from))
    if created_to:
        routes = routes.filter(created_at__lt=start_of_day(created_to + datetime.timedelta(days=1)))
    return routes


def _rows_per_place(routes, aggregates, scope, group_by, municipality):
    """A :class:`Row` per place of the scope (zeros included) with the counts of
    ``aggregates`` (``group_0``, ``group_1``…) over ``routes``, a "Not specified" row for the
    routes whose teacher has no place, and the totals row."""
    key = f"teacher__{group_by}"
    size = len(aggregates)
    counted = {
        values.pop(key): [values[f"group_{index}"] for index in range(size)]
        for values in routes.order_by().values(key).annotate(**aggregates)
    }
    places = _places(scope, group_by, municipality)
    missing = set(counted) - {place.pk for place in places} - {None}
    if missing:
        # A teacher's school may lie outside the municipalities of the scope: their routes are
        # counted, so their places are shown too.
        places += list(_place_model(group_by).objects.filter(pk__in=missing))
        places.sort(key=lambda place: _place_name(place).casefold())
    zeros = [0] * size
    rows = [
        Row(name=_place_name(place), counts=list(counted.get(place.pk, zeros)), place_id=place.pk)
        for place in places
    ]
    unspecified = counted.get(None)
    if unspecified and any(unspecified):
        rows.append(Row(name=str(_("Not specified")), counts=list(unspecified)))
    totals = Row(
        name=str(_("Total")),
        counts=[sum(row.counts[index] for row in rows) for index in range(size)],
        is_total=True,
    )
    return rows, totals


def source_groups() -> list[StatusGroup]:
    """The columns of *Routes by source*: one per way a route comes about."""
    return [
        StatusGroup(key=value, label=str(label), statuses=())
        for value, label in RouteSource.choices
    ]


def routes_by_source(
    scope: ReportScope | None = None,
    *,
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
    group_by: str = GROUP_BY_MUNICIPALITY,
    municipality: Municipality | None = None,
) -> Report:
    """Routes per place (``group_by``) and source (created by staff, drafted from diagnostics:
    ``Route.source``), counting the routes created within ``created_from``–``created_to`` of
    the teachers in ``scope``, as :func:`routes_by_status` counts them. Two queries (three when
    a teacher's school lies outside the scope's municipalities), whatever the number of
    routes."""
    if group_by not in dict(GROUP_BY_CHOICES):
        raise ValueError(f"Unknown grouping: {group_by!r}")
    scope = scope or ReportScope(region=True)
    groups = source_groups()
    aggregates = {
        f"group_{index}": Count("pk", filter=Q(source=group.key))
        for index, group in enumerate(groups)
    }
    rows, totals = _rows_per_place(
        _routes_in(scope, municipality, created_from, created_to),
        aggregates,
        scope,
        group_by,
        municipality,
    )
    heading = dict(GROUP_BY_CHOICES)[group_by]
    return Report(
        groups=groups,
        rows=rows,
        totals=totals,
        as_of=timezone.localdate(),
        created_from=created_from,
        created_to=created_to,
        group_by=group_by,
        headings=[str(heading), *(group.label for group in groups)],
    )


def _place_model(group_by):
    return Municipality if group_by == GROUP_BY_MUNICIPALITY else School


def _place_name(place) -> str:
    if isinstance(place, School):
        return place.short_name or place.name
    return place.name


def _places(scope: ReportScope, group_by: str, municipality: Municipality | None) -> list:
    """The places that get a row, zeros included, in the order of their names."""
    if group_by == GROUP_BY_MUNICIPALITY:
        places = Municipality.objects.all()
        if not scope.region:
            places = places.filter(pk__in=scope.municipality_ids)
        if municipality is not None:
            places = places.filter(pk=municipality.pk)
        return list(places.order_by("name", "pk"))
    places = School.objects.all()
    if not scope.region:
        places = places.filter(
            Q(municipality_id__in=scope.municipality_ids) | Q(pk__in=scope.school_ids)
        )
    if municipality is not None:
        places = places.filter(municipality=municipality)
    places = list(places)
    places.sort(key=lambda place: (_place_name(place).casefold(), place.pk))
    return places


# Attendance by event ------------------------------------------------------------------------


@dataclass
class AttendanceRow:
    """One event: confirmed sign-ups, teachers marked at one session at least, the share."""

    name: str
    first_session: datetime.date | None
    confirmed: int
    attended: int
    event_id: int | None = None
    is_total: bool = False

    @property
    def share(self) -> float | None:
        """Attended per confirmed sign-up, in per cent (one decimal); None without sign-ups."""
        if not self.confirmed:
            return None
        return round(100 * self.attended / self.confirmed, 1)

    @property
    def counts(self) -> list:
        return [self.confirmed, self.attended, self.share]

    def cells(self) -> list:
        """The row's cells as exported: an empty cell for no date and no share."""
        return [
            "" if value is None else value
            for value in [self.name, self.first_session, *self.counts]
        ]


@dataclass
class AttendanceReport:
    rows: list[AttendanceRow]
    totals: AttendanceRow
    sessions_from: datetime.date | None = None
    sessions_to: datetime.date | None = None
    headings: list[str] = field(default_factory=list)

    def table(self) -> list[list]:
        return [self.headings] + [row.cells() for row in [*self.rows, self.totals]]

    def chart_data(self):
        """The rows as a stacked bar each: attended, and confirmed but not marked."""
        groups = [
            StatusGroup("attended", str(_("Attended")), ()),
            StatusGroup("not_attended", str(_("Confirmed, not marked")), ()),
        ]
        rows = [
            Row(name=row.name, counts=[row.attended, max(row.confirmed - row.attended, 0)])
            for row in self.rows
        ]
        return _ChartData(groups=groups, rows=rows)


@dataclass
class _ChartData:
    groups: list
    rows: list


def attendance_headings() -> list[str]:
    return [
        str(_("Event")),
        str(_("First session")),
        str(_("Confirmed sign-ups")),
        str(_("Attended")),
        str(_("Attended, %")),
    ]


def attendance_by_event(
    scope: ReportScope | None = None,
    *,
    sessions_from: datetime.date | None = None,
    sessions_to: datetime.date | None = None,
    track: str = "",
    municipality: Municipality | None = None,
) -> AttendanceReport:
    """Per event: confirmed sign-ups, attended (distinct teachers with at least one attendance
    mark) and the share attended, with a totals row.

    The events are those with a session within ``sessions_from``–``sessions_to`` (both days
    included; only marks of those sessions count), of a ``track`` and held in a
    ``municipality`` when given. Scope: the region reads every event and sign-up; a
    methodist the events held in their municipalities, with all their sign-ups; a school head
    the sign-ups of their school's teachers only, and the events that have any. Two queries,
    whatever the number of events and sign-ups.
    """
    scope = scope or ReportScope(region=True)
    sessions = EventSession.objects.all()
    if sessions_from:
        sessions = sessions.filter(date__gte=sessions_from)
    if sessions_to:
        sessions = sessions.filter(date__lte=sessions_to)
    events = EventPage.objects.filter(alias_of__isnull=True)
    if sessions_from or sessions_to:
        events = events.filter(Exists(sessions.filter(page=OuterRef("pk"))))
    if track:
        events = events.filter(track=track)
    if municipality is not None:
        events = events.filter(municipality=municipality)

    registrations = Registration.objects.filter(event__in=events.values("pk"))
    whole_events = Q()
    if not scope.region:
        whole_events = Q(event__municipality_id__in=scope.municipality_ids)
        registrations = registrations.filter(
            whole_events | Q(user__iom_teacher_profile__school_id__in=scope.school_ids)
        )
        events = events.filter(
            Q(municipality_id__in=scope.municipality_ids)
            | Q(pk__in=registrations.values("event_id"))
        )
    marks = AttendanceMark.objects.filter(
        registration=OuterRef("pk"), session__in=sessions.values("pk")
    )
    counted = {
        values["event"]: values
        for values in registrations.annotate(marked=Exists(marks))
        .order_by()
        .values("event")
        .annotate(
            confirmed=Count("pk", filter=Q(status=RegistrationStatus.CONFIRMED)),
            # One registration per event and teacher: counting marked registrations counts
            # distinct teachers.
            attended=Count("pk", filter=Q(marked=True)),
        )
    }
    rows = []
    for event in events.annotate(first_session=Min("sessions__date")).order_by(
        F("first_session").asc(nulls_last=True), "title", "pk"
    ):
        values = counted.get(event.pk, {})
        rows.append(
            AttendanceRow(
                name=event.title,
                first_session=event.first_session,
                confirmed=values.get("confirmed", 0),
                attended=values.get("attended", 0),
                event_id=event.pk,
            )
        )
    totals = AttendanceRow(
        name=str(_("Total")),
        first_session=None,
        confirmed=sum(row.confirmed for row in rows),
        attended=sum(row.attended for row in rows),
        is_total=True,
    )
    return AttendanceReport(
        rows=rows,
        totals=totals,
        sessions_from=sessions_from,
        sessions_to=sessions_to,
        headings=attendance_headings(),
    )


# Teacher coverage ----------------------------------------------------------------------------

#: The route statuses counted as completed when the setting has no "completed" group.
COMPLETED_STATUSES = ("completed", "audited")


def completed_statuses() -> tuple[str, ...]:
    """The statuses of REPORT_STATUS_GROUPS' "completed" group, else completed and audited."""
    group = iom_settings.REPORT_STATUS_GROUPS.get("completed")
    return tuple(group["statuses"]) if group else COMPLETED_STATUSES


def share(part: int, whole: int | None) -> float | None:
    """``part`` of ``whole`` in per cent with one decimal; None when ``whole`` is unknown or 0."""
    if not whole:
        return None
    return round(100 * part / whole, 1)


@dataclass
class CoverageRow:
    """One place: its teachers (None: unknown), the registered profiles, the teachers with a
    route, the routes and the routes completed."""

    name: str
    teachers: int | None
    profiles: int
    with_route: int
    routes: int
    completed: int
    place_id: int | None = None
    is_total: bool = False

    @property
    def coverage(self) -> float | None:
        return share(self.with_route, self.teachers)

    @property
    def completion(self) -> float | None:
        return share(self.completed, self.routes)

    def cells(self) -> list:
        values = [
            self.name,
            self.teachers,
            self.profiles,
            self.with_route,
            self.coverage,
            self.routes,
            self.completed,
            self.completion,
        ]
        return ["" if value is None else value for value in values]


@dataclass
class CoverageReport:
    rows: list[CoverageRow]
    totals: CoverageRow
    as_of: datetime.date
    created_from: datetime.date | None = None
    created_to: datetime.date | None = None
    group_by: str = GROUP_BY_MUNICIPALITY
    headings: list[str] = field(default_factory=list)

    def table(self) -> list[list]:
        return [self.headings] + [row.cells() for row in [*self.rows, self.totals]]

    def chart_data(self):
        """Each place as a bar: teachers with a route, then without one (when known)."""
        groups = [
            StatusGroup("with_route", str(_("Teachers with a route")), ()),
            StatusGroup("without_route", str(_("Teachers without a route")), ()),
        ]
        rows = [
            Row(
                name=row.name,
                counts=[row.with_route, max((row.teachers or 0) - row.with_route, 0)],
            )
            for row in self.rows
        ]
        return _ChartData(groups=groups, rows=rows)


def teacher_coverage(
    scope: ReportScope | None = None,
    *,
    as_of: datetime.date | None = None,
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
    group_by: str = GROUP_BY_MUNICIPALITY,
    municipality: Municipality | None = None,
) -> CoverageReport:
    """Per place: the teachers (the sum of the schools' ``teacher_count``; unknown when a
    school of the place has none), the registered teachers' profiles, the teachers with a
    route, their share, the routes and the share completed (seed 002: «18% от количества
    педагогов», «17,5% от разработанных»).

    Routes are counted as :func:`routes_by_status` counts them: created by the end of
    ``as_of`` and within ``created_from``–``created_to``; a route is completed when its status
    as of that day is in :func:`completed_statuses`. Four queries, whatever the numbers.
    """
    if group_by not in dict(GROUP_BY_CHOICES):
        raise ValueError(f"Unknown grouping: {group_by!r}")
    scope = scope or ReportScope(region=True)
    as_of = as_of or timezone.localdate()
    key = f"teacher__{group_by}"

    routes = _routes_in(scope, municipality, created_from, created_to)
    profiles = _profiles_in(scope, municipality)
    counted = {
        values[key]: values
        for values in status_as_of(routes, as_of)
        .order_by()
        .values(key)
        .annotate(
            with_route=Count("teacher", distinct=True),
            routes=Count("pk"),
            completed=Count("pk", filter=Q(status_as_of__in=completed_statuses())),
        )
    }
    registered = dict(profiles.order_by().values_list(group_by).annotate(Count("pk")))

    places = _places(scope, group_by, municipality)
    missing = (set(counted) | set(registered)) - {place.pk for place in places} - {None}
    if missing:
        # Teachers of a school outside the scope's municipalities are counted: so is their place.
        places += list(_place_model(group_by).objects.filter(pk__in=missing))
        places.sort(key=lambda place: _place_name(place).casefold())
    if group_by == GROUP_BY_SCHOOL:
        teachers = {place.pk: place.teacher_count for place in places}
    else:
        teachers = {
            values["municipality"]: None if values["unknown"] else values["total"]
            for values in School.objects.filter(municipality__in=[place.pk for place in places])
            .order_by()
            .values("municipality")
            .annotate(
                total=Sum("teacher_count"),
                unknown=Count("pk", filter=Q(teacher_count__isnull=True)),
            )
        }

    def row(name, place_id):
        values = counted.get(place_id, {})
        return CoverageRow(
            name=name,
            teachers=teachers.get(place_id) if place_id is not None else None,
            profiles=registered.get(place_id, 0),
            with_route=values.get("with_route", 0),
            routes=values.get("routes", 0),
            completed=values.get("completed", 0),
            place_id=place_id,
        )

    rows = [row(_place_name(place), place.pk) for place in places]
    if counted.get(None) or registered.get(None):
        rows.append(row(str(_("Not specified")), None))
    known = [row.teachers for row in rows if row.place_id is not None]
    totals = CoverageRow(
        name=str(_("Total")),
        teachers=sum(known) if known and None not in known else None,
        profiles=sum(row.profiles for row in rows),
        with_route=sum(row.with_route for row in rows),
        routes=sum(row.routes for row in rows),
        completed=sum(row.completed for row in rows),
        is_total=True,
    )
    return CoverageReport(
        rows=rows,
        totals=totals,
        as_of=as_of,
        created_from=created_from,
        created_to=created_to,
        group_by=group_by,
        headings=[
            str(dict(GROUP_BY_CHOICES)[group_by]),
            str(_("Teachers")),
            str(_("Registered profiles")),
            str(_("Teachers with a route")),
            str(_("Teachers with a route, %")),
            str(_("Routes")),
            str(_("Routes completed")),
            str(_("Routes completed, %")),
        ],
    )


# Coverage of deficits ------------------------------------------------------------------------


@dataclass
class DeficitCoverageRow:
    """One competency: the teachers whose latest score in it is a deficit, against the upcoming
    events with a free seat that target it and their free seats (None: one has no limit)."""

    name: str
    teachers: int
    events: int
    seats: int | None
    competency_id: int | None = None
    is_total: bool = False
    #: The totals row's shortfall: the sum of the competencies' shortfalls.
    shortfall_sum: int | None = None
    #: The cell of free seats when an event has no limit, translated when the report is made
    #: (exports are written after the request's language is gone).
    no_limit: str = "no limit"

    @property
    def shortfall(self) -> int:
        """Teachers with the deficit for whom no free seat waits: all of them without an event,
        none when an event has no limit."""
        if self.shortfall_sum is not None:
            return self.shortfall_sum
        if not self.events:
            return self.teachers
        if self.seats is None:
            return 0
        return max(self.teachers - self.seats, 0)

    def cells(self) -> list:
        seats = self.no_limit if self.seats is None and self.events else self.seats or 0
        return [self.name, self.teachers, self.events, seats, self.shortfall]


@dataclass
class DeficitCoverageReport:
    rows: list[DeficitCoverageRow]
    totals: DeficitCoverageRow
    track: str = ""
    headings: list[str] = field(default_factory=list)

    def table(self) -> list[list]:
        return [self.headings] + [row.cells() for row in [*self.rows, self.totals]]

    @property
    def gaps(self) -> list[DeficitCoverageRow]:
        """The competencies where teachers with the deficit find no free seat."""
        return [row for row in self.rows if row.shortfall]

    def chart_data(self):
        """Each competency with a deficit as a bar: teachers with a free seat waiting, then
        teachers without one."""
        groups = [
            StatusGroup("covered", str(_("A free seat waits")), ()),
            StatusGroup("shortfall", str(_("No free seat")), ()),
        ]
        rows = [
            Row(name=row.name, counts=[row.teachers - row.shortfall, row.shortfall])
            for row in self.rows
            if row.teachers
        ]
        return _ChartData(groups=groups, rows=rows)


def deficit_coverage_headings() -> list[str]:
    return [
        str(_("Competency")),
        str(_("Teachers with the deficit")),
        str(_("Upcoming events with free seats")),
        str(_("Free seats")),
        str(_("Teachers without a free seat")),
    ]


def deficit_coverage(
    scope: ReportScope | None = None,
    *,
    municipality: Municipality | None = None,
    track: str = "",
    now: datetime.datetime | None = None,
) -> DeficitCoverageReport:
    """For each competency of the framework: the teachers in ``scope`` (of one
    ``municipality`` when given) whose latest score in it is a deficit
    (``DIAGNOSTICS_DEFICIT_BELOW``), against the events a route may still suggest for it
    (:func:`wagtail_iom.routes.builder.suggestible_events`: published, not started, open to
    sign-ups, with a free seat), of one ``track`` when given, and their free seats. The rows
    with teachers left without a seat are the gaps where the centre must plan events.

    Events are the region's resource map: every scope counts all of them. "Latest" is per
    competency, as in the teacher's competency profile. The totals count deficits (a teacher
    with two is counted twice), distinct events and their free seats. Five queries, whatever the
    numbers of teachers, scores and events (one reads the pages' view restrictions).
    """
    scope = scope or ReportScope(region=True)
    profiles = _profiles_in(scope, municipality)

    latest = (
        CompetencyScore.objects.filter(
            result__teacher_id=OuterRef("result__teacher_id"),
            competency_id=OuterRef("competency_id"),
        )
        .order_by("-result__date", "-result__pk")
        .values("pk")[:1]
    )
    deficits = dict(
        CompetencyScore.objects.filter(result__teacher__in=profiles.values("pk"))
        .annotate(latest_pk=Subquery(latest))
        .filter(pk=F("latest_pk"), score__lt=deficit_threshold())
        .order_by()
        .values_list("competency_id")
        .annotate(Count("result__teacher_id", distinct=True))
    )

    events = suggestible_events(now=now)
    if track:
        events = events.filter(track=track)
    free_seats = {
        pk: None if capacity is None else max(capacity - taken, 0)
        for pk, capacity, taken in events.values_list("pk", "capacity", "seats_taken")
    }
    events_of = {}
    for competency_id, event_id in EventPage.competencies.through.objects.filter(
        eventpage_id__in=list(free_seats)
    ).values_list("competency_id", "eventpage_id"):
        events_of.setdefault(competency_id, set()).add(event_id)

    no_limit = str(_("no limit"))

    def seats(event_ids):
        values = [free_seats[pk] for pk in event_ids]
        return None if None in values else sum(values)

    rows = [
        DeficitCoverageRow(
            name=f"{competency.code} — {competency.name}",
            teachers=deficits.get(competency.pk, 0),
            events=len(events_of.get(competency.pk, ())),
            seats=seats(events_of.get(competency.pk, ())),
            competency_id=competency.pk,
            no_limit=no_limit,
        )
        for competency in Competency.objects.only("code", "name")
    ]
    targeted = set().union(*events_of.values()) if events_of else set()
    totals = DeficitCoverageRow(
        name=str(_("Total")),
        teachers=sum(row.teachers for row in rows),
        events=len(targeted),
        seats=seats(targeted),
        is_total=True,
        shortfall_sum=sum(row.shortfall for row in rows),
        no_limit=no_limit,
    )
    return DeficitCoverageReport(
        rows=rows, totals=totals, track=track, headings=deficit_coverage_headings()
    )


# Low diagnostic results and few routes -------------------------------------------------------

#: The thresholds' defaults: a mean score below the deficit threshold, fewer routes than one
#: per five teachers.
DEFAULT_ROUTES_PER_TEACHER_BELOW = Decimal("0.2")


@dataclass
class ResultsRoutesRow:
    """One municipality: its teachers (the directory's number when every school has one, else
    the registered profiles), the teachers with a diagnostic result, the mean of their latest
    overall scores, the routes and the routes per teacher; flagged when both are low."""

    name: str
    teachers: int
    diagnosed: int
    mean_score: Decimal | None
    routes: int
    flagged: bool = False
    place_id: int | None = None
    is_total: bool = False

    @property
    def routes_per_teacher(self) -> Decimal | None:
        if not self.teachers:
            return None
        return (Decimal(self.routes) / Decimal(self.teachers)).quantize(Decimal("0.01"))

    def cells(self) -> list:
        values = [
            self.name,
            self.teachers,
            self.diagnosed,
            self.mean_score,
            self.routes,
            self.routes_per_teacher,
            self.flag_label if self.flagged else "",
        ]
        return ["" if value is None else value for value in values]

    #: The flag's cell, translated when the report is made (exports are written later).
    flag_label: str = "yes"


@dataclass
class ResultsRoutesReport:
    rows: list[ResultsRoutesRow]
    totals: ResultsRoutesRow
    score_below: Decimal
    routes_per_teacher_below: Decimal
    headings: list[str] = field(default_factory=list)

    def table(self) -> list[list]:
        return [self.headings] + [row.cells() for row in [*self.rows, self.totals]]

    @property
    def flagged(self) -> list[ResultsRoutesRow]:
        return [row for row in self.rows if row.flagged]

    def chart_data(self):
        """Each municipality with a diagnosed teacher as a bar: its mean score."""
        groups = [StatusGroup("mean_score", str(_("Mean diagnostic score, %")), ())]
        rows = [
            Row(name=row.name, counts=[float(row.mean_score)])
            for row in self.rows
            if row.mean_score is not None
        ]
        return _ChartData(groups=groups, rows=rows)


def results_routes_headings() -> list[str]:
    return [
        str(_("Municipality")),
        str(_("Teachers")),
        str(_("Teachers with a diagnostic result")),
        str(_("Mean diagnostic score, %")),
        str(_("Routes")),
        str(_("Routes per teacher")),
        str(_("Low results and few routes")),
    ]


def low_results_few_routes(
    scope: ReportScope | None = None,
    *,
    score_below: Decimal | None = None,
    routes_per_teacher_below: Decimal | None = None,
    flagged_only: bool = False,
) -> ResultsRoutesReport:
    """Per municipality (seed 002: «муниципалитеты с низкими результатами диагностики и малым
    количеством ИОМ»): the mean of the teachers' latest overall diagnostic scores against the
    routes per teacher. A municipality is flagged when its mean score is below
    ``score_below`` (``DIAGNOSTICS_DEFICIT_BELOW`` by default) and it has fewer than
    ``routes_per_teacher_below`` routes per teacher (0.2 by default); ``flagged_only`` keeps
    those rows alone.

    Teachers are the directory's number (the schools' ``teacher_count``) when every school of
    the municipality has one, else the registered profiles. Every route counts, whatever its
    status; teachers without a municipality are left out. Five queries (six when a teacher's
    municipality lies outside the scope's), whatever the numbers of teachers, results and
    routes.
    """
    scope = scope or ReportScope(region=True)
    score_below = Decimal(
        str(score_below if score_below is not None else iom_settings.DIAGNOSTICS_DEFICIT_BELOW)
    )
    if routes_per_teacher_below is None:
        routes_per_teacher_below = DEFAULT_ROUTES_PER_TEACHER_BELOW
    routes_per_teacher_below = Decimal(str(routes_per_teacher_below))

    profiles = _profiles_in(scope)
    registered = dict(profiles.order_by().values_list("municipality").annotate(Count("pk")))
    latest = (
        DiagnosticResult.objects.filter(teacher_id=OuterRef("teacher_id"))
        .order_by("-date", "-pk")
        .values("pk")[:1]
    )
    scores = {
        values["teacher__municipality"]: values
        for values in DiagnosticResult.objects.filter(teacher__in=profiles.values("pk"))
        .annotate(latest_pk=Subquery(latest))
        .filter(pk=F("latest_pk"))
        .order_by()
        .values("teacher__municipality")
        .annotate(diagnosed=Count("teacher", distinct=True), mean=Avg("total_score"))
    }
    routes = dict(
        Route.objects.filter(teacher__in=profiles.values("pk"))
        .order_by()
        .values_list("teacher__municipality")
        .annotate(Count("pk"))
    )
    places = _places(scope, GROUP_BY_MUNICIPALITY, None)
    missing = (set(registered) | set(scores) | set(routes)) - {p.pk for p in places} - {None}
    if missing:
        # A school head's teachers, or teachers of a school outside the scope's municipalities:
        # their municipality gets a row.
        places += list(Municipality.objects.filter(pk__in=missing))
        places.sort(key=lambda place: place.name.casefold())
    schools = School.objects.filter(municipality__in=[place.pk for place in places])
    if not scope.region:
        # A school head counts the teachers of their school, not of its municipality.
        schools = schools.filter(
            Q(municipality_id__in=scope.municipality_ids) | Q(pk__in=scope.school_ids)
        )
    known = {
        values["municipality"]: None if values["unknown"] else values["total"]
        for values in schools.order_by()
        .values("municipality")
        .annotate(
            total=Sum("teacher_count"),
            unknown=Count("pk", filter=Q(teacher_count__isnull=True)),
        )
    }
    flag_label = str(_("yes"))

    def mean(value):
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))

    def flag(row):
        per_teacher = row.routes_per_teacher
        row.flagged = (
            row.mean_score is not None
            and row.mean_score < score_below
            and (per_teacher is None or per_teacher < routes_per_teacher_below)
        )
        return row

    rows = []
    for place in places:
        values = scores.get(place.pk, {})
        rows.append(
            flag(
                ResultsRoutesRow(
                    name=place.name,
                    teachers=known.get(place.pk) or registered.get(place.pk, 0),
                    diagnosed=values.get("diagnosed", 0),
                    mean_score=mean(values.get("mean")),
                    routes=routes.get(place.pk, 0),
                    place_id=place.pk,
                    flag_label=flag_label,
                )
            )
        )
    diagnosed = sum(row.diagnosed for row in rows)
    weighted = sum(
        (row.mean_score * row.diagnosed for row in rows if row.mean_score is not None),
        Decimal(0),
    )
    totals = ResultsRoutesRow(
        name=str(_("Total")),
        teachers=sum(row.teachers for row in rows),
        diagnosed=diagnosed,
        mean_score=mean(weighted / diagnosed) if diagnosed else None,
        routes=sum(row.routes for row in rows),
        is_total=True,
        flag_label=flag_label,
    )
    if flagged_only:
        rows = [row for row in rows if row.flagged]
    return ResultsRoutesReport(
        rows=rows,
        totals=totals,
        score_below=score_below,
        routes_per_teacher_below=routes_per_teacher_below,
        headings=results_routes_headings(),
    )


# Seed 004's indicators -----------------------------------------------------------------------


@dataclass
class IndicatorsRow(CoverageRow):
    """One place: seed 004's indicators that the data support: the share of teachers with a
    route («доля педагогов, разработавших индивидуальную программу»), the share of routes
    carried out, and the share of teachers who presented the results to the professional
    community («доля педагогов, представивших результаты … педагогическому сообществу»)."""

    presented: int = 0

    @property
    def presented_share(self) -> float | None:
        return share(self.presented, self.teachers)

    def cells(self) -> list:
        values = [
            self.name,
            self.teachers,
            self.coverage,
            self.completion,
            self.presented,
            self.presented_share,
        ]
        return ["" if value is None else value for value in values]


@dataclass
class IndicatorsReport(CoverageReport):
    def chart_data(self):
        """Each place's teachers as a bar: presented the results, with a route only, without a
        route (when the number of teachers is known)."""
        groups = [
            StatusGroup("presented", str(_("Presented the results")), ()),
            StatusGroup("with_route", str(_("With a route, not presented yet")), ()),
            StatusGroup("without_route", str(_("Without a route")), ()),
        ]
        rows = [
            Row(
                name=row.name,
                counts=[
                    row.presented,
                    max(row.with_route - row.presented, 0),
                    max((row.teachers or 0) - row.with_route, 0),
                ],
            )
            for row in self.rows
        ]
        return _ChartData(groups=groups, rows=rows)


def indicators_headings(group_by: str) -> list[str]:
    return [
        str(dict(GROUP_BY_CHOICES)[group_by]),
        str(_("Teachers")),
        str(_("Teachers with a route, %")),
        str(_("Routes carried out, %")),
        str(_("Teachers who presented the results")),
        str(_("Teachers who presented the results, %")),
    ]


def indicators(
    scope: ReportScope | None = None,
    *,
    as_of: datetime.date | None = None,
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
    group_by: str = GROUP_BY_MUNICIPALITY,
    municipality: Municipality | None = None,
) -> IndicatorsReport:
    """Seed 004's indicators per school or municipality, and for the region in the totals row:
    the share of teachers with a route and the share of routes carried out, as
    :func:`teacher_coverage` counts them, and the share of teachers with a route whose results
    they presented to the professional community by the end of ``as_of``
    (``Route.results_presented_on``, marked by the curator with the reflection). One query more
    than :func:`teacher_coverage`, whatever the numbers.
    """
    coverage = teacher_coverage(
        scope,
        as_of=as_of,
        created_from=created_from,
        created_to=created_to,
        group_by=group_by,
        municipality=municipality,
    )
    scope = scope or ReportScope(region=True)
    key = f"teacher__{group_by}"
    routes = _routes_in(scope, municipality, created_from, created_to).filter(
        created_at__lt=start_of_day(coverage.as_of + datetime.timedelta(days=1)),
        results_presented_on__lte=coverage.as_of,
    )
    presented = dict(
        routes.exclude(results_presented_level="")
        .order_by()
        .values_list(key)
        .annotate(Count("teacher", distinct=True))
    )

    rows = [
        IndicatorsRow(**vars(values), presented=presented.get(values.place_id, 0))
        for values in coverage.rows
    ]
    totals = IndicatorsRow(**vars(coverage.totals), presented=sum(row.presented for row in rows))
    return IndicatorsReport(
        rows=rows,
        totals=totals,
        as_of=coverage.as_of,
        created_from=created_from,
        created_to=created_to,
        group_by=group_by,
        headings=indicators_headings(group_by),
    )
