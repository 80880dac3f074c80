"""The teacher's side of a route (ИОМ) in the cabinet.

What the teacher does with the own route, as plain functions the cabinet's views call:

* :func:`choose_option` — of the two to five events the curator offered in a "choose one" step,
  the teacher picks one (the teacher chooses among the courses and forms offered); the step
  becomes an event step and a revision is saved, so
  the curator sees the change in the route's history;
* :func:`mark_done` / :func:`unmark` — a self-education, external-course or mentoring step
  marked done with evidence (a text, a link or a file), or the mark taken back. Event steps
  are never marked here: their mark comes from attendance (:mod:`.routes`);
* :func:`save_reflection` — the teacher's reflection (stage 4);
* :func:`ask_for_route` — the teacher asks for a route (000 §5.2): a proposal of origin
  "teacher's request" in the municipality's proposals, refused while a route is under way or
  a request waits;
* :func:`request_correction` — a request for a correction, kept as a
  :class:`~wagtail_iom.models.RouteComment` and e-mailed to the curator once the transaction
  commits (the ``wagtail_iom.notify_route_correction`` task, sent once per request).

Each change is refused with :class:`~wagtail_iom.routes.services.RouteError` (its message says
why and what to do) when the step or the route's status does not allow it; a refused change
changes nothing. The route's row is locked while it changes, so that two clicks (or the teacher
and a curator's status change) are served one after the other.

:func:`route_page` gathers what the cabinet's route page shows in a fixed number of queries,
whatever the number of steps.
"""

from __future__ import annotations

import copy
import os
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Max, Min
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access
from wagtail_iom.core.http import parse_id
from wagtail_iom.curators import assignments
from wagtail_iom.curators.models import CuratorAssignment, TeacherProposal, TeacherProposalStatus
from wagtail_iom.directory.models import Competency
from wagtail_iom.events.models import (
    ACTIVE_STATUSES,
    SEAT_HOLDING_STATUSES,
    EventLevel,
    EventPage,
    EventSession,
    Registration,
    RegistrationStatus,
)
from wagtail_iom.routes.blocks import MENTORING_FORMATS, RouteStage
from wagtail_iom.routes.documents import FORMATS
from wagtail_iom.routes.emails import correction_recipient, correction_requested
from wagtail_iom.routes.models import Route, RouteComment, RouteLayout, RouteStatus, StepCompletion
from wagtail_iom.routes.services import (
    SELF_MARKED,
    RouteError,
    progress,
    route_steps,
    track_shares,
)

S = RouteStatus

#: Statuses in which the teacher picks among offered events. Not once the route is completed.
CHOOSE_STATUSES = (S.DEVELOPMENT, S.RETURNED, S.APPROVED, S.IMPLEMENTATION)
#: Statuses in which the teacher marks steps done or takes a mark back: a completed route's
#: marks are what the audit looks at, so they stay as they were.
MARK_STATUSES = (S.DEVELOPMENT, S.SENT_FOR_APPROVAL, S.RETURNED, S.APPROVED, S.IMPLEMENTATION)
#: The reflection is written at the end of the route too (the reflexive stage), until the audit.
REFLECTION_STATUSES = (*MARK_STATUSES, S.COMPLETED)
#: Corrections are asked for while the route is planned or followed.
CORRECTION_STATUSES = MARK_STATUSES

TEXT_MAX_LENGTH = 4000  # StepCompletion.evidence_text and RouteComment.text
URL_MAX_LENGTH = 500  # StepCompletion.evidence_url
REFLECTION_MAX_LENGTH = 10000


NO_STEP_MESSAGE = _(
    "This step is no longer in your route. Reload the page to see the route as it is now."
)


WITHDRAWN_MESSAGE = _(
    "You have withdrawn your consent to the processing of your personal data, so your route "
    "is frozen. To change it, cancel the withdrawal on the “My data” page."
)


def _status_label(route):
    return route.get_status_display()


def _refuse_status(route, allowed, what):
    if route.status not in allowed:
        raise RouteError(
            "status",
            _("%(what)s is not possible while the route is “%(status)s”.")
            % {"what": what, "status": _status_label(route)},
        )


def _check_teacher(route, user):
    """The route is ``user``'s own (views look routes up through ``access.own_routes``; this
    guards callers that do not)."""
    profile = access.teacher_profile(user)
    if profile is None or profile.pk != route.teacher_id:
        raise RouteError("forbidden", _("This is not your route."))
    if access.processing_stopped(user):
        raise RouteError("withdrawn", WITHDRAWN_MESSAGE)


