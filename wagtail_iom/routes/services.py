"""Routes (ИОМ): the period, validation, the steps and their completion marks.

The status workflow is :mod:`wagtail_iom.routes.workflow`.

Completion marks are never typed in: an event step is done when the teacher attended the event
(:class:`~wagtail_iom.models.AttendanceMark`), a self-education, external-course or mentoring
step when the teacher marked it done with evidence (:class:`~wagtail_iom.models.StepCompletion`).
:func:`route_steps` reads all of it in a fixed number of queries, whatever the number of steps.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.conf import DEFAULTS, iom_settings
from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.events.models import EventPage, EventSession
from wagtail_iom.routes.blocks import DEFAULT_STEP_TRACKS, RouteStage
from wagtail_iom.routes.models import RouteKind, RouteStatus, StepCompletion


class RouteError(Exception):
    """A change of a route that is not allowed; :attr:`message` says why."""

    def __init__(self, code, message):
        self.code = code
        self.message = str(message)
        super().__init__(self.message)


# The period ---------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved by whole months, clamped to the month's last day (31 Jan + 1 → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def length_bounds(kind) -> tuple[int, int]:
    """(shortest, longest) length in months of a route of ``kind``: the kind's bounds
    (``ROUTE_LENGTH_MONTHS``; a kind left out keeps its default) within the overall bounds
    ``ROUTE_MIN_MONTHS``..``ROUTE_MAX_MONTHS``. ``manage.py check`` makes sure the range is
    not empty (``wagtail_iom.E015``)."""
    defaults = DEFAULTS["ROUTE_LENGTH_MONTHS"]
    kind = kind if kind in defaults else RouteKind.REGULAR
    configured = iom_settings.ROUTE_LENGTH_MONTHS
    shortest, longest = (configured if isinstance(configured, dict) else {}).get(
        kind, defaults[kind]
    )
    return (
        max(shortest, iom_settings.ROUTE_MIN_MONTHS),
        min(longest, iom_settings.ROUTE_MAX_MONTHS),
    )


def period_errors(starts_on, ends_on, kind=RouteKind.REGULAR) -> dict:
    """Errors of a route's period: the end before the start, or a length outside the bounds of
    the route's kind (:func:`length_bounds`). The message names the allowed range."""
    if not starts_on or not ends_on:
        return {}
    if ends_on <= starts_on:
        return {"ends_on": _("The route must end after it starts.")}
    shortest, longest = length_bounds(kind)
    earliest, latest = add_months(starts_on, shortest), add_months(starts_on, longest)
    if earliest <= ends_on <= latest:
        return {}
    values = {
        "kind": RouteKind(kind).label if kind in RouteKind.values else kind,
        "shortest": shortest,
        "longest": longest,
        "earliest": earliest.strftime("%d.%m.%Y"),
        "latest": latest.strftime("%d.%m.%Y"),
    }
    if shortest == longest:
        message = _(
            "A route of this kind (%(kind)s) lasts %(shortest)d months: "
            "for this start it ends on %(earliest)s."
        )
    else:
        message = _(
            "A route of this kind (%(kind)s) lasts %(shortest)d to %(longest)d months: "
            "for this start it ends between %(earliest)s and %(latest)s."
        )
    return {"ends_on": message % values}


# Steps ----------------------------------------------------------------------------------------

#: Step types whose completion the teacher marks with evidence.
SELF_MARKED = ("self_education", "external_course", "mentoring")
#: Step types that carry no completion mark (a row of the compact table, an open choice).
UNMARKED = ("task_row", "choose_one")


