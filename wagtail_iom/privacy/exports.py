"""My data: everything the site holds about a teacher, as a ZIP file (152-FZ, art. 14).

A teacher asks from the cabinet (:func:`request_export`); a Celery task builds the file
(:func:`build_export`): ``data.json`` with the account, the profile and its lists, the
consents, the sign-ups and attendance, the diagnostics, the routes with their history
(transitions, comments, completion marks, every saved version), the Wagtail log entries about
them; ``summary.pdf``, the same in a readable form; and the evidence files uploaded to the
routes, under ``evidence/``. The cabinet then offers a signed link that expires after
``PERSONAL_DATA_EXPORT_DAYS`` days (:func:`download_token`, :func:`export_for_token`); the
file is deleted when the link expires (:func:`delete_expired_exports`, daily).

A second request while one is being prepared returns that one: a partial unique constraint
makes it so across processes.
"""

import datetime
import io
import json
import logging
import os
import secrets
import zipfile

from django.core import signing
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import FileField
from django.template.loader import render_to_string
from django.utils import timezone
from wagtail.models import Revision

from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access, mail
from wagtail_iom.core.exports import file_is_downloadable
from wagtail_iom.core.models import TeacherLogEntry
from wagtail_iom.diagnostics.models import DiagnosticResult
from wagtail_iom.events.models import Registration
from wagtail_iom.people.models import PersonalDataConsent
from wagtail_iom.privacy.models import PersonalDataExport, PersonalDataExportStatus
from wagtail_iom.routes.models import Route

logger = logging.getLogger(__name__)

Status = PersonalDataExportStatus
LINK_SALT = "wagtail_iom.privacy.personal-data-export"


# Asking and building -------------------------------------------------------------------------


def request_export(user) -> tuple[PersonalDataExport, bool]:
    """Start preparing ``user``'s data, or return the request already being prepared.

    Returns the export and whether it is new. The build is enqueued when the transaction
    commits."""
    pending = PersonalDataExport.objects.filter(user=user, status=Status.PENDING).first()
    if pending is not None:
        return pending, False
    try:
        with transaction.atomic():
            export = PersonalDataExport.objects.create(user=user)
    except IntegrityError:
        # Another process created it between the read and the insert.
        return PersonalDataExport.objects.get(user=user, status=Status.PENDING), False
    mail.enqueue_on_commit("build_personal_data_export", export.pk)
    return export, True


def build_export(export_id) -> bool:
    """Build the ZIP of a pending export (the Celery task's work). Safe to repeat: an export
    that is no longer pending is left as it is. True when a file was written."""
    export = (
        PersonalDataExport.objects.filter(pk=export_id, status=Status.PENDING)
        .select_related("user")
        .first()
    )
    if export is None:
        return False
    try:
        content = build_zip(export.user)
    except Exception:
        logger.exception("The personal data export %s could not be built", export_id)
        PersonalDataExport.objects.filter(pk=export.pk, status=Status.PENDING).update(
            status=Status.FAILED, finished_at=timezone.now()
        )
        raise
    now = timezone.now()
    name = f"{secrets.token_urlsafe(24)}.zip"
    export.file.save(name, ContentFile(content), save=False)
    updated = PersonalDataExport.objects.filter(pk=export.pk, status=Status.PENDING).update(
        status=Status.READY,
        finished_at=now,
        expires_at=now + datetime.timedelta(days=iom_settings.PERSONAL_DATA_EXPORT_DAYS),
        file=export.file.name,
    )
    if not updated:  # a parallel run finished first: keep its file, drop this one
        export.file.storage.delete(export.file.name)
        return False
    return True


def latest_export(user) -> PersonalDataExport | None:
    return PersonalDataExport.objects.filter(user=user).first()


#: Ready, with its file, its link not expired.
is_downloadable = file_is_downloadable


def delete_expired_exports(now=None) -> int:
    """Delete the files of exports whose link has expired (and the failed requests' rows
    older than the same period). Returns how many rows were deleted."""
    now = now or timezone.now()
    expired = PersonalDataExport.objects.filter(status=Status.READY, expires_at__lte=now)
    failed = PersonalDataExport.objects.filter(
        status=Status.FAILED,
        requested_at__lte=now - datetime.timedelta(days=iom_settings.PERSONAL_DATA_EXPORT_DAYS),
    )
    deleted = 0
    for export in [*expired, *failed]:
        if export.file:
            export.file.storage.delete(export.file.name)
        export.delete()
        deleted += 1
    return deleted


# The signed link -----------------------------------------------------------------------------


def download_token(export) -> str:
    return signing.dumps({"export": export.pk, "user": export.user_id}, salt=LINK_SALT)


def export_for_token(token, user) -> PersonalDataExport | None:
    """The export a link names, when it is ``user``'s, ready, and not expired; else None."""
    max_age = datetime.timedelta(days=iom_settings.PERSONAL_DATA_EXPORT_DAYS)
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(payload, dict) or payload.get("user") != user.pk:
        return None
    export_id = payload.get("export")
    if not isinstance(export_id, int):
        return None
    export = PersonalDataExport.objects.filter(pk=export_id, user=user).first()
    return export if is_downloadable(export) else None


