"""My data: a teacher downloads everything held about them as a ZIP (JSON, a PDF summary and
the uploaded files), built by a Celery task and offered as a signed link that expires."""

import datetime
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import CompetencyFactory, make_event, make_teacher
from wagtail_iom.models import (
    Achievement,
    AttendanceMark,
    CompetencyScore,
    DiagnosticResult,
    PersonalDataExport,
    PersonalDataExportStatus,
    ProfessionalRequest,
    Registration,
    Route,
    RouteComment,
    StepCompletion,
)
from wagtail_iom.privacy import exports as service

pytestmark = pytest.mark.django_db

Status = PersonalDataExportStatus
MY_DATA = reverse("wagtail_iom:cabinet_my_data")


@pytest.fixture
def rich_teacher(resource_map, tmp_path, settings):
    """A teacher with data in every place the export covers."""
    settings.MEDIA_ROOT = str(tmp_path)
    teacher = make_teacher(username="rich", last_name="Богатова", first_name="Вера")
    teacher.user.email = "vera@example.org"
    teacher.user.save()
    Achievement.objects.create(
        profile=teacher, year=2025, direction="methodical", description="Конкурс"
    )
    ProfessionalRequest.objects.create(
        profile=teacher, interest_areas="Функциональная грамотность", goal="Освоить методы"
    )
    event = make_event(resource_map, title="Семинар о грамотности")
    registration = Registration.objects.create(event=event, user=teacher.user)
    AttendanceMark.objects.create(registration=registration, session=event.sessions.first())
    result = DiagnosticResult.objects.create(
        teacher=teacher,
        date=datetime.date(2026, 10, 1),
        procedure="self",
        level="basic",
        total_score=55,
    )
    CompetencyScore.objects.create(
        result=result, competency=CompetencyFactory(code="C-9"), score=40
    )
    today = timezone.localdate()
    route = Route.objects.create(
        teacher=teacher,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=200),
        goal="Цель маршрута Веры",
    )
    route.save_revision()
    RouteComment.objects.create(route=route, author=teacher.user, text="Комментарий Веры")
    StepCompletion.objects.create(
        route=route,
        step_id="step-1",
        evidence_text="Конспект",
        evidence_file=SimpleUploadedFile("конспект.txt", "Мой конспект".encode()),
    )
    return teacher


def build(teacher):
    export, created = service.request_export(teacher.user)
    assert created
    assert service.build_export(export.pk)
    export.refresh_from_db()
    return export


def archive_of(export):
    with export.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def test_the_zip_holds_every_kind_of_data_and_the_files(rich_teacher):
    export = build(rich_teacher)
    assert export.status == Status.READY
    assert export.expires_at > timezone.now() + datetime.timedelta(days=6)
    archive = archive_of(export)
    names = archive.namelist()
    assert "data.json" in names
    assert "summary.pdf" in names or "summary.html" in names
    evidence = [name for name in names if name.startswith("evidence/")]
    assert len(evidence) == 1
    assert archive.read(evidence[0]).decode() == "Мой конспект"

    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == "vera@example.org"
    assert data["profile"]["last_name"] == "Богатова"
    assert data["profile"]["achievements"][0]["description"] == "Конкурс"
    assert data["profile"]["professional_request"]["goal"] == "Освоить методы"
    assert data["consents"][0]["text_sha256"] == "0" * 64
    assert data["registrations"][0]["event_title"] == "Семинар о грамотности"
    assert data["attendance"][0]["event_title"] == "Семинар о грамотности"
    assert data["diagnostics"][0]["scores"][0]["competency"] == "C-9"
    route = data["routes"][0]
    assert route["goal"] == "Цель маршрута Веры"
    assert route["comments"][0]["text"] == "Комментарий Веры"
    assert route["completions"][0]["evidence_text"] == "Конспект"
    assert route["versions"], "the route's saved versions"
    assert "password" not in json.dumps(data["account"])


@pytest.mark.requires_tool("pango", "pdftotext")
def test_the_summary_is_a_readable_pdf(rich_teacher, tmp_path):
    import subprocess

    archive = archive_of(build(rich_teacher))
    assert "summary.pdf" in archive.namelist()
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(archive.read("summary.pdf"))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Богатова" in text
    assert "Семинар о грамотности" in text
    assert "Цель маршрута Веры" in text


