"""The depersonalisation of a teacher after a withdrawal of consent (152-FZ, art. 21 §5): no
trace of the name, the e-mail or the СНИЛС hash is left in the database or in the media
folder; counts for statistics stay; it runs once per person, for due withdrawals only."""

import datetime
import io
import json
import os

import pytest
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry
from wagtail.search.models import IndexEntry

from tests.factories import CompetencyFactory, UserFactory, make_event, make_teacher
from tests.people.test_access_log import staff_with_teacher_permissions
from tests.routes.test_teacher import self_step, stage
from wagtail_iom.core.access import StaffRole
from wagtail_iom.core.validators import snils_digest
from wagtail_iom.models import (
    Achievement,
    AnonymisationBasis,
    AnonymisationRecord,
    AttendanceMark,
    CompetencyScore,
    ConsentWithdrawal,
    DiagnosticImport,
    DiagnosticResult,
    FurtherEducation,
    PendingDiagnosticResult,
    PersonalDataAccess,
    PersonalDataConsent,
    PersonalDataExport,
    ProfessionalRequest,
    Registration,
    Route,
    RouteAudit,
    RouteComment,
    RouteTransition,
    SentNotification,
    StepCompletion,
    TeacherLogEntry,
    TeacherPersonalId,
    TeacherProfile,
    TeacherProposal,
)
from wagtail_iom.privacy import anonymisation, withdrawal
from wagtail_iom.privacy.anonymisation import ANONYMOUS_NAME

pytestmark = pytest.mark.django_db

LAST, FIRST, PATRONYMIC = "Богатова", "Венцеслава", "Остаповна"
EMAIL = "ventseslava.bogatova@example.org"
SNILS = "112-233-445 95"
NOW = timezone.now()