# What the file holds -------------------------------------------------------------------------


def _fields(instance, exclude=()):
    """The instance's own columns, by attribute name (``school_id``), for the JSON file; a
    file is named by its name in the archive's ``evidence/`` folder."""
    values = {}
    for field in instance._meta.concrete_fields:
        if field.attname in exclude:
            continue
        value = getattr(instance, field.attname)
        if isinstance(field, FileField):
            value = os.path.basename(value.name) if value else ""
        values[field.attname] = value
    return values


def collect(user) -> dict:
    """Everything held about ``user``, as plain data."""
    profile = access.teacher_profile(user)
    data = {
        "generated_at": timezone.now(),
        "account": {
            "username": user.get_username(),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_active": user.is_active,
        },
        "consents": [
            _fields(consent, exclude=("user_id",))
            for consent in PersonalDataConsent.objects.filter(user=user).order_by("pk")
        ],
        "profile": None,
        "registrations": [],
        "attendance": [],
        "diagnostics": [],
        "routes": [],
        "log": [],
    }
    registrations = Registration.objects.filter(user=user).select_related("event")
    data["registrations"] = [
        {
            **_fields(r, exclude=("user_id",)),
            "event_title": r.event.title,
            "status_label": r.get_status_display(),
        }
        for r in registrations.order_by("pk")
    ]
    data["attendance"] = [
        {
            **_fields(mark, exclude=("marked_by_id",)),
            "event_title": mark.session.page.title,
            "session_date": mark.session.date,
        }
        for mark in AttendanceMark.objects.filter(registration__user=user)
        .select_related("session__page")
        .order_by("pk")
    ]
    if profile is None:
        return data

    data["profile"] = {
        **_fields(profile, exclude=("user_id",)),
        "municipality": str(profile.municipality or ""),
        "school": str(profile.school or ""),
        "further_education": [_fields(row) for row in profile.further_education.all()],
        "achievements": [_fields(row) for row in profile.achievements.all()],
        "communities": [_fields(row) for row in profile.communities.all()],
        "regional_projects": [_fields(row) for row in profile.regional_projects.all()],
        "professional_request": (
            _fields(profile.professional_request)
            if hasattr(profile, "professional_request")
            else None
        ),
    }
    data["diagnostics"] = [
        {
            **_fields(result, exclude=("entered_by_id",)),
            "scores": [
                {
                    "competency": score.competency.code,
                    "name": score.competency.name,
                    **_fields(score),
                }
                for score in result.scores.select_related("competency").order_by("pk")
            ],
        }
        for result in DiagnosticResult.objects.filter(teacher=profile).order_by("date", "pk")
    ]
    routes = list(Route.objects.filter(teacher=profile).order_by("pk"))
    for route in routes:
        data["routes"].append(
            {
                **_fields(route, exclude=("latest_revision_id",)),
                "status_label": route.get_status_display(),
                "roadmap": route.roadmap.get_prep_value(),
                "transitions": [_fields(row) for row in route.transitions.order_by("pk")],
                "comments": [_fields(row) for row in route.comments.order_by("pk")],
                "completions": [_fields(row) for row in route.completions.order_by("pk")],
                "versions": [
                    {"created_at": revision.created_at, "content": revision.content}
                    for revision in Revision.objects.for_instance(route).order_by("created_at")
                ],
            }
        )
    data["log"] = [
        {
            "timestamp": entry.timestamp,
            "action": entry.action,
            "object": entry.label,
            "data": entry.data,
        }
        for entry in TeacherLogEntry.objects.filter(teacher=profile).order_by("timestamp", "pk")
    ]
    return data


def evidence_files(user):
    """(name in the ZIP, file field) of the evidence files uploaded to the user's routes."""
    profile = access.teacher_profile(user)
    if profile is None:
        return []
    files = []
    for route in Route.objects.filter(teacher=profile).prefetch_related("completions"):
        for completion in route.completions.all():
            if completion.evidence_file:
                name = os.path.basename(completion.evidence_file.name)
                files.append((f"evidence/route-{route.pk}/{completion.pk}-{name}", completion))
    return files


def summary_html(user, data) -> str:
    return render_to_string("wagtail_iom/privacy/summary.html", {"data": data, "person": user})


def summary_pdf(html) -> bytes | None:
    """The summary as PDF, or None when WeasyPrint cannot run here (then the HTML goes in)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError):
        return None
    try:
        return HTML(string=html).write_pdf()
    except OSError:
        logger.warning("WeasyPrint could not render the personal data summary", exc_info=True)
        return None


def build_zip(user) -> bytes:
    data = collect(user)
    html = summary_html(user, data)
    pdf = summary_pdf(html)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json",
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
        if pdf is not None:
            archive.writestr("summary.pdf", pdf)
        else:
            archive.writestr("summary.html", html)
        for name, completion in evidence_files(user):
            try:
                with completion.evidence_file.open("rb") as handle:
                    archive.writestr(name, handle.read())
            except (FileNotFoundError, OSError):
                logger.warning("Evidence file %s is missing", completion.evidence_file.name)
    return buffer.getvalue()
