"""The depersonalisation of a teacher's data (152-FZ, art. 21 §5): after a withdrawal of the
consent, the person's data are replaced or removed in every place they live, so that what is
left (sign-ups, attendance, diagnostic scores, route statuses) counts for statistics but names
nobody. docs/personal-data.md ("Where personal data lives") lists the places and the treatment
of each field; :func:`anonymise` applies that table.

:func:`anonymise` does everything in one transaction and leaves an
:class:`~wagtail_iom.privacy.models.AnonymisationRecord`: the date, the legal basis, who ran it,
and the number of things changed in each place (never a value). A second run finds the record
and changes nothing. :func:`run_due` is what the daily Celery task and ``manage.py
iom_anonymise`` run: it depersonalises each due withdrawal (``withdrawal.due()``) and marks it
carried out; a failure for one person is logged, leaves that withdrawal due for the next run,
and does not stop the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from wagtail.log_actions import registry as log_action_registry

from wagtail_iom.accounts.models import Invitation, PendingConfirmation
from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.core.models import SentNotification, TeacherLogEntry
from wagtail_iom.curators.models import TeacherProposal
from wagtail_iom.diagnostics.models import (
    CompetencyScore,
    DiagnosticImport,
    DiagnosticImportChunk,
    DiagnosticResult,
    PendingDiagnosticResult,
    TeacherPersonalId,
)
from wagtail_iom.events.models import Registration
from wagtail_iom.people.models import (
    PendingTeacherName,
    PersonalDataConsent,
    ProfessionalRequest,
    TeacherProfile,
)
from wagtail_iom.privacy import withdrawal as withdrawals
from wagtail_iom.privacy.models import (
    AnonymisationBasis,
    AnonymisationRecord,
    ConsentWithdrawal,
    PersonalDataExport,
)
from wagtail_iom.routes.models import (
    Route,
    RouteAudit,
    RouteComment,
    RouteTransition,
    StepCompletion,
)

logger = logging.getLogger(__name__)

#: What stands in place of a name (the profile's last name, a log entry's title).
ANONYMOUS_NAME = "Обезличено"

#: Identifiers shorter than this are not searched for outside the person's own rows: a short
#: string would match other people's data.
MIN_IDENTIFIER_LENGTH = 5

#: The keys of a route's development map that are kept: the structure, the events, the
#: competencies, levels, tracks and dates. Every other text of a step (planned results, notes,
#: self-education topics, a mentor's name) is the teacher's own and is emptied.
KEPT_ROADMAP_KEYS = frozenset(
    {"type", "id", "stage", "event", "options", "level", "track", "format", "competencies",
     "deadline", "starts_on", "hours"}
)  # fmt: skip

ROUTE_TEXT_FIELDS = (
    "goal",
    "tasks",
    "self_education_topic",
    "further_support",
    "self_and_non_formal_education",
    "sources",
    "reflection",
    "curator_reflection",
)

#: The texts of a route's methodical audit that are emptied (see :func:`_anonymise_audit`).
AUDIT_TEXT_FIELDS = ("transfer_to_practice", "further_support", "conclusion")

PROFILE_EMPTIED_FIELDS = (
    "first_name",
    "patronymic",
    "position",
    "subjects",
    "education_institution",
    "qualification",
    "expert_area",
    "mentoring_partner",
)

PROFILE_LISTS = (
    ("further_education", "further_education"),
    ("achievements", "achievements"),
    ("communities", "communities"),
    ("regional_projects", "regional_projects"),
)


class Changes(dict):
    """Counts of what changed, by place; places where nothing changed are left out."""

    def add(self, place: str, count: int):
        if count:
            self[place] = self.get(place, 0) + count


# Depersonalising one person -----------------------------------------------------------------


def anonymise(
    user,
    *,
    by=None,
    basis=AnonymisationBasis.CONSENT_WITHDRAWN,
    withdrawal: ConsentWithdrawal | None = None,
    now=None,
) -> AnonymisationRecord:
    """Depersonalise ``user``'s data everywhere (docs/personal-data.md) and record it.

    ``by`` is the staff member who ran it (None: the scheduled task). Safe to repeat: when the
    person's record exists already, it is returned and nothing changes.
    """
    now = now or timezone.now()
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        existing = AnonymisationRecord.objects.filter(user=user).first()
        if existing is not None:
            return existing
        profile = TeacherProfile.objects.filter(user=user).first()
        identifiers = _identifiers(user, profile)
        changes = Changes()
        files = []  # deleted from storage once the transaction commits

        if profile is not None:
            _anonymise_profile(profile, changes)
            _anonymise_routes(profile, changes, files)
            _anonymise_diagnostics(profile, changes)
            changes.add(
                "proposals",
                TeacherProposal.objects.filter(teacher=profile)
                .exclude(comment="")
                .update(comment=""),
            )
        changes.add("pending_names", PendingTeacherName.objects.filter(user=user).delete()[0])
        changes.add(
            "consents",
            PersonalDataConsent.objects.filter(user=user)
            .filter(~Q(user_agent="") | Q(ip_address__isnull=False))
            .update(ip_address=None, user_agent=""),
        )
        _count_kept_signups(user, changes)
        _anonymise_personal_ids(user, changes)
        _anonymise_imports(identifiers, changes)
        _anonymise_exports(user, changes, files)
        _anonymise_notifications(identifiers, changes)
        _anonymise_log_entries(user, profile, identifiers, changes)
        changes.add("sessions", _delete_sessions(user))
        changes.add("sign_in_records", _delete_sign_in_records(identifiers))
        _anonymise_account(user, changes, files)

        record = AnonymisationRecord.objects.create(
            user=user,
            withdrawal=withdrawal,
            carried_out_at=now,
            carried_out_by=by,
            basis=basis,
            changes=dict(sorted(changes.items())),
        )
        transaction.on_commit(lambda: _delete_files(files))
    return record


def _identifiers(user, profile) -> list[str]:
    """The strings that name the person, searched for in the places shared with others (logs,
    e-mail keys, import reports): the e-mail, the full name, the СНИЛС hash. Longest first,
    so that a full name is replaced before the last name it contains."""
    values = {user.email, user.get_full_name()}
    if "@" in user.username:  # accounts made by sign-up are named by the e-mail
        values.add(user.username)
    for person in (profile, PendingTeacherName.objects.filter(user=user).first()):
        if person is not None:
            values.add(person.full_name)
            values.add(f"{person.last_name} {person.first_name}")
            values.add(f"{person.first_name} {person.last_name}")
    values.update(
        TeacherPersonalId.objects.filter(user=user).values_list("snils_digest", flat=True)
    )
    values = {value.strip() for value in values if value}
    return sorted(
        (value for value in values if len(value) >= MIN_IDENTIFIER_LENGTH), key=len, reverse=True
    )


def _anonymise_profile(profile, changes):
    profile.last_name = ANONYMOUS_NAME
    for name in PROFILE_EMPTIED_FIELDS:
        setattr(profile, name, "")
    profile.attestation_date = None
    profile.calendar_token = secrets.token_urlsafe(32)  # the old personal calendar feed stops
    profile.save()
    changes.add("profile", 1)
    for place, related_name in PROFILE_LISTS:
        changes.add(place, getattr(profile, related_name).all().delete()[0])
    changes.add(
        "professional_request", ProfessionalRequest.objects.filter(profile=profile).delete()[0]
    )


def _anonymise_routes(profile, changes, files):
    """Each route: its texts emptied, its snapshots cleared, its development map stripped of
    free texts; every saved version rewritten to the depersonalised route; the comments
    deleted, the transitions' and completion marks' texts emptied, and the evidence files
    removed. (Routes are not in the search index: the admin searches them by the teacher's
    name in the database.)"""
    for route in Route.objects.filter(teacher=profile).select_related("teacher"):
        for name in ROUTE_TEXT_FIELDS:
            setattr(route, name, "")
        route.curator_reflection_by = None
        route.curator_reflection_at = None
        route.profile_snapshot = {}
        route.diagnostics_snapshot = {}
        route.roadmap = _strip_free_text(list(route.roadmap.get_prep_value()))
        route.save()
        changes.add("routes", 1)

        content, title = route.serializable_data(), str(route)
        revisions = route.revisions
        changes.add("route_revisions", revisions.count())
        revisions.update(content=content, object_str=title)

        changes.add("route_audits", _anonymise_audit(route))
        changes.add("route_comments", RouteComment.objects.filter(route=route).delete()[0])
        changes.add(
            "route_transitions",
            RouteTransition.objects.filter(route=route).exclude(comment="").update(comment=""),
        )
        for completion in StepCompletion.objects.filter(route=route):
            if completion.evidence_file:
                files.append((completion.evidence_file.storage, completion.evidence_file.name))
                changes.add("evidence_files", 1)
            completion.evidence_text = ""
            completion.evidence_url = ""
            completion.evidence_file = ""
            completion.save(update_fields=["evidence_text", "evidence_url", "evidence_file"])
            changes.add("step_completions", 1)


def _anonymise_audit(route) -> int:
    """The route's methodical audit: its texts emptied (the goal and tasks it quotes, the
    comments, the transfer to practice, the support, the conclusion); the results per row, the
    level group and the dates stay for the statistics. 1 when there was an audit to empty."""
    audit = RouteAudit.objects.filter(route=route).first()
    if audit is None:
        return 0
    audit.results = [
        {**row, "text": "", "comment": ""} for row in audit.results if isinstance(row, dict)
    ]
    for name in AUDIT_TEXT_FIELDS:
        setattr(audit, name, "")
    audit.save(update_fields=["results", *AUDIT_TEXT_FIELDS])
    return 1


def _strip_free_text(value, key=None):
    """The raw development map with every text emptied but the kept keys
    (:data:`KEPT_ROADMAP_KEYS`)."""
    if isinstance(value, dict):
        return {
            k: v if k in KEPT_ROADMAP_KEYS else _strip_free_text(v, k) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_strip_free_text(item, key) for item in value]
    if isinstance(value, str):
        return ""
    return value


def _anonymise_diagnostics(profile, changes):
    """The results stay, as anonymous scores for statistics; the curators' comments go."""
    results = DiagnosticResult.objects.filter(teacher=profile)
    changes.add("diagnostic_comments", results.exclude(comment="").update(comment=""))
    changes.add("diagnostic_results_kept", results.count())
    changes.add(
        "competency_scores_kept", CompetencyScore.objects.filter(result__in=results).count()
    )