@pytest.fixture
def media(settings, tmp_path):
    """Files go to a real folder, so that it can be searched afterwards."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path / "media"


def traces(text):
    """The person's identifiers found in ``text``, as they are and as JSON escapes them, in any
    case (PostgreSQL's search index keeps words in lower case)."""
    found = []
    folded = text.casefold()
    for value in (LAST, FIRST, EMAIL, snils_digest(SNILS)):
        if value.casefold() in folded or json.dumps(value)[1:-1].casefold() in folded:
            found.append(value)
    return found


@pytest.fixture
def rich_teacher(resource_map, media, client):
    """A teacher with data in every place personal data lives."""
    teacher = make_teacher(
        username=EMAIL,
        last_name=LAST,
        first_name=FIRST,
        patronymic=PATRONYMIC,
        position="Учитель математики",
        mentoring_partner="Наставник Венцеславы",
        calendar_token="old-token",
    )
    user = teacher.user
    user.email = EMAIL
    user.first_name, user.last_name = FIRST, LAST
    user.save()
    PersonalDataConsent.objects.filter(user=user).update(user_agent="Firefox/140 Богатова")
    staff = staff_with_teacher_permissions("head", StaffRole.CENTRE_HEAD)

    # The profile and its lists.
    Achievement.objects.create(
        profile=teacher, year=2025, direction="methodical", description="Конкурс Богатовой"
    )
    FurtherEducation.objects.create(
        profile=teacher,
        kind="regional",
        place="ИРО",
        programme="Оценивание",
        hours=36,
        completed_on=datetime.date(2025, 5, 1),
    )
    ProfessionalRequest.objects.create(profile=teacher, interest_areas="Грамотность", goal="Цель")
    TeacherProposal.objects.create(teacher=teacher, comment=f"Предлагаю {LAST} {FIRST}")

    # Sign-ups and attendance.
    event = make_event(resource_map, title="Семинар о грамотности")
    registration = Registration.objects.create(event=event, user=user)
    AttendanceMark.objects.create(registration=registration, session=event.sessions.first())

    # Diagnostics.
    result = DiagnosticResult.objects.create(
        teacher=teacher,
        date=datetime.date(2026, 10, 1),
        procedure="self",
        level="basic",
        total_score=55,
        comment=f"{FIRST}, молодец",
    )
    CompetencyScore.objects.create(
        result=result, competency=CompetencyFactory(code="C-9"), score=40
    )
    TeacherPersonalId.objects.create(user=user, snils_digest=snils_digest(SNILS))
    PendingDiagnosticResult.objects.create(
        user=user,
        date=datetime.date(2026, 9, 1),
        procedure="self",
        total_score=70,
        level="basic",
        scores={"C-9": 70},
    )
    DiagnosticImport.objects.create(
        file_name="results.xlsx",
        table={
            "headers": ["e-mail", "ФИО", "СНИЛС"],
            "rows": [
                [2, [EMAIL, f"{LAST} {FIRST} {PATRONYMIC}", snils_digest(SNILS)]],
                [3, ["other@example.org", "Петров Иван", "digest"]],
            ],
        },
    )

    # A route with two saved versions, comments, transitions and an evidence file.
    route = Route.objects.create(
        teacher=teacher,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=200),
        goal=f"{LAST} {FIRST}: освоить формирующее оценивание",
        reflection="Я, Венцеслава, научилась",
        curator_reflection=f"{FIRST} {LAST} перенесла приёмы в свои уроки",
        curator_reflection_at=datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC),
        profile_snapshot={"full_name": f"{LAST} {FIRST} {PATRONYMIC}", "email": EMAIL},
        roadmap=[stage("growth", self_step(activity=f"Конспект {LAST}", step_id="step-1"))],
    )
    route.save_revision(user=user, log_action=True)
    route.goal = f"{LAST}: новая цель"
    route.save()
    route.save_revision(user=staff, log_action=True)
    RouteComment.objects.create(route=route, author=user, text=f"Исправьте, {FIRST}")
    RouteTransition.objects.create(
        route=route, from_status="development", to_status="approved", comment=f"{LAST} молодец"
    )
    RouteAudit.objects.create(
        route=route,
        auditor=staff,
        level_group="basic",
        diagnostic=result,
        results=[
            {"kind": "goal", "text": f"{LAST}: новая цель", "result": "achieved", "comment": ""},
            {"kind": "task", "text": "Задача", "result": "partly", "comment": f"{FIRST} старалась"},
        ],
        transfer_to_practice=f"{LAST} применяет на уроках",
        further_support=f"{FIRST}: конкурс",
        conclusion=f"{LAST} {FIRST} выполнила маршрут",
    )
    StepCompletion.objects.create(
        route=route,
        step_id="step-1",
        evidence_text=f"Конспект {LAST}",
        evidence_url="https://example.org/bogatova",
        evidence_file=SimpleUploadedFile(f"{LAST}.txt", f"Конспект {LAST}, {EMAIL}".encode()),
    )

    # E-mails, logs, the access log, the session and the "My data" file.
    SentNotification.objects.create(key=f"invitation:{EMAIL}", kind="invitation", user=user)
    log(route, "wagtail.edit", user=staff)
    ModelLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(user),
        object_id=str(user.pk),
        label=f"{LAST} {FIRST} ({EMAIL})",
        action="wagtail.edit",
        timestamp=NOW,
        data={"title": f"{LAST} {FIRST}"},
    )
    ModelLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(event),
        object_id=str(event.pk),
        label=f"Семинар; записалась {LAST} {FIRST}",
        action="wagtail.edit",
        timestamp=NOW,
    )
    AdminLogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(user),
        object_id=str(user.pk),
        object_repr=EMAIL,
        action_flag=CHANGE,
    )
    PersonalDataAccess.objects.create(staff_member=staff, teacher=teacher, action="view_profile")
    client.force_login(user)
    export = PersonalDataExport.objects.create(user=user, status="ready")
    export.file.save("export.zip", ContentFile(f"{LAST} {FIRST} {EMAIL}".encode()))
    return teacher


def dump():
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def media_traces(root):
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                content = handle.read().decode("utf-8", errors="ignore")
            found += [(path, value) for value in traces(name + "\n" + content)]
    return found


