"""Automatic route drafts from diagnostics (seed 002).

After an import of diagnostics results, or on demand for a filtered set of teachers, each
teacher with deficits gets a route in development drafted from the latest diagnostics, or the
draft made earlier is updated:

* the goal and the tasks, one line per deficit, from the competency's templates
  (:class:`~wagtail_iom.models.Competency`, ``route_goal_template`` and
  ``route_task_template``; the defaults of :mod:`wagtail_iom.directory.draft_templates` when a
  competency has none);
* a suggested step per deficit at the implementation stage: the first event the route editor
  suggests for it (:func:`wagtail_iom.routes.builder.suggest_events`: upcoming, with a free
  seat, the teacher's municipality and the nearest level first), or, when no event covers it,
  a self-education step from the competency's recommendation for self-education. An event that
  covers several deficits is one step that names them all;
* the diagnostics result it was drafted from (``Route.source_diagnostic``, with
  ``Route.source`` "diagnostics"), so that reports count routes by source.

A draft lasts ``ROUTE_DRAFT_LOW_LEVEL_MONTHS`` (a route for a teacher with low results) when
the result puts the teacher at the low level, else ``ROUTE_DRAFT_MONTHS``.

What a run never does:

* touch a route that is not in development: a teacher whose route is under way (any other
  status, its period not over) is skipped;
* touch a route in development that staff created by hand: the teacher is skipped;
* draft for a teacher who has withdrawn the consent to the processing of personal data;
* write anything when nothing changed since the last run: the draft keeps a digest of what it
  wrote (``Route.draft_state``), a run with the same result and the same suggestions is skipped,
  and the teacher and the curator are e-mailed once per draft and result.

An update replaces the goal, the tasks and the steps the draft suggested (their ids are kept in
``Route.draft_state``); steps the curator added by hand stay. Each draft written is saved as a
new revision and logged in the teacher's history (``wagtail_iom.route_draft``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import formats, timezone
from django.utils.translation import gettext
from wagtail.log_actions import log

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access
from wagtail_iom.curators.assignments import current_curator
from wagtail_iom.diagnostics.models import DiagnosticLevel, DiagnosticResult
from wagtail_iom.directory import draft_templates
from wagtail_iom.directory.models import Competency
from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.events.models import EventLevel
from wagtail_iom.people.models import TeacherProfile
from wagtail_iom.routes import builder, emails
from wagtail_iom.routes.blocks import RouteStage
from wagtail_iom.routes.models import Route, RouteKind, RouteSource, RouteStatus
from wagtail_iom.routes.services import add_months

LOG_ACTION = "wagtail_iom.route_draft"

CREATED = "created"
UPDATED = "updated"
SKIPPED = "skipped"

#: Why a teacher got no draft now.
NO_DEFICITS = "no_deficits"
ROUTE_UNDER_WAY = "route_under_way"
MANUAL_DRAFT = "manual_draft"
UNCHANGED = "unchanged"
PROCESSING_STOPPED = "processing_stopped"

#: The stage the suggested steps go to: events are attended, and self-education done, while
#: the route is implemented.
STAGE = RouteStage.IMPLEMENTATION

#: Events suggested per deficit, so that a deficit whose first event another deficit took
#: still gets an event of its own.
EVENTS_PER_DEFICIT = 5


@dataclass
class DraftOutcome:
    teacher_id: int
    action: str
    reason: str = ""
    route_id: int | None = None


def draft_months(level) -> int:
    """The length of a draft for a teacher at diagnostic ``level``."""
    if level == DiagnosticLevel.LOW:
        return iom_settings.ROUTE_DRAFT_LOW_LEVEL_MONTHS
    return iom_settings.ROUTE_DRAFT_MONTHS


def draft_kind(level) -> str:
    return RouteKind.LOW_LEVEL if level == DiagnosticLevel.LOW else RouteKind.REGULAR


# What a draft says -------------------------------------------------------------------------------


def _number(value) -> str:
    value = float(value)
    return formats.number_format(value, decimal_pos=0 if value.is_integer() else 1)


def _values(deficit, competency, result, teacher) -> dict:
    return {
        "competency": competency.name,
        "code": competency.code,
        "score": _number(deficit["score"]),
        "threshold": _number(iom_settings.DIAGNOSTICS_DEFICIT_BELOW),
        "level": str(result.get_level_display()),
        "teacher": teacher.full_name,
    }


def _event_step(route, suggestion, competency_id, task) -> dict:
    event = suggestion.event
    last = suggestion.last_session
    deadline = None
    if last is not None and route.starts_on <= last.date <= route.ends_on:
        deadline = last.date.isoformat()
    form = ", ".join(
        str(part) for part in (event.get_kind_display(), event.get_format_display()) if part
    )
    return {
        "event": event.pk,
        "level": event.level,
        "form": form[:255],
        "task": task,
        "planned_result": "",
        "result_presentation": "",
        "competencies": [str(competency_id)],
        "deadline": deadline,
    }


def _self_education_step(competency, task) -> dict:
    activity = competency.self_education_recommendation.strip() or gettext(
        "Self-education in “%(competency)s”: study the methodical literature and apply it "
        "in lessons."
    ) % {"competency": competency.name}
    return {
        "activity": activity[:500],
        "level": EventLevel.PERSONAL,
        "track": EventTrack.INFORMAL,
        "form": "",
        "task": task,
        "planned_result": "",
        "competencies": [str(competency.pk)],
        "deadline": None,
    }


@dataclass
class DraftContent:
    goal: str
    tasks: str
    steps: list  # (block type, raw value)

    def digest(self, route, result) -> str:
        data = {
            "result": result.pk,
            "kind": route.kind,
            "goal": self.goal,
            "tasks": self.tasks,
            "steps": self.steps,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def draft_content(route, result, now=None, matcher=None, competencies=None) -> DraftContent:
    """The goal, the tasks and the suggested steps of ``route`` (its snapshot of section 2
    taken) for its deficits; events already among its other steps are not suggested again.

    A run over many teachers passes one :class:`~wagtail_iom.routes.builder.EventMatcher` and
    the competencies (by id) to all of them."""
    deficits = builder.route_deficits(route)
    if competencies is None:
        competencies = Competency.objects.in_bulk([row["competency_id"] for row in deficits])
    matcher = matcher or builder.EventMatcher(now)
    suggestions = {
        s.competency_id: s for s in matcher.suggest(route, limit_per_deficit=EVENTS_PER_DEFICIT)
    }
    goals, tasks, steps = [], [], []
    by_event = {}  # event id: the step that holds it
    for deficit in deficits:
        competency = competencies.get(deficit["competency_id"])
        if competency is None:
            continue
        values = _values(deficit, competency, result, route.teacher)
        goal = draft_templates.render(
            competency.route_goal_template or draft_templates.default_goal_template(), values
        ).strip()
        task = draft_templates.render(
            competency.route_task_template or draft_templates.default_task_template(), values
        ).strip()
        goals.append(goal)
        tasks.append(task)
        offered = suggestions.get(competency.pk)
        events = offered.events if offered else []
        chosen = next((s for s in events if s.event.pk not in by_event), None)
        if chosen is not None:
            step = ("event", _event_step(route, chosen, competency.pk, task))
            by_event[chosen.event.pk] = step
            steps.append(step)
            continue
        shared = next((by_event[s.event.pk] for s in events if s.event.pk in by_event), None)
        if shared is not None:
            # An event already suggested for another deficit covers this one too.
            shared[1]["competencies"].append(str(competency.pk))
            shared[1]["task"] = "\n".join(filter(None, (shared[1]["task"], task)))
            continue
        steps.append(("self_education", _self_education_step(competency, task)))
    return DraftContent(goal="\n".join(goals), tasks="\n".join(tasks), steps=steps)


def _replace_steps(route, steps) -> list[str]:
    """Put ``steps`` into the route's roadmap instead of the steps the draft suggested before;
    returns the new steps' ids."""
    old_ids = set((route.draft_state or {}).get("step_ids") or [])
    roadmap = list(route.roadmap.get_prep_value()) if route.roadmap else []
    if not roadmap:
        roadmap = builder.empty_roadmap()
    for child in roadmap:
        value = child.get("value") or {}
        value["steps"] = [s for s in value.get("steps") or [] if s.get("id") not in old_ids]
    stage = next((c for c in roadmap if (c.get("value") or {}).get("stage") == STAGE), None)
    if stage is None:
        stage = {"type": "stage", "value": {"stage": STAGE, "steps": []}, "id": str(uuid.uuid4())}
        roadmap.insert(builder.stage_position(roadmap, STAGE), stage)
    ids = []
    for block_type, value in steps:
        step_id = str(uuid.uuid4())
        stage["value"]["steps"].append({"type": block_type, "value": value, "id": step_id})
        ids.append(step_id)
    route.roadmap = roadmap
    route.draft_state = {**(route.draft_state or {}), "step_ids": ids}
    return ids


