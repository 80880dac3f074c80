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
* write a draft that would not be a valid route (steps added by hand to an old draft that fall
  outside the period it would start again with): the teacher is skipped, and the batch goes
  on;
* write anything when nothing changed since the last run: the draft keeps a digest of what it
  wrote (``Route.draft_state``), a run with the same result and the same suggestions is skipped,
  and the teacher and the curator are e-mailed once per draft and result.

An update replaces the goal, the tasks and the steps the draft suggested (their ids are kept in
``Route.draft_state``); steps the curator added by hand stay. Each draft written is saved as a
new revision and logged in the teacher's history (``wagtail_iom.route_draft``).

Teachers are drafted in batches (:func:`draft_batch`): what the drafts are made of is read for
the whole batch, and new routes, their revisions and the log entries are written in bulk, so
that the number of queries does not grow with the number of teachers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext
from wagtail.log_actions import registry as log_registry
from wagtail.models import Revision

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access, bulk
from wagtail_iom.curators.assignments import current_curators
from wagtail_iom.diagnostics import competency_profile
from wagtail_iom.diagnostics.models import DiagnosticLevel, DiagnosticResult
from wagtail_iom.directory import draft_templates
from wagtail_iom.directory.models import Competency
from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.events.models import EventLevel
from wagtail_iom.people.models import TeacherProfile
from wagtail_iom.routes import builder, emails
from wagtail_iom.routes.blocks import RouteStage
from wagtail_iom.routes.models import Route, RouteKind, RouteSource, RouteStatus
from wagtail_iom.routes.services import add_months, validate_route

LOG_ACTION = "wagtail_iom.route_draft"

logger = logging.getLogger(__name__)

CREATED = "created"
UPDATED = "updated"
SKIPPED = "skipped"

#: Why a teacher got no draft now.
NO_DEFICITS = "no_deficits"
ROUTE_UNDER_WAY = "route_under_way"
MANUAL_DRAFT = "manual_draft"
UNCHANGED = "unchanged"
PROCESSING_STOPPED = "processing_stopped"
#: The draft would not be a valid route (e.g. steps added by hand to an old draft fall outside
#: the period it starts again with): left for the curator, the rest of the batch goes on.
INVALID_ROUTE = "invalid_route"

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


def _values(deficit, competency, common) -> dict:
    return {
        **common,
        "competency": competency.name,
        "code": competency.code,
        "score": _number(deficit["score"]),
    }


def _event_form(event) -> str:
    """The kind and format of ``event``, as a step names them; kept on the event, which a
    matcher shares between the routes of a run."""
    form = getattr(event, "_iom_step_form", None)
    if form is None:
        form = ", ".join(
            str(part) for part in (event.get_kind_display(), event.get_format_display()) if part
        )
        event._iom_step_form = form
    return form


def _event_step(route, suggestion, competency_id, task) -> dict:
    event = suggestion.event
    last = suggestion.last_session
    deadline = None
    if last is not None and route.starts_on <= last.date <= route.ends_on:
        deadline = last.date.isoformat()
    form = _event_form(event)
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
    common = {
        "threshold": _number(iom_settings.DIAGNOSTICS_DEFICIT_BELOW),
        "level": str(result.get_level_display()),
        "teacher": route.teacher.full_name,
    }
    for deficit in deficits:
        competency = competencies.get(deficit["competency_id"])
        if competency is None:
            continue
        values = _values(deficit, competency, common)
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
    module's documentation): :func:`draft_batch` for one teacher."""
    (outcome,) = draft_batch(
        [result],
        by_user=by_user,
        language=language,
        now=now,
        matcher=matcher,
        competencies=competencies,
    )
    return outcome


@dataclass
class _Draft:
    """A route drafted in a batch, waiting to be written."""

    route: Route
    result: DiagnosticResult
    created: bool
    steps: int