@dataclass
class RouteStep:
    """One step of the roadmap with what is known of its completion."""

    id: str
    type: str
    stage: str
    value: object  # the block's StructValue
    event: EventPage | None = None
    options: list = field(default_factory=list)
    done: bool = False
    completion: StepCompletion | None = None
    registration_status: str | None = None

    @property
    def is_markable(self) -> bool:
        return self.type not in UNMARKED

    @property
    def deadline(self):
        return self.value.get("deadline")

    @property
    def track(self) -> str | None:
        """The step's track: its event's, for an open choice the first offered event's (the
        teacher's choice turns the step into an event step), else the one chosen in the step
        (a stored step without one counts at its kind's default). None: no event chosen yet."""
        if self.type == "event":
            return self.event.track if self.event is not None else None
        if self.type == "choose_one":
            return self.options[0].track if self.options else None
        return self.value.get("track") or DEFAULT_STEP_TRACKS.get(self.type)

    @property
    def competency_ids(self) -> list[int]:
        return [int(pk) for pk in (self.value.get("competencies") or []) if str(pk).isdigit()]


def iter_steps(route):
    """(stage code, stream child) for every step, in the order of the roadmap."""
    for stage in route.roadmap:
        for child in stage.value["steps"]:
            yield stage.value["stage"], child


def raw_steps(route):
    """(stage, raw step) of the roadmap as stored: no page is loaded, no query is made (for
    pages that read many routes at once and look events up in bulk)."""
    return raw_steps_of(route.roadmap.raw_data)


def raw_steps_of(roadmap_data):
    """The same from the roadmap's stored JSON, decoded (a list of stages)."""
    for stage in roadmap_data or []:
        if not isinstance(stage, dict):
            continue
        value = stage.get("value") or {}
        for step in value.get("steps") or []:
            if isinstance(step, dict):
                yield value.get("stage") or "", step


def raw_event_id(raw_value) -> int | None:
    """The event id a raw event step names (None: none, or not a number)."""
    event = raw_value.get("event")
    return event if isinstance(event, int) else (int(event) if str(event).isdigit() else None)


def route_steps(route) -> list[RouteStep]:
    """Every step with its completion: three queries for any number of steps."""
    steps = []
    event_ids = set()
    for stage, child in iter_steps(route):
        step = RouteStep(id=child.id, type=child.block_type, stage=stage, value=child.value)
        if child.block_type == "event" and child.value["event"] is not None:
            event_ids.add(child.value["event"].pk)
        steps.append(step)
    attended, statuses = set(), {}
    if event_ids:
        user_id = route.teacher.user_id
        attended = set(
            AttendanceMark.objects.filter(
                registration__user_id=user_id, registration__event_id__in=event_ids
            ).values_list("registration__event_id", flat=True)
        )
        from wagtail_iom.events.models import Registration

        statuses = dict(
            Registration.objects.filter(user_id=user_id, event_id__in=event_ids).values_list(
                "event_id", "status"
            )
        )
    completions = {c.step_id: c for c in StepCompletion.objects.filter(route=route)}
    for step in steps:
        if step.type == "event":
            step.event = step.value["event"]
            if step.event is not None:
                step.done = step.event.pk in attended
                step.registration_status = statuses.get(step.event.pk)
        elif step.type == "choose_one":
            step.options = [page for page in step.value["options"] if page is not None]
        elif step.type in SELF_MARKED:
            step.completion = completions.get(step.id)
            step.done = step.completion is not None
    return steps


@dataclass
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(steps) -> dict:
    """Done / total of the markable steps: overall, by stage (in the cycle's order) and by
    competency id."""
    markable = [step for step in steps if step.is_markable]
    by_stage = {}
    for code in RouteStage.ORDER:
        stage_steps = [s for s in markable if s.stage == code]
        if stage_steps:
            by_stage[code] = Progress(sum(s.done for s in stage_steps), len(stage_steps))
    by_competency = {}
    for step in markable:
        for competency_id in step.competency_ids:
            current = by_competency.setdefault(competency_id, Progress(0, 0))
            current.total += 1
            current.done += int(step.done)
    return {
        "overall": Progress(sum(s.done for s in markable), len(markable)),
        "by_stage": by_stage,
        "by_competency": by_competency,
    }