def _locked(route):
    """The route re-read from the database and locked for the rest of the transaction."""
    return Route.objects.select_for_update().get(pk=route.pk)


# Steps in the raw roadmap ----------------------------------------------------------------------
#
# Changes are made to the roadmap's raw JSON: the curator's data is copied as it is, only the
# step that changes is rewritten, and no page or competency has to be loaded to save it.


def _raw_roadmap(route):
    return copy.deepcopy(list(route.roadmap.raw_data))


def _find_raw_step(raw_roadmap, step_id):
    """(stage code, the step's raw dict) or (None, None)."""
    for stage in raw_roadmap:
        value = stage.get("value") or {}
        for step in value.get("steps") or []:
            if step.get("id") == step_id:
                return value.get("stage"), step
    return None, None


def _raw_option_ids(raw_options):
    """Page ids of a ListBlock's raw value: ``[{"type": "item", "value": id}]`` or ``[id]``."""
    ids = []
    for item in raw_options or []:
        value = item.get("value") if isinstance(item, dict) else item
        number = parse_id(value) if value is not None else None
        if number is not None:
            ids.append(number)
    return ids


def find_step(route, step_id):
    """The :class:`~.routes.RouteStep` with this id in the route, with its completion, or None."""
    for step in route_steps(route):
        if step.id == step_id:
            return step
    return None


# Choosing one of the offered events ------------------------------------------------------------


def can_choose(route) -> bool:
    return route.status in CHOOSE_STATUSES


def choose_option(route, step_id, event_id, user):
    """Replace the "choose one" step ``step_id`` by an event step for ``event_id``.

    The event must be one of the step's options and still published. The new step keeps the
    step's id, planned result, competencies and date. Returns the chosen :class:`EventPage`.

    :raises RouteError: not the user's route, no such choice, an event that was not offered,
        or a status in which the route no longer changes.
    """
    _check_teacher(route, user)
    try:
        event_id = int(event_id)
    except (TypeError, ValueError):
        event_id = None
    with transaction.atomic():
        current = _locked(route)
        _refuse_status(current, CHOOSE_STATUSES, _("Choosing an event"))
        raw = _raw_roadmap(current)
        _stage, step = _find_raw_step(raw, step_id)
        if step is None:
            raise RouteError(
                "no_step",
                NO_STEP_MESSAGE,
            )
        if step.get("type") == "event":
            raise RouteError(
                "already_chosen",
                _(
                    "The choice in this step is made already. To change it, ask your curator "
                    "for a correction."
                ),
            )
        if step.get("type") != "choose_one":
            raise RouteError("not_a_choice", _("This step offers no choice."))
        value = step.get("value") or {}
        if event_id is None or event_id not in _raw_option_ids(value.get("options")):
            raise RouteError(
                "not_offered",
                _("Choose one of the events offered in this step."),
            )
        event = access.public_events(EventPage.objects.filter(pk=event_id)).first()
        if event is None:
            raise RouteError(
                "not_available",
                _("This event is no longer published. Choose another one, or ask your curator."),
            )
        step["type"] = "event"
        step["value"] = {
            "event": event.pk,
            "level": event.level or "",
            "form": "",
            "planned_result": value.get("planned_result") or "",
            "result_presentation": "",
            "competencies": list(value.get("competencies") or []),
            "deadline": value.get("deadline"),
        }
        current.roadmap = raw
        current.save(update_fields=["roadmap", "updated_at"])
        # The curator's clean() rules were checked when the route was saved; the teacher's
        # choice changes no date, so the revision is not refused for the curator's data.
        current.save_revision(user=user, log_action=True, clean=False)
    route.roadmap = current.roadmap
    route.latest_revision = current.latest_revision
    return event


# Done marks with evidence ----------------------------------------------------------------------

#: Accepted evidence files: extension → the signature the content must start with (None: text).
EVIDENCE_TYPES = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),  # OLE compound document
    ".docx": (b"PK\x03\x04",),  # ZIP
    ".odt": (b"PK\x03\x04",),
    ".txt": None,
}
EVIDENCE_ACCEPT = ",".join(sorted(EVIDENCE_TYPES))


