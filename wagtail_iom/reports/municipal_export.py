"""The monthly export to municipalities (seed 002): each municipality's methodists receive,
on the 1st of the month, a signed link to an XLSX of the municipality's routes.

One row per route: the teacher, the school, the status, the period, the curator, the
progress (the markable steps done, as in the cabinet) and the deficits of the route's
section 2 with the steps that target them. The workbook is written with openpyxl's
write-only mode into a temporary file, the routes read in chunks of :data:`CHUNK_SIZE` with a
fixed number of queries per chunk, so memory stays bounded for a municipality of any size.

:func:`build` makes (or remakes) the :class:`MunicipalRouteExport` of a municipality and
month: one row each, a second build replaces the file. Its link (:func:`download_token`)
expires after ``MUNICIPAL_EXPORT_DAYS`` days and opens only for a signed-in methodist of the
municipality or the centre head (:func:`wagtail_iom.core.access.can_download_municipal_export`);
the file is deleted when the link expires (:func:`delete_expired_exports`, daily).
"""

import datetime
import json
import logging
import secrets
import tempfile
from dataclasses import dataclass
from itertools import islice

from django.core import signing
from django.core.files import File
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access, mail
from wagtail_iom.core.exports import file_is_downloadable
from wagtail_iom.directory.models import Municipality
from wagtail_iom.events.models import EventPage
from wagtail_iom.reports.exports import safe_cells
from wagtail_iom.reports.models import MunicipalRouteExport, MunicipalRouteExportStatus
from wagtail_iom.routes.models import Route, RouteStatus, StepCompletion
from wagtail_iom.routes.services import RouteStep, progress, raw_event_id, raw_steps_of

logger = logging.getLogger(__name__)

Status = MunicipalRouteExportStatus
LINK_SALT = "wagtail_iom.reports.municipal-route-export"
#: Routes read per query; each chunk costs the same few queries (see :func:`write_rows`).
CHUNK_SIZE = 500


def month_of(day: datetime.date) -> datetime.date:
    """The first day of ``day``'s month: how an export's month is stored."""
    return day.replace(day=1)


def current_month() -> datetime.date:
    return month_of(timezone.localdate())


def municipality_ids() -> list[int]:
    """Every municipality, by id: the monthly run exports each."""
    return list(Municipality.objects.order_by("pk").values_list("pk", flat=True))


def parse_month(value) -> datetime.date:
    """A month given as a date or an ISO date text (a Celery task's argument)."""
    if isinstance(value, datetime.date):
        return month_of(value)
    return month_of(datetime.date.fromisoformat(str(value)))


# The rows --------------------------------------------------------------------------------------


def headings() -> list[str]:
    return [
        _("Teacher"),
        _("School"),
        _("Status"),
        _("Period"),
        _("Curator"),
        _("Progress, %"),
        _("Deficits and their steps"),
    ]


class Texts:
    """The export's fixed texts, translated once (not once per route)."""

    def __init__(self):
        self.statuses = {value: str(label) for value, label in RouteStatus.choices}
        self.unavailable = _("(the event is no longer in the resource map)")
        self.one_of = _("One of: %(events)s")
        self.mentoring = _("Mentoring, mentor: %(mentor)s")


@dataclass
class _Lookups:
    """What a chunk of routes needs besides the routes: four queries, whatever its size."""

    titles: dict  # event id -> title
    event_competencies: dict  # event id -> [competency id]
    attended: set  # (user id, event id)
    completions: set  # (route id, step id)
    texts: Texts


def _lookups(routes, raw, texts) -> _Lookups:
    event_ids = set()
    for steps in raw.values():
        for _stage, step in steps:
            value = step.get("value") or {}
            if step.get("type") == "event":
                event_ids.add(raw_event_id(value))
            elif step.get("type") == "choose_one":
                event_ids.update(raw_event_id({"event": pk}) for pk in value.get("options") or [])
    event_ids.discard(None)
    titles, event_competencies, attended = {}, {}, set()
    if event_ids:
        titles = dict(EventPage.objects.filter(pk__in=event_ids).values_list("pk", "title"))
        rows = EventPage.competencies.through.objects.filter(
            eventpage_id__in=event_ids
        ).values_list("eventpage_id", "competency_id")
        for event_id, competency_id in rows:
            event_competencies.setdefault(event_id, []).append(competency_id)
        user_ids = {route.teacher.user_id for route in routes}
        attended = set(
            AttendanceMark.objects.filter(
                registration__user_id__in=user_ids, registration__event_id__in=event_ids
            ).values_list("registration__user_id", "registration__event_id")
        )
    completions = set(
        StepCompletion.objects.filter(route_id__in=[route.pk for route in routes]).values_list(
            "route_id", "step_id"
        )
    )
    return _Lookups(titles, event_competencies, attended, completions, texts)


def _event_title(lookups, event_id) -> str:
    return lookups.titles.get(event_id, lookups.texts.unavailable)