@dataclass
class TrackShare:
    """The steps of one track: how many, and their part of all the route's steps."""

    track: str
    label: str
    count: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.total) if self.total else 0


def track_shares(steps) -> list[TrackShare]:
    """Steps per track (000 §2.5: formal, non-formal, informal), every step counted, in the
    order formal, non-formal, informal; all three always present. Steps whose track is not
    known (an event step whose event was deleted) count in the total only."""
    steps = list(steps)
    total = len(steps)
    return [
        TrackShare(
            track=value,
            label=str(label),
            count=sum(1 for step in steps if step.track == value),
            total=total,
        )
        for value, label in EventTrack.choices
    ]


# Validation -----------------------------------------------------------------------------------


def _step_dates(raw_value):
    """The dates a raw step names (its start and its deadline)."""
    for name in ("starts_on", "deadline"):
        day = raw_value.get(name)
        if isinstance(day, str) and day:
            try:
                day = datetime.date.fromisoformat(day)
            except ValueError:
                continue
        if isinstance(day, datetime.date):
            yield day


def validate_route(route) -> dict:
    """Field errors of a route: its period, and step dates outside the period. Read from the
    roadmap's raw data: no event page is loaded."""
    errors = dict(period_errors(route.starts_on, route.ends_on, route.kind))
    if errors or not (route.starts_on and route.ends_on):
        return errors
    outside = []
    for number, (_stage, step) in enumerate(raw_steps(route), start=1):
        dates = _step_dates(step.get("value") or {})
        if any(not route.starts_on <= day <= route.ends_on for day in dates):
            outside.append(number)
    if outside:
        errors["roadmap"] = _(
            "Deadlines must fall within the route's period (%(start)s – %(end)s); "
            "check steps %(steps)s."
        ) % {
            "start": route.starts_on.strftime("%d.%m.%Y"),
            "end": route.ends_on.strftime("%d.%m.%Y"),
            "steps": ", ".join(map(str, outside)),
        }
    return errors


def route_warnings(route) -> list[str]:
    """What the editor should know but may keep: event steps whose sessions fall outside the
    route's period. One query."""
    if not (route.starts_on and route.ends_on):
        return []
    events = {}
    for _stage, child in iter_steps(route):
        if child.block_type == "event" and child.value["event"] is not None:
            events[child.value["event"].pk] = child.value["event"]
    if not events:
        return []
    outside = set(
        EventSession.objects.filter(page_id__in=events)
        .exclude(date__range=(route.starts_on, route.ends_on))
        .values_list("page_id", flat=True)
    )
    return [
        str(_("“%(event)s” has sessions outside the route's period.") % {"event": events[pk].title})
        for pk in events
        if pk in outside
    ]


#: Statuses in which the curator edits the content (the content and dates of a route may be
#: corrected while it is carried out).
EDITABLE_STATUSES = (RouteStatus.DEVELOPMENT, RouteStatus.RETURNED, RouteStatus.IMPLEMENTATION)


def keep_teacher_choices(route, stored) -> int:
    """Put back into ``route`` (an editor's copy) the choices its teacher made meanwhile.

    A teacher's choice turns a choose-one step into an event step with the same id
    (:func:`wagtail_iom.routes.teacher.choose_option`). A curator who opened the editor
    before that still holds the choose-one step: saving it as it is would undo the teacher's
    choice. Every choose-one step of ``route`` that ``stored`` (the route as saved now) holds as
    an event step is replaced by that event step. Returns how many were kept.
    """
    chosen = {
        child.id: child.value
        for _stage, child in iter_steps(stored)
        if child.block_type == "event" and child.id
    }
    kept = 0
    if not chosen:
        return kept
    for stage in route.roadmap:
        steps = stage.value["steps"]
        for index, child in enumerate(steps):
            if child.block_type == "choose_one" and child.id in chosen:
                steps[index] = ("event", chosen[child.id], child.id)
                kept += 1
    return kept
