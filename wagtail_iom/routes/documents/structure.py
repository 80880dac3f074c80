"""The one structure of a printed route (ИОМ), built from the route in one of its layouts.

:func:`route_document` builds a :class:`RouteDocument` — title, header facts, sections made of
tables (header row and body rows of strings), paragraphs and notes, signature lines — that the
renderers beside this module turn into HTML and PDF (:mod:`.html`) and Word (:mod:`.word`), so
the files hold the same rows.

Sections 1 and 2 come from the route's snapshots (``profile_snapshot`` and
``diagnostics_snapshot``, in the format written by :mod:`wagtail_iom.routes.builder`), so
that a printed route keeps saying what it said when it was approved; a route without snapshots
shows the teacher's profile as it is now. The diagnostic history of section 2 is read from the
database: every result from ``ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS`` before the route's start to
its end.

Building a document runs a fixed number of queries, whatever the number of steps.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access
from wagtail_iom.core.access import StaffRole
from wagtail_iom.curators.assignments import approvers_and_methodists
from wagtail_iom.diagnostics import competency_profile as competency_service
from wagtail_iom.diagnostics.models import DiagnosticLevel, DiagnosticProcedure
from wagtail_iom.diagnostics.radar import radar_chart
from wagtail_iom.directory.models import Competency, CompetencyGroup
from wagtail_iom.events.models import EventLevel, EventPage, EventSession
from wagtail_iom.people.models import (
    AchievementDirection,
    CommunityStatus,
    FurtherEducationKind,
    MentoringRole,
)
from wagtail_iom.routes.blocks import DEFAULT_STEP_LEVELS, MENTORING_FORMATS, RouteStage
from wagtail_iom.routes.models import RouteLayout, RouteStatus
from wagtail_iom.routes.services import add_months, progress, route_steps, track_shares

TEMPLATE = "wagtail_iom/routes/print/document.html"


class DocumentUnavailable(Exception):
    """The file cannot be made on this site: WeasyPrint or python-docx is not installed."""


# The structure ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One row of a table. A ``group`` row is a heading spanning the table (a stage, a
    competency group, a kind of further education); its only cell is the heading."""

    cells: list[str]
    group: bool = False
    #: A row whose only cell spans the table and says something about it (there are no
    #: results): printed as a plain cell, not as a heading.
    message: bool = False
    #: Cells that span this row and the next ones: {cell index: number of rows}.
    spans: dict[int, int] = field(default_factory=dict)
    #: Indices of the cells a span from a row above covers (their text is not printed).
    covered: frozenset[int] = frozenset()

    @property
    def blank(self) -> bool:
        """A row left to be filled in by hand."""
        return not (self.group or self.message) and not any(self.cells)

    @property
    def visible(self) -> list[tuple[int, str, int]]:
        """(index, text, rows spanned) of the cells printed in this row."""
        return [
            (index, text, self.spans.get(index, 1))
            for index, text in enumerate(self.cells)
            if index not in self.covered
        ]


def _merge_down(rows, index):
    """The cell ``index`` of ``rows`` printed once, spanning them all (the form's merged
    cells: a stage over its levels, a level over its steps)."""
    if len(rows) < 2:
        return
    rows[0].spans[index] = len(rows)
    for row in rows[1:]:
        row.covered = row.covered | {index}


@dataclass
class Table:
    key: str
    caption: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    #: Relative widths of the columns.
    widths: list[int] = field(default_factory=list)
    #: False: no header row; the first cell of each row is the row's header (a card of facts).
    header: bool = True
    #: Shown instead of the table when it has no rows.
    empty_text: str = ""
    kind = "table"

    @property
    def column_count(self) -> int:
        return len(self.columns)


@dataclass
class Paragraph:
    """A labelled text (the goal, a recommendation); ``text`` may hold several lines."""

    label: str
    text: str
    kind = "paragraph"

    @property
    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()] or ["—"]


@dataclass
class Heading:
    text: str
    kind = "heading"


@dataclass
class Note:
    text: str
    kind = "note"


@dataclass
class ChartBlock:
    """The competency profile chart (HTML and PDF only: the table next to it has every value)."""

    chart: object
    kind = "chart"


@dataclass
class Section:
    key: str
    title: str
    blocks: list = field(default_factory=list)
    #: Printed on landscape pages (the development map's wide table).
    wide: bool = False


@dataclass
class Signature:
    role: str
    name: str = ""


@dataclass
class RouteDocument:
    layout: str
    route_id: int
    language: str
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    signatures: list[Signature]
    date_label: str
    date: str
    #: The whole document on landscape pages (the wide tables of compact / competency_groups).
    landscape: bool = False

    @property
    def filename_base(self) -> str:
        return f"route-{self.route_id}-{self.layout}"

    def filename(self, fmt) -> str:
        return f"{self.filename_base}.{fmt}"

    def tables(self) -> list[Table]:
        """Every table in the order printed, including those without rows."""
        return [
            block for section in self.sections for block in section.blocks if block.kind == "table"
        ]


# Small formatting helpers -----------------------------------------------------------------------


def _date(value) -> str:
    """``dd.mm.yyyy`` as Russian documents write dates; accepts dates and ISO strings."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%d.%m.%Y")


def _number(value) -> str:
    if value is None or value == "":
        return ""
    try:
        return floatformat(Decimal(str(value)), -1)
    except (InvalidOperation, ValueError):
        return str(value)


def _label(choices, value) -> str:
    """The label of a choice, or the stored value itself when the choice no longer exists."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _lines(*parts) -> str:
    return "\n".join(str(part) for part in parts if part)


def _until(day) -> str:
    return pgettext("deadline", "until %(date)s") % {"date": _date(day)} if day else ""


def _period(start, end) -> str:
    if start and end and _date(start) == _date(end):
        return _date(start)
    if start and end:
        return f"{_date(start)} – {_date(end)}"
    return _date(start) or _until(end)


#: How a printed route for the teacher names an event the teacher may not see.
UNAVAILABLE_EVENT = gettext_lazy("(an event that is not available)")

STAGE_LABELS = dict(RouteStage.CHOICES)
LEVEL_ORDER = {code: index for index, code in enumerate(EventLevel.values)}
MENTORING_LABELS = dict(MENTORING_FORMATS)

# The printed words of the regulation's forms. Each has its own context, so that its
# translation can be the form's exact words (given in the translators' comments) without
# changing the same English words elsewhere in the package.