def _step_title(kind, value, lookups) -> str:
    """What a step is called in the export: its event, or what the curator typed."""
    if kind == "event":
        return _event_title(lookups, raw_event_id(value))
    if kind == "choose_one":
        options = [raw_event_id({"event": pk}) for pk in value.get("options") or []]
        return lookups.texts.one_of % {
            "events": ", ".join(_event_title(lookups, pk) for pk in options if pk is not None)
        }
    if kind == "mentoring":
        return lookups.texts.mentoring % {"mentor": value.get("mentor") or "—"}
    for name in ("activity", "programme", "actions", "task", "planned_result"):
        if value.get(name):
            return " ".join(str(value[name]).split())
    return "—"


def _competency_ids(kind, value, lookups) -> set[int]:
    """The competencies a step targets: its own, else (an event step) its event's."""
    ids = {int(pk) for pk in value.get("competencies") or [] if str(pk).isdigit()}
    if not ids and kind == "event":
        ids = set(lookups.event_competencies.get(raw_event_id(value), []))
    return ids


def _period(route) -> str:
    return f"{route.starts_on:%d.%m.%Y}–{route.ends_on:%d.%m.%Y}"


def route_row(route, steps, lookups) -> list:
    """The cells of one route (``steps``: its raw steps, from ``raw_steps_of``)."""
    user_id = route.teacher.user_id
    marked = []
    for stage, step in steps:
        kind, value = step.get("type"), step.get("value") or {}
        if kind == "event":
            done = (user_id, raw_event_id(value)) in lookups.attended
        else:
            done = (route.pk, step.get("id")) in lookups.completions
        marked.append(RouteStep(id=step.get("id") or "", type=kind, stage=stage, value=value,
                                done=done))  # fmt: skip
    percent = progress(marked)["overall"].percent

    lines = []
    targeted = [
        (_competency_ids(step.get("type"), step.get("value") or {}, lookups), step)
        for _stage, step in steps
        if step.get("type") != "task_row"
    ]
    for deficit in (route.diagnostics_snapshot or {}).get("deficits") or []:
        name = f"{deficit.get('code', '')} {deficit.get('name', '')}".strip()
        titles = [
            _step_title(step.get("type"), step.get("value") or {}, lookups)
            for ids, step in targeted
            if deficit.get("competency_id") in ids
        ]
        lines.append(f"{name}: {'; '.join(titles)}" if titles else name)
    # Rows of the compact table name their deficit themselves (003).
    for _stage, step in steps:
        value = step.get("value") or {}
        if step.get("type") == "task_row" and value.get("deficit"):
            lines.append(f"{value['deficit']}: {_step_title('task_row', value, lookups)}")

    teacher = route.teacher
    return [
        teacher.full_name,
        str(teacher.school) if teacher.school_id else "",
        lookups.texts.statuses.get(route.status, route.status),
        _period(route),
        (route.curator.get_full_name() or route.curator.get_username()) if route.curator else "",
        percent,
        "\n".join(lines),
    ]


#: What the export does not read of a route (the roadmap comes as text, see routes_of).
UNREAD_FIELDS = ("roadmap", "profile_snapshot", "draft_state", "goal", "tasks", "reflection",
                 "curator_reflection", "further_support", "self_and_non_formal_education",
                 "sources")  # fmt: skip


def routes_of(municipality):
    """The municipality's routes: those of the teachers of the municipality, by name.

    The roadmap is read as its stored JSON text (``roadmap_json``), not as a StreamField
    value: the export needs the raw steps only, and a StreamValue per route costs time and
    holds reference cycles that only the cycle collector frees."""
    return (
        Route.objects.filter(teacher__municipality=municipality)
        .select_related("teacher", "teacher__school", "curator")
        .defer(*UNREAD_FIELDS)
        .annotate(roadmap_json=Cast("roadmap", TextField()))
        .order_by("teacher__last_name", "teacher__first_name", "starts_on", "pk")
    )


def _roadmap(route) -> list:
    try:
        data = json.loads(route.roadmap_json or "[]")
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def write_rows(sheet, routes, chunk_size=CHUNK_SIZE) -> int:
    """Append one row per route to the write-only ``sheet``: one query per chunk of routes
    and at most four more for the chunk's events, attendance and completion marks. Returns
    the number of routes."""
    count = 0
    texts = Texts()
    for chunk in _chunks(routes.iterator(chunk_size=chunk_size), chunk_size):
        raw = {route.pk: list(raw_steps_of(_roadmap(route))) for route in chunk}
        lookups = _lookups(chunk, raw, texts)
        for route in chunk:
            sheet.append(safe_cells(sheet, route_row(route, raw[route.pk], lookups)))
        count += len(chunk)
    return count