def _anonymise_personal_ids(user, changes):
    changes.add("personal_ids", TeacherPersonalId.objects.filter(user=user).delete()[0])
    changes.add(
        "pending_diagnostic_results",
        PendingDiagnosticResult.objects.filter(user=user).delete()[0],
    )


def _count_kept_signups(user, changes):
    """Sign-ups and attendance marks stay (the counts of events do not change): they now
    belong to the anonymous account."""
    changes.add("registrations_kept", Registration.objects.filter(user=user).count())
    changes.add(
        "attendance_marks_kept", AttendanceMark.objects.filter(registration__user=user).count()
    )


def _anonymise_imports(identifiers, changes):
    """The person's rows in the diagnostics imports' tables, reports and rejected rows."""
    jobs = _mentioning(DiagnosticImport.objects.all(), identifiers, json_fields=("table", "report"))
    for job in jobs:
        job.table = _drop_rows(job.table, identifiers)
        job.report = _drop_rows(job.report, identifiers)
        job.save(update_fields=["table", "report"])
        changes.add("import_reports", 1)
    chunks = _mentioning(
        DiagnosticImportChunk.objects.all(), identifiers, json_fields=("rejected", "rows")
    )
    for chunk in chunks:
        # A chunk not written yet loses the person's rows: they are not imported.
        chunk.rejected = _drop_rows(chunk.rejected, identifiers)
        chunk.rows = _drop_rows(chunk.rows, identifiers)
        chunk.save(update_fields=["rejected", "rows"])
        changes.add("import_reports", 1)


