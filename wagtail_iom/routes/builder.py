"""Building a route in the admin: the snapshots of sections 1 and 2, a new route with its four
stages, events suggested for the teacher's deficits, and adding one of them as a step.

Sections 1 (general information) and 2 (diagnostics, deficits, request) of the route document
are copied from the teacher's profile into the route when it is created, and again when the
curator refreshes them (see :mod:`wagtail_iom.routes.models`). The copies are plain JSON:

``profile_snapshot``::

    {
      "version": 1,
      "card": [{"field": "position", "label": "position", "value": "Учитель физики"}, ...],
      "mentoring": {"role": "mentor", "role_label": "Mentor", "partner": "Петрова А. А."},
      "further_education": [            # the last three years, one group per kind
        {"kind": "regional", "label": "Regional", "hours": 72,
         "courses": [{"place": ..., "programme": ..., "hours": 36,
                      "completed_on": "2025-03-01", "certificate_number": ...}]},
        ...
      ],
      "achievements": [                 # one group per direction
        {"direction": "methodical", "label": "Methodical",
         "items": [{"description": ..., "year": 2024, "link": ...}]},
        ...
      ],
      "communities": [{"name": ..., "status": "member", "status_label": "Member"}],
      "regional_projects": [{"name": ..., "role": ...}],
    }

``diagnostics_snapshot``::

    {
      "version": 1,
      "latest": {"id": 7, "date": "2026-01-20", "procedure": "self",
                 "procedure_label": "Self-diagnostics", "procedure_name": ...,
                 "total_score": 62.5, "level": "basic", "level_label": "Basic"} | null,
      "competencies": [{"competency_id": 3, "code": "METH-1", "name": ..., "group": ...,
                        "score": 35.0, "date": "2026-01-20", "status": "deficit"}],
      "deficits": [...the rows with status "deficit", the weakest first...],
      "proficits": [...the rows with status "proficit", the strongest first...],
      "deficit_below": 50.0, "proficit_from": 85.0,
      "request": {"interest_areas": ..., "needs": ..., "goal": ...,
                  "updated_at": "2026-01-10T09:00:00+00:00"} | null,
    }

Card values, labels and the labels of choices are display strings in the language active when
the snapshot was taken; dates in lists are ISO strings and scores are numbers, so that printed
layouts format them as they need.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access
from wagtail_iom.diagnostics import competency_profile as competency_service
from wagtail_iom.diagnostics.models import DiagnosticLevel, DiagnosticResult
from wagtail_iom.events.models import (
    SEAT_HOLDING_STATUSES,
    EventLevel,
    EventPage,
    EventSession,
    EventStatus,
    Registration,
)
from wagtail_iom.people import profile as profile_service
from wagtail_iom.people.models import (
    Achievement,
    AchievementDirection,
    CommunityMembership,
    ProfessionalRequest,
    RegionalProject,
    TeacherProfile,
)
from wagtail_iom.routes.blocks import RouteStage
from wagtail_iom.routes.models import Route, RouteKind
from wagtail_iom.routes.services import EDITABLE_STATUSES, RouteError, period_errors

SNAPSHOT_VERSION = 1

#: The info card of section 1, in the order of the route document.
CARD_FIELDS = (
    "full_name",
    "municipality",
    "school",
    "position",
    "subjects",
    "education_level",
    "education_institution",
    "qualification",
    "teaching_experience_years",
    "qualification_category",
    "attestation_date",
    "expert_area",
)

#: Suggested events of these levels come first, in this order (the nearest and most usual
#: first: the teacher's municipality and region, then the federal level, then events of a
#: school or personal ones).
LEVEL_PRIORITY = (
    EventLevel.MUNICIPAL,
    EventLevel.REGIONAL,
    EventLevel.FEDERAL,
    EventLevel.SCHOOL,
    EventLevel.PERSONAL,
)

#: The stage an event step goes to when none is given: events are attended while the route
#: is implemented.
DEFAULT_EVENT_STAGE = RouteStage.IMPLEMENTATION


# Who may change a route's content ------------------------------------------------------------


def can_change_content(user, route) -> bool:
    """The content (fields, roadmap, snapshots) changes only in the editable statuses, and only
    by those who may edit the route (its teacher's current curator, the centre head)."""
    return route.status in EDITABLE_STATUSES and access.can_edit_route(user, route)


def can_delete_route(user, route) -> bool:
    """A route is deleted only while it is still being developed: later its history matters."""
    from wagtail_iom.routes.models import RouteStatus

    return (
        route.status == RouteStatus.DEVELOPMENT
        and bool(user and user.has_perm("wagtail_iom.delete_route"))
        and access.can_edit_route(user, route)
    )


# Snapshots -------------------------------------------------------------------------------------


def _text(value) -> str:
    return "" if value is None else str(value)


def _date_display(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def _card(profile) -> list[dict]:
    opts = TeacherProfile._meta
    values = {
        "full_name": profile.full_name,
        "municipality": _text(profile.municipality.name if profile.municipality_id else ""),
        "school": _text(profile.school.name if profile.school_id else ""),
        "position": profile.position,
        "subjects": profile.subjects,
        "education_level": _text(profile.get_education_level_display()),
        "education_institution": profile.education_institution,
        "qualification": profile.qualification,
        "teaching_experience_years": _text(profile.teaching_experience_years),
        "qualification_category": _text(profile.get_qualification_category_display()),
        "attestation_date": _date_display(profile.attestation_date),
        "expert_area": profile.expert_area,
    }
    rows = []
    for name in CARD_FIELDS:
        label = _("Full name") if name == "full_name" else opts.get_field(name).verbose_name
        rows.append({"field": name, "label": str(label), "value": values[name]})
    return rows


class SnapshotSource:
    """What sections 1 and 2 of the route document are taken from, read for many teachers at
    once: each kind of data is read on first use, in one query for all ``profiles`` (with
    their municipality and school), whatever their number. :func:`profile_snapshot`,
    :func:`diagnostics_snapshot` and :func:`take_snapshot` read through one for a single
    teacher; route drafts share one across a batch of teachers."""

    def __init__(self, profiles, today=None):
        self.profile_ids = [profile.pk for profile in profiles]
        self.today = today

    def _by_profile(self, queryset) -> dict[int, list]:
        grouped = {}
        for row in queryset.filter(profile_id__in=self.profile_ids):
            grouped.setdefault(row.profile_id, []).append(row)
        return grouped

    @cached_property
    def further_education(self) -> dict:
        return profile_service.recent_further_education_of(self.profile_ids, self.today)

    @cached_property
    def achievements(self) -> dict[int, list]:
        return self._by_profile(Achievement.objects.order_by("profile_id", "-year", "pk"))

    @cached_property
    def communities(self) -> dict[int, list]:
        return self._by_profile(CommunityMembership.objects.order_by("profile_id", "pk"))

    @cached_property
    def regional_projects(self) -> dict[int, list]:
        return self._by_profile(RegionalProject.objects.order_by("profile_id", "pk"))

    @cached_property
    def latest_results(self) -> dict[int, DiagnosticResult]:
        return {
            result.teacher_id: result
            for result in competency_service.latest_result_of_each(self.profile_ids)
        }

    @cached_property
    def score_histories(self) -> dict:
        return competency_service.score_histories(self.profile_ids)

    @cached_property
    def framework(self) -> list:
        return competency_service.framework()

    @cached_property
    def requests(self) -> dict[int, ProfessionalRequest]:
        return {
            request.profile_id: request
            for request in ProfessionalRequest.objects.filter(profile_id__in=self.profile_ids)
        }

    def profile_snapshot(self, profile) -> dict:
        further = [
            {
                "kind": group.kind,
                "label": str(group.label),
                "hours": group.hours,
                "courses": [
                    {
                        "place": course.place,
                        "programme": course.programme,
                        "hours": course.hours,
                        "completed_on": course.completed_on.isoformat(),
                        "certificate_number": course.certificate_number,
                    }
                    for course in group.courses
                ],
            }
            for group in self.further_education.get(profile.pk)
            or profile_service.group_further_education([])
        ]
        by_direction = {direction: [] for direction in AchievementDirection.values}
        for achievement in self.achievements.get(profile.pk, []):
            by_direction.setdefault(achievement.direction, []).append(
                {
                    "description": achievement.description,
                    "year": achievement.year,
                    "link": achievement.link,
                }  # fmt: skip
            )
        achievements = [
            {
                "direction": direction,
                "label": str(AchievementDirection(direction).label),
                "items": by_direction[direction],
            }  # fmt: skip
            for direction in AchievementDirection.values
        ]
        communities = [
            {"name": c.name, "status": c.status, "status_label": str(c.get_status_display())}
            for c in self.communities.get(profile.pk, [])
        ]
        projects = [
            {"name": p.name, "role": p.role} for p in self.regional_projects.get(profile.pk, [])
        ]
        return {
            "version": SNAPSHOT_VERSION,
            "card": _card(profile),
            "mentoring": {
                "role": profile.mentoring_role,
                "role_label": _text(profile.get_mentoring_role_display())
                if profile.mentoring_role
                else "",
                "partner": profile.mentoring_partner,
            },
            "further_education": further,
            "achievements": achievements,
            "communities": communities,
            "regional_projects": projects,
        }

    def diagnostics_snapshot(self, profile) -> dict:
        latest = self.latest_results.get(profile.pk)
        rows = competency_service.profile_rows(
            self.framework, self.score_histories.get(profile.pk, {})
        )
        scored = [row for row in rows if row.latest is not None]
        request = self.requests.get(profile.pk)
        return {
            "version": SNAPSHOT_VERSION,
            "latest": None
            if latest is None
            else {
                "id": latest.pk,
                "date": latest.date.isoformat(),
                "procedure": latest.procedure,
                "procedure_label": str(latest.get_procedure_display()),
                "procedure_name": latest.procedure_name,
                "total_score": float(latest.total_score),
                "level": latest.level,
                "level_label": str(latest.get_level_display()),
            },
            "competencies": [_competency_row(row) for row in scored],
            "deficits": [
                _competency_row(row) for row in competency_service.deficits(profile, rows)
            ],
            "proficits": [
                _competency_row(row) for row in competency_service.proficits(profile, rows)
            ],
            "deficit_below": float(competency_service.deficit_threshold()),
            "proficit_from": float(competency_service.proficit_threshold()),
            "request": None
            if request is None
            else {
                "interest_areas": request.interest_areas,
                "needs": request.needs,
                "goal": request.goal,
                "updated_at": request.updated_at.isoformat() if request.updated_at else None,
            },
        }

    def take_snapshot(self, route, profile) -> Route:
        """Fill ``route``'s sections 1 and 2 from ``profile`` (its teacher, one of this
        source's; not saved)."""
        route.profile_snapshot = self.profile_snapshot(profile)
        route.diagnostics_snapshot = self.diagnostics_snapshot(profile)
        route.snapshot_taken_at = timezone.now()
        return route


def profile_snapshot(profile) -> dict:
    """Section 1 of the route document from the teacher's profile, as plain data. Four
    queries."""
    return SnapshotSource([profile]).profile_snapshot(profile)


def _competency_row(row) -> dict:
    return {
        "competency_id": row.competency.pk,
        "code": row.competency.code,
        "name": row.competency.name,
        "group": row.competency.group.name,
        "score": float(row.latest.score),
        "date": row.latest.date.isoformat(),
        "status": row.status,
    }


def diagnostics_snapshot(profile) -> dict:
    """Section 2 of the route document: the latest diagnostics, the competencies with their
    latest scores (deficits and proficits marked), and the teacher's request. Four queries."""
    return SnapshotSource([profile]).diagnostics_snapshot(profile)


def take_snapshot(route) -> Route:
    """Fill the route's sections 1 and 2 from its teacher's profile now (not saved)."""
    profile = TeacherProfile.objects.select_related("municipality", "school").get(
        pk=route.teacher_id
    )
    return SnapshotSource([profile]).take_snapshot(route, profile)


def refresh_snapshot(route, by_user) -> Route:
    """Take the snapshots again and save them, as a new revision of the route.

    :raises RouteError: the route's status does not allow changing its content.
    """
    with transaction.atomic():
        current = Route.objects.select_for_update().get(pk=route.pk)
        if current.status not in EDITABLE_STATUSES:
            raise RouteError(
                "not_editable", _("The route cannot be changed in its current status.")
            )
        take_snapshot(current)
        current.save(
            update_fields=[
                "profile_snapshot",
                "diagnostics_snapshot",
                "snapshot_taken_at",
                "updated_at",
            ]
        )
        current.save_revision(user=by_user, log_action=True)
    return current


# A new route -----------------------------------------------------------------------------------


def empty_roadmap() -> list[dict]:
    """The four stages of the cycle, without steps, as the roadmap's raw data."""
    return [
        {"type": "stage", "value": {"stage": code, "steps": []}, "id": str(uuid.uuid4())}
        for code in RouteStage.ORDER
    ]


def default_kind(teacher) -> str:
    """The kind a new route of ``teacher`` starts with: a route for a teacher with low results
    when the latest diagnostics put the teacher at the low level (002 extends such routes to 6
    months), else a regular route. One query."""
    if teacher is None:
        return RouteKind.REGULAR
    latest = (
        DiagnosticResult.objects.filter(teacher=teacher)
        .order_by("-date", "-pk")
        .values_list("level", flat=True)
        .first()
    )
    return RouteKind.LOW_LEVEL if latest == DiagnosticLevel.LOW else RouteKind.REGULAR


def create_route(teacher, curator, starts_on, ends_on, by_user, kind=None) -> Route:
    """A new route for ``teacher`` in development: the period checked, the snapshots of sections
    1 and 2 taken, the goal taken from the teacher's request, the four stages in place, and the
    first revision saved. ``kind`` None: :func:`default_kind`.

    :raises ValidationError: the period is wrong (a dict of field errors, as a form shows them).
    """
    kind = kind or default_kind(teacher)
    errors = period_errors(starts_on, ends_on, kind)
    if errors:
        raise ValidationError(errors)
    route = Route(
        teacher=teacher,
        curator=curator,
        starts_on=starts_on,
        ends_on=ends_on,
        kind=kind,
        created_by=by_user,
        roadmap=empty_roadmap(),
    )
    take_snapshot(route)
    request = route.diagnostics_snapshot.get("request")
    if request:
        route.goal = request["goal"]
    with transaction.atomic():
        route.save()
        route.save_revision(user=by_user)
    return route


# Suggested events ------------------------------------------------------------------------------


@dataclass
class EventSuggestion:
    event: EventPage
    seats_left: int | None
    in_teacher_municipality: bool

    @property
    def first_session(self):
        sessions = self.event.session_list
        return sessions[0] if sessions else None

    @property
    def last_session(self):
        sessions = self.event.session_list
        return sessions[-1] if sessions else None


@dataclass
class DeficitSuggestions:
    """The events suggested for one deficit competency."""

    competency_id: int
    code: str
    name: str
    score: float | None
    events: list[EventSuggestion] = field(default_factory=list)


def route_deficits(route) -> list[dict]:
    """The deficits of section 2: from the route's snapshot when it has one, else the teacher's
    profile now. Each is a dict as in the snapshot (competency_id, code, name, score...)."""
    snapshot = route.diagnostics_snapshot or {}
    if "deficits" in snapshot:
        return list(snapshot["deficits"])
    rows = competency_service.deficits(route.teacher)
    return [_competency_row(row) for row in rows]


def roadmap_event_ids(route) -> set[int]:
    """Events already in the roadmap (event steps and choices), read from the raw data without
    loading the pages."""
    ids = set()
    for stage in route.roadmap.raw_data:
        for step in (stage.get("value") or {}).get("steps") or []:
            value = step.get("value") or {}
            if step.get("type") == "event" and value.get("event"):
                ids.add(int(value["event"]))
            elif step.get("type") == "choose_one":
                for option in value.get("options") or []:
                    option = option.get("value") if isinstance(option, dict) else option
                    if option:
                        ids.add(int(option))
    return ids


def _seats_taken():
    return Coalesce(
        Subquery(
            Registration.objects.filter(event_id=OuterRef("pk"), status__in=SEAT_HOLDING_STATUSES)
            .order_by()
            .values("event_id")
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _first_start(page_ref):
    """The start of the event's first session (a subquery: no grouping of the outer query)."""
    return Subquery(
        EventSession.objects.filter(page_id=OuterRef(page_ref))
        .order_by("starts_at")
        .values("starts_at")[:1]
    )


def suggestible_events(now=None):
    """Events a route may suggest: public, not cancelled, not started yet, registration not
    closed, and with a free seat (or no limit). Registration that opens later does not exclude
    an event: a route plans ahead."""
    now = now or timezone.now()
    return (
        access.public_events(EventPage.objects.all())
        .exclude(status=EventStatus.CANCELLED)
        .filter(Q(registration_closes_at__isnull=True) | Q(registration_closes_at__gt=now))
        .annotate(first_start=_first_start("pk"), seats_taken=_seats_taken())
        .filter(first_start__gt=now)
        .filter(Q(capacity__isnull=True) | Q(capacity__gt=F("seats_taken")))
    )


def _level_rank(level) -> int:
    return LEVEL_PRIORITY.index(level) if level in LEVEL_PRIORITY else len(LEVEL_PRIORITY)


class EventMatcher:
    """Matches deficits with :func:`suggestible_events` for many routes, e.g. the route drafts
    of a whole import: the events that target each competency are read once (with what ranks
    them: municipality, level, first session), and each event once, however many routes ask.

    The ranking is :func:`suggest_events`'s: the teacher's municipality first, then by
    :data:`LEVEL_PRIORITY`, then the soonest, then the event's id. A matcher sees the events
    and seats as they were when it first read them: make a new one for each run.
    """

    def __init__(self, now=None):
        self.now = now or timezone.now()
        self._candidates: dict[int, list[tuple]] = {}  # competency: (event, municipality, ...)
        self._events: dict[int, EventPage] = {}

    def _read_candidates(self, competency_ids):
        missing = [pk for pk in competency_ids if pk not in self._candidates]
        if not missing:
            return
        for pk in missing:
            self._candidates[pk] = []
        eligible = suggestible_events(self.now).values("pk")
        through = EventPage.competencies.through
        rows = (
            through.objects.filter(competency_id__in=missing, eventpage_id__in=eligible)
            .annotate(first_start=_first_start("eventpage_id"))
            .values_list(
                "competency_id",
                "eventpage_id",
                "eventpage__municipality_id",
                "eventpage__level",
                "first_start",
            )
            .order_by()
        )
        for competency_id, event_id, municipality_id, level, first_start in rows:
            self._candidates[competency_id].append(
                (event_id, municipality_id, _level_rank(level), first_start)
            )

    def _read_events(self, event_ids):
        missing = sorted(pk for pk in event_ids if pk not in self._events)
        for start in range(0, len(missing), 500):
            for event in (
                EventPage.objects.filter(pk__in=missing[start : start + 500])
                .annotate(seats_taken=_seats_taken())
                .prefetch_related("sessions")
            ):
                self._events[event.pk] = event

    def suggest(self, route, limit_per_deficit=5) -> list[DeficitSuggestions]:
        """:func:`suggest_events` for ``route``."""
        result = [
            DeficitSuggestions(
                competency_id=row["competency_id"],
                code=row.get("code", ""),
                name=row.get("name", ""),
                score=row.get("score"),
            )
            for row in route_deficits(route)
        ]
        if not result:
            return result
        teacher = route.teacher
        municipality_id = teacher.municipality_id
        in_roadmap = roadmap_event_ids(route)
        self._read_candidates([s.competency_id for s in result])
        chosen = {}
        for suggestion in result:
            candidates = [c for c in self._candidates[suggestion.competency_id]
                          if c[0] not in in_roadmap]  # fmt: skip
            candidates.sort(
                key=lambda c: (
                    # Without a municipality no event is "the teacher's".
                    0 if municipality_id and c[1] == municipality_id else 1,
                    c[2],
                    c[3],
                    c[0],
                )
            )
            chosen[suggestion.competency_id] = [c[0] for c in candidates[:limit_per_deficit]]
        self._read_events({pk for ids in chosen.values() for pk in ids})
        for suggestion in result:
            for event_id in chosen[suggestion.competency_id]:
                event = self._events.get(event_id)
                if event is None:
                    continue
                seats_left = (
                    None if event.capacity is None else max(0, event.capacity - event.seats_taken)
                )
                suggestion.events.append(
                    EventSuggestion(
                        event=event,
                        seats_left=seats_left,
                        in_teacher_municipality=bool(
                            municipality_id and event.municipality_id == municipality_id
                        ),
                    )
                )
        return result


def suggest_events(route, limit_per_deficit=5, now=None) -> list[DeficitSuggestions]:
    """For each deficit of the route's teacher (weakest first), up to ``limit_per_deficit``
    :func:`suggestible_events` that target it and are not in the roadmap yet: events in the
    teacher's municipality first, then by :data:`LEVEL_PRIORITY`, then the soonest.

    Three queries, whatever the number of deficits (two more without a snapshot). Many routes
    share one :class:`EventMatcher` instead.
    """
    return EventMatcher(now).suggest(route, limit_per_deficit)


# Adding an event as a step -------------------------------------------------------------------


def stage_position(roadmap: list[dict], stage: str) -> int:
    """Where a new stage goes so that the stages stay in the cycle's order."""
    order = RouteStage.ORDER.index(stage)
    for position, child in enumerate(roadmap):
        code = (child.get("value") or {}).get("stage")
        if code in RouteStage.ORDER and RouteStage.ORDER.index(code) > order:
            return position
    return len(roadmap)


def event_step_value(route, event, deficit_ids=None) -> dict:
    """The raw value of an event step for ``event`` in ``route``: the event's level, its kind
    and format, the competencies it targets among the route's deficits, and its last session's
    date as the deadline when that falls within the route's period."""
    if deficit_ids is None:
        deficit_ids = {row["competency_id"] for row in route_deficits(route)}
    competencies = sorted(
        pk for pk in event.competencies.values_list("pk", flat=True) if pk in deficit_ids
    )
    last = (
        EventSession.objects.filter(page_id=event.pk)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    deadline = None
    if last and route.starts_on and route.ends_on and route.starts_on <= last <= route.ends_on:
        deadline = last
    form = ", ".join(
        str(part) for part in (event.get_kind_display(), event.get_format_display()) if part
    )
    return {
        "event": event.pk,
        "level": event.level,
        "form": form[:255],
        "planned_result": "",
        "result_presentation": "",
        "competencies": [str(pk) for pk in competencies],
        "deadline": deadline.isoformat() if isinstance(deadline, datetime.date) else None,
    }


def add_event_step(route, event, stage=DEFAULT_EVENT_STAGE, by_user=None) -> str:
    """Append ``event`` as a step of ``stage`` in the route's roadmap, save the route and a new
    revision; returns the new step's id.

    :raises RouteError: the status does not allow changes, the stage is unknown, or the event
        is already in the roadmap.
    """
    if stage not in RouteStage.ORDER:
        raise RouteError("unknown_stage", _("Choose one of the four stages."))
    with transaction.atomic():
        current = Route.objects.select_for_update().select_related("teacher").get(pk=route.pk)
        if current.status not in EDITABLE_STATUSES:
            raise RouteError(
                "not_editable", _("The route cannot be changed in its current status.")
            )
        if event.pk in roadmap_event_ids(current):
            raise RouteError("duplicate", _("This event is already in the route."))
        roadmap = list(current.roadmap.get_prep_value())
        stage_child = next(
            (child for child in roadmap if (child.get("value") or {}).get("stage") == stage),
            None,
        )
        if stage_child is None:
            stage_child = {
                "type": "stage",
                "value": {"stage": stage, "steps": []},
                "id": str(uuid.uuid4()),
            }
            roadmap.insert(stage_position(roadmap, stage), stage_child)
        step_id = str(uuid.uuid4())
        stage_child["value"].setdefault("steps", []).append(
            {"type": "event", "value": event_step_value(current, event), "id": step_id}
        )
        current.roadmap = roadmap
        current.save()
        current.save_revision(user=by_user, log_action=True)
    route.roadmap = current.roadmap
    route.updated_at = current.updated_at
    return step_id