#: The development map's stage cell (000, appendix, section 3): the stage and what it holds.
STAGE_DESCRIPTIONS = {
    # Translators: the regulation's words (000, appendix, section 3): «изучение потребностей и
    # профессиональных затруднений, которое может быть организовано в форматах самодиагностики,
    # специальных исследований; анализ и фиксация профессиональных затруднений и дефицитов;
    # актуализация профессионального запроса»
    RouteStage.DIAGNOSTIC_MOTIVATIONAL: pgettext_lazy(
        "route form",
        "study of needs and professional difficulties, which may be organised as "
        "self-diagnostics or special research; analysis and recording of professional "
        "difficulties and deficits; stating the professional request",
    ),
    # Translators: 000 §4.3 (the appendix's table has no row of this stage): «анализ
    # компетентностного профиля педагога; отбор материалов и ресурсов относительно
    # профессионального запроса и выявленных профессиональных дефицитов; формирование ИОМ и
    # выбор траектории движения педагога в избыточной ресурсной среде»
    RouteStage.DESIGN: pgettext_lazy(
        "route form",
        "analysis of the teacher's competency profile; selection of materials and resources "
        "for the professional request and the deficits found; forming the route and choosing "
        "the teacher's path in the redundant resource environment",
    ),
    # Translators: the regulation's words (000, appendix, section 3): «консультационная и
    # тьюторская поддержка при прохождении мероприятий ИОМ; перенос приобретенных
    # профессиональных компетенций в педагогическую практику; корректировка ИОМ»
    RouteStage.IMPLEMENTATION: pgettext_lazy(
        "route form",
        "consulting and tutor support while taking part in the route's events; transfer of "
        "the competencies acquired to teaching practice; correction of the route",
    ),
    # Translators: the regulation's words (000, appendix, section 3): «анализ, саморефлексия
    # эффективности реализации педагогом и тьютором / куратором; методический анализ
    # достижения планируемых результатов»
    RouteStage.REFLEXIVE: pgettext_lazy(
        "route form",
        "analysis and self-reflection of the effectiveness of the route by the teacher and "
        "the tutor / curator; methodical analysis of reaching the planned results",
    ),
}

#: The five levels as the development map pre-prints them under every stage.
MAP_LEVELS = {
    # Translators: the regulation's word: «Личностный»
    EventLevel.PERSONAL: pgettext_lazy("route form level", "Personal"),
    # Translators: the regulation's words: «Образовательной организации»
    EventLevel.SCHOOL: pgettext_lazy("route form level", "Of the school"),
    # Translators: the regulation's word: «Муниципальный»
    EventLevel.MUNICIPAL: pgettext_lazy("route form level", "Municipal"),
    # Translators: the regulation's word: «Региональный»
    EventLevel.REGIONAL: pgettext_lazy("route form level", "Regional"),
    # Translators: the regulation's word: «Федеральный»
    EventLevel.FEDERAL: pgettext_lazy("route form level", "Federal"),
}


# Snapshots ------------------------------------------------------------------------------------
#
# The snapshots are written by routes/builder.py (its module documentation gives the
# format): the info card as display strings, further education and achievements in groups,
# the latest diagnostics with the competencies' latest scores. They are read here leniently
# (a missing key is an empty value), so that an older snapshot still prints.


def _live_profile_snapshot(teacher) -> dict:
    from wagtail_iom.routes.builder import profile_snapshot

    return profile_snapshot(teacher)


def _live_diagnostics_snapshot(teacher) -> dict:
    from wagtail_iom.routes.builder import diagnostics_snapshot

    return diagnostics_snapshot(teacher)


def _card_values(snapshot) -> dict:
    """The info card of a profile snapshot as ``{field: display value}``."""
    return {
        row.get("field"): "" if row.get("value") is None else str(row.get("value"))
        for row in snapshot.get("card") or []
        if isinstance(row, dict)
    }


# What one step says ----------------------------------------------------------------------------


@dataclass
class StepText:
    """A step of the roadmap as the layouts print it."""

    stage: str
    level: str  # an EventLevel code or ""
    what: str  # the event or activity
    form: str
    dates: str
    result: str
    presentation: str
    competencies: list  # Competency objects
    mark: str
    # The compact table's own columns (a task row fills them itself).
    deficit: str = ""
    educational_task: str = ""
    #: The step's stream id and block type.
    id: str = ""
    kind: str = ""