def _anonymise_exports(user, changes, files):
    """The person's "My data" files and their requests."""
    for export in PersonalDataExport.objects.filter(user=user):
        if export.file:
            files.append((export.file.storage, export.file.name))
        export.delete()
        changes.add("data_exports", 1)


def _anonymise_notifications(identifiers, changes):
    """Keys of sent e-mails that hold an address become a hash: the e-mail is still not sent
    twice, and the address is gone."""
    for notification in _mentioning(SentNotification.objects.all(), identifiers, ("key",)):
        digest = hashlib.sha256(notification.key.encode()).hexdigest()
        notification.key = f"anonymised:{digest}"
        notification.save(update_fields=["key"])
        changes.add("notification_keys", 1)


def _anonymise_log_entries(user, profile, identifiers, changes):
    """Wagtail's log entries (``ModelLogEntry``, ``PageLogEntry``, our ``TeacherLogEntry`` and
    the Django admin's log): the entries about the person lose their title and data; any other
    entry that names the person has the name replaced."""
    new_name = anonymous_username(user)
    about = Q(content_type=ContentType.objects.get_for_model(user), object_id=str(user.pk))
    own = TeacherLogEntry.objects.none()
    if profile is not None:
        own = TeacherLogEntry.objects.filter(teacher_id=profile.pk)
        about |= Q(
            content_type=ContentType.objects.get_for_model(TeacherProfile),
            object_id=str(profile.pk),
        )
    changes.add("log_entries", own.update(label=ANONYMOUS_NAME, data={}))
    for model in log_action_registry.get_log_entry_models():
        if any(f.name == "object_id" for f in model._meta.get_fields()):  # not PageLogEntry
            about_person = model.objects.filter(about)
            if model is TeacherLogEntry and profile is not None:  # rewritten just above
                about_person = about_person.exclude(teacher_id=profile.pk)
            changes.add("log_entries", about_person.update(label=new_name, data={}))
        for entry in _mentioning(model.objects.all(), identifiers, ("label",), ("data",)):
            entry.label = _replace(entry.label, identifiers)
            entry.data = _drop_rows(entry.data, identifiers)
            entry.save(update_fields=["label", "data"])
            changes.add("log_entries", 1)
    if apps.is_installed("django.contrib.admin"):
        from django.contrib.admin.models import LogEntry

        changes.add("log_entries", LogEntry.objects.filter(about).update(object_repr=new_name))
        for entry in _mentioning(LogEntry.objects.all(), identifiers, ("object_repr",)):
            entry.object_repr = _replace(entry.object_repr, identifiers)
            entry.save(update_fields=["object_repr"])
            changes.add("log_entries", 1)


