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

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.conf import iom_settings
from wagtail_iom.core.access import ReportScope
from wagtail_iom.directory.models import Municipality, School
from wagtail_iom.people.models import TeacherProfile
from wagtail_iom.routes.models import Route, RouteTransition

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

    routes = Route.objects.all()
    if not scope.region:
        routes = routes.filter(
            teacher__in=TeacherProfile.objects.filter(scope.teachers()).values("pk")
        )
    if municipality is not None:
        routes = routes.filter(teacher__municipality=municipality)
    if created_from:
        routes = routes.filter(created_at__gte=start_of_day(created_from))
    if created_to:
        routes = routes.filter(created_at__lt=start_of_day(created_to + datetime.timedelta(days=1)))
    key = f"teacher__{group_by}"
    aggregates = {
        f"group_{index}": Count("pk", filter=Q(status_as_of__in=group.statuses))
        for index, group in enumerate(groups)
    }
    counted = {
        values.pop(key): [values[f"group_{index}"] for index in range(len(groups))]
        for values in status_as_of(routes, as_of).order_by().values(key).annotate(**aggregates)
    }

    places = _places(scope, group_by, municipality)
    missing = set(counted) - {place.pk for place in places} - {None}
    if missing:
        # A teacher's school may lie outside the municipalities of the scope: their routes are
        # counted, so their places are shown too.
        places += list(_place_model(group_by).objects.filter(pk__in=missing))
        places.sort(key=lambda place: _place_name(place).casefold())
    zeros = [0] * len(groups)
    rows = [
        Row(name=_place_name(place), counts=list(counted.get(place.pk, zeros)), place_id=place.pk)
        for place in places
    ]
    unspecified = counted.get(None)
    if unspecified and any(unspecified):
        rows.append(Row(name=str(_("Not specified")), counts=list(unspecified)))
    totals = Row(
        name=str(_("Total")),
        counts=[sum(row.counts[index] for row in rows) for index in range(len(groups))],
        is_total=True,
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