class _Data:
    """Everything a layout needs, each part read once (a fixed number of queries)."""

    def __init__(self, route, public_events_only=False):
        self.route = route
        self.teacher = route.teacher
        self.public_events_only = public_events_only

    @cached_property
    def profile(self) -> dict:
        """Section 1: the route's snapshot, else the teacher's profile now."""
        return self.route.profile_snapshot or _live_profile_snapshot(self.teacher)

    @cached_property
    def card(self) -> dict:
        """The info card as ``{field: display value}``; the name is never empty."""
        card = _card_values(self.profile)
        if not card.get("full_name"):
            card["full_name"] = self.teacher.full_name
        return card

    @cached_property
    def diagnostics(self) -> dict:
        """Section 2: the route's snapshot, else the teacher's profile now."""
        return self.route.diagnostics_snapshot or _live_diagnostics_snapshot(self.teacher)

    @cached_property
    def history_period(self) -> tuple[datetime.date | None, datetime.date | None]:
        """The dates of the diagnostics the route lists: from ``ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS``
        months before its start (the route is built from the diagnostics before it) to its
        end."""
        start, end = self.route.starts_on, self.route.ends_on
        months = iom_settings.ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS
        return (add_months(start, -months) if start else None, end or None)

    @cached_property
    def diagnostic_history(self) -> list:
        """Every diagnostics result of the teacher in :attr:`history_period`, oldest first
        (two queries)."""
        return competency_service.diagnostic_history(self.teacher, *self.history_period)

    def in_history_period(self, day) -> bool:
        since, until = self.history_period
        return bool(day) and (since is None or since <= day) and (until is None or day <= until)

    @cached_property
    def steps(self):
        return route_steps(self.route)

    @cached_property
    def progress(self):
        return progress(self.steps)

    @cached_property
    def track_shares(self):
        return track_shares(self.steps)

    @cached_property
    def _event_ids(self) -> set[int]:
        ids = set()
        for step in self.steps:
            if step.event is not None:
                ids.add(step.event.pk)
            ids.update(page.pk for page in step.options)
        return ids

    @cached_property
    def hidden_event_ids(self) -> set[int]:
        """Events the reader may not see (private, draft or restricted pages), when the
        document is printed for the teacher: they are named only as not available (one
        query)."""
        if not (self.public_events_only and self._event_ids):
            return set()
        public = access.public_events(EventPage.objects.filter(pk__in=self._event_ids))
        return self._event_ids - set(public.values_list("pk", flat=True))

    def event_title(self, event) -> str:
        if event.pk in self.hidden_event_ids:
            return str(UNAVAILABLE_EVENT)
        return event.title

    @cached_property
    def event_dates(self) -> dict[int, tuple]:
        """Per event id: the first and the last date of its sessions (one query)."""
        dates = {}
        if self._event_ids:
            rows = EventSession.objects.filter(page_id__in=self._event_ids).values_list(
                "page_id", "date"
            )
            for page_id, day in rows:
                first, last = dates.get(page_id, (day, day))
                dates[page_id] = (min(first, day), max(last, day))
        return dates

    @cached_property
    def event_competency_ids(self) -> dict[int, list[int]]:
        """Per event id: the competencies the event targets, for steps that name none (one
        query)."""
        targets = {}
        if self._event_ids:
            rows = EventPage.competencies.through.objects.filter(
                eventpage_id__in=self._event_ids
            ).values_list("eventpage_id", "competency_id")
            for event_id, competency_id in rows:
                targets.setdefault(event_id, []).append(competency_id)
        return targets

    def competency_ids_of(self, step) -> list[int]:
        ids = step.competency_ids
        if not ids and step.event is not None:
            ids = self.event_competency_ids.get(step.event.pk, [])
        return ids

    @cached_property
    def competencies(self) -> dict[int, Competency]:
        ids = {pk for step in self.steps for pk in self.competency_ids_of(step)}
        if not ids:
            return {}
        return Competency.objects.select_related("group").in_bulk(ids)

    @cached_property
    def groups(self) -> list[CompetencyGroup]:
        return list(CompetencyGroup.objects.order_by("sort_order", "name", "pk"))

    @cached_property
    def group_codes(self) -> dict[int, str]:
        return {group.pk: group.code for group in self.groups}

    @cached_property
    def transitions(self):
        return list(self.route.transitions.order_by("at", "pk"))

    def last_transition_to(self, status):
        moves = [t for t in self.transitions if t.to_status == status]
        return moves[-1] if moves else None

    def first_transition_to(self, status):
        moves = [t for t in self.transitions if t.to_status == status]
        return moves[0] if moves else None

    @cached_property
    def staff(self) -> dict[str, list[str]]:
        """Names of the school heads of the teacher's school and of the methodists of the
        teacher's municipality (one query)."""
        teacher = self.teacher
        names = {StaffRole.SCHOOL_HEAD: [], StaffRole.MUNICIPAL_METHODIST: []}
        if teacher.school_id or teacher.municipality_id:
            for membership in approvers_and_methodists(teacher).order_by("pk"):
                name = membership.user.get_full_name()
                if name and name not in names[membership.role]:
                    names[membership.role].append(name)
        return names

    def staff_name(self, role) -> str:
        # A form has one line per role: a name only when there is one person to sign.
        names = self.staff.get(role, [])
        return names[0] if len(names) == 1 else ""

    @cached_property
    def curator_name(self) -> str:
        curator = self.route.curator
        return curator.get_full_name() if curator is not None else ""

    def describe(self, step) -> StepText:
        value = step.value
        kind = step.type
        text = StepText(
            stage=step.stage,
            level="",
            what="",
            form="",
            dates=_until(value.get("deadline")),
            result=value.get("planned_result") or "",
            presentation="",
            competencies=[
                self.competencies[pk]
                for pk in self.competency_ids_of(step)
                if pk in self.competencies
            ],
            mark=self.mark(step),
            educational_task=value.get("task") or "",
            id=step.id,
            kind=kind,
        )
        if kind == "event":
            event = step.event
            text.presentation = value.get("result_presentation") or ""
            if event is None or event.pk in self.hidden_event_ids:
                text.what = (
                    _("(the event is no longer in the resource map)")
                    if event is None
                    else str(UNAVAILABLE_EVENT)
                )
                # A hidden event's level says nothing the teacher may not see.
                text.level = value.get("level") or (event.level if event is not None else "")
                text.form = value.get("form") or ""
            else:
                text.what = event.title
                text.level = value.get("level") or event.level
                text.form = value.get("form") or ", ".join(
                    part for part in (event.get_kind_display(), event.get_format_display()) if part
                )
                if not value.get("deadline") and event.pk in self.event_dates:
                    text.dates = _period(*self.event_dates[event.pk])
        elif kind == "choose_one":
            titles = [self.event_title(page) for page in step.options]
            text.what = _("One of: %(events)s") % {"events": "; ".join(titles)}
            # Offered events of different levels: the map files the choice under the first
            # one's level (the teacher's choice then prints at its own).
            text.level = step.options[0].level if step.options else ""
            text.form = _("Choice of one event")
        elif kind == "self_education":
            text.what = value.get("activity") or ""
            text.form = value.get("form") or _("Self-education")
        elif kind == "external_course":
            hours = value.get("hours")
            text.what = _lines(value.get("programme"), value.get("place"))
            text.form = _("External course") + (
                ", " + ngettext("%(hours)d hour", "%(hours)d hours", hours) % {"hours": hours}
                if hours
                else ""
            )
            certificate = value.get("certificate")
            if certificate:
                text.presentation = _("Certificate No. %(number)s") % {"number": certificate}
        elif kind == "mentoring":
            text.what = _lines(
                _("Mentoring, mentor: %(mentor)s") % {"mentor": value.get("mentor") or "—"},
                value.get("meetings"),
            )
            text.form = str(MENTORING_LABELS.get(value.get("format"), value.get("format") or ""))
        elif kind == "task_row":
            text.what = value.get("actions") or ""
            text.dates = _period(value.get("starts_on"), value.get("deadline"))
            text.presentation = value.get("result_form") or ""
            text.deficit = value.get("deficit") or ""
            text.educational_task = value.get("educational_task") or ""
        if kind in DEFAULT_STEP_LEVELS:
            # Steps saved before these steps had a level print at their kind's level.
            text.level = value.get("level") or DEFAULT_STEP_LEVELS[kind]
        return text

    def mark(self, step) -> str:
        if not step.is_markable or not step.done:
            return ""
        if step.completion is not None:
            return _("Done, %(date)s") % {"date": _date(step.completion.done_at)}
        return _("Done")

    @cached_property
    def texts(self) -> list[StepText]:
        """Every step, stage by stage in the cycle's order; within a stage by level (personal
        to federal, steps without a level last), otherwise as the roadmap orders them."""
        stage_order = {code: index for index, code in enumerate(RouteStage.ORDER)}
        texts = [self.describe(step) for step in self.steps]
        return sorted(
            texts,
            key=lambda t: (
                stage_order.get(t.stage, len(stage_order)),
                LEVEL_ORDER.get(t.level, len(LEVEL_ORDER)),
            ),
        )


def _competency_lines(competencies) -> str:
    return "\n".join(f"{c.code} {c.name}" for c in competencies)


def _position(card) -> str:
    return ", ".join(part for part in (card.get("position"), card.get("subjects")) if part)


# Layouts --------------------------------------------------------------------------------------


def _header_facts(data) -> list[tuple[str, str]]:
    route, card = data.route, data.card
    facts = [
        (_("Period"), _period(route.starts_on, route.ends_on)),
        (_("Status"), str(route.get_status_display())),
        (_("School"), card.get("school") or ""),
        (_("Municipality"), card.get("municipality") or ""),
        (_("Curator (tutor)"), data.curator_name),
    ]
    sent = data.first_transition_to(RouteStatus.SENT_FOR_APPROVAL)
    if sent is not None:
        facts.append((_("Sent for approval on"), _date(sent.at)))
    approved = data.last_transition_to(RouteStatus.APPROVED)
    if approved is not None:
        facts.append((_("Approved by the school on"), _date(approved.at)))
    return [(label, value) for label, value in facts if value]