def _delete_sessions(user) -> int:
    """Sign the person out everywhere: delete their sessions (database-backed sessions; other
    session engines keep no list to search and expire by themselves)."""
    if not apps.is_installed("django.contrib.sessions"):
        return 0
    engine = settings.SESSION_ENGINE
    if engine not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return 0
    from django.contrib.sessions.models import Session

    store = import_module(engine).SessionStore
    deleted = 0
    for session in Session.objects.iterator():  # expired ones too: they hold the id as well
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            store(session_key=session.session_key).delete()
            deleted += 1
    return deleted


def _delete_sign_in_records(identifiers) -> int:
    """django-axes' records of sign-ins and failed attempts under the person's address."""
    if not apps.is_installed("axes") or not identifiers:
        return 0
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    named = Q()
    for identifier in identifiers:
        named |= Q(username__iexact=identifier)
    return sum(
        m.objects.filter(named).delete()[0] for m in (AccessAttempt, AccessFailureLog, AccessLog)
    )


def _anonymise_account(user, changes, files):
    """The account stays, so that sign-ups and results keep pointing at someone, but it is
    deactivated, renamed and cannot be signed in to or re-opened by an old link."""
    user.username = anonymous_username(user)
    user.first_name = ""
    user.last_name = ""
    user.email = ""
    user.set_unusable_password()
    user.is_active = False
    user.save()
    changes.add("account", 1)
    changes.add(
        "account_links",
        PendingConfirmation.objects.filter(user=user).delete()[0]
        + Invitation.objects.filter(user=user).delete()[0],
    )
    wagtail_profile = getattr(user, "wagtail_userprofile", None)
    if wagtail_profile is not None and wagtail_profile.avatar:
        files.append((wagtail_profile.avatar.storage, wagtail_profile.avatar.name))
        wagtail_profile.avatar = ""
        wagtail_profile.save(update_fields=["avatar"])
        changes.add("avatar", 1)


