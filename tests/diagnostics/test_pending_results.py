"""Results of teachers without a profile yet (invited by an import, or signed up without the
consent): kept by the import, written when the profile is created, deleted with the account or
once the invitation has expired unused."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from tests.factories import SchoolFactory, UserFactory
from wagtail_iom.accounts import emails as account_emails
from wagtail_iom.accounts import services as accounts
from wagtail_iom.accounts.models import Invitation
from wagtail_iom.diagnostics import importing
from wagtail_iom.diagnostics.models import (
    CompetencyScore,
    DiagnosticResult,
    PendingDiagnosticResult,
)
from wagtail_iom.people.models import PersonalDataConsent, TeacherProfile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

TODAY = timezone.localdate()
DAY = TODAY - datetime.timedelta(days=5)
HEADER = "email;last name;first name;school;procedure;procedure name;date;total score;level;SUBJ-1;METH-1"


def csv_bytes(*lines):
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def line(
    email="new@example.org",
    school="",
    procedure="regional",
    day=DAY,
    score="62,5",
    level="basic",
    subj="40",
    meth="85",
    name="Региональная диагностика 2026",
):
    return (
        f"{email};Сидорова;Анна;{school};{procedure};{name};{day:%d.%m.%Y};{score};{level};"
        f"{subj};{meth}"
    )


def run(content, user=None):
    job = importing.create_preview(content, "results.csv", user)
    job = importing.start_apply(job)
    for index in range(job.chunks.count()):
        importing.apply_chunk(job.pk, index)
    job.refresh_from_db()
    return job


def consent(user):
    return accounts.record_consent(user, "v1", "I agree.", "127.0.0.1")


def test_the_rows_of_an_invited_teacher_are_kept_not_written():
    school = SchoolFactory(name="Гимназия № 1")
    staff = UserFactory(username="staff")
    content = csv_bytes(line(school="Гимназия № 1"))
    importing.preview(content, "results.csv")
    assert not PendingDiagnosticResult.objects.exists()  # the preview writes nothing

    job = run(content, user=staff)
    user = get_user_model().objects.get(email="new@example.org")
    pending = PendingDiagnosticResult.objects.get()
    assert (pending.user, pending.procedure, pending.date, pending.level) == (
        user,
        "regional",
        DAY,
        "basic",
    )
    assert pending.total_score == Decimal("62.5")
    assert pending.procedure_name == "Региональная диагностика 2026"
    assert pending.scores == {"SUBJ-1": "40.0", "METH-1": "85.0"}
    assert pending.school == school
    assert pending.entered_by == staff
    assert not DiagnosticResult.objects.exists()
    assert importing.apply_report(job)["counts"]["not_registered"] == 1


def test_the_consent_writes_the_results_with_their_scores_and_drops_the_kept_rows():
    school = SchoolFactory(name="Гимназия № 1")
    run(
        csv_bytes(
            line(school="Гимназия № 1"),
            line(procedure="self", score="30", level="low", subj="20", meth=""),
        )
    )
    user = get_user_model().objects.get(email="new@example.org")
    assert PendingDiagnosticResult.objects.filter(user=user).count() == 2
    accounts.accept_invitation(user, "a-long-password-1")
    consent(user)

    profile = TeacherProfile.objects.get(user=user)
    assert profile.last_name == "Сидорова"
    assert (profile.school, profile.municipality) == (school, school.municipality)
    results = {
        result.procedure: result for result in DiagnosticResult.objects.filter(teacher=profile)
    }
    assert set(results) == {"regional", "self"}
    regional = results["regional"]
    assert (regional.date, regional.total_score, regional.level) == (DAY, Decimal("62.5"), "basic")
    assert {s.competency.code: s.score for s in regional.scores.all()} == {
        "SUBJ-1": Decimal("40"),
        "METH-1": Decimal("85"),
    }
    assert {s.competency.code: s.score for s in results["self"].scores.all()} == {
        "SUBJ-1": Decimal("20"),
    }
    assert not PendingDiagnosticResult.objects.exists()


def test_the_same_file_again_updates_the_kept_row():
    run(csv_bytes(line(score="50", meth="")))
    run(csv_bytes(line(score="70", level="elevated", subj="", meth="90")))
    pending = PendingDiagnosticResult.objects.get()
    assert (pending.total_score, pending.level) == (Decimal("70.0"), "elevated")
    # The scores a row gives replace those kept; the others stay, as for results.
    assert pending.scores == {"SUBJ-1": "40.0", "METH-1": "90.0"}
    # Only one account and one invitation for the teacher.
    assert Invitation.objects.count() == 1


def test_a_teacher_who_signed_up_without_consent_gets_the_results_on_consent():
    # The invited account holds the address, so a sign-up with it is refused ("sign in"): an
    # invited teacher goes through the invitation. A teacher who signed up before the import
    # and has not consented yet has an account without a profile: the rows wait the same way.
    user = accounts.register_teacher("self@example.org", "a-long-password-1", "Петрова", "Ольга")
    job = run(csv_bytes(line(email="self@example.org"), line()))
    invited = get_user_model().objects.get(email="new@example.org")
    assert job.report["invited"] == [invited.pk]  # the one who signed up is not invited
    assert PendingDiagnosticResult.objects.filter(user=user).count() == 1
    with pytest.raises(accounts.AccountError):
        accounts.register_teacher("new@example.org", "a-long-password-1", "Х", "У")

    consent(user)
    result = DiagnosticResult.objects.get(teacher__user=user)
    assert result.scores.count() == 2
    assert not PendingDiagnosticResult.objects.filter(user=user).exists()


def test_a_profile_created_otherwise_takes_the_rows_too():
    """Not only the consent page: any creation of the profile (a script, the admin)."""
    user = UserFactory(username="later", email="later@example.org", is_active=False)
    run(csv_bytes(line(email="later@example.org", score="80")))
    given = PersonalDataConsent.objects.create(
        user=user, consent_version="v1", consent_text="I agree.", text_sha256="0" * 64
    )
    profile = TeacherProfile.objects.create(user=user, consent=given, last_name="Л", first_name="М")
    assert DiagnosticResult.objects.get(teacher=profile).total_score == Decimal("80.0")
    assert not PendingDiagnosticResult.objects.exists()


def _kept(user, count):
    PendingDiagnosticResult.objects.bulk_create(
        [
            PendingDiagnosticResult(
                user=user,
                procedure="self",
                date=TODAY - datetime.timedelta(days=n + 1),
                total_score=Decimal("50"),
                level="basic",
                scores={"SUBJ-1": "40.0", "METH-1": "60.0"},
                school=SchoolFactory(),
            )
            for n in range(count)
        ]
    )


# The savepoint, the consent, the profile's check, the name given at sign-up, the profile, the
# kept rows (with their schools), the competencies, the results already there; write the
# results and their scores, the profile's school, delete the rows, the savepoint's release.
@pytest.mark.parametrize("count", [1, 6])
def test_the_queries_of_the_consent_do_not_grow_with_the_kept_rows(
    count, django_assert_num_queries
):
    user = UserFactory(username=f"u{count}", email=f"u{count}@example.org")
    _kept(user, count)
    with django_assert_num_queries(13):
        consent(user)
    assert CompetencyScore.objects.filter(result__teacher__user=user).count() == 2 * count


def test_kept_rows_go_with_the_account():
    run(csv_bytes(line()))
    get_user_model().objects.get(email="new@example.org").delete()
    assert not PendingDiagnosticResult.objects.exists()


def test_kept_rows_go_once_the_invitation_has_expired_unused(settings):
    run(csv_bytes(line(), line(email="other@example.org")))
    sent = timezone.now() - datetime.timedelta(days=15)
    Invitation.objects.update(sent_at=sent)
    accepted = Invitation.objects.get(user__email="other@example.org")
    accounts.accept_invitation(accepted.user, "a-long-password-1")  # accepted, no consent yet
    # Fourteen days (INVITATION_DAYS) from the e-mail, not yet.
    assert importing.delete_expired_pending_results(now=sent + datetime.timedelta(days=13)) == 0
    call_command("iom_clear_import_previews", stdout=open("/dev/null", "w"))
    assert list(PendingDiagnosticResult.objects.values_list("user__email", flat=True)) == [
        "other@example.org"
    ]


def test_an_invitation_never_sent_keeps_the_rows():
    run(csv_bytes(line()))
    assert (
        importing.delete_expired_pending_results(now=timezone.now() + datetime.timedelta(days=100))
        == 0
    )


def test_the_invitation_says_the_results_are_kept(mailoutbox):
    run(csv_bytes(line()))
    user = get_user_model().objects.get(email="new@example.org")
    assert account_emails.send_invitation(user.pk)
    body = mailoutbox[0].body
    assert "хранятся до этого момента" in body
    assert "загруз" not in body  # no "upload the file again"


def test_the_daily_clean_up_task_deletes_them_too():
    from wagtail_iom.tasks import clear_import_previews

    run(csv_bytes(line()))
    Invitation.objects.update(sent_at=timezone.now() - datetime.timedelta(days=15))
    clear_import_previews.delay().get()  # the Celery task, run eagerly
    assert not PendingDiagnosticResult.objects.exists()