def _route_date(data) -> str:
    """The date of the route on the signature page: when it was sent for approval (finished
    being developed), else when it was created."""
    sent = data.first_transition_to(RouteStatus.SENT_FOR_APPROVAL)
    return _date(sent.at if sent is not None else data.route.created_at)


def _experience(value) -> str:
    if str(value).isdigit():
        years = int(value)
        return ngettext("%(years)d year", "%(years)d years", years) % {"years": years}
    return value or ""


def _info_card(data) -> Table:
    card, profile = data.card, data.profile
    mentoring = profile.get("mentoring") or {}
    role = _label(MentoringRole, mentoring.get("role")) or mentoring.get("role_label") or ""
    rows = [
        (_("Full name"), card.get("full_name", "")),
        (
            _("Education"),
            "; ".join(
                part
                for part in (card.get("education_level"), card.get("education_institution"))
                if part
            ),
        ),
        (_("Qualification"), card.get("qualification", "")),
        (_("Position and the subject taught"), _position(card)),
        (_("Teaching experience"), _experience(card.get("teaching_experience_years", ""))),
        (_("Qualification category"), card.get("qualification_category", "")),
        (_("Date of the last attestation"), card.get("attestation_date", "")),
        (_("Expert area"), card.get("expert_area", "")),
        (
            _("Mentor or mentee"),
            ": ".join(part for part in (role, mentoring.get("partner")) if part),
        ),
        (
            _("Professional communities (name, status)"),
            "\n".join(
                ", ".join(
                    part
                    for part in (
                        item.get("name"),
                        _label(CommunityStatus, item.get("status")) or item.get("status_label"),
                    )
                    if part
                )
                for item in profile.get("communities") or []
            ),
        ),
        (
            _("Regional projects"),
            "\n".join(
                (item.get("name") or "") + (f" ({item['role']})" if item.get("role") else "")
                for item in profile.get("regional_projects") or []
            ),
        ),
    ]
    return Table(
        key="info_card",
        caption=_("Info card"),
        columns=[_("Item"), _("Information")],
        rows=[Row([label, value or ""]) for label, value in rows],
        widths=[35, 65],
        header=False,
    )


FURTHER_EDUCATION_GROUPS = {
    FurtherEducationKind.REGIONAL: lambda: _("At the regional level"),
    FurtherEducationKind.FEDERAL: lambda: _("At the federal level"),
    FurtherEducationKind.FEDERAL_REGISTRY: lambda: _("Programmes included in the federal registry"),
}


def _further_education(profile) -> Table:
    table = Table(
        key="further_education",
        caption=_("Further education in the last three years"),
        columns=[
            pgettext("number", "No."),
            _("Place (organisation, city)"),
            _("Programme"),
            _("Hours"),
            _("Result (certificate No.)"),
        ],
        widths=[7, 28, 35, 11, 19],
    )
    groups = {group.get("kind"): group for group in profile.get("further_education") or []}
    kinds = list(FURTHER_EDUCATION_GROUPS) + [
        k for k in groups if k not in FURTHER_EDUCATION_GROUPS
    ]
    number = 0
    for kind in kinds:
        group = groups.get(kind) or {}
        label = FURTHER_EDUCATION_GROUPS.get(kind)
        table.rows.append(Row([label() if label else group.get("label") or str(kind)], group=True))
        for course in group.get("courses") or []:
            number += 1
            table.rows.append(
                Row(
                    [
                        str(number),
                        course.get("place") or "",
                        course.get("programme") or "",
                        _number(course.get("hours")),
                        _lines(course.get("certificate_number"), _date(course.get("completed_on"))),
                    ]
                )
            )
    return table


def _achievements(profile) -> Table:
    groups = {group.get("direction"): group for group in profile.get("achievements") or []}
    rows = []
    for direction in list(AchievementDirection.values) + [
        d for d in groups if d not in AchievementDirection.values
    ]:
        group = groups.get(direction) or {}
        rows.append(
            Row(
                [
                    _label(AchievementDirection, direction) or group.get("label") or "",
                    "\n".join(
                        f"{item.get('description') or ''} ({item['year']})"
                        if item.get("year")
                        else item.get("description") or ""
                        for item in group.get("items") or []
                    ),
                ]
            )
        )
    return Table(
        key="achievements",
        caption=_("Professional achievements"),
        columns=[_("Direction"), _("Description")],
        rows=rows,
        widths=[30, 70],
    )


def _score_lines(entries) -> str:
    return "\n".join(
        f"{entry.get('code', '')} {entry.get('name', '')} — {_number(entry.get('score'))}%".strip()
        for entry in entries or []
    )


def _procedure(result) -> str:
    kind = (
        _label(DiagnosticProcedure, result.get("procedure")) or result.get("procedure_label") or ""
    )
    name = result.get("procedure_name") or ""
    return kind if name.strip().lower() == kind.lower() else _lines(kind, name)


def _result_cell(total, level) -> str:
    return " / ".join(
        part for part in (f"{_number(total)}%" if _number(total) else "", level) if part
    )


def _snapshot_date(result) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(result.get("date") or "")[:10])
    except ValueError:
        return None


def _history_rows(data) -> list[Row]:
    """One row per diagnostics result of the teacher in the route's period, oldest first:
    date, procedure, total score / level, the deficits and the proficits that result found.

    The results are read from the database, so that results entered after the route was
    approved (an exit assessment) are printed too; the result the route's snapshot was built
    from is printed from the snapshot when it is no longer in the database."""
    history = data.diagnostic_history
    rows = []
    for entry in history:
        result = entry.result
        rows.append(
            (
                result.date,
                result.pk,
                Row(
                    [
                        _date(result.date),
                        _procedure(
                            {
                                "procedure": result.procedure,
                                "procedure_name": result.procedure_name,
                            }
                        ),
                        _result_cell(result.total_score, _label(DiagnosticLevel, result.level)),
                        _competency_scores(entry.deficits),
                        _competency_scores(entry.proficits),
                    ]
                ),
            )
        )
    latest = data.diagnostics.get("latest")
    known = {entry.result.pk for entry in history}
    day = _snapshot_date(latest) if latest else None
    if latest and latest.get("id") not in known and data.in_history_period(day):
        level = _label(DiagnosticLevel, latest.get("level")) or latest.get("level_label") or ""
        rows.append(
            (
                day,
                latest.get("id") or 0,
                Row(
                    [
                        _date(day),
                        _procedure(latest),
                        _result_cell(latest.get("total_score"), level),
                        _score_lines(data.diagnostics.get("deficits")),
                        _score_lines(data.diagnostics.get("proficits")),
                    ]
                ),
            )
        )
        rows.sort(key=lambda item: (item[0], item[1]))
    return [row for _day, _pk, row in rows]