def test_no_trace_of_the_person_is_left_anywhere(
    rich_teacher, media, django_capture_on_commit_callbacks
):
    user = rich_teacher.user
    event_id = Registration.objects.get(user=user).event_id
    assert set(traces(dump())) == {LAST, FIRST, EMAIL, snils_digest(SNILS)}
    assert media_traces(media)
    assert Session.objects.count() == 1
    # Routes are not in the search index: their texts name the teacher nowhere there.
    assert not traces(
        json.dumps(list(IndexEntry.objects.values("title", "body")), ensure_ascii=False)
    )

    with django_capture_on_commit_callbacks(execute=True):
        record = anonymisation.anonymise(user, now=NOW)

    assert traces(dump()) == []
    assert media_traces(media) == []
    # What counts for statistics stays.
    assert Registration.objects.filter(event_id=event_id).count() == 1
    assert AttendanceMark.objects.filter(registration__event_id=event_id).count() == 1
    assert DiagnosticResult.objects.filter(teacher=rich_teacher).count() == 1
    assert CompetencyScore.objects.filter(result__teacher=rich_teacher).count() == 1
    assert PersonalDataAccess.objects.filter(teacher=rich_teacher).count() == 1
    assert Route.objects.get().revisions.count() == 2
    # The other import row stays.
    assert DiagnosticImport.objects.get().table["rows"] == [
        [3, ["other@example.org", "Петров Иван", "digest"]]
    ]
    # The account is deactivated and renamed; the consent keeps its text hash and version.
    account = get_user_model().objects.get(pk=user.pk)
    assert account.username == f"anonymised-{user.pk}"
    assert not account.is_active and not account.has_usable_password()
    assert (account.email, account.first_name, account.last_name) == ("", "", "")
    consent = PersonalDataConsent.objects.get(user=user)
    assert (consent.text_sha256, consent.consent_version) == ("0" * 64, "test")
    assert (consent.ip_address, consent.user_agent) == (None, "")
    profile = TeacherProfile.objects.get(pk=rich_teacher.pk)
    assert profile.last_name == ANONYMOUS_NAME
    assert profile.calendar_token not in ("", None, "old-token")
    assert Session.objects.count() == 0
    assert TeacherLogEntry.objects.filter(teacher_id=rich_teacher.pk).exists()
    assert set(TeacherLogEntry.objects.values_list("label", flat=True)) == {ANONYMOUS_NAME}
    assert not StepCompletion.objects.get().evidence_file
    # The audit keeps its results and level group for the statistics, not its texts.
    audit = RouteAudit.objects.get()
    assert [row["result"] for row in audit.results] == ["achieved", "partly"]
    assert audit.level_group == "basic" and audit.conclusion == ""
    assert record.changes["route_audits"] == 1
    assert PersonalDataExport.objects.count() == 0
    # The record: when, why, by whom, and counts only.
    assert record.carried_out_at == NOW
    assert record.basis == AnonymisationBasis.CONSENT_WITHDRAWN
    assert record.carried_out_by is None
    assert record.changes["route_revisions"] == 2
    assert record.changes["registrations_kept"] == 1
    assert record.changes["attendance_marks_kept"] == 1
    assert record.changes["competency_scores_kept"] == 1
    assert record.changes["evidence_files"] == 1
    assert record.changes["sessions"] == 1
    assert record.changes["personal_ids"] == 1
    assert all(isinstance(count, int) for count in record.changes.values())
    assert str(user.pk) in str(record.reference)


def test_a_second_run_changes_nothing(rich_teacher):
    first = anonymisation.anonymise(rich_teacher.user, now=NOW)
    before = dump()

    second = anonymisation.anonymise(rich_teacher.user, now=NOW + datetime.timedelta(days=1))

    assert second == first
    assert AnonymisationRecord.objects.count() == 1
    assert dump() == before


def test_other_teachers_are_not_touched(rich_teacher, other_teacher):
    anonymisation.anonymise(rich_teacher.user, now=NOW)

    other = TeacherProfile.objects.get(pk=other_teacher.pk)
    assert (other.last_name, other.first_name) == ("Петров", "Иван")
    assert other.user.is_active


# The scheduled run ----------------------------------------------------------------------------


def withdrawn(teacher, days_ago):
    row = withdrawal.withdraw(teacher.user, now=NOW - datetime.timedelta(days=days_ago)).withdrawal
    return row