def anonymous_username(user) -> str:
    return f"anonymised-{user.pk}"


def _delete_files(files):
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:  # a file already gone, a storage that is down: log, go on
            logger.exception("Could not delete a depersonalised file from storage.")


# Finding and replacing the person in shared places ------------------------------------------


def _mentioning(queryset, identifiers, text_fields=(), json_fields=()):
    """The rows of ``queryset`` whose text or JSON fields hold one of ``identifiers``.

    JSON is searched as text, as it is stored: SQLite keeps non-ASCII letters as ``\\uXXXX``
    escapes, PostgreSQL as they are, so both spellings are looked for."""
    if not identifiers:
        return queryset.none()
    annotations = {f"_iom_{name}_text": Cast(name, TextField()) for name in json_fields}
    condition = Q()
    for identifier in identifiers:
        escaped = json.dumps(identifier)[1:-1]
        for name in text_fields:
            condition |= Q(**{f"{name}__icontains": identifier})
        for name in json_fields:
            condition |= Q(**{f"_iom_{name}_text__icontains": identifier})
            if escaped != identifier:
                condition |= Q(**{f"_iom_{name}_text__icontains": escaped})
    return queryset.annotate(**annotations).filter(condition)


def _pattern(identifiers):
    return re.compile("|".join(re.escape(i) for i in identifiers), re.IGNORECASE)


def _replace(text, identifiers):
    return _pattern(identifiers).sub(ANONYMOUS_NAME, text) if identifiers else text


def _names(value, identifiers) -> bool:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return bool(identifiers) and _pattern(identifiers).search(text) is not None


def _drop_rows(value, identifiers):
    """``value`` (JSON) without the list items that name the person (rows of a table, a
    report's lines), and with the person's name replaced in the texts left."""
    if isinstance(value, dict):
        return {key: _drop_rows(item, identifiers) for key, item in value.items()}
    if isinstance(value, list):
        return [
            _drop_rows(item, identifiers)
            for item in value
            if isinstance(item, str) or not _names(item, identifiers)
        ]
    if isinstance(value, str):
        return _replace(value, identifiers)
    return value


# The scheduled run ----------------------------------------------------------------------------


@dataclass
class RunResult:
    #: The depersonalisations carried out.
    records: list[AnonymisationRecord] = field(default_factory=list)
    #: The ids of the withdrawals whose depersonalisation failed (they stay due).
    failed: list[int] = field(default_factory=list)


def run_due(now=None, by=None) -> RunResult:
    """Depersonalise the data of every due withdrawal and mark it carried out.

    Each withdrawal in its own transaction, its row locked (``skip_locked``: two workers never
    run one withdrawal; the second skips it). A failure is logged and the withdrawal stays due.
    """
    now = now or timezone.now()
    result = RunResult()
    for pk in list(withdrawals.due(now).values_list("pk", flat=True)):
        try:
            record = run_one(pk, now=now, by=by)
        except Exception:
            logger.exception("The depersonalisation of withdrawal %s failed; it stays due.", pk)
            result.failed.append(pk)
            continue
        if record is not None:
            result.records.append(record)
    return result


def run_one_by_ids(withdrawal_id, by_id=None) -> AnonymisationRecord | None:
    """:func:`run_one` for a task, which takes primary keys."""
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    return run_one(withdrawal_id, by=by)


def run_one(withdrawal_id, now=None, by=None) -> AnonymisationRecord | None:
    """Depersonalise the data of one due withdrawal and mark it carried out; None when it is
    no longer due (cancelled, carried out, or being run by another worker)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            ConsentWithdrawal.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                pk=withdrawal_id,
                cancelled_at__isnull=True,
                carried_out_at__isnull=True,
                anonymise_after__lte=now,
            )
            .select_related("user")
            .first()
        )
        if row is None:
            return None
        record = anonymise(
            row.user, by=by, basis=AnonymisationBasis.CONSENT_WITHDRAWN, withdrawal=row, now=now
        )
        withdrawals.mark_carried_out(row, by=by, now=now)
    return record