def _competency_scores(pairs) -> str:
    return "\n".join(
        f"{competency.code} {competency.name} — {_number(score)}%".strip()
        for competency, score in pairs
    )


#: The columns of the diagnostics table (000, appendix, section 2).
def _diagnostics_columns() -> list[str]:
    return [
        _("Date"),
        # Translators: the regulation's words (000, appendix, section 2): «Формат и
        # наименование процедуры исследования профессиональных компетенций»
        _("Format and name of the procedure"),
        # Translators: the regulation's words (000, appendix, section 2): «Общий итоговый балл
        # / выявленный уровень»
        _("Total score / level"),
        _("Deficits: competencies at a low level"),
        _("Proficits: competencies at a high level"),
    ]


def _diagnostics_table(data) -> Table:
    """Section 2's results of the assessment: every diagnostics result of the teacher in the
    route's period, one row each; a row saying there are none when there are none."""
    rows = _history_rows(data) or [
        Row([_("No diagnostics results in the period of the route.")], message=True)
    ]
    return Table(
        key="diagnostics",
        caption=_("Results of the assessment of professional competencies"),
        columns=_diagnostics_columns(),
        rows=rows,
        widths=[11, 21, 16, 26, 26],
    )


@dataclass
class _ChartPoint:
    score: Decimal


@dataclass
class _ChartCompetency:
    code: str
    name: str


@dataclass
class _ChartRow:
    """A competency as :func:`~wagtail_iom.diagnostics.radar.radar_chart` reads it."""

    competency: _ChartCompetency
    latest: _ChartPoint | None
    previous: _ChartPoint | None = None


def _decimal_or_none(value):
    try:
        return Decimal(str(value)) if value not in (None, "", "None") else None
    except InvalidOperation:
        return None


def _scored(diagnostics) -> list[dict]:
    return [
        entry
        for entry in diagnostics.get("competencies") or []
        if _decimal_or_none(entry.get("score")) is not None
    ]


def _profile_rows(diagnostics) -> list[_ChartRow]:
    return [
        _ChartRow(
            competency=_ChartCompetency(entry.get("code") or "", entry.get("name") or ""),
            latest=_ChartPoint(_decimal_or_none(entry.get("score"))),
        )
        for entry in _scored(diagnostics)
    ]


def _status_label(entry) -> str:
    status = entry.get("status") or competency_service.classify(
        _decimal_or_none(entry.get("score"))
    )
    if status == competency_service.DEFICIT:
        return pgettext("competency", "Deficit")
    if status == competency_service.PROFICIT:
        return pgettext("competency", "Proficit")
    return ""


def _profile_table(diagnostics) -> Table:
    return Table(
        key="competency_profile",
        caption=_("Competency profile"),
        columns=[
            _("Group"),
            _("Competency"),
            _("Score, %"),
            _("Date of the score"),
            _("Deficit or proficit"),
        ],
        rows=[
            Row(
                [
                    entry.get("group") or "",
                    f"{entry.get('code', '')} {entry.get('name', '')}".strip(),
                    _number(entry.get("score")),
                    _date(entry.get("date")),
                    _status_label(entry),
                ]
            )
            for entry in _scored(diagnostics)
        ],
        widths=[24, 40, 10, 14, 12],
        empty_text=_("No competency has been scored yet."),
    )


def _map_table(data) -> Table:
    """The development map as the regulation's grid (000, appendix, section 3): every stage
    with its description, and under it the five levels, each pre-printed; a level with
    several steps has a row per step, a level with none an empty row to fill in by hand."""
    table = Table(
        key="development_map",
        caption=_("Development map by stage and level"),
        columns=[
            # Translators: the regulation's word: «Этап»
            pgettext("route form", "Stage"),
            # Translators: the regulation's word: «Уровень»
            pgettext("route form", "Level"),
            # Translators: the regulation's words: «Образовательные мероприятия и события»
            pgettext("route form", "Educational events and activities"),
            # Translators: the regulation's words: «Формы и форматы»
            pgettext("route form", "Forms and formats"),
            # Translators: the regulation's word: «Сроки»
            pgettext("route form", "Dates"),
            # Translators: the regulation's words: «Планируемые результаты и формы их
            # предъявления»
            pgettext("route form", "Planned results and the forms of presenting them"),
            # Translators: the regulation's words: «Профессиональные компетенции, на
            # формирование или развитие которых нацелено мероприятие»
            pgettext(
                "route form",
                "Professional competencies the event aims to form or develop",
            ),
            # Translators: the regulation's words: «Отметка о выполнении»
            pgettext("route form", "Completion mark"),
        ],
        widths=[15, 12, 18, 10, 9, 14, 14, 8],
    )
    by_place: dict[tuple[str, str], list[StepText]] = {}
    for text in data.texts:
        level = text.level if text.level in MAP_LEVELS else ""
        by_place.setdefault((text.stage, level), []).append(text)
    stages = list(RouteStage.ORDER) + sorted(
        {stage for stage, _level in by_place if stage not in RouteStage.ORDER}
    )
    for stage in stages:
        label = STAGE_LABELS.get(stage, stage)
        stage_cell = _lines(f"{label}:", STAGE_DESCRIPTIONS.get(stage, ""))
        stage_rows = []
        # The five levels, then steps whose level is not known (an event step whose event
        # was deleted before a level was set): they still print, in a row of their own.
        levels = [*MAP_LEVELS, ""]
        for level in levels:
            texts = by_place.get((stage, level), [])
            if not texts and not level:
                continue
            level_cell = str(MAP_LEVELS.get(level, ""))
            level_rows = []
            for text in texts or [None]:
                cells = (
                    [
                        text.what,
                        text.form,
                        text.dates,
                        _lines(text.result, text.presentation),
                        _competency_lines(text.competencies),
                        text.mark,
                    ]
                    if text is not None
                    else [""] * 6
                )
                level_rows.append(Row([stage_cell, level_cell, *cells]))
                stage_cell = level_cell = ""
            _merge_down(level_rows, 1)
            stage_rows += level_rows
        _merge_down(stage_rows, 0)
        table.rows += stage_rows
    return table


def _track_table(data) -> Table:
    """The steps by track, under the map (000 §2.5: the route joins formal, non-formal and
    informal education; 004 plans each of the three)."""
    table = Table(
        key="tracks",
        caption=_("Steps by track"),
        columns=[_("Track"), _("Steps"), _("Share, %")],
        widths=[6, 2, 2],
    )
    for share in data.track_shares:
        table.rows.append(Row([share.label, str(share.count), str(share.percent)]))
    return table