# One teacher -------------------------------------------------------------------------------------


def _period_not_over(route, today) -> bool:
    return route.ends_on is None or route.ends_on >= today


def draft_for(
    result, by_user=None, language=None, now=None, matcher=None, competencies=None
) -> DraftOutcome:
    """Create or update the route draft of ``result``'s teacher from ``result`` (see the
    module's documentation); the teacher's row is locked, so that two runs for one teacher
    are served one after the other. ``matcher`` and ``competencies``: see
    :func:`draft_content`."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    teacher_id = result.teacher_id
    with transaction.atomic():
        teacher = (
            TeacherProfile.objects.select_for_update(of=("self",))
            .select_related("municipality", "user")
            .filter(pk=teacher_id)
            .first()
        )
        if teacher is None:
            return DraftOutcome(teacher_id, SKIPPED, NO_DEFICITS)
        if access.processing_stopped(teacher.user, lock=True):
            # The consent is withdrawn: nothing new is done with the teacher's data.
            return DraftOutcome(teacher_id, SKIPPED, PROCESSING_STOPPED)
        routes = list(Route.objects.filter(teacher=teacher).order_by("-created_at", "-pk"))
        under_way = next(
            (
                r
                for r in routes
                if r.status != RouteStatus.DEVELOPMENT and _period_not_over(r, today)
            ),
            None,
        )
        if under_way is not None:
            return DraftOutcome(teacher_id, SKIPPED, ROUTE_UNDER_WAY, under_way.pk)
        in_development = [r for r in routes if r.status == RouteStatus.DEVELOPMENT]
        route = next((r for r in in_development if r.source == RouteSource.DIAGNOSTICS), None)
        if route is None and in_development:
            return DraftOutcome(teacher_id, SKIPPED, MANUAL_DRAFT, in_development[0].pk)
        created = route is None
        kind = draft_kind(result.level)
        if created:
            route = Route(
                teacher=teacher,
                starts_on=today,
                ends_on=add_months(today, draft_months(result.level)),
                kind=kind,
                source=RouteSource.DIAGNOSTICS,
                created_by=by_user if by_user and by_user.pk else None,
                roadmap=builder.empty_roadmap(),
            )
        else:
            route.teacher = teacher
            if route.ends_on < today:
                # A draft left over from long ago starts again today.
                route.starts_on = today
                route.ends_on = add_months(today, draft_months(result.level))
            if route.kind != kind:
                route.kind = kind
                route.ends_on = add_months(route.starts_on, draft_months(result.level))
        builder.take_snapshot(route)
        if not route.diagnostics_snapshot.get("deficits"):
            return DraftOutcome(teacher_id, SKIPPED, NO_DEFICITS, route.pk)
        # Suggestions leave out events among the route's other steps (those added by hand).
        _replace_steps(route, [])
        content = draft_content(route, result, now=now, matcher=matcher, competencies=competencies)
        digest = content.digest(route, result)
        if not created and route.draft_state.get("digest") == digest:
            return DraftOutcome(teacher_id, SKIPPED, UNCHANGED, route.pk)
        route.goal = content.goal
        route.tasks = content.tasks
        route.source_diagnostic = result
        route.curator = current_curator(teacher) or route.curator
        _replace_steps(route, content.steps)
        route.draft_state = {**route.draft_state, "digest": digest}
        route.save()
        route.save_revision(user=by_user if by_user and by_user.pk else None)
        log(
            instance=route,
            action=LOG_ACTION,
            user=by_user if by_user and by_user.pk else None,
            data={"result": result.pk, "created": created, "steps": len(content.steps)},
        )
        emails.route_draft_built(route, result, language=language)
    return DraftOutcome(teacher_id, CREATED if created else UPDATED, "", route.pk)


# Many teachers -----------------------------------------------------------------------------------


def latest_results(teacher_ids):
    """The latest diagnostics result of each of ``teacher_ids`` (by date, then as entered)."""
    latest = (
        DiagnosticResult.objects.filter(teacher_id=OuterRef("teacher_id"))
        .order_by("-date", "-pk")
        .values("pk")[:1]
    )
    results = []
    ids = sorted(set(teacher_ids))
    for start in range(0, len(ids), 500):
        results += list(
            DiagnosticResult.objects.filter(teacher_id__in=ids[start : start + 500])
            .filter(pk=Subquery(latest))
            .order_by("teacher_id")
        )
    return results


def build_drafts_for_teachers(teacher_ids, by_user=None, language=None) -> list[DraftOutcome]:
    """A draft for each of ``teacher_ids`` from their latest diagnostics; teachers without
    results get nothing."""
    now = timezone.now()
    # One matcher and one read of the competencies for the whole run.
    matcher = builder.EventMatcher(now)
    competencies = Competency.objects.in_bulk()
    return [
        draft_for(
            result,
            by_user=by_user,
            language=language,
            now=now,
            matcher=matcher,
            competencies=competencies,
        )
        for result in latest_results(teacher_ids)
    ]


def build_drafts(result_ids, by_user=None, language=None) -> list[DraftOutcome]:
    """Drafts for the teachers of ``result_ids`` (e.g. the results an import wrote), each from
    the teacher's latest result, which may be a later one than the imported."""
    ids = list(dict.fromkeys(int(pk) for pk in result_ids))
    teacher_ids = set()
    for start in range(0, len(ids), 500):
        teacher_ids.update(
            DiagnosticResult.objects.filter(pk__in=ids[start : start + 500]).values_list(
                "teacher_id", flat=True
            )
        )
    return build_drafts_for_teachers(teacher_ids, by_user=by_user, language=language)


def summary(outcomes) -> dict:
    """How many drafts were created, updated and skipped (by reason)."""
    counts = {CREATED: 0, UPDATED: 0, SKIPPED: 0}
    reasons = {}
    for outcome in outcomes:
        counts[outcome.action] += 1
        if outcome.reason:
            reasons[outcome.reason] = reasons.get(outcome.reason, 0) + 1
    return {**counts, "reasons": reasons}