def _plan(result, teacher, routes, source, curator, now, user, matcher, competencies):
    """What to do for one teacher of a batch: a :class:`DraftOutcome` (skipped) or a
    :class:`_Draft` (to write). No query beyond the matcher's first reads."""
    today = timezone.localdate(now)
    teacher_id = teacher.pk
    under_way = next(
        (r for r in routes if r.status != RouteStatus.DEVELOPMENT and _period_not_over(r, today)),
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
            created_by=user,
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
    source.take_snapshot(route, teacher)
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
    route.curator = curator or route.curator
    _replace_steps(route, content.steps)
    route.draft_state = {**route.draft_state, "digest": digest}
    errors = validate_route(route)
    if errors:
        raise ValidationError(errors)
    return _Draft(route=route, result=result, created=created, steps=len(content.steps))


#: The fields a draft run writes on a route it updates.
UPDATED_FIELDS = (
    "starts_on",
    "ends_on",
    "kind",
    "goal",
    "tasks",
    "roadmap",
    "source_diagnostic",
    "curator",
    "draft_state",
    "profile_snapshot",
    "diagnostics_snapshot",
    "snapshot_taken_at",
    "updated_at",
)


def _write(drafts, now, user):
    """Save the drafted routes, a revision of each and a line in each teacher's history: a
    fixed number of queries for new routes, whatever their number, and one per updated
    route."""
    bulk.bulk_create(Route, [d.route for d in drafts if d.created])
    for draft in drafts:
        if not draft.created:
            draft.route.updated_at = now
            Route.objects.filter(pk=draft.route.pk).update(
                **{name: getattr(draft.route, name) for name in UPDATED_FIELDS}
            )
    # As RevisionMixin.save_revision and wagtail.log_actions.log write them, for all at once.
    content_type = ContentType.objects.get_for_model(Route)
    base_content_type = drafts[0].route.get_base_content_type()
    revisions = bulk.bulk_create(
        Revision,
        [
            Revision(
                content_type=content_type,
                base_content_type=base_content_type,
                object_id=str(draft.route.pk),
                user=user,
                created_at=now,
                content=draft.route.serializable_data(),
                object_str=str(draft.route),
            )
            for draft in drafts
        ],
    )
    for draft, revision in zip(drafts, revisions, strict=True):
        draft.route.latest_revision = revision
    Route.objects.bulk_update([d.route for d in drafts], ["latest_revision"])
    log_registry.get_log_model_for_instance(drafts[0].route).objects.log_actions(
        [
            (d.route, {"result": d.result.pk, "created": d.created, "steps": d.steps})
            for d in drafts
        ],
        LOG_ACTION,
        user=user,
        timestamp=now,
    )


def draft_batch(
    results, by_user=None, language=None, now=None, matcher=None, competencies=None
) -> list[DraftOutcome]:
    """Create or update the route drafts of the teachers of ``results`` (one result per
    teacher, the one to draft from; see the module's documentation), in one transaction.

    The teachers' rows and their consents are locked, so that two runs for one teacher are
    served one after the other and a withdrawal of the consent being written is waited for.
    Everything the drafts are made of is read for the whole batch at once, and new routes,
    revisions and log entries are written in bulk: the number of queries does not grow with
    the number of teachers (an updated route adds one). ``matcher`` and ``competencies``: see
    :func:`draft_content`. Returns one outcome per result, in their order."""
    now = now or timezone.now()
    user = by_user if by_user and by_user.pk else None
    results = list(results)
    if not results:
        return []
    if len({r.teacher_id for r in results}) != len(results):
        raise ValueError("draft_batch takes one result per teacher.")
    with transaction.atomic():
        teachers = {
            teacher.pk: teacher
            for teacher in TeacherProfile.objects.select_for_update(of=("self",))
            .select_related("municipality", "school", "user")
            .filter(pk__in={r.teacher_id for r in results})
            .order_by("pk")
        }
        stopped = access.processing_stopped_among([t.user_id for t in teachers.values()], lock=True)
        routes = {}
        for route in Route.objects.filter(teacher_id__in=list(teachers)).order_by(
            "-created_at", "-pk"
        ):
            routes.setdefault(route.teacher_id, []).append(route)
        curators = current_curators(list(teachers))
        source = builder.SnapshotSource(list(teachers.values()))
        if competencies is None:
            competencies = Competency.objects.in_bulk()
        matcher = matcher or builder.EventMatcher(now)
        outcomes, drafts = [], []
        for result in results:
            teacher = teachers.get(result.teacher_id)
            if teacher is None:
                outcomes.append(DraftOutcome(result.teacher_id, SKIPPED, NO_DEFICITS))
                continue
            if teacher.user_id in stopped:
                # The consent is withdrawn: nothing new is done with the teacher's data.
                outcomes.append(DraftOutcome(teacher.pk, SKIPPED, PROCESSING_STOPPED))
                continue
            try:
                planned = _plan(
                    result,
                    teacher,
                    routes.get(teacher.pk, []),
                    source,
                    curators.get(teacher.pk),
                    now,
                    user,
                    matcher,
                    competencies,
                )
            except ValidationError as error:
                route_id = next(
                    (
                        r.pk
                        for r in routes.get(teacher.pk, [])
                        if r.status == RouteStatus.DEVELOPMENT
                    ),
                    None,
                )
                logger.warning("No route draft for teacher %s: %s", teacher.pk, error.messages)
                outcomes.append(DraftOutcome(teacher.pk, SKIPPED, INVALID_ROUTE, route_id))
                continue
            if isinstance(planned, DraftOutcome):
                outcomes.append(planned)
                continue
            drafts.append(planned)
            outcomes.append(planned)
        if drafts:
            _write(drafts, now, user)
            emails.route_drafts_built([(d.route, d.result) for d in drafts], language=language)
    return [
        DraftOutcome(o.route.teacher_id, CREATED if o.created else UPDATED, "", o.route.pk)
        if isinstance(o, _Draft)
        else o
        for o in outcomes
    ]


# Many teachers -----------------------------------------------------------------------------------

#: Teachers drafted in one transaction: their rows stay locked until it commits.
TEACHERS_PER_TRANSACTION = 100


def build_drafts_for_teachers(teacher_ids, by_user=None, language=None) -> list[DraftOutcome]:
    """A draft for each of ``teacher_ids`` from their latest diagnostics; teachers without
    results get nothing. Teachers are drafted :data:`TEACHERS_PER_TRANSACTION` at a time."""
    now = timezone.now()
    # One matcher and one read of the competencies for the whole run.
    matcher = builder.EventMatcher(now)
    competencies = Competency.objects.in_bulk()
    results = competency_profile.latest_result_of_each(teacher_ids)
    outcomes = []
    for start in range(0, len(results), TEACHERS_PER_TRANSACTION):
        outcomes += draft_batch(
            results[start : start + TEACHERS_PER_TRANSACTION],
            by_user=by_user,
            language=language,
            now=now,
            matcher=matcher,
            competencies=competencies,
        )
    return outcomes


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