def write_workbook(municipality, output, chunk_size=CHUNK_SIZE) -> int:
    """The XLSX of ``municipality``'s routes into the binary file ``output``; returns the
    number of routes."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Routes")[:31])
    sheet.append(safe_cells(sheet, headings()))
    count = write_rows(sheet, routes_of(municipality), chunk_size)
    workbook.save(output)
    return count


# Building --------------------------------------------------------------------------------------


def request_export(municipality, month, requested_by=None) -> MunicipalRouteExport:
    """Staff's "export now": the export of ``municipality`` for ``month``, its build enqueued
    when the transaction commits. A ready export stays ready (its link keeps working) until
    the new file replaces its file; a new or failed one is marked as being prepared. A second
    click while it is built starts another build of the same row, which replaces the file."""
    month = month_of(month)
    export, _created = MunicipalRouteExport.objects.get_or_create(
        municipality=municipality, month=month, defaults={"requested_by": requested_by}
    )
    MunicipalRouteExport.objects.filter(pk=export.pk).exclude(status=Status.READY).update(
        status=Status.PENDING
    )
    export.refresh_from_db()
    mail.enqueue_on_commit(
        "build_municipal_route_export",
        municipality.pk,
        month.isoformat(),
        requested_by.pk if requested_by else None,
    )
    return export


def build(municipality_id, month, requested_by_id=None) -> MunicipalRouteExport | None:
    """Write the export of a municipality for a month (the Celery task's work): the row of
    that municipality and month is created or reused, its file replaced. Safe to repeat.
    None when the municipality no longer exists."""
    month = parse_month(month)
    municipality = Municipality.objects.filter(pk=municipality_id).first()
    if municipality is None:
        return None
    export, _created = MunicipalRouteExport.objects.get_or_create(
        municipality=municipality, month=month, defaults={"requested_by_id": requested_by_id}
    )
    with tempfile.TemporaryFile() as handle:
        try:
            count = write_workbook(municipality, handle)
        except Exception:
            logger.exception("The route export %s could not be built", export.pk)
            # A ready file of the month stays downloadable; only a first build fails visibly.
            MunicipalRouteExport.objects.filter(pk=export.pk).exclude(status=Status.READY).update(
                status=Status.FAILED, finished_at=timezone.now()
            )
            raise
        handle.seek(0)
        name = export.file.storage.save(
            export.file.field.generate_filename(export, f"{secrets.token_urlsafe(24)}.xlsx"),
            File(handle),
        )
    now = timezone.now()
    with transaction.atomic():
        export = MunicipalRouteExport.objects.select_for_update().get(pk=export.pk)
        previous = export.file.name
        export.file.name = name
        export.status = Status.READY
        export.finished_at = now
        export.expires_at = now + datetime.timedelta(days=iom_settings.MUNICIPAL_EXPORT_DAYS)
        export.routes = count
        if requested_by_id is not None:
            export.requested_by_id = requested_by_id
        export.save()
    if previous and previous != name:
        export.file.storage.delete(previous)
    return export


def recent_exports(user, limit=24):
    """The exports of the municipalities ``user`` may export, newest first."""
    return (
        MunicipalRouteExport.objects.filter(
            municipality__in=access.municipalities_exportable_by(user)
        )
        .select_related("municipality")
        .order_by("-month", "municipality__name", "pk")[:limit]
    )


#: Ready, with its file, its link not expired.
is_downloadable = file_is_downloadable


def delete_expired_exports(now=None) -> int:
    """Delete the files of exports whose link has expired, and their rows (a failed build's
    row too, after the same period). Returns how many rows were deleted."""
    now = now or timezone.now()
    days = datetime.timedelta(days=iom_settings.MUNICIPAL_EXPORT_DAYS)
    expired = MunicipalRouteExport.objects.filter(status=Status.READY, expires_at__lte=now)
    failed = MunicipalRouteExport.objects.exclude(status=Status.READY).filter(
        created_at__lte=now - days
    )
    deleted = 0
    for export in [*expired, *failed]:
        if export.file:
            export.file.storage.delete(export.file.name)
        export.delete()
        deleted += 1
    return deleted


# The signed link -------------------------------------------------------------------------------


class LinkRefused(Exception):
    """A link that opens nothing: ``status`` 404 (not a link of ours) or 410 (expired)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def download_token(export) -> str:
    return signing.dumps(
        {"export": export.pk, "municipality": export.municipality_id}, salt=LINK_SALT
    )


def export_for_token(token) -> MunicipalRouteExport:
    """The export a link names; :class:`LinkRefused` (404) for a link that is not ours or names
    nothing, (410) for one that has expired. Who may open it is asked separately."""
    max_age = datetime.timedelta(days=iom_settings.MUNICIPAL_EXPORT_DAYS)
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkRefused(410) from None
    except signing.BadSignature:
        raise LinkRefused(404) from None
    if not isinstance(payload, dict):
        raise LinkRefused(404)
    export_id, municipality_id = payload.get("export"), payload.get("municipality")
    if not (isinstance(export_id, int) and isinstance(municipality_id, int)):
        raise LinkRefused(404)
    export = (
        MunicipalRouteExport.objects.filter(pk=export_id, municipality_id=municipality_id)
        .select_related("municipality")
        .first()
    )
    if export is None:
        raise LinkRefused(410)  # deleted when its link expired
    return export


def filename(export) -> str:
    return f"routes-{export.municipality_id}-{export.month:%Y-%m}.xlsx"
