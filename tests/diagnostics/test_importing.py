"""The import of diagnostics results: reading, every kind of bad row, teachers by e-mail or
SNILS, invitations, the chunked apply (idempotent, a failing chunk rolled back alone, a fixed
number of queries per chunk)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook

from tests.factories import SchoolFactory, UserFactory, make_teacher
from wagtail_iom.accounts.models import Invitation
from wagtail_iom.core.validators import snils_control_number, snils_digest
from wagtail_iom.diagnostics import importing
from wagtail_iom.diagnostics.models import (
    CompetencyScore,
    DiagnosticImport,
    DiagnosticImportChunk,
    DiagnosticImportStatus,
    DiagnosticResult,
    TeacherPersonalId,
)
from wagtail_iom.models import Competency, PendingTeacherName

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

TODAY = timezone.localdate()
DAY = (TODAY - datetime.timedelta(days=5)).strftime("%d.%m.%Y")
# Valid SNILS numbers (the control number is the weighted sum 9..1 of the first nine digits).
SNILS_A = "112-233-445 95"
SNILS_B = "123-456-789 64"
HEADER_EN = "email;snils;procedure;date;total score;level;SUBJ-1;METH-1"
HEADER_RU = "Электронная почта;СНИЛС;Процедура;Дата;Общий балл;Уровень;SUBJ-1;METH-1"


def csv_bytes(*lines, header=HEADER_EN, encoding="utf-8"):
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def teacher_with_email(email, **kwargs):
    profile = make_teacher(username=email.split("@")[0], **kwargs)
    profile.user.email = email
    profile.user.save()
    return profile


def run(content, name="results.csv", user=None, chunk_size=500):
    """Upload, preview and apply, with the chunk tasks run as Celery runs them on commit."""
    configured = getattr(settings, "WAGTAIL_IOM", {})
    with override_settings(WAGTAIL_IOM={**configured, "DIAGNOSTICS_IMPORT_CHUNK_SIZE": chunk_size}):
        job = importing.create_preview(content, name, user)
    job = importing.start_apply(job)
    for index in range(job.chunks.count()):
        importing.apply_chunk(job.pk, index)
    job.refresh_from_db()
    return job


def rejected(job):
    return {row["line"]: row["reason"] for row in importing.apply_report(job)["rejected"]}


@pytest.fixture
def maria():
    return teacher_with_email("maria@example.org")


def test_good_rows_create_results_with_scores(maria):
    job = run(csv_bytes(f"maria@example.org;;regional;{DAY};62,5;basic;40;85"))
    assert job.status == DiagnosticImportStatus.APPLIED
    result = DiagnosticResult.objects.get(teacher=maria)
    assert (result.procedure, result.total_score, result.level) == (
        "regional",
        Decimal("62.5"),
        "basic",
    )
    assert {s.competency.code: s.score for s in result.scores.all()} == {
        "SUBJ-1": Decimal("40"),
        "METH-1": Decimal("85"),
    }
    assert importing.apply_report(job)["counts"]["create"] == 1
    # The rows read from the file are dropped once applied; the report stays.
    assert job.table == {}
    assert "maria@example.org" not in str(DiagnosticImport.objects.values().get(pk=job.pk))


def test_russian_headers_and_labels_in_cp1251(maria):
    content = csv_bytes(
        f"maria@example.org;;Региональная диагностика;{DAY};70;Повышенный;;",
        header=HEADER_RU,
        encoding="cp1251",
    )
    report = importing.preview(content, "results.csv")
    assert report["encoding"] == "cp1251"
    assert report["counts"]["create"] == 1
    run(content)
    assert DiagnosticResult.objects.get(teacher=maria).level == "elevated"


def test_tab_and_comma_separated_utf8(maria):
    tabbed = "\t".join(["email", "procedure", "date", "total score", "level"])
    content = f"{tabbed}\nmaria@example.org\tself\t{DAY}\t50\tbasic\n".encode()
    assert importing.preview(content, "r.txt")["counts"]["create"] == 1
    content = f"email,procedure,date,total score,level\nmaria@example.org,self,{DAY},50,basic\n"
    assert importing.preview(content.encode("utf-8-sig"), "r.csv")["counts"]["create"] == 1


def test_xlsx(maria):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Электронная почта", "Процедура", "Дата", "Общий балл", "Уровень", "SUBJ-1"])
    sheet.append(
        ["maria@example.org", "federal", TODAY - datetime.timedelta(days=2), 91, "high", 88]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    run(buffer.getvalue(), "results.xlsx")
    result = DiagnosticResult.objects.get(teacher=maria)
    assert result.procedure == "federal"
    assert result.scores.get().score == Decimal("88")


def test_the_same_file_twice_creates_nothing_new(maria):
    content = csv_bytes(
        f"maria@example.org;;regional;{DAY};62,5;basic;40;85",
        f"new@example.org;;regional;{DAY};50;basic;;",
    )
    first = run(content)
    assert importing.apply_report(first)["counts"]["create"] == 1
    counts = (
        DiagnosticResult.objects.count(),
        CompetencyScore.objects.count(),
        get_user_model().objects.count(),
        Invitation.objects.count(),
    )
    second = run(content)
    assert (
        DiagnosticResult.objects.count(),
        CompetencyScore.objects.count(),
        get_user_model().objects.count(),
        Invitation.objects.count(),
    ) == counts
    report = importing.apply_report(second)["counts"]
    assert report["create"] == 0
    assert report["unchanged"] == 1
    assert second.report["invited"] == []


def test_a_changed_score_updates_the_result(maria):
    run(csv_bytes(f"maria@example.org;;regional;{DAY};62,5;basic;40;"))
    job = run(csv_bytes(f"maria@example.org;;regional;{DAY};70;elevated;45;60"))
    assert importing.apply_report(job)["counts"]["update"] == 1
    result = DiagnosticResult.objects.get(teacher=maria)
    assert result.total_score == Decimal("70")
    assert sorted(s.score for s in result.scores.all()) == [Decimal("45"), Decimal("60")]


@pytest.mark.parametrize(
    "line, reason",
    [
        (f"maria@example.org;;regional;{DAY};62;basic;40;XX-9", "METH-1 “XX-9” is not a number"),
        (f"maria@example.org;;regional;{DAY};62;basic;140;", "out of range"),
        (f"maria@example.org;;regional;{DAY};101;basic;;", "out of range"),
        (f"maria@example.org;;regional;{DAY};-1;basic;;", "out of range"),
        (f"maria@example.org;;regional;{DAY};abc;basic;;", "not a number"),
        ("maria@example.org;;regional;01.01.2999;62;basic;;", "in the future"),
        ("maria@example.org;;regional;31.02.2026;62;basic;;", "not a date"),
        (f"maria@example.org;;regional;{DAY};62;excellent;;", "Unknown level"),
        (f"maria@example.org;;olympiad;{DAY};62;basic;;", "Unknown procedure"),
        (f"maria@example.org;;regional;{DAY};;basic;;", "total score is missing"),
        (f";;regional;{DAY};62;basic;;", "teacher is missing"),
        (f"not-an-address;;regional;{DAY};62;basic;;", "not an e-mail address"),
        (f";123-456-789 00;regional;{DAY};62;basic;;", "SNILS is not valid"),
        (f";{SNILS_B};regional;{DAY};62;basic;;", "No registered teacher has this SNILS"),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_reason(maria, line, reason):
    good = f"maria@example.org;;self;{DAY};50;basic;;"
    job = run(csv_bytes(good, line))
    assert reason in rejected(job)[3]
    assert importing.apply_report(job)["counts"]["create"] == 1  # the good row is applied
    assert DiagnosticResult.objects.count() == 1


def test_scores_in_one_cell_with_an_unknown_code():
    teacher_with_email("maria@example.org")
    content = (
        "email;procedure;date;total score;level;scores\n"
        f'maria@example.org;self;{DAY};50;basic;"SUBJ-1: 40; METH-1=55"\n'
        f'maria@example.org;regional;{DAY};50;basic;"SUBJ-1: 40; NOPE-7: 3"\n'
    ).encode()
    job = run(content)
    assert "NOPE-7" in rejected(job)[3]
    assert CompetencyScore.objects.count() == 2


def test_duplicate_rows(maria):
    row = f"maria@example.org;;regional;{DAY};62;basic;;"
    job = run(csv_bytes(row, row.replace(";62;", ";63;")))
    assert "repeats line 2" in rejected(job)[3]
    # The same teacher named once by e-mail and once by SNILS is a duplicate too.
    TeacherPersonalId.objects.create(user=maria.user, snils_digest=snils_digest(SNILS_A))
    job = run(
        csv_bytes(
            f"maria@example.org;;school;{DAY};62;basic;;",
            f";{SNILS_A};school;{DAY};62;basic;;",
        )
    )
    assert "repeats line 2" in rejected(job)[3]


def test_wrong_encodings_are_reported_per_line(maria):
    good = f"maria@example.org;;self;{DAY};50;basic;;\n".encode()
    cp1251 = "Электронная почта;СНИЛС;Процедура;Дата;Общий балл;Уровень\n".encode("cp1251")
    garbled = "maria@example.org;;РњР°СЂРёСЏ;01.11.2026;50;basic\n".encode()
    undecodable = b"maria@example.org;;\x98\x98;01.11.2026;50;basic\n"
    content = cp1251 + good + garbled + undecodable
    job = run(content)
    reasons = rejected(job)
    assert "wrong encoding" in reasons[3]
    assert "neither UTF-8 nor Windows-1251" in reasons[4]
    assert DiagnosticResult.objects.count() == 1


def test_a_file_that_cannot_be_read_is_refused_as_a_whole():
    with pytest.raises(importing.DiagnosticImportError, match="no column for the teacher"):
        importing.preview(b"name;date\nx;y\n", "r.csv")
    with pytest.raises(importing.DiagnosticImportError, match="damaged"):
        importing.preview(b"PK\x03\x04 not a workbook", "r.xlsx")
    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_MAX_ROWS": 1}):
        with pytest.raises(importing.DiagnosticImportError, match="more than 1 rows"):
            importing.preview(
                csv_bytes("a@b.c;;self;01.01.2020;1;low;;", "d@e.f;;self;01.01.2020;1;low;;"),
                "r.csv",
            )


def test_teacher_found_by_snils_and_snils_stored_only_as_a_keyed_hash(maria):
    run(csv_bytes(f"maria@example.org;{SNILS_A};self;{DAY};50;basic;;"))
    stored = TeacherPersonalId.objects.get(user=maria.user)
    assert stored.snils_digest == snils_digest(SNILS_A)
    assert "11223344595" not in stored.snils_digest
    # Found again by the SNILS alone.
    run(csv_bytes(f";{SNILS_A};regional;{DAY};60;basic;;"))
    assert DiagnosticResult.objects.filter(teacher=maria).count() == 2
    # An invalid number is not kept either.
    run(csv_bytes(f";123-456-789 00;self;{DAY};50;basic;;"))
    # Nowhere in the database: not in any table, nor in the rows and reports kept with imports.
    assert DiagnosticImport.objects.count() == 3
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if not table.startswith("wagtail_iom_"):
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
            for row in cursor.fetchall():
                text = " ".join(
                    bytes(value).decode("utf-8", "replace")
                    if isinstance(value, bytes | memoryview)
                    else str(value)
                    for value in row
                )
                digits = text.replace("-", "").replace(" ", "")
                assert "11223344595" not in digits
                assert "12345678900" not in digits


def test_the_hash_key_is_configurable(maria):
    with override_settings(WAGTAIL_IOM={"PERSONAL_ID_HASH_KEY": "another secret"}):
        run(csv_bytes(f"maria@example.org;{SNILS_A};self;{DAY};50;basic;;"))
    stored = TeacherPersonalId.objects.get(user=maria.user).snils_digest
    assert stored == snils_digest(SNILS_A, key="another secret")
    assert stored != snils_digest(SNILS_A)


def test_email_and_snils_of_different_people_are_rejected(maria):
    other = teacher_with_email("other@example.org", last_name="Петров", first_name="Иван")
    TeacherPersonalId.objects.create(user=other.user, snils_digest=snils_digest(SNILS_A))
    job = run(csv_bytes(f"maria@example.org;{SNILS_A};self;{DAY};50;basic;;"))
    assert "two different accounts" in rejected(job)[2]
    TeacherPersonalId.objects.create(user=maria.user, snils_digest=snils_digest(SNILS_B))
    job = run(csv_bytes(f"other@example.org;{SNILS_B};self;{DAY};50;basic;;"))
    assert "two different accounts" in rejected(job)[2]


def test_unregistered_teachers_are_listed_then_invited_inactive(maria):
    content = (
        "email;snils;last name;first name;procedure;date;total score;level\n"
        f"new@example.org;{SNILS_B};Сидорова;Анна;self;{DAY};50;basic\n"
    ).encode()
    report = importing.preview(content, "r.csv")
    assert report["counts"]["not_registered"] == 1
    assert report["not_registered"][0]["email"] == "new@example.org"
    assert not get_user_model().objects.filter(email="new@example.org").exists()

    job = run(content)
    user = get_user_model().objects.get(email="new@example.org")
    assert not user.is_active
    assert not user.has_usable_password()
    assert Invitation.objects.get(user=user).sent_at is None
    assert PendingTeacherName.objects.get(user=user).last_name == "Сидорова"
    assert TeacherPersonalId.objects.get(user=user).snils_digest == snils_digest(SNILS_B)
    assert job.report["invited"] == [user.pk]
    assert not DiagnosticResult.objects.exists()


def test_invitations_are_sent_only_when_staff_confirm(
    maria, mailoutbox, django_capture_on_commit_callbacks
):
    content = f"email;procedure;date;total score;level\nnew@example.org;self;{DAY};50;basic\n"
    job = run(content.encode())
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert importing.confirm_invitations(job) == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@example.org"]
    assert "/accounts/invitation/" in mailoutbox[0].body
    # Confirming again sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert importing.confirm_invitations(job) == 0
    assert len(mailoutbox) == 1


def test_a_failing_chunk_is_rolled_back_alone_and_reported(maria, monkeypatch):
    others = [teacher_with_email(f"t{n}@example.org", last_name=f"Т{n}") for n in range(5)]
    lines = [f"t{n}@example.org;;self;{DAY};50;basic;40;" for n in range(5)]
    lines.append(f"maria@example.org;;self;{DAY};50;basic;40;")
    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_CHUNK_SIZE": 2}):
        job = importing.create_preview(csv_bytes(*lines), "r.csv", None)
    job = importing.start_apply(job)
    assert job.chunks.count() == 3

    write_plan = importing.write_plan

    def failing(plan, entered_by_id=None):
        write_plan(plan, entered_by_id)  # half of the chunk is written, then it fails
        if any(row.line == 4 for row in plan.rows):
            raise RuntimeError("the database went away")

    monkeypatch.setattr(importing, "write_plan", failing)
    for index in range(3):
        importing.apply_chunk(job.pk, index)
    job.refresh_from_db()

    assert job.status == DiagnosticImportStatus.APPLIED
    assert (job.processed_rows, job.failed_rows, job.percent) == (4, 2, 100)
    teachers = set(DiagnosticResult.objects.values_list("teacher_id", flat=True))
    assert teachers == {others[0].pk, others[1].pk, others[4].pk, maria.pk}
    assert CompetencyScore.objects.count() == 4
    reasons = rejected(job)
    assert set(reasons) == {4, 5}
    assert "could not be saved" in reasons[4]
    report = importing.apply_report(job)
    assert report["failed_chunks"] == 1
    assert report["counts"]["failed"] == 2
    # Running a chunk again does nothing, written or failed.
    monkeypatch.setattr(importing, "write_plan", write_plan)
    assert importing.apply_chunk(job.pk, 0) is False
    assert importing.apply_chunk(job.pk, 1) is False
    assert DiagnosticResult.objects.count() == 4
    # Uploading the file again imports the failed rows only.
    again = run(csv_bytes(*lines))
    assert importing.apply_report(again)["counts"]["create"] == 2
    assert DiagnosticResult.objects.count() == 6


def make_snils(n):
    first_nine = f"{500000000 + n:09d}"
    return f"{first_nine}{snils_control_number(first_nine):02d}"


def started_import(size):
    """An import of ``size`` rows in one chunk, with every kind of write in it: new results
    and changed ones, scores created and changed, SNILS stored, schools set."""
    school = SchoolFactory()
    teachers = [teacher_with_email(f"q{size}-{n}@example.org") for n in range(size)]
    for teacher in teachers[::2]:
        result = DiagnosticResult.objects.create(
            teacher=teacher,
            procedure="self",
            date=TODAY - datetime.timedelta(days=5),
            total_score=10,
            level="low",
        )
        CompetencyScore.objects.create(
            result=result, competency=Competency.objects.get(code="SUBJ-1"), score=1
        )
    header = "email;snils;procedure;date;total score;level;SUBJ-1;METH-1;school"
    lines = [
        f"{t.user.email};{make_snils(n + size * 100)};self;{DAY};50;basic;40;60;{school.name}"
        for n, t in enumerate(teachers)
    ]
    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_CHUNK_SIZE": size}):
        job = importing.create_preview(csv_bytes(*lines, header=header), "r.csv", None)
    return importing.start_apply(job), teachers


# Read the job, lock the chunk with its rows (a savepoint around it), users, personal ids, profiles, schools, results, scores; write results (create, update), scores (create,
# update), personal ids, schools; the chunk, the counters, the finish (the last chunk then
# reads and rewrites the report without the preview's sample of rows, and reads the results
# written, for the route drafts).
QUERIES_PER_CHUNK = 22


@pytest.mark.parametrize("size", [3, 30])
def test_queries_per_chunk_do_not_grow_with_the_chunk_size(size, django_assert_num_queries):
    job, teachers = started_import(size)
    with django_assert_num_queries(QUERIES_PER_CHUNK):
        importing.apply_chunk(job.pk, 0)
    assert DiagnosticResult.objects.filter(teacher__in=teachers).count() == size
    assert TeacherPersonalId.objects.filter(user__iom_teacher_profile__in=teachers).count() == size
    counts = importing.apply_report(DiagnosticImport.objects.get(pk=job.pk))["counts"]
    assert (counts["create"], counts["update"]) == (size // 2, size - size // 2)


def test_progress():
    job = DiagnosticImport.objects.create(
        file_name="r.csv",
        table={},
        status=DiagnosticImportStatus.APPLYING,
        total_rows=200,
        processed_rows=50,
        failed_rows=10,
    )
    assert importing.progress(job) == {
        "status": "applying",
        "status_label": "Being applied",
        "total": 200,
        "processed": 50,
        "failed": 10,
        "percent": 30,
        "finished": False,
    }


def test_stale_previews_are_deleted():
    job = importing.create_preview(csv_bytes(f"a@b.org;;self;{DAY};1;low;;"), "r.csv", None)
    assert job.chunks.get().rows  # the rows wait for the apply with the preview
    later = job.created_at + datetime.timedelta(days=8)
    assert importing.delete_stale_previews(now=later) == 1
    assert not DiagnosticImportChunk.objects.filter(job_id=job.pk).exists()
    assert not DiagnosticImportChunk.objects.exists()


def test_a_user_with_an_account_but_no_consent_is_not_invited_again():
    user = UserFactory(username="waiting", email="waiting@example.org", is_active=False)
    content = f"email;procedure;date;total score;level\nwaiting@example.org;self;{DAY};50;basic\n"
    report = importing.preview(content.encode(), "r.csv")
    assert report["not_registered"][0]["invited"] is True
    job = run(content.encode())
    assert job.report["invited"] == []
    assert not Invitation.objects.filter(user=user).exists()


def test_the_preview_plans_chunk_by_chunk_as_the_apply_does(maria):
    lines = [f"t{n}@example.org;;self;{DAY};50;basic;;" for n in range(5)]
    lines.append(f"maria@example.org;;self;{DAY};50;basic;;")
    lines.append(f"t1@example.org;;school;{DAY};50;basic;;")  # invited once, listed once
    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_CHUNK_SIZE": 2}):
        report = importing.preview(csv_bytes(*lines, "bad;;self;x;1;low;;"), "r.csv")
    assert report["counts"] == {
        "create": 1,
        "update": 0,
        "unchanged": 0,
        "not_registered": 6,
        "rejected": 1,
    }
    assert [person["email"] for person in report["not_registered"]] == [
        f"t{n}@example.org" for n in range(5)
    ]


def test_addresses_with_capitals_in_the_account_are_found():
    profile = teacher_with_email("Maria.Capital@Example.org")
    job = run(csv_bytes(f"maria.capital@example.org;;self;{DAY};50;basic;;"))
    assert importing.apply_report(job)["counts"]["create"] == 1
    assert DiagnosticResult.objects.get().teacher == profile
    assert job.report["invited"] == []


def test_each_chunk_keeps_its_own_rows_until_it_is_written():
    job, teachers = started_import(4)
    job.refresh_from_db()
    assert job.table == {}  # the import no longer keeps the whole file
    chunk = DiagnosticImportChunk.objects.get(job=job, index=0)
    assert [row["line"] for row in chunk.rows] == [2, 3, 4, 5]
    rows = [importing.row_from_data(data) for data in chunk.rows]
    assert [importing.row_to_data(row) for row in rows] == chunk.rows
    importing.apply_chunk(job.pk, 0)
    chunk.refresh_from_db()
    assert chunk.rows == []  # written: the addresses and scores are not kept twice
    assert chunk.counts["rejected"] == 0


def test_a_row_dropped_from_a_waiting_chunk_still_lets_the_import_finish():
    job, teachers = started_import(4)
    chunk = DiagnosticImportChunk.objects.get(job=job, index=0)
    chunk.rows = chunk.rows[1:]  # e.g. its teacher was depersonalised meanwhile
    chunk.save(update_fields=["rows"])
    importing.apply_chunk(job.pk, 0)
    job.refresh_from_db()
    assert job.status == DiagnosticImportStatus.APPLIED
    imported = DiagnosticResult.objects.filter(teacher__in=teachers, total_score=50)
    assert sorted(imported.values_list("teacher_id", flat=True)) == [t.pk for t in teachers[1:]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_large_import_refreshes_the_statistics_before_the_drafts(monkeypatch):
    table = CompetencyScore._meta.db_table

    def estimated_rows():
        # ANALYZE writes its estimate into the catalogue, in the same transaction.
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return cursor.fetchone()[0]

    monkeypatch.setattr(importing, "ANALYZE_FROM_ROWS", 2)
    job, _teachers = started_import(3)
    importing.apply_chunk(job.pk, 0)
    assert estimated_rows() == CompetencyScore.objects.count() > 0


def test_the_apply_reads_nothing_of_the_file_again(maria, monkeypatch):
    """The preview keeps the rows in chunks: the apply (the web request) neither reads nor
    plans the file again, and its queries do not grow with the file."""
    others = [teacher_with_email(f"t{n}@example.org", last_name=f"Т{n}") for n in range(6)]
    small, large = (
        csv_bytes(*[f"{t.user.email};;self;{DAY};50;basic;40;" for t in teachers])
        for teachers in (others[:2], others)
    )
    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_CHUNK_SIZE": 2}):
        jobs = [importing.create_preview(content, "r.csv", None) for content in (small, large)]
    assert [job.chunks.count() for job in jobs] == [1, 3]

    def refuse(*args, **kwargs):
        raise AssertionError("the apply read the file again")

    monkeypatch.setattr(importing, "read_rows", refuse)
    monkeypatch.setattr(importing, "plan_rows", refuse)
    counts = []
    for job in jobs:
        with CaptureQueriesContext(connection) as queries:
            importing.start_apply(job)
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
    monkeypatch.undo()
    for job in jobs:
        for index in range(job.chunks.count()):
            importing.apply_chunk(job.pk, index)
        job.refresh_from_db()
        assert job.status == DiagnosticImportStatus.APPLIED
    # The second file repeats the first two teachers' rows: keyed, they are not written twice.
    assert DiagnosticResult.objects.filter(teacher__in=others).count() == 6


def test_the_upload_keeps_every_row_in_its_chunk_in_order():
    lines = [f"t{n}@example.org;;self;{DAY};50;basic;40;" for n in range(23)]
    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_CHUNK_SIZE": 2}):
        job = importing.create_preview(csv_bytes(*lines), "r.csv", None)
    chunks = list(job.chunks.order_by("index"))
    # 12 chunks, written CHUNKS_PER_INSERT at a time.
    assert importing.CHUNKS_PER_INSERT < len(chunks)
    assert [c.index for c in chunks] == list(range(12))
    assert [[row["line"] for row in c.rows] for c in chunks] == [
        [line for line in (2 + 2 * n, 3 + 2 * n) if line <= 24] for n in range(12)
    ]
    assert job.total_rows == 23 and job.chunk_size == 2


def test_a_preview_made_by_an_earlier_version_is_applied_from_its_table(maria):
    """Before the upgrade a preview kept the file in ``table`` and no chunks: its apply makes
    the chunks from the table, and nothing is lost."""
    others = [teacher_with_email(f"t{n}@example.org", last_name=f"Т{n}") for n in range(3)]
    content = csv_bytes(*[f"{t.user.email};;self;{DAY};50;basic;40;" for t in others])
    table = importing.read_file(content, "r.csv")
    job = DiagnosticImport.objects.create(
        file_name="r.csv", table=table, report=importing.preview_table(table), total_rows=3
    )

    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_CHUNK_SIZE": 2}):
        job = importing.start_apply(job)
    assert job.chunks.count() == 2
    for index in range(2):
        importing.apply_chunk(job.pk, index)

    job.refresh_from_db()
    assert job.status == DiagnosticImportStatus.APPLIED
    assert (job.table, job.chunk_size, job.processed_rows) == ({}, 2, 3)
    assert DiagnosticResult.objects.filter(teacher__in=others).count() == 3
