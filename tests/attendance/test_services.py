"""Attendance: marking sessions, uploads of e-mails, attended events and their hours,
participation certificates."""

import datetime
import io
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from tests.factories import CompetencyFactory, UserFactory, make_event, make_teacher
from wagtail_iom.attendance import certificates
from wagtail_iom.attendance import services as attendance
from wagtail_iom.attendance.services import RowStatus
from wagtail_iom.models import AttendanceMark, Registration, RegistrationStatus

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


DAY = datetime.date(2026, 3, 10)
T10, T13, T14, T17 = (datetime.time(h) for h in (10, 13, 14, 17))


@pytest.fixture
def event(resource_map):
    competencies = [CompetencyFactory(name="Цифровая грамотность"), CompetencyFactory()]
    return make_event(
        resource_map,
        sessions=[
            (DAY, T10, T13, Decimal("3")),
            (DAY, T14, T17, Decimal("4.5")),
            (DAY + datetime.timedelta(days=1), T10, T13, None),
        ],
        competencies=competencies,
    )


@pytest.fixture
def sessions(event):
    return list(event.sessions.order_by("date", "start_time"))


@pytest.fixture
def editor(db):
    return UserFactory(username="editor")


def sign_up(event, user, status=RegistrationStatus.CONFIRMED):
    return Registration.objects.create(event=event, user=user, status=status)


def marks(session):
    return set(
        AttendanceMark.objects.filter(session=session).values_list("registration_id", flat=True)
    )


# mark_session ---------------------------------------------------------------------------------


def test_mark_session_marks_exactly_the_confirmed_ids_and_refuses_the_rest(
    event, sessions, teacher, other_teacher, editor, resource_map
):
    mine = sign_up(event, teacher.user)
    theirs = sign_up(event, other_teacher.user)
    pending = sign_up(event, UserFactory(), RegistrationStatus.PENDING)
    elsewhere = sign_up(make_event(resource_map, title="Другое", slug="other"), teacher.user)

    result = attendance.mark_session(
        sessions[0], [mine.pk, str(theirs.pk), pending.pk, elsewhere.pk, 999999, "abc"], editor
    )

    assert marks(sessions[0]) == {mine.pk, theirs.pk}
    assert set(result.added) == {mine.pk, theirs.pk}
    assert set(result.refused) == {pending.pk, elsewhere.pk, 999999, "abc"}
    assert AttendanceMark.objects.get(registration=mine, session=sessions[0]).marked_by == editor
    assert marks(sessions[1]) == set()


def test_mark_session_is_idempotent_and_unmarks_what_is_not_ticked(
    event, sessions, teacher, other_teacher, editor
):
    mine = sign_up(event, teacher.user)
    theirs = sign_up(event, other_teacher.user)
    attendance.mark_session(sessions[0], [mine.pk, theirs.pk], editor)

    again = attendance.mark_session(sessions[0], [mine.pk, theirs.pk], editor)
    assert not again.changed and again.unchanged == 2

    fewer = attendance.mark_session(sessions[0], [theirs.pk], editor)
    assert fewer.removed == (mine.pk,)
    assert marks(sessions[0]) == {theirs.pk}

    none = attendance.mark_session(sessions[0], [], editor)
    assert none.removed == (theirs.pk,)
    assert marks(sessions[0]) == set()


def test_mark_of_a_sign_up_cancelled_later_is_kept(event, sessions, teacher, editor):
    mine = sign_up(event, teacher.user)
    attendance.mark_session(sessions[0], [mine.pk], editor)
    Registration.objects.filter(pk=mine.pk).update(status=RegistrationStatus.CANCELLED)

    result = attendance.mark_session(sessions[0], [], editor)

    assert result.removed == ()
    assert marks(sessions[0]) == {mine.pk}


# uploads ---------------------------------------------------------------------------------------


def test_import_reports_every_row_and_applies_the_good_ones(event, sessions, teacher, editor):
    good = sign_up(event, teacher.user)
    pending_user = UserFactory(email="Waiting@Example.org")
    sign_up(event, pending_user, RegistrationStatus.PENDING)
    UserFactory(email="stranger@example.org")  # an account, but not signed up

    report = attendance.import_attendance(
        sessions[0],
        [
            (2, "TEACHER@example.org"),  # case does not matter
            (3, "nobody@example.org"),
            (4, "stranger@example.org"),
            (5, "waiting@example.org"),
            (6, "not an e-mail"),
            (7, "teacher@example.org"),
            (8, ""),
        ],
        editor,
    )

    assert [(row.line, row.status) for row in report.rows] == [
        (2, RowStatus.OK),
        (3, RowStatus.UNKNOWN_EMAIL),
        (4, RowStatus.NOT_SIGNED_UP),
        (5, RowStatus.NOT_CONFIRMED),
        (6, RowStatus.INVALID_EMAIL),
        (7, RowStatus.DUPLICATE),
        (8, RowStatus.INVALID_EMAIL),
    ]
    assert report.added == 1
    assert report.counts["ok"] == 1 and len(report.bad_rows) == 6
    assert marks(sessions[0]) == {good.pk}
    assert all(row.message for row in report.rows)
    assert "Awaiting approval" in report.rows[3].message


def test_import_again_changes_nothing_and_unmarks_nobody(
    event, sessions, teacher, other_teacher, editor
):
    mine = sign_up(event, teacher.user)
    theirs = sign_up(event, other_teacher.user)
    attendance.mark_session(sessions[0], [theirs.pk], editor)

    first = attendance.import_attendance(sessions[0], ["teacher@example.org"], editor)
    second = attendance.import_attendance(sessions[0], ["teacher@example.org"], editor)

    assert first.added == 1 and not first.rows[0].already_marked
    assert second.added == 0 and second.rows[0].already_marked and second.rows[0].ok
    assert marks(sessions[0]) == {mine.pk, theirs.pk}