def test_a_second_request_while_one_is_prepared_starts_no_other(teacher, monkeypatch):
    started = []
    monkeypatch.setattr(
        service.mail, "enqueue_on_commit", lambda name, *args: started.append((name, args))
    )
    first, created = service.request_export(teacher.user)
    second, created_again = service.request_export(teacher.user)
    assert created and not created_again
    assert first.pk == second.pk
    assert started == [("build_personal_data_export", (first.pk,))]
    # The database refuses a second pending request, whatever process tries.
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonalDataExport.objects.create(user=teacher.user)


def test_building_twice_is_harmless(rich_teacher):
    export = build(rich_teacher)
    name = export.file.name
    assert not service.build_export(export.pk)
    export.refresh_from_db()
    assert export.file.name == name


def test_the_cabinet_page_asks_then_offers_the_link(
    client, rich_teacher, django_capture_on_commit_callbacks
):
    client.force_login(rich_teacher.user)
    page = client.get(MY_DATA)
    assert page.status_code == 200
    assert "Prepare my data" in page.content.decode() or "Подготовить" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(MY_DATA)
    assert response.status_code == 302
    export = PersonalDataExport.objects.get(user=rich_teacher.user)
    assert export.status == Status.READY  # the task ran on commit (Celery eager in the tests)
    page = client.get(MY_DATA)
    link = reverse("wagtail_iom:cabinet_my_data_download", args=[page.context["download_token"]])
    assert link in page.content.decode()
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    body = b"".join(download.streaming_content)
    assert "data.json" in zipfile.ZipFile(io.BytesIO(body)).namelist()


def test_another_teachers_link_is_not_found(client, rich_teacher, other_teacher):
    export = build(rich_teacher)
    link = reverse("wagtail_iom:cabinet_my_data_download", args=[service.download_token(export)])
    client.force_login(other_teacher.user)
    assert client.get(link).status_code == 404
    client.logout()
    assert client.get(link).status_code == 302  # to the login page


def test_an_expired_link_is_not_found_and_the_file_is_deleted(client, rich_teacher):
    export = build(rich_teacher)
    token = service.download_token(export)
    link = reverse("wagtail_iom:cabinet_my_data_download", args=[token])
    client.force_login(rich_teacher.user)
    PersonalDataExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert client.get(link).status_code == 404
    storage, name = export.file.storage, export.file.name
    assert storage.exists(name)
    assert service.delete_expired_exports() == 1
    assert not storage.exists(name)
    assert not PersonalDataExport.objects.exists()
    page = client.get(MY_DATA)
    assert page.status_code == 200
    assert page.context["export"] is None


@pytest.mark.parametrize("token", ["abc", "x" * 300, "1:2:3", "%00"])
def test_a_forged_link_is_not_found(client, teacher, token):
    client.force_login(teacher.user)
    url = reverse("wagtail_iom:cabinet_my_data") + token + "/"
    assert client.get(url).status_code == 404


def test_a_signed_link_outlives_no_setting(client, rich_teacher):
    """The signature's own age limit follows PERSONAL_DATA_EXPORT_DAYS too."""
    export = build(rich_teacher)
    token = service.download_token(export)
    client.force_login(rich_teacher.user)
    with override_settings(WAGTAIL_IOM={"PERSONAL_DATA_EXPORT_DAYS": 0}):
        assert service.export_for_token(token, rich_teacher.user) is None


def test_the_page_needs_a_signed_in_teacher(client):
    response = client.get(MY_DATA)
    assert response.status_code == 302
    assert reverse("wagtail_iom:login") in response["Location"]
    assert client.post(MY_DATA).status_code == 302
    assert not PersonalDataExport.objects.exists()


def test_a_failed_build_is_marked_and_may_be_asked_again(teacher, monkeypatch):
    export, _ = service.request_export(teacher.user)
    monkeypatch.setattr(service, "build_zip", lambda user: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        service.build_export(export.pk)
    export.refresh_from_db()
    assert export.status == Status.FAILED
    again, created = service.request_export(teacher.user)
    assert created and again.pk != export.pk
