"""The import of diagnostics results in the admin: upload, preview, apply with progress,
invitations, the rejected rows' CSV, and who may import."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import MunicipalityFactory, UserFactory, make_teacher
from wagtail_iom.core.access import StaffRole
from wagtail_iom.diagnostics import importing
from wagtail_iom.models import (
    DiagnosticImport,
    DiagnosticImportStatus,
    DiagnosticResult,
    StaffMembership,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

UPLOAD_URL = reverse("wagtail_iom_diagnostics_import:upload")
DAY = (timezone.localdate() - datetime.timedelta(days=3)).strftime("%d.%m.%Y")
GOOD = (
    "email;procedure;date;total score;level;SUBJ-1\n"
    f"maria@example.org;regional;{DAY};62,5;basic;40\n"
    f"maria@example.org;regional;01.01.2999;62,5;basic;40\n"
    f"new@example.org;self;{DAY};50;basic;\n"
)


def url(name, job):
    return reverse(f"wagtail_iom_diagnostics_import:{name}", args=[job.pk])


def staff(username, *codenames, role=None, **membership):
    user = UserFactory(username=username)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "access_admin",
                "add_diagnosticresult",
                "change_diagnosticresult",
                "view_diagnosticresult",
                "view_teacherprofile",
                *codenames,
            ]
        )
    )
    if role:
        StaffMembership.objects.create(user=user, role=role, **membership)
    return user


@pytest.fixture
def maria():
    profile = make_teacher(username="maria")
    profile.user.email = "maria@example.org"
    profile.user.save()
    return profile


@pytest.fixture
def importer(client):
    client.force_login(staff("importer"))
    return client


def upload(client, text=GOOD, name="results.csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content)})


def test_upload_preview_apply_report(importer, maria, django_capture_on_commit_callbacks):
    assert importer.get(UPLOAD_URL).status_code == 200
    response = upload(importer)
    job = DiagnosticImport.objects.get()
    assert response.status_code == 302
    assert response.url == url("detail", job)

    page = importer.get(url("detail", job)).content.decode()
    assert 'data-count="create">1<' in page
    assert 'data-count="not_registered">1<' in page
    assert 'data-count="rejected">1<' in page
    assert "ещё не наступила" in page
    assert "new@example.org" in page
    assert f"<td>{DAY}</td>" in page  # the rows' dates as the admin writes dates
    assert not DiagnosticResult.objects.exists()  # the preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = importer.post(url("apply", job))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == DiagnosticImportStatus.APPLIED
    assert DiagnosticResult.objects.get().teacher == maria

    page = importer.get(url("detail", job)).content.decode()
    assert "<progress" in page and 'aria-live="polite"' in page
    assert 'data-count="create">1<' in page
    assert "Отправить приглашения" in page

    progress = importer.get(url("progress", job))
    assert progress["Content-Type"] == "application/json"
    data = progress.json()
    assert data.pop("status_label")  # in the admin user's language
    assert data == {
        "status": "applied",
        "total": 3,
        "processed": 3,
        "failed": 0,
        "percent": 100,
        "finished": True,
    }

    csv = importer.get(url("rejected_csv", job))
    assert csv.status_code == 200
    assert "ещё не наступила" in csv.content.decode("utf-8-sig")

    # Applying twice is refused with a message, not an error.
    response = importer.post(url("apply", job), follow=True)
    assert response.status_code == 200
    assert [message.level_tag for message in response.context["messages"]] == ["error"]
    assert DiagnosticResult.objects.count() == 1


def test_invitations_go_out_when_staff_confirm(
    importer, maria, mailoutbox, django_capture_on_commit_callbacks
):
    upload(importer)
    job = DiagnosticImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        importer.post(url("apply", job))
    # Applying tells the registered teacher of the route drafted from the result; the invited
    # teacher hears nothing yet.
    assert [message.to for message in mailoutbox] == [[maria.user.email]]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = importer.post(url("invitations", job))
    assert response.status_code == 302
    assert [message.to for message in mailoutbox] == [["new@example.org"]]
    page = importer.get(url("detail", job)).content.decode()
    assert "Отправить приглашения" not in page
    # The report says the invited teacher's rows are kept until the consent.
    assert "data-pending-note" in page


def test_progress_while_applying(importer):
    job = DiagnosticImport.objects.create(
        file_name="r.csv",
        table={},
        status=DiagnosticImportStatus.APPLYING,
        total_rows=4,
        processed_rows=1,
    )
    assert importer.get(url("progress", job)).json()["percent"] == 25
    page = importer.get(url("detail", job)).content.decode()
    assert 'value="25"' in page
    assert "25 %: обработано строк — 1 из 4" in page


@pytest.mark.parametrize(
    "content, name",
    [
        (b"PK\x03\x04garbage", "results.xlsx"),  # a damaged workbook
        (b"name;city\nx;y\n", "results.csv"),  # no column for the teacher
        (b"", "results.csv"),  # empty
        (b"email\n", "results.pdf"),  # neither CSV nor XLSX
    ],
)
def test_unusable_files_are_refused_next_to_the_field(importer, content, name):
    response = upload(importer, content, name)
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not DiagnosticImport.objects.exists()


def test_a_file_over_the_size_limit_is_refused(importer):
    with override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_MAX_UPLOAD_SIZE": 100}):
        response = upload(importer, GOOD * 3)
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["file"][0].code == "file_size"
    assert not DiagnosticImport.objects.exists()


def test_an_unknown_import_is_not_found(importer):
    assert importer.get("/admin/iom/diagnostics-import/999999/").status_code == 404
    assert importer.get("/admin/iom/diagnostics-import/99999999999999999999999/").status_code == 404


def test_only_centre_staff_with_the_rights_may_import(client):
    allowed = staff("centre")
    head = staff("head", role=StaffRole.CENTRE_HEAD)
    curator = staff("curator", role=StaffRole.CURATOR)
    methodist = staff(
        "methodist", role=StaffRole.MUNICIPAL_METHODIST, municipality=MunicipalityFactory()
    )
    without_rights = UserFactory(username="editor")
    without_rights.user_permissions.add(Permission.objects.get(codename="access_admin"))
    job = importing.create_preview(GOOD.encode(), "r.csv", None)

    for user in (allowed, head):
        client.force_login(user)
        assert client.get(UPLOAD_URL).status_code == 200
        assert client.get(url("detail", job)).status_code == 200
        assert (
            "Импорт из файла"
            in client.get(reverse("wagtail_iom_diagnostics:index")).content.decode()
        )
    for user in (curator, methodist, without_rights):
        client.force_login(user)
        for target in (UPLOAD_URL, url("detail", job), url("progress", job)):
            assert client.get(target).status_code == 302  # sent away: permission denied
        assert client.post(url("apply", job)).status_code == 302
        job.refresh_from_db()
        assert job.status == DiagnosticImportStatus.PREVIEWED
    client.force_login(curator)
    listing = client.get(reverse("wagtail_iom_diagnostics:index")).content.decode()
    assert "Импорт из файла" not in listing