def test_import_query_count_does_not_grow_with_the_rows(event, sessions, editor):
    def run(count, prefix):
        users = [UserFactory(username=f"{prefix}{n}") for n in range(count)]
        for user in users:
            sign_up(event, user)
        emails = [user.email for user in users] + [f"{prefix}-unknown@example.org"]
        with CaptureQueriesContext(connection) as ctx:
            attendance.import_attendance(sessions[0], emails, editor)
        return len(ctx)

    assert run(3, "small") == run(30, "large")


def test_read_text_file_one_email_per_line_in_either_encoding():
    text = "E-mail\r\nivanova@example.org\n\n  petrov@example.org ;\nИванова\n"
    for encoding in ("utf-8-sig", "cp1251"):
        rows = attendance.read_attendance_file(text.encode(encoding), "list.TXT")
        assert rows == [(2, "ivanova@example.org"), (4, "petrov@example.org"), (5, "Иванова")]


def test_read_csv_finds_the_email_column_by_its_header():
    content = "ФИО;Эл. почта\nИванова Мария;ivanova@example.org\nПетров;\n".encode("cp1251")
    assert attendance.read_attendance_file(content, "list.csv") == [
        (2, "ivanova@example.org"),
        (3, ""),
    ]


def test_read_csv_without_a_header_starts_with_the_first_row():
    content = b"Ivanova,ivanova@example.org\nPetrov,petrov@example.org\n"
    assert attendance.read_attendance_file(content, "list.csv") == [
        (1, "ivanova@example.org"),
        (2, "petrov@example.org"),
    ]


def test_read_xlsx():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Фамилия", "Email"])
    sheet.append(["Иванова", "ivanova@example.org"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = attendance.read_attendance_file(buffer.getvalue(), "list.xlsx")
    assert rows == [(2, "ivanova@example.org")]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.4 binary", "list.pdf"),
        (b"name,phone\nIvanova,123\n", "list.csv"),  # no column of e-mails
        (b"PK\x03\x04broken", "list.xlsx"),
        (b"a@b.ru\x00\x00", "list.txt"),
        (b"\n\n", "list.txt"),
        (b"\x98\x98", "list.txt"),
    ],
)
def test_unreadable_files_raise_a_clear_error(content, name):
    with pytest.raises(attendance.AttendanceFileError) as exc:
        attendance.read_attendance_file(content, name)
    assert str(exc.value)


# attended events --------------------------------------------------------------------------------


def test_attended_events_hours_sessions_and_competencies(
    event, sessions, teacher, other_teacher, editor, resource_map
):
    mine = sign_up(event, teacher.user)
    not_attended = sign_up(make_event(resource_map, title="Не был", slug="absent"), teacher.user)
    theirs = sign_up(event, other_teacher.user)
    attendance.mark_session(sessions[1], [mine.pk, theirs.pk], editor)
    attendance.mark_session(sessions[2], [mine.pk], editor)  # no hours set

    items = attendance.attended_events(teacher.user)

    assert [item.registration.pk for item in items] == [mine.pk]
    item = items[0]
    assert item.hours == Decimal("4.5")
    assert (len(item.sessions_attended), item.sessions_total) == (2, 3)
    assert item.date_from == DAY and item.date_to == DAY + datetime.timedelta(days=1)
    assert {c.name for c in item.competencies} >= {"Цифровая грамотность"}
    assert attendance.total_hours(items) == Decimal("4.5")
    assert attendance.is_attended(mine)
    assert not attendance.is_attended(not_attended)


def test_attended_events_query_count_is_flat(resource_map, editor):
    def run(count, suffix):
        profile = make_teacher(username=f"t-{suffix}")
        competency = CompetencyFactory()
        for n in range(count):
            event = make_event(
                resource_map,
                title=f"Событие {suffix} {n}",
                slug=f"e-{suffix}-{n}",
                sessions=[(DAY, T10, T13, 2), (DAY, T14, T17, 2)],
                competencies=[competency],
            )
            registration = sign_up(event, profile.user)
            attendance.mark_session(event.sessions.first(), [registration.pk], editor)
        with CaptureQueriesContext(connection) as ctx:
            items = attendance.attended_events(profile.user)
            seen = [(item.competencies, item.sessions, item.event.title) for item in items]
        assert len(items) == len(seen) == count
        return len(ctx)

    assert run(2, "a") == run(8, "b")


# certificates ------------------------------------------------------------------------------------


def test_certificate_number_is_derived_from_the_sign_up(event, teacher):
    registration = sign_up(event, teacher.user)
    assert certificates.certificate_number(registration) == (f"IOM-{event.pk}-{registration.pk}")


def test_no_certificate_without_attendance(event, teacher):
    registration = sign_up(event, teacher.user)
    with pytest.raises(certificates.NotAttended):
        certificates.participation_certificate_pdf(registration)


@pytest.mark.requires_tool("pango", "pdftotext")
def test_certificate_pdf_has_the_cyrillic_name_hours_and_number(
    event, sessions, teacher, editor, tmp_path
):
    registration = sign_up(event, teacher.user)
    attendance.mark_session(sessions[0], [registration.pk], editor)
    attendance.mark_session(sessions[1], [registration.pk], editor)

    pdf = certificates.participation_certificate_pdf(registration, site_name="ЦНППМ Калининград")

    assert pdf.startswith(b"%PDF")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Иванова Мария Петровна" in text
    assert "ЦНППМ КАЛИНИНГРАД" in text.upper()
    assert f"IOM-{event.pk}-{registration.pk}" in text
    assert "7.5" in text or "7,5" in text
    assert event.title in " ".join(text.split())