def evidence_max_size() -> int:
    """The largest evidence file accepted, in bytes (``ROUTE_EVIDENCE_MAX_SIZE``)."""
    return iom_settings.ROUTE_EVIDENCE_MAX_SIZE


def validate_evidence_file(upload):
    """Refuse a file that is empty, too large, of another type, or whose content is not what its
    extension says (a renamed executable, an HTML page called .pdf).

    :raises ValidationError: with the code ``file_type``, ``file_size``, ``file_empty`` or
        ``file_content``.
    """
    name = os.path.basename(upload.name or "")
    extension = os.path.splitext(name)[1].lower()
    if extension not in EVIDENCE_TYPES:
        raise ValidationError(
            _(
                "“%(name)s” is not a file of an accepted type. Upload a PDF, a Word or OpenDocument text, a JPEG or PNG image, or a plain text file."
            ),
            code="file_type",
            params={"name": name},
        )
    limit = evidence_max_size()
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _(
                "The file is %(size)s; files up to %(limit)s are accepted. Make it smaller, or give a link instead."
            ),
            code="file_size",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
        )
    if not upload.size:
        raise ValidationError(_("The file is empty."), code="file_empty")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    signatures = EVIDENCE_TYPES[extension]
    if signatures is None:
        valid = b"\x00" not in head
    else:
        valid = any(head.startswith(signature) for signature in signatures)
    if not valid:
        raise ValidationError(
            _(
                "The content of “%(name)s” does not match its type. Save it again as %(type)s and upload it."
            ),
            code="file_content",
            params={"name": name, "type": extension.lstrip(".").upper()},
        )


def _stored_name(upload_name):
    """A file name nobody can guess (MEDIA may be served without a login), ending in the
    teacher's own file name so that it is recognisable."""
    base = os.path.basename(upload_name or "evidence")
    stem, extension = os.path.splitext(base)
    stem = stem[:80] or "evidence"
    return f"{uuid.uuid4().hex}/{stem}{extension.lower()}"


def evidence_file_name(completion) -> str:
    """The evidence file's name as the teacher knows it (without the random folder)."""
    if not completion or not completion.evidence_file:
        return ""
    return os.path.basename(completion.evidence_file.name)


def _delete_file_on_commit(storage, name):
    if name:
        transaction.on_commit(lambda: storage.delete(name), robust=True)


def can_mark(route) -> bool:
    return route.status in MARK_STATUSES


def _markable_raw_step(current, step_id):
    _stage, step = _find_raw_step(_raw_roadmap(current), step_id)
    if step is None:
        raise RouteError(
            "no_step",
            NO_STEP_MESSAGE,
        )
    if step.get("type") not in SELF_MARKED:
        if step.get("type") == "event":
            raise RouteError(
                "marked_by_attendance",
                _("An event is marked done by itself when your attendance is marked."),
            )
        raise RouteError("not_markable", _("This step is not marked done."))
    return step


def mark_refusal(route, step) -> RouteError | None:
    """Why ``step`` (a :class:`~.routes.RouteStep`) cannot be marked now, or None."""
    if step.type not in SELF_MARKED:
        if step.type == "event":
            return RouteError(
                "marked_by_attendance",
                _("An event is marked done by itself when your attendance is marked."),
            )
        return RouteError("not_markable", _("This step is not marked done."))
    if not can_mark(route):
        return RouteError(
            "status",
            _("Marking steps is not possible while the route is “%(status)s”.")
            % {"status": _status_label(route)},
        )
    return None


def mark_done(route, step_id, user, text="", url="", file=None) -> StepCompletion:
    """Mark a self-education, external-course or mentoring step done with evidence.

    At least one of ``text``, ``url`` and ``file`` is needed (a file kept from an earlier mark
    counts). Marking again replaces the text and the link; a new file replaces the old one.

    :raises RouteError: see the module's documentation; also ``no_evidence`` and ``evidence``.
    """
    _check_teacher(route, user)
    text = (text or "").strip()
    url = (url or "").strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise RouteError(
            "evidence",
            _("Describe what was done in at most %(count)d characters.")
            % {"count": TEXT_MAX_LENGTH},
        )
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise RouteError(
                "evidence", _("Give the link as a full address starting with https://.")
            ) from None
        if len(url) > URL_MAX_LENGTH:
            raise RouteError("evidence", _("The link is too long."))
    if file is not None:
        try:
            validate_evidence_file(file)
        except ValidationError as error:
            raise RouteError("evidence", " ".join(error.messages)) from None
    with transaction.atomic():
        current = _locked(route)
        _refuse_status(current, MARK_STATUSES, _("Marking steps"))
        _markable_raw_step(current, step_id)
        completion = StepCompletion.objects.filter(route=current, step_id=step_id).first()
        kept_file = completion is not None and bool(completion.evidence_file)
        if not (text or url or file is not None or kept_file):
            raise RouteError(
                "no_evidence",
                _("Say what was done, give a link, or attach a file: at least one of them."),
            )
        if completion is None:
            completion = StepCompletion(route=current, step_id=step_id)
        old_file = completion.evidence_file.name if (kept_file and file is not None) else ""
        completion.evidence_text = text
        completion.evidence_url = url
        if file is not None:
            completion.evidence_file.save(_stored_name(file.name), file, save=False)
        completion.save()
        _delete_file_on_commit(completion.evidence_file.storage, old_file)
    return completion