def _signatures(data, roles) -> list[Signature]:
    names = {
        "teacher": data.card.get("full_name", ""),
        "school_head": data.staff_name(StaffRole.SCHOOL_HEAD),
        "municipal": data.staff_name(StaffRole.MUNICIPAL_METHODIST),
        "tutor": data.curator_name,
    }
    labels = {
        # Translators: the regulation's words (000, appendix): «Педагогический работник»
        "teacher": pgettext("route form", "Teaching employee"),
        # Translators: the regulation's words (000, appendix): «Руководитель ОО»
        "school_head": pgettext("route form", "Head of the school"),
        # Translators: the regulation's words (000, appendix): «Ответственный в МО»
        "municipal": pgettext("route form", "Responsible in the municipality"),
        # Translators: the regulation's words (000, appendix): «Тьютор ЦНППМ»
        "tutor": pgettext("route form", "Tutor of the centre"),
    }
    return [Signature(labels[role], names[role]) for role in roles]


def _full(data) -> dict:
    route, card, diagnostics = data.route, data.card, data.diagnostics
    request = diagnostics.get("request") or {}
    overall = data.progress["overall"]
    competencies_blocks = [_diagnostics_table(data)]
    chart_rows = _profile_rows(diagnostics)
    if chart_rows:
        competencies_blocks.append(ChartBlock(radar_chart(chart_rows)))
    competencies_blocks += [
        _profile_table(diagnostics),
        Heading(_("Request for support (filled in by the teacher)")),
        Paragraph(_("1. Areas of professional interest"), request.get("interest_areas") or ""),
        Paragraph(_("2. Professional needs to meet during the route"), request.get("needs") or ""),
        Paragraph(_("3. The goal to achieve on the route"), request.get("goal") or ""),
    ]
    map_blocks = [
        # Translators: the regulation's words (000, appendix): «* заполняется совместно
        # куратором / тьютором и педагогом»
        Note(pgettext("route form", "* filled in jointly by the curator / tutor and the teacher")),
        Paragraph(_("Goal of the route"), route.goal),
        Paragraph(_("Tasks"), route.tasks),
        Paragraph(
            _("Progress"),
            _("%(done)d of %(total)d steps done (%(percent)d%%)")
            % {"done": overall.done, "total": overall.total, "percent": overall.percent},
        ),
        _map_table(data),
        _track_table(data),
    ]
    if route.reflection.strip():
        map_blocks.append(Paragraph(_("Reflection of the teacher"), route.reflection))
    if route.curator_reflection.strip():
        map_blocks.append(
            Paragraph(_("Reflection of the curator (tutor)"), route.curator_reflection)
        )
    return {
        "title": _("Individual educational route of a teacher"),
        "subtitle": card.get("full_name", ""),
        "facts": _header_facts(data),
        "sections": [
            Section(
                "general",
                _("Section 1. General information about the teacher"),
                [
                    _info_card(data),
                    _further_education(data.profile),
                    _achievements(data.profile),
                ],
            ),
            Section(
                "competencies",
                _("Section 2. Professional competencies and request for support"),
                competencies_blocks,
            ),
            Section(
                "development_map",
                _("Section 3. Map of the teacher's professional development") + "*",
                map_blocks,
                wide=True,
            ),
            Section(
                "recommendations",
                _("Section 4. Recommendations") + "*",
                [
                    # Translators: the regulation's words (000, appendix): «* заполняется
                    # куратором / тьютором / муниципальным методистом»
                    Note(
                        pgettext(
                            "route form",
                            "* filled in by the curator / tutor / municipal methodist",
                        )
                    ),
                    Paragraph(
                        _("1. Directions of further support of professional development"),
                        route.further_support,
                    ),
                    Paragraph(
                        _("2. Recommendations for self-education and non-formal education"),
                        route.self_and_non_formal_education,
                    ),
                    Paragraph(_("3. Sources to study and use in practice"), route.sources),
                ],
            ),
        ],
        "signatures": _signatures(data, ("teacher", "school_head", "municipal", "tutor")),
        "landscape": False,
    }


def _reflection_blocks(route) -> list:
    """The reflection of the teacher (an empty one is a line to fill in) and, when the route
    has one, the curator's."""
    blocks = [Paragraph(_("Reflection of the teacher"), route.reflection)]
    curator_reflection = getattr(route, "curator_reflection", "") or ""
    if curator_reflection.strip():
        blocks.append(Paragraph(_("Reflection of the curator"), curator_reflection))
    return blocks


def _profiles(data) -> dict:
    """The seven parts of the route of 002 («Структура ИОМ»): the personal profile, the
    professional profile, the profile of competencies, the professional request, the goals and
    tasks (with the development map that reaches them), the recommendations, the
    reflection."""
    route, card, diagnostics = data.route, data.card, data.diagnostics
    request = diagnostics.get("request") or {}
    competencies_blocks = [
        # Translators: the regulation's words (002, «Структура ИОМ», 3): «данные результатов
        # оценки предметных, методических компетенций на федеральном уровне (ФИОКО), на
        # региональном уровне (Школьный портал), PIZA и др.»
        Note(
            pgettext(
                "route form",
                "data of the results of assessing subject and methodical competencies at the "
                "federal level (FIOKO), at the regional level (School portal), PISA and others",
            )
        ),
        _diagnostics_table(data),
    ]
    chart_rows = _profile_rows(diagnostics)
    if chart_rows:
        competencies_blocks.append(ChartBlock(radar_chart(chart_rows)))
    competencies_blocks.append(_profile_table(diagnostics))
    overall = data.progress["overall"]
    return {
        "title": _("Individual educational route of a teacher"),
        "subtitle": card.get("full_name", ""),
        "facts": _header_facts(data),
        "sections": [
            Section(
                "personal_profile",
                # Translators: the regulation's words (002, «Структура ИОМ»): «1. Личный профиль»
                pgettext("route form", "1. Personal profile"),
                [_info_card(data)],
            ),
            Section(
                "professional_profile",
                # Translators: the regulation's words (002): «2. Профессиональный профиль»
                pgettext("route form", "2. Professional profile"),
                [
                    # Translators: the regulation's words (002, «Структура ИОМ», 2):
                    # «информация о профессиональных достижениях, а именно грамоты, дипломы,
                    # удостоверения, свидетельства о курсах повышения квалификации,
                    # переподготовки за последние три года»
                    Note(
                        pgettext(
                            "route form",
                            "information on professional achievements, namely letters of "
                            "merit, diplomas, certificates, certificates of further education "
                            "and retraining courses in the last three years",
                        )
                    ),
                    _achievements(data.profile),
                    _further_education(data.profile),
                ],
            ),
            Section(
                "competency_profile",
                # Translators: the regulation's words (002): «3. Профиль предметных,
                # метапредметных, методических компетенций педагога»
                pgettext(
                    "route form",
                    "3. Profile of the teacher's subject, meta-subject and methodical competencies",
                ),
                competencies_blocks,
            ),
            Section(
                "request",
                # Translators: the regulation's words (002): «4. Профессиональный запрос»
                pgettext("route form", "4. Professional request"),
                [
                    Paragraph(
                        # Translators: the regulation's words (002): «Укажите направления Ваших
                        # профессиональных интересов»
                        pgettext("route form", "State the areas of your professional interests"),
                        request.get("interest_areas") or "",
                    ),
                    Paragraph(
                        # Translators: the regulation's words (002): «Сформулируйте свои
                        # профессиональные запросы, которые хотели бы достичь в ходе реализации
                        # ИОМ?»
                        pgettext(
                            "route form",
                            "Formulate the professional requests you would like to achieve "
                            "while following the route?",
                        ),
                        request.get("needs") or "",
                    ),
                ],
            ),
            Section(
                "goals",
                # Translators: the regulation's words (002): «5. Цели и задачи»
                pgettext("route form", "5. Goals and tasks"),
                [
                    # Translators: the regulation's words (002): «Формулирование целей и задач
                    # на основе определяемых дефицитов и запросов педагога»
                    Note(
                        pgettext(
                            "route form",
                            "Formulating the goals and tasks from the deficits found and the "
                            "teacher's requests",
                        )
                    ),
                    Paragraph(_("Goal of the route"), route.goal),
                    Paragraph(_("Tasks"), route.tasks),
                    Paragraph(
                        _("Progress"),
                        _("%(done)d of %(total)d steps done (%(percent)d%%)")
                        % {
                            "done": overall.done,
                            "total": overall.total,
                            "percent": overall.percent,
                        },
                    ),
                    _map_table(data),
                    _track_table(data),
                ],
                wide=True,
            ),
            Section(
                "recommendations",
                # Translators: the regulation's words (002): «6. Рекомендации на основе
                # профессионального и компетентностного профилей, направленные на повышение
                # уровня овладения ключевыми профессиональными компетенциями, актуальными
                # образовательными технологиями и вовлечение в активный процесс поддержания
                # функционирования и развития региональной системы образования»
                pgettext(
                    "route form",
                    "6. Recommendations based on the professional and competency profiles, "
                    "aimed at raising the command of the key professional competencies and "
                    "current educational technologies and at involvement in the active process "
                    "of supporting the functioning and development of the regional education "
                    "system",
                ),
                [
                    Paragraph(
                        _("1. Directions of further support of professional development"),
                        route.further_support,
                    ),
                    Paragraph(
                        _("2. Recommendations for self-education and non-formal education"),
                        route.self_and_non_formal_education,
                    ),
                    Paragraph(_("3. Sources to study and use in practice"), route.sources),
                ],
            ),
            Section(
                "reflection",
                # Translators: the regulation's words (002): «7. Рефлексия»
                pgettext("route form", "7. Reflection"),
                _reflection_blocks(route),
            ),
        ],
        # 002's form has no signature lines; its procedure has the route made with the
        # centre's specialist (step 4) and approved by the school (step 7).
        "signatures": _signatures(data, ("teacher", "school_head", "tutor")),
        "landscape": False,
    }


