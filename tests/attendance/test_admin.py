"""The admin screens for attendance: the sessions of an event, ticking who was present and
uploading lists of attendees' e-mails."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from tests.core.test_tabular import damaged_workbook, zip_of
from tests.factories import UserFactory, make_event
from wagtail_iom.models import AttendanceMark, Registration, RegistrationStatus

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 10)

BAD_SHEET = damaged_workbook("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row")
BAD_STYLES = damaged_workbook("xl/styles.xml", b"\x00 not xml")
ZIP_NAMED_CSV = zip_of("readme.txt", b"not a workbook")


@pytest.fixture
def event(resource_map):
    return make_event(
        resource_map,
        sessions=[
            (DAY, datetime.time(10), datetime.time(13), 3),
            (DAY, datetime.time(14), datetime.time(17), 3),
        ],
    )


@pytest.fixture
def session(event):
    return event.sessions.order_by("start_time").first()


@pytest.fixture
def registrations(event, teacher, other_teacher):
    pending = UserFactory(username="waiting")
    return {
        "mine": Registration.objects.create(event=event, user=teacher.user),
        "theirs": Registration.objects.create(event=event, user=other_teacher.user),
        "pending": Registration.objects.create(
            event=event, user=pending, status=RegistrationStatus.PENDING
        ),
    }


def session_url(session):
    return reverse("wagtail_iom_attendance:session", args=[session.pk])


def marked(session):
    return set(
        AttendanceMark.objects.filter(session=session).values_list("registration_id", flat=True)
    )


def test_event_screen_lists_the_sessions(admin_client, event, session, registrations):
    response = admin_client.get(reverse("wagtail_iom_attendance:event", args=[event.pk]))
    assert response.status_code == 200
    assert session_url(session) in response.content.decode()
    assert response.context["confirmed_count"] == 2


def test_session_screen_lists_confirmed_sign_ups_with_checkboxes(
    admin_client, session, registrations
):
    response = admin_client.get(session_url(session))
    assert response.status_code == 200
    listed = {row["registration"].pk for row in response.context["rows"]}
    assert listed == {registrations["mine"].pk, registrations["theirs"].pk}
    content = response.content.decode()
    assert f'id="present-{registrations["mine"].pk}"' in content
    assert "Иванова Мария Петровна" in content
    assert f'id="present-{registrations["pending"].pk}"' not in content


def test_checkbox_post_sets_marks_and_unmarking_removes(admin_client, session, registrations):
    mine, theirs = registrations["mine"].pk, registrations["theirs"].pk
    response = admin_client.post(
        session_url(session), {"action": "marks", "present": [mine, theirs]}
    )
    assert response.status_code == 302
    assert marked(session) == {mine, theirs}

    admin_client.post(session_url(session), {"action": "marks", "present": [theirs]})
    assert marked(session) == {theirs}

    response = admin_client.get(session_url(session))
    rows = {row["registration"].pk: row["present"] for row in response.context["rows"]}
    assert rows == {mine: False, theirs: True}


def test_checkbox_post_cannot_mark_a_pending_sign_up_or_garbage(
    admin_client, session, registrations
):
    response = admin_client.post(
        session_url(session),
        {"action": "marks", "present": [registrations["pending"].pk, "x", "-1"]},
    )
    assert response.status_code == 302
    assert marked(session) == set()


def test_upload_csv_reports_bad_rows_and_applies_good_ones(admin_client, session, registrations):
    content = (
        "ФИО;Email\n"
        "Иванова;teacher@example.org\n"
        "Кто-то;nobody@example.org\n"
        "Ожидает;waiting@example.org\n"
        "Ошибка;not-an-email\n"
        "Иванова;TEACHER@example.org\n"
    ).encode("cp1251")
    upload = SimpleUploadedFile("attendees.csv", content, content_type="text/csv")

    response = admin_client.post(session_url(session), {"action": "upload", "file": upload})

    assert response.status_code == 200
    report = response.context["report"]
    assert [(row.line, row.status) for row in report.rows] == [
        (2, "ok"),
        (3, "unknown_email"),
        (4, "not_confirmed"),
        (5, "invalid_email"),
        (6, "duplicate"),
    ]
    assert marked(session) == {registrations["mine"].pk}
    content = response.content.decode()
    assert 'id="attendance-report-rows"' in content
    assert content.count('data-status="') == 4


def test_upload_plain_text_list(admin_client, session, registrations):
    upload = SimpleUploadedFile("list.txt", b"teacher@example.org\nother@example.org\n")
    response = admin_client.post(session_url(session), {"action": "upload", "file": upload})
    assert response.status_code == 200
    assert marked(session) == {registrations["mine"].pk, registrations["theirs"].pk}


@override_settings(WAGTAIL_IOM={"ATTENDANCE_UPLOAD_MAX_SIZE": 20})
def test_oversized_upload_is_a_form_error(admin_client, session, registrations):
    upload = SimpleUploadedFile("list.txt", b"teacher@example.org\n" * 5)
    response = admin_client.post(session_url(session), {"action": "upload", "file": upload})
    assert response.status_code == 200
    assert response.context["upload_form"].has_error("file", "file_size")
    assert marked(session) == set()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("list.pdf", b"%PDF-1.4", "file_type"),
        ("list.exe", b"MZ\x90\x00", "file_type"),
        ("list.csv", b"", "empty"),  # Django's own check of an empty file
        ("list.csv", b"name;phone\nIvanova;123\n", "file_unreadable"),
        ("list.xlsx", b"PK\x03\x04 not really a workbook", "file_unreadable"),
        ("list.xlsx", BAD_SHEET, "file_unreadable"),
        ("list.xlsx", BAD_STYLES, "file_unreadable"),
        ("list.csv", ZIP_NAMED_CSV, "file_unreadable"),
    ],
)
def test_wrong_uploads_are_form_errors(admin_client, session, registrations, name, content, code):
    upload = SimpleUploadedFile(name, content)
    response = admin_client.post(session_url(session), {"action": "upload", "file": upload})
    assert response.status_code == 200
    assert response.context["upload_form"].has_error("file", code)


def test_upload_without_a_file_is_a_form_error(admin_client, session):
    response = admin_client.post(session_url(session), {"action": "upload"})
    assert response.status_code == 200
    assert response.context["upload_form"].has_error("file", "required")


@pytest.fixture
def editor_without_edit_permission(client):
    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    return client


def test_editor_without_edit_permission_is_refused(
    editor_without_edit_permission, event, session, registrations
):
    client = editor_without_edit_permission
    assert client.get(reverse("wagtail_iom_attendance:event", args=[event.pk])).status_code == 403
    assert client.get(session_url(session)).status_code == 403
    response = client.post(
        session_url(session), {"action": "marks", "present": [registrations["mine"].pk]}
    )
    assert response.status_code == 403
    assert marked(session) == set()


def test_teacher_cannot_reach_the_admin_screen(teacher_client, session):
    response = teacher_client.get(session_url(session))
    assert response.status_code in (302, 403)
    assert marked(session) == set()


def test_unknown_ids_are_404(admin_client):
    assert (
        admin_client.get(reverse("wagtail_iom_attendance:session", args=[999999])).status_code
        == 404
    )
    assert (
        admin_client.get(reverse("wagtail_iom_attendance:event", args=[999999])).status_code == 404
    )


def test_event_editor_and_listing_link_to_attendance(admin_client, event):
    url = reverse("wagtail_iom_attendance:event", args=[event.pk])
    edit = admin_client.get(reverse("wagtailadmin_pages:edit", args=[event.pk]))
    assert url in edit.content.decode()
    listing = admin_client.get(reverse("wagtail_iom_events:index"))
    assert url in listing.content.decode()


def test_other_pages_have_no_attendance_button(admin_client, resource_map):
    edit = admin_client.get(reverse("wagtailadmin_pages:edit", args=[resource_map.pk]))
    assert edit.status_code == 200
    assert "/admin/iom/attendance/" not in edit.content.decode()