def unmark(route, step_id, user) -> bool:
    """Take back the mark of a step (its evidence file is deleted). False when it had none."""
    _check_teacher(route, user)
    with transaction.atomic():
        current = _locked(route)
        _refuse_status(current, MARK_STATUSES, _("Marking steps"))
        _markable_raw_step(current, step_id)
        completion = StepCompletion.objects.filter(route=current, step_id=step_id).first()
        if completion is None:
            return False
        name = completion.evidence_file.name if completion.evidence_file else ""
        storage = completion.evidence_file.storage
        completion.delete()
        _delete_file_on_commit(storage, name)
    return True


# The reflection ----------------------------------------------------------------------------------


def can_reflect(route) -> bool:
    return route.status in REFLECTION_STATUSES


def save_reflection(route, text, user):
    """Save the teacher's reflection (stage 4); an empty text clears it."""
    _check_teacher(route, user)
    text = (text or "").strip()
    if len(text) > REFLECTION_MAX_LENGTH:
        raise RouteError(
            "too_long",
            _("Write the reflection in at most %(count)d characters.")
            % {"count": REFLECTION_MAX_LENGTH},
        )
    with transaction.atomic():
        current = _locked(route)
        _refuse_status(current, REFLECTION_STATUSES, _("Writing the reflection"))
        current.reflection = text
        current.save(update_fields=["reflection", "updated_at"])
    route.reflection = text
    return route


# Requests for a correction -------------------------------------------------------------------


def can_request_correction(route) -> bool:
    return route.status in CORRECTION_STATUSES


@dataclass
class CorrectionResult:
    comment: RouteComment
    #: The curator the e-mail goes to; None when nobody can be told (the centre sees the
    #: request in the route's admin).
    recipient: object | None