def _card_table(data, key, rows) -> Table:
    return Table(
        key=key,
        caption=_("About the teacher"),
        columns=[_("Item"), _("Information")],
        rows=[Row([label, value or ""]) for label, value in rows],
        widths=[30, 70],
        header=False,
    )


def _by_stage(texts, value) -> str:
    """``value(text)`` of each step, stage by stage: "Stage: a; b" lines (003's «time,
    broken down by stage»)."""
    lines: dict[str, list[str]] = {}
    for text in texts:
        part = value(text)
        if part and part not in lines.setdefault(text.stage, []):
            lines[text.stage].append(part)
    return "\n".join(
        f"{STAGE_LABELS.get(stage, stage)}: {'; '.join(parts)}"
        for stage, parts in lines.items()
        if parts
    )


def _distinct_lines(parts) -> str:
    seen = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return "\n".join(seen)


def _compact_rows(data) -> list[list[str]]:
    """003's rows: one per deficit of section 2 (the steps that target it listed in it), one
    per task row (a deficit or task typed in), and one for the steps that address neither."""
    rows = []
    texts = [text for text in data.texts if text.kind != "task_row"]
    listed = set()
    for deficit in data.diagnostics.get("deficits") or []:
        competency_id = deficit.get("competency_id")
        steps = [t for t in texts if competency_id in {c.pk for c in t.competencies}]
        listed.update(t.id for t in steps)
        rows.append(
            [
                f"{deficit.get('code', '')} {deficit.get('name', '')}".strip(),
                _distinct_lines(t.educational_task or t.result for t in steps),
                _distinct_lines(f"– {t.what}" for t in steps),
                _by_stage(steps, lambda t: t.dates),
                _distinct_lines(t.presentation for t in steps),
            ]
        )
    for text in data.texts:
        if text.kind == "task_row":
            rows.append(
                [
                    text.deficit,
                    text.educational_task,
                    text.what,
                    _by_stage([text], lambda t: t.dates),
                    text.presentation,
                ]
            )
    others = [t for t in texts if t.id not in listed]
    if others:
        rows.append(
            [
                _lines(
                    _("Other tasks for the coming period"),
                    _competency_lines({c.pk: c for t in others for c in t.competencies}.values()),
                ),
                _distinct_lines(t.educational_task or t.result for t in others),
                _distinct_lines(f"– {t.what}" for t in others),
                _by_stage(others, lambda t: t.dates),
                _distinct_lines(t.presentation for t in others),
            ]
        )
    return rows


def _compact(data) -> dict:
    card = data.card
    facts = _card_table(
        data,
        "teacher",
        [
            (_("Full name"), card.get("full_name", "")),
            (_("School"), card.get("school", "")),
            (_("Municipality or district"), card.get("municipality", "")),
            (_("Position (subject)"), _position(card)),
            (
                _("Qualification category"),
                card.get("qualification_category", ""),
            ),
            (_("Topic of self-education"), data.route.self_education_topic),
        ],
    )
    table = Table(
        key="tasks",
        caption=_("Tasks of the route"),
        columns=[
            # Translators: the regulation's words (003): «Профессиональные дефициты / Задачи
            # на предстоящий период»
            pgettext("route form", "Professional deficits / tasks for the coming period"),
            # Translators: the regulation's words (003): «Образовательные задачи»
            pgettext("route form", "Educational tasks"),
            # Translators: the regulation's words (003): «Действия, мероприятия по реализации
            # образовательных задач»
            pgettext("route form", "Actions, events to carry out the educational tasks"),
            # Translators: the regulation's words (003): «Примерное время, разбитое по этапам
            # (дд.мм.гг)»
            pgettext("route form", "Approximate time, broken down by stage (dd.mm.yy)"),
            # Translators: the regulation's words (003): «Форма предъявления результата»
            pgettext("route form", "Form of presenting the result"),
        ],
        widths=[22, 20, 24, 17, 17],
        empty_text=_("The route has no steps yet."),
    )
    for number, cells in enumerate(_compact_rows(data), start=1):
        # The form numbers its rows in the first column: «1.», «2.»…
        table.rows.append(Row([f"{number}. {cells[0]}", *cells[1:]]))
    return {
        "title": _("Individual educational route"),
        "subtitle": _lines(
            card.get("full_name", ""), _period(data.route.starts_on, data.route.ends_on)
        ),
        "facts": [],
        # The shares by track come before the form's table, not after it: the table's last
        # row then goes to the page of the signatures (a block between them would let the
        # signatures stand alone on the last page).
        "sections": [Section("route", "", [facts, _track_table(data), table])],
        "signatures": _signatures(data, ("teacher", "school_head", "tutor")),
        "landscape": True,
    }


