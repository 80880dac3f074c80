"""The teacher's portfolio of achievements (000 §4.5: at the reflexive stage the teacher is
helped to put the portfolio together).

:func:`portfolio` gathers, for the teacher's cabinet, what the teacher achieved on the site:

* the completed routes (completed or audited): the period, the goal, the date of completion,
  the completion marks of the steps, the teacher's reflection and the curator's;
* the evidence the teacher gave when marking steps done (a text, a link, a file): files are
  linked through the route's protected download (the teacher's own routes only);
* the certificates of participation of the attended events, and the events attended with
  their hours.

Only the teacher's own data: routes through :func:`~wagtail_iom.core.access.own_routes`,
sign-ups through the user's own attendance. Reading it takes a fixed number of queries,
however many routes, steps, files and events there are: the roadmaps are read as stored (no
page is loaded per step), and the events they name are read once for all routes.

:func:`portfolio_document` turns it into the structure of the printed route
(:mod:`wagtail_iom.routes.documents`), so that the PDF is made by the same renderer, with the
same print CSS, as the printed routes.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wagtail_iom.attendance import services as attendance_service
from wagtail_iom.attendance.certificates import certificate_number
from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.core import access
from wagtail_iom.events.models import EventPage
from wagtail_iom.routes.blocks import RouteStage, StepsBlock
from wagtail_iom.routes.documents.structure import (
    UNAVAILABLE_EVENT,
    Heading,
    Paragraph,
    RouteDocument,
    Row,
    Section,
    Table,
)
from wagtail_iom.routes.models import RouteStatus, RouteTransition, StepCompletion
from wagtail_iom.routes.services import SELF_MARKED, Progress, raw_event_id, raw_steps

#: The routes the portfolio lists: those the teacher has gone through.
COMPLETED_STATUSES = (RouteStatus.COMPLETED, RouteStatus.AUDITED)
#: The steps that carry a completion mark (routes/services.py: attendance or the teacher's).
MARKED_TYPES = ("event", *SELF_MARKED)
#: What names a step that is not an event, in the order looked at.
TITLE_FIELDS = ("activity", "programme", "mentor", "deficit")


@dataclass
class PortfolioStep:
    id: str
    number: int
    stage: str
    type: str
    title: str
    done: bool = False
    completion: StepCompletion | None = None

    @property
    def stage_label(self) -> str:
        return str(dict(RouteStage.CHOICES).get(self.stage, self.stage))

    @property
    def type_label(self) -> str:
        block = StepsBlock.base_blocks.get(self.type)
        return str(block.label) if block is not None else self.type


@dataclass
class PortfolioRoute:
    route: object  # Route
    steps: list[PortfolioStep] = field(default_factory=list)
    completed_at: datetime.datetime | None = None
    audited_at: datetime.datetime | None = None

    @property
    def progress(self) -> Progress:
        return Progress(sum(step.done for step in self.steps), len(self.steps))


@dataclass
class EvidenceItem:
    route: object  # Route
    step: PortfolioStep
    completion: StepCompletion

    @property
    def file_name(self) -> str:
        if not self.completion.evidence_file:
            return ""
        return os.path.basename(self.completion.evidence_file.name)

    @property
    def file_url(self) -> str:
        """The teacher's own file through the route's protected download; empty without one."""
        if not self.completion.evidence_file:
            return ""
        url = reverse("wagtail_iom:cabinet_route_step_done", args=[self.route.pk, self.step.id])
        return f"{url}?download=1"


@dataclass
class Certificate:
    item: object  # attendance.services.AttendedEvent

    @property
    def number(self) -> str:
        return certificate_number(self.item.registration)

    @property
    def url(self) -> str:
        return reverse("wagtail_iom:certificate", args=[self.item.registration.pk])


@dataclass
class Portfolio:
    teacher: object  # TeacherProfile
    routes: list[PortfolioRoute]
    evidence: list[EvidenceItem]
    attended: list  # [attendance.services.AttendedEvent]
    made_on: datetime.date

    @property
    def total_hours(self) -> Decimal:
        return attendance_service.total_hours(self.attended)

    @property
    def certificates(self) -> list[Certificate]:
        return [Certificate(item) for item in self.attended]

    @property
    def filename(self) -> str:
        return f"portfolio-{self.made_on:%Y-%m-%d}.pdf"


def portfolio(user) -> Portfolio | None:
    """The portfolio of ``user``'s own data; None for a user who is not a teacher.

    A fixed number of queries, whatever the number of routes, steps, files and events.
    """
    profile = access.teacher_profile(user)
    if profile is None:
        return None
    routes = list(
        access.own_routes(user)
        .select_related("curator", "curator_reflection_by")
        .order_by("-ends_on", "-pk")
    )
    route_ids = [route.pk for route in routes]
    raw = {route.pk: list(raw_steps(route)) for route in routes}
    event_ids = {
        raw_event_id(step.get("value") or {})
        for steps in raw.values()
        for _stage, step in steps
        if step.get("type") == "event"
    } - {None}

    titles, attended_event_ids = {}, set()
    if event_ids:
        # The teacher never reads the title of an event they may not see (as in the printed
        # route made for them).
        titles = dict(
            access.public_events(EventPage.objects.filter(pk__in=event_ids)).values_list(
                "pk", "title"
            )
        )
        attended_event_ids = set(
            AttendanceMark.objects.filter(
                registration__user=user, registration__event_id__in=event_ids
            ).values_list("registration__event_id", flat=True)
        )
    completions, moments = {}, {}
    if route_ids:
        for completion in StepCompletion.objects.filter(route_id__in=route_ids):
            completions[(completion.route_id, completion.step_id)] = completion
        for route_id, status, at in RouteTransition.objects.filter(
            route_id__in=route_ids, to_status__in=COMPLETED_STATUSES
        ).values_list("route_id", "to_status", "at"):
            # The latest move to the status (a route returned and completed again).
            previous = moments.get((route_id, status))
            if previous is None or at > previous:
                moments[(route_id, status)] = at

    completed, evidence = [], []
    for route in routes:
        steps = []
        for stage, step in raw[route.pk]:
            kind, value = step.get("type"), step.get("value") or {}
            if kind not in MARKED_TYPES:
                continue
            if kind == "event":
                event_id = raw_event_id(value)
                title = titles.get(event_id) or str(UNAVAILABLE_EVENT)
                completion, done = None, event_id in attended_event_ids
            else:
                title = next((str(value[n]) for n in TITLE_FIELDS if value.get(n)), "")
                completion = completions.get((route.pk, step.get("id")))
                done = completion is not None
            portfolio_step = PortfolioStep(
                id=step.get("id") or "",
                number=len(steps) + 1,
                stage=stage,
                type=kind,
                title=title,
                done=done,
                completion=completion,
            )
            steps.append(portfolio_step)
            if completion is not None and portfolio_step.id:
                evidence.append(EvidenceItem(route, portfolio_step, completion))
        if route.status in COMPLETED_STATUSES:
            completed.append(
                PortfolioRoute(
                    route=route,
                    steps=steps,
                    completed_at=moments.get((route.pk, RouteStatus.COMPLETED)),
                    audited_at=moments.get((route.pk, RouteStatus.AUDITED)),
                )
            )
    evidence.sort(key=lambda item: (item.completion.done_at, item.completion.pk), reverse=True)
    return Portfolio(
        teacher=profile,
        routes=completed,
        evidence=evidence,
        attended=attendance_service.attended_events(user),
        made_on=timezone.localdate(),
    )


# The printed portfolio --------------------------------------------------------------------------


def _date(value) -> str:
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%d.%m.%Y")


def _period(start, end) -> str:
    if start and end and start != end:
        return f"{_date(start)} – {_date(end)}"
    return _date(start or end)


def _hours(value) -> str:
    return floatformat(value, -1)


def _mark(step) -> str:
    if not step.done:
        return _("Not done")
    if step.completion is not None:
        return _("Done, %(date)s") % {"date": _date(step.completion.done_at)}
    return _("Attended")


def _route_blocks(item) -> list:
    route = item.route
    progress = item.progress
    facts = [
        (_("Period"), _period(route.starts_on, route.ends_on)),
        (_("Status"), route.get_status_display()),
        (_("Completed on"), _date(item.completed_at) or "—"),
    ]
    if item.audited_at:
        facts.append((_("Audited on"), _date(item.audited_at)))
    facts.append(
        (
            _("Progress"),
            _("%(done)d of %(total)d steps done (%(percent)d%%)")
            % {"done": progress.done, "total": progress.total, "percent": progress.percent},
        )
    )
    return [
        Heading(_("Route %(period)s") % {"period": _period(route.starts_on, route.ends_on)}),
        Table(
            key=f"route-{route.pk}",
            caption=_("The route in brief"),
            columns=["", ""],
            rows=[Row([label, value]) for label, value in facts],
            widths=[30, 70],
            header=False,
        ),
        Paragraph(_("Goal of the route"), route.goal),
        Table(
            key=f"route-{route.pk}-marks",
            caption=_("Completion marks of the steps"),
            columns=["№", _("Step"), _("Stage"), _("Kind"), _("Completion mark")],
            rows=[
                Row([str(s.number), s.title, s.stage_label, s.type_label, _mark(s)])
                for s in item.steps
            ],
            widths=[6, 40, 20, 14, 20],
            empty_text=_("The route has no steps with a completion mark."),
        ),
        Paragraph(_("Reflection of the teacher"), route.reflection),
        Paragraph(_("Reflection of the curator (tutor)"), route.curator_reflection),
    ]


def _evidence_text(item) -> str:
    parts = [item.completion.evidence_text, item.completion.evidence_url]
    if item.file_name:
        parts.append(_("File: %(name)s") % {"name": item.file_name})
    return "\n".join(part for part in parts if part)


def portfolio_document(data: Portfolio) -> RouteDocument:
    """The portfolio as the printed route's structure (rendered by routes/documents)."""
    teacher = data.teacher
    facts = [(_("Teacher"), teacher.full_name)]
    school = getattr(teacher, "school", None)
    if school is not None:
        facts.append((_("School"), str(school)))
    route_blocks = [block for item in data.routes for block in _route_blocks(item)]
    if not route_blocks:
        route_blocks = [Paragraph(_("Completed routes"), _("No completed routes yet."))]
    sections = [
        Section("routes", _("Completed routes"), route_blocks),
        Section(
            "evidence",
            _("Evidence of completed steps"),
            [
                Table(
                    key="evidence",
                    caption=_("What the teacher presented when marking steps done"),
                    columns=[_("Step"), _("Route"), _("Date"), _("Evidence")],
                    rows=[
                        Row(
                            [
                                item.step.title,
                                _period(item.route.starts_on, item.route.ends_on),
                                _date(item.completion.done_at),
                                _evidence_text(item),
                            ]
                        )
                        for item in data.evidence
                    ],
                    widths=[30, 20, 14, 36],
                    empty_text=_("No evidence yet."),
                )
            ],
        ),
        Section(
            "certificates",
            _("Certificates of participation"),
            [
                Table(
                    key="certificates",
                    caption=_("Certificates of participation in the attended events"),
                    columns=[pgettext("certificate", "Number"), _("Event")],
                    rows=[Row([c.number, c.item.event.title]) for c in data.certificates],
                    widths=[30, 70],
                    empty_text=_("No certificates yet."),
                )
            ],
        ),
        Section(
            "attended",
            _("Attended events"),
            [
                Table(
                    key="attended",
                    caption=_("Events with the attendance marked, the latest first"),
                    columns=[_("Event"), _("Organiser"), _("Dates"), _("Academic hours")],
                    rows=[
                        Row(
                            [
                                item.event.title,
                                item.event.organiser,
                                _period(item.date_from, item.date_to),
                                _hours(item.hours),
                            ]
                        )
                        for item in data.attended
                    ],
                    widths=[44, 24, 20, 12],
                    empty_text=_("No attended events yet."),
                ),
                Paragraph(_("Academic hours in all"), _hours(data.total_hours)),
            ],
        ),
    ]
    return RouteDocument(
        layout="portfolio",
        route_id=0,
        language=translation.get_language() or "",
        title=_("Portfolio of the teacher's achievements"),
        subtitle=teacher.full_name,
        facts=facts,
        sections=sections,
        signatures=[],
        date_label=_("Date"),
        date=_date(data.made_on),
    )