def request_correction(route, text, user, language=None) -> CorrectionResult:
    """Keep the teacher's request for a correction and e-mail it to the curator on commit.

    The same text sent again while the first is unresolved (a double click) is not stored
    twice: the first request is returned.
    """
    _check_teacher(route, user)
    text = (text or "").strip()
    if not text:
        raise RouteError("empty", _("Say what should be corrected in the route."))
    if len(text) > TEXT_MAX_LENGTH:
        raise RouteError(
            "too_long",
            _("Write the request in at most %(count)d characters.") % {"count": TEXT_MAX_LENGTH},
        )
    with transaction.atomic():
        current = _locked(route)
        _refuse_status(current, CORRECTION_STATUSES, _("Asking for a correction"))
        recipient = correction_recipient(current)
        previous = (
            RouteComment.objects.filter(
                route=current,
                kind=RouteComment.Kind.CORRECTION_REQUEST,
                author=user,
                resolved_at__isnull=True,
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if previous is not None and previous.text == text:
            return CorrectionResult(previous, recipient)
        comment = RouteComment.objects.create(
            route=current, kind=RouteComment.Kind.CORRECTION_REQUEST, author=user, text=text
        )
        if recipient is not None and recipient.email:
            correction_requested(comment, language)
    return CorrectionResult(comment, recipient)


# The route page -------------------------------------------------------------------------------


@dataclass
class EventInfo:
    """What the route page shows about one event of the route."""

    event: EventPage
    first_date: object = None
    last_date: object = None
    public: bool = False
    over: bool = False
    full: bool = False
    registration_status: str | None = None

    @property
    def signed_up(self) -> bool:
        return self.registration_status in ACTIVE_STATUSES

    @property
    def registration_label(self) -> str:
        if not self.registration_status:
            return ""
        return str(dict(RegistrationStatus.choices).get(self.registration_status, ""))

    @property
    def can_sign_up(self) -> bool:
        """Whether to offer the sign-up button; the sign-up itself decides again."""
        event, now = self.event, timezone.now()
        return (
            self.public
            and not self.signed_up
            and self.registration_status != "declined"
            and not event.is_cancelled
            and not self.over
            and not (event.registration_opens_at and now < event.registration_opens_at)
            and not (event.registration_closes_at and now >= event.registration_closes_at)
        )


@dataclass
class StepCard:
    """One step of the route page: the step, its events' facts and its competencies."""

    step: object  # routes.RouteStep
    number: int
    event: EventInfo | None = None
    options: list = field(default_factory=list)  # [EventInfo]
    competencies: list = field(default_factory=list)  # [Competency]

    @property
    def id(self):
        return self.step.id

    @property
    def type(self):
        return self.step.type

    @property
    def value(self):
        return self.step.value

    @property
    def evidence_file_name(self):
        return evidence_file_name(self.step.completion)

    @property
    def title(self) -> str:
        """The step's name in one line (for buttons' accessible names)."""
        value = self.step.value
        if self.type == "event":
            return self.step.event.title if self.step.event is not None else ""
        for name in ("activity", "programme", "mentor", "deficit"):
            if value.get(name):
                return str(value.get(name))
        return ""

    @property
    def level_label(self) -> str:
        level = self.step.value.get("level") if self.type == "event" else None
        return str(dict(EventLevel.choices).get(level, "")) if level else ""

    @property
    def mentoring_format_label(self) -> str:
        if self.type != "mentoring":
            return ""
        code = self.step.value.get("format")
        return str(dict(MENTORING_FORMATS).get(code, code or ""))


@dataclass
class StageSection:
    code: str
    label: str
    cards: list  # [StepCard] except task rows
    task_rows: list  # [StepCard] of task_row steps
    progress: object | None


def _event_infos(events, statuses):
    """EventInfo per event pk: three queries for any number of events."""
    if not events:
        return {}
    ids = list(events)
    dates = {
        row["page_id"]: row
        for row in EventSession.objects.filter(page_id__in=ids)
        .values("page_id")
        .annotate(first=Min("date"), last=Max("date"), ends=Max("ends_at"))
    }
    public = set(
        access.public_events(EventPage.objects.filter(pk__in=ids)).values_list("pk", flat=True)
    )
    taken = dict(
        Registration.objects.filter(event_id__in=ids, status__in=SEAT_HOLDING_STATUSES)
        .values("event_id")
        .annotate(n=Count("pk"))
        .values_list("event_id", "n")
    )
    now = timezone.now()
    infos = {}
    for pk, event in events.items():
        row = dates.get(pk, {})
        infos[pk] = EventInfo(
            event=event,
            first_date=row.get("first"),
            last_date=row.get("last"),
            public=pk in public,
            over=bool(row.get("ends") and row["ends"] < now),
            full=event.capacity is not None and taken.get(pk, 0) >= event.capacity,
            registration_status=statuses.get(pk),
        )
    return infos


def _competencies_by_id(ids):
    if not ids:
        return {}
    return {
        c.pk: c
        for c in Competency.objects.filter(pk__in=ids).order_by(
            "group__sort_order", "sort_order", "name"
        )
    }


def route_curator(route):
    """The curator shown on the route: the route's own, else the teacher's current one."""
    if route.curator_id:
        return route.curator
    assignment = (
        CuratorAssignment.objects.filter(teacher_id=route.teacher_id, ended_at__isnull=True)
        .select_related("curator")
        .first()
    )
    return assignment.curator if assignment else None


def print_links(route):
    return [
        {"layout": code, "label": label, "formats": FORMATS} for code, label in RouteLayout.choices
    ]


def route_page(route) -> dict:
    """The context of the cabinet's route page: the steps as cards by stage, the progress
    overall, by stage and by competency. A fixed number of queries for any number of steps."""
    steps = route_steps(route)
    totals = progress(steps)
    events = {}
    statuses = {}
    for step in steps:
        if step.event is not None:
            events[step.event.pk] = step.event
            statuses[step.event.pk] = step.registration_status
        for option in step.options:
            events.setdefault(option.pk, option)
    infos = _event_infos(events, statuses)
    competency_ids = set(totals["by_competency"])
    for step in steps:
        competency_ids.update(step.competency_ids)
    competencies = _competencies_by_id(competency_ids)

    by_stage = {code: ([], []) for code in RouteStage.ORDER}
    for number, step in enumerate(steps, start=1):
        card = StepCard(
            step=step,
            number=number,
            event=infos.get(step.event.pk) if step.event is not None else None,
            options=[infos[option.pk] for option in step.options],
            competencies=[competencies[pk] for pk in step.competency_ids if pk in competencies],
        )
        cards, rows = by_stage.setdefault(step.stage, ([], []))
        (rows if step.type == "task_row" else cards).append(card)
    labels = dict(RouteStage.CHOICES)
    stages = [
        StageSection(
            code=code,
            label=labels.get(code, code),
            cards=cards,
            task_rows=rows,
            progress=totals["by_stage"].get(code),
        )
        for code, (cards, rows) in by_stage.items()
    ]
    by_competency = [
        (competencies[pk], totals["by_competency"][pk])
        for pk in competencies
        if pk in totals["by_competency"]
    ]
    requests = list(
        RouteComment.objects.filter(
            route=route, kind=RouteComment.Kind.CORRECTION_REQUEST
        ).order_by("-created_at", "-pk")[:10]
    )
    return {
        "route": route,
        "curator": route_curator(route),
        "task_lines": [line.strip() for line in (route.tasks or "").splitlines() if line.strip()],
        "stages": stages,
        "progress": totals["overall"],
        "stage_progress": [s for s in stages if s.progress is not None],
        "competency_progress": by_competency,
        "track_shares": track_shares(steps),
        "correction_requests": requests,
        "print_links": print_links(route),
        "can_choose": can_choose(route),
        "can_mark": can_mark(route),
        "can_reflect": can_reflect(route),
        "can_request_correction": can_request_correction(route),
    }


# Asking for a route ---------------------------------------------------------------------------

#: A route in one of these statuses is under way: a new one is not asked for meanwhile.
ROUTE_UNDER_WAY_STATUSES = (
    S.DEVELOPMENT,
    S.SENT_FOR_APPROVAL,
    S.RETURNED,
    S.APPROVED,
    S.IMPLEMENTATION,
)
REQUEST_COMMENT_MAX_LENGTH = 2000


def route_request_state(profile) -> dict:
    """What the cabinet shows about asking for a route: ``route`` (one under way, or None),
    ``open_request`` (a proposal awaiting the centre, or None), ``can_ask``. Two queries."""
    route = (
        Route.objects.filter(teacher=profile, status__in=ROUTE_UNDER_WAY_STATUSES)
        .order_by("-starts_on", "-pk")
        .first()
    )
    open_request = (
        TeacherProposal.objects.filter(teacher=profile, status=TeacherProposalStatus.PROPOSED)
        .order_by("-proposed_at", "-pk")
        .first()
    )
    return {
        "route": route,
        "open_request": open_request,
        "can_ask": route is None and open_request is None and profile.municipality_id is not None,
    }


def ask_for_route(profile, comment="", language=None) -> TeacherProposal:
    """The teacher asks for an individual route. Raises :class:`RouteError` (``route_under_way``,
    ``no_municipality``, ``already_requested``, ``comment_too_long``) and creates nothing then.
    """
    comment = (comment or "").strip()
    if len(comment) > REQUEST_COMMENT_MAX_LENGTH:
        raise RouteError(
            "comment_too_long",
            _("The comment is longer than %(count)d characters: shorten it.")
            % {"count": REQUEST_COMMENT_MAX_LENGTH},
        )
    with transaction.atomic():
        # The profile's row is locked by request_route; lock it first here, so that the check
        # of the routes and the creation are one step for two clicks at once.
        type(profile).objects.select_for_update().filter(pk=profile.pk).first()
        route = Route.objects.filter(teacher=profile, status__in=ROUTE_UNDER_WAY_STATUSES).first()
        if route is not None:
            raise RouteError(
                "route_under_way",
                _(
                    "You already have a route (“%(status)s”): follow it in the cabinet. Ask "
                    "for a new one once it is completed."
                )
                % {"status": route.get_status_display()},
            )
        try:
            return assignments.request_route(profile, comment, language=language)
        except assignments.AssignmentError as error:
            raise RouteError(error.code, error.message) from error