#: The four groups of the programme (004), in the form's order.
PROGRAMME_GROUPS = {
    # Translators: the regulation's word (004): «Предметные»
    "subject": pgettext_lazy("route form", "Subject"),
    # Translators: the regulation's word (004): «Методические»
    "methodical": pgettext_lazy("route form", "Methodical"),
    # Translators: the regulation's word (004): «Психологические»
    "psychological": pgettext_lazy("route form", "Psychological"),
    # Translators: the regulation's word (004): «Коммуникативные»
    "communicative": pgettext_lazy("route form", "Communicative"),
}


def _programme_group_keys(data, text):
    """The one place of a step in the programme: the layout group of the framework group of
    the first competency it targets (the setting ``ROUTE_PROGRAMME_GROUPS``); a framework
    group the setting leaves out keeps a block of its own; None: the step targets none."""
    if not text.competencies:
        return None
    group_id = text.competencies[0].group_id
    code = data.group_codes.get(group_id)
    mapped = (iom_settings.ROUTE_PROGRAMME_GROUPS or {}).get(code)
    return mapped if mapped in PROGRAMME_GROUPS else ("group", group_id)


def _competency_groups(data) -> dict:
    card = data.card
    facts = _card_table(
        data,
        "teacher",
        [
            (_("Full name"), card.get("full_name", "")),
            (_("School"), card.get("school", "")),
            (_("Position (subject)"), _position(card)),
            (_("Period"), _period(data.route.starts_on, data.route.ends_on)),
        ],
    )
    table = Table(
        key="programme",
        caption=_("Programme by competency groups"),
        columns=[
            # Translators: the regulation's sign (004): «№»
            pgettext("route form", "No."),
            # Translators: the regulation's word (004): «Компетенции»
            pgettext("route form", "Competencies"),
            # Translators: the regulation's words (004): «Ведущие задачи по развитию
            # профессиональной компетентности»
            pgettext("route form", "Leading tasks of developing the professional competence"),
            # Translators: the regulation's abbreviation (004): «ТФ*» (трудовые функции)
            pgettext("route form", "LF*"),
            # Translators: the regulation's words (004): «Необходимые знания и умения»
            pgettext("route form", "Knowledge and skills needed"),
            # Translators: the regulation's words (004): «Что предполагается для этого
            # сделать»
            pgettext("route form", "What is planned to be done for it"),
            # Translators: the regulation's words (004): «Ожидаемый результат»
            pgettext("route form", "Expected result"),
            # Translators: the regulation's words (004): «Срок реализации задач»
            pgettext("route form", "Deadline of the tasks"),
        ],
        widths=[4, 11, 16, 12, 16, 16, 14, 11],
    )
    placed: dict = {}
    for text in data.texts:
        placed.setdefault(_programme_group_keys(data, text), []).append(text)
    headings = [(key, str(label)) for key, label in PROGRAMME_GROUPS.items()]
    # Framework groups the setting does not map, then the steps that target no competency:
    # after the form's four groups, so that no step is left out.
    headings += [
        (("group", group.pk), group.name) for group in data.groups if ("group", group.pk) in placed
    ]
    if None in placed:
        headings.append((None, _("Steps without a targeted competency")))
    for number, (key, name) in enumerate(headings, start=1):
        first = [f"{number}", name]
        group_rows = []
        for text in placed.get(key) or [None]:
            if text is None:
                # The form pre-prints every group; an empty row is filled in by hand.
                group_rows.append(Row([*first, *[""] * 6]))
                continue
            group_rows.append(
                Row(
                    [
                        *first,
                        text.educational_task,
                        _distinct_lines(c.labour_functions for c in text.competencies),
                        _distinct_lines(c.knowledge_and_skills for c in text.competencies),
                        _lines(text.what, text.form if text.form != text.what else ""),
                        _lines(text.result, text.presentation),
                        text.dates,
                    ]
                )
            )
            first = ["", ""]
        _merge_down(group_rows, 0)
        _merge_down(group_rows, 1)
        table.rows += group_rows
    return {
        # Translators: the regulation's words (004): «Программа профессионального развития
        # педагога в межкурсовой период»
        "title": pgettext(
            "route form",
            "Programme of the teacher's professional development in the period between courses",
        ),
        "subtitle": _lines(
            card.get("full_name", ""), _period(data.route.starts_on, data.route.ends_on)
        ),
        "facts": [],
        "sections": [
            Section(
                "programme",
                "",
                [
                    facts,
                    # Before the programme, as in the compact table: nothing stands between
                    # the programme's note and the signatures.
                    _track_table(data),
                    table,
                    # Translators: the regulation's words (004): «*распределить трудовые
                    # функции согласно формируемым компетенциям»
                    Note(
                        pgettext(
                            "route form",
                            "*labour functions distributed according to the competencies "
                            "being formed",
                        )
                    ),
                ],
            )
        ],
        "signatures": _signatures(data, ("teacher", "school_head")),
        "landscape": True,
    }


LAYOUTS = {
    RouteLayout.FULL: _full,
    RouteLayout.COMPACT: _compact,
    RouteLayout.COMPETENCY_GROUPS: _competency_groups,
    RouteLayout.PROFILES: _profiles,
}


def default_layout() -> str:
    layout = iom_settings.ROUTE_DEFAULT_LAYOUT
    return layout if layout in RouteLayout.values else RouteLayout.FULL


def route_document(route, layout=None, *, public_events_only=False) -> RouteDocument:
    """The printed route in ``layout`` (a :class:`~wagtail_iom.models.RouteLayout` value; the
    setting ``ROUTE_DEFAULT_LAYOUT`` when None), in the active language.

    ``public_events_only``: printed for the teacher, whose route must not name an event the
    teacher may not see (private, draft or restricted): such a step says the event is not
    available.

    Fetch the route with ``select_related("teacher__school", "teacher__municipality",
    "curator")`` to save three queries. The number of queries does not grow with the steps.

    :raises ValueError: an unknown layout.
    """
    layout = layout or default_layout()
    if layout not in RouteLayout.values:
        raise ValueError(f"Not a route layout: {layout!r}")
    data = _Data(route, public_events_only=public_events_only)
    parts = LAYOUTS[RouteLayout(layout)](data)
    return RouteDocument(
        layout=layout,
        route_id=route.pk,
        language=translation.get_language() or "",
        # Translators: the regulation's words (000, appendix): «Дата разработки ИОМ»
        date_label=pgettext("route form", "Date of developing the route"),
        date=_route_date(data),
        **parts,
    )


# Rendering ------------------------------------------------------------------------------------