def test_run_due_takes_only_the_due_withdrawals(teacher, other_teacher):
    due = withdrawn(teacher, days_ago=31)
    not_yet = withdrawn(other_teacher, days_ago=10)
    third = make_teacher(username="third")
    withdrawn(third, days_ago=40)
    withdrawal.cancel(third.user)

    result = anonymisation.run_due(now=NOW)

    assert [record.user_id for record in result.records] == [teacher.user_id]
    assert result.failed == []
    due.refresh_from_db()
    assert due.carried_out_at == NOW
    assert due.carried_out_by is None
    assert AnonymisationRecord.objects.get().withdrawal == due
    assert TeacherProfile.objects.get(pk=teacher.pk).last_name == ANONYMOUS_NAME
    assert TeacherProfile.objects.get(pk=other_teacher.pk).last_name == "Петров"
    assert TeacherProfile.objects.get(pk=third.pk).last_name == "Иванова"
    not_yet.refresh_from_db()
    assert not_yet.is_open
    assert list(withdrawal.due(NOW)) == []
    # Nothing is due any more: a second run does nothing.
    assert anonymisation.run_due(now=NOW).records == []


def test_a_failure_for_one_person_does_not_stop_the_others(teacher, other_teacher, monkeypatch):
    failing = withdrawn(teacher, days_ago=35)
    withdrawn(other_teacher, days_ago=31)
    original = anonymisation._anonymise_routes

    def broken(profile, changes, files):
        if profile.pk == teacher.pk:
            raise RuntimeError("storage down")
        return original(profile, changes, files)

    monkeypatch.setattr(anonymisation, "_anonymise_routes", broken)

    result = anonymisation.run_due(now=NOW)

    assert result.failed == [failing.pk]
    assert [record.user_id for record in result.records] == [other_teacher.user_id]
    # The failed one is rolled back and stays due.
    assert TeacherProfile.objects.get(pk=teacher.pk).last_name == "Иванова"
    assert list(withdrawal.due(NOW)) == [ConsentWithdrawal.objects.get(pk=failing.pk)]


def test_the_management_command(teacher, other_teacher):
    due = withdrawn(teacher, days_ago=31)
    withdrawn(other_teacher, days_ago=1)

    out = io.StringIO()
    call_command("iom_anonymise", "--dry-run", stdout=out)
    assert f"Withdrawal {due.pk}: account {teacher.user_id}" in out.getvalue()
    assert AnonymisationRecord.objects.count() == 0

    out = io.StringIO()
    call_command("iom_anonymise", stdout=out)
    assert AnonymisationRecord.objects.get().user_id == teacher.user_id
    assert TeacherProfile.objects.get(pk=other_teacher.pk).last_name == "Петров"


def test_the_task_runs_the_due_withdrawals(teacher):
    from wagtail_iom import tasks

    withdrawn(teacher, days_ago=31)
    assert tasks.anonymise_due_withdrawals.delay().get() == 1
    assert ConsentWithdrawal.objects.get().carried_out_at is not None


def test_run_now_starts_the_task(client, teacher, django_capture_on_commit_callbacks):
    head = staff_with_teacher_permissions("head", StaffRole.CENTRE_HEAD)
    row = withdrawal.withdraw(teacher.user).withdrawal
    client.force_login(head)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("wagtail_iom_withdrawals:run_now", args=[row.pk]))

    assert response.status_code == 302
    assert callbacks
    row.refresh_from_db()
    assert row.carried_out_at is not None
    assert row.carried_out_by == head
    record = AnonymisationRecord.objects.get()
    assert record.withdrawal == row
    assert record.carried_out_by == head
    # The head of the centre sees the record: a number, never the name.
    page = client.get(reverse("wagtail_iom_withdrawals:index"))
    assert f'data-anonymisation="{record.pk}"' in page.content.decode()
    assert "Иванова" not in page.content.decode()


def test_a_user_without_a_profile_is_depersonalised_too():
    user = UserFactory(username="pending@example.org", email="pending@example.org")

    record = anonymisation.anonymise(user, now=NOW)

    user.refresh_from_db()
    assert user.email == "" and not user.is_active
    assert record.changes["account"] == 1


def test_the_task_is_scheduled_daily(settings):
    from wagtail_iom import tasks

    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == tasks.anonymise_due_withdrawals.name
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] <= 24 * 60 * 60
