"""The admin screens of the directory: listings, search, filters, exports and the import."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from tests.core.test_tabular import damaged_workbook, zip_of
from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory, valid_inn
from wagtail_iom.models import DirectoryImport, DirectoryImportStatus, Municipality, School

pytestmark = pytest.mark.django_db

INN_A, INN_B = valid_inn(201), valid_inn(202)


@pytest.fixture
def schools():
    gusev = MunicipalityFactory(name="Гусевский городской округ")
    svetly = MunicipalityFactory(name="Светловский городской округ")
    return [
        SchoolFactory(municipality=gusev, name="Гимназия № 1 г. Гусева", kind="gymnasium"),
        SchoolFactory(municipality=gusev, name="Средняя школа № 3 г. Гусева"),
        SchoolFactory(municipality=svetly, name="Лицей № 5 г. Светлого", kind="lyceum", inn=""),
    ]


def listing_names(response):
    return [str(obj) for obj in response.context["object_list"]]


def test_school_listing_shows_schools_with_their_municipality(admin_client, schools):
    response = admin_client.get(reverse("wagtail_iom_school:index"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Гусевский городской округ" in content
    assert len(response.context["object_list"]) == 3


def test_search_finds_cyrillic_in_any_case_and_by_word_start(admin_client, schools):
    url = reverse("wagtail_iom_school:index")
    for query in ("гимназ", "ГИМНАЗИЯ", "Гимназия"):
        response = admin_client.get(url, {"q": query})
        assert listing_names(response) == [str(schools[0])], query


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "lyceum"}, [2]),
        ({"has_inn": "false"}, [2]),
        ({"has_inn": "true"}, [0, 1]),
    ],
)
def test_school_filters(admin_client, schools, params, expected):
    response = admin_client.get(reverse("wagtail_iom_school:index"), params)
    assert sorted(listing_names(response)) == sorted(str(schools[i]) for i in expected)


def test_filter_by_municipality(admin_client, schools):
    params = {"municipality": schools[2].municipality_id}
    response = admin_client.get(reverse("wagtail_iom_school:index"), params)
    assert listing_names(response) == [str(schools[2])]


def test_bad_filter_value_is_a_form_message_not_an_error(admin_client, schools):
    response = admin_client.get(reverse("wagtail_iom_school:index"), {"municipality": "abc"})
    assert response.status_code == 200


def test_listing_query_count_does_not_grow_with_the_rows(admin_client):
    municipality = MunicipalityFactory()
    SchoolFactory.create_batch(3, municipality=municipality)
    url = reverse("wagtail_iom_school:index")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    SchoolFactory.create_batch(15, municipality=MunicipalityFactory())
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few)


def test_csv_export_holds_cyrillic_rows(admin_client, schools):
    response = admin_client.get(reverse("wagtail_iom_school:index"), {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "Гимназия № 1 г. Гусева" in body
    assert "Гусевский городской округ" in body
    assert "Гимназия" in body  # the kind's label, not its code


def test_xlsx_export(admin_client, schools):
    response = admin_client.get(reverse("wagtail_iom_school:index"), {"export": "xlsx"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4  # the headings and three schools
    assert any(row[0] == "Лицей № 5 г. Светлого" for row in rows)


def test_municipality_listing_counts_schools(admin_client, schools):
    response = admin_client.get(reverse("wagtail_iom_municipality:index"))
    assert response.status_code == 200
    gusev = next(m for m in response.context["object_list"] if m.name.startswith("Гусев"))
    assert gusev.school_count == 2


def test_duplicate_name_in_the_form_is_a_message_next_to_the_field(admin_client, schools):
    response = admin_client.post(
        reverse("wagtail_iom_school:add"),
        {
            "municipality": schools[0].municipality_id,
            "name": "ГИМНАЗИЯ № 1  г. Гусева",
            "kind": "gymnasium",
        },
    )
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert School.objects.count() == 3


def test_bad_inn_in_the_form(admin_client, schools):
    response = admin_client.post(
        reverse("wagtail_iom_school:add"),
        {
            "municipality": schools[0].municipality_id,
            "name": "Новая школа",
            "kind": "other",
            "inn": "123",
        },
    )
    assert response.status_code == 200
    assert "inn" in response.context["form"].errors


def test_competency_listing_and_group_filter(admin_client):
    from wagtail_iom.models import CompetencyGroup

    digital = CompetencyGroup.objects.get(code="digital")
    response = admin_client.get(reverse("wagtail_iom_competency:index"), {"group": digital.pk})
    assert response.status_code == 200
    codes = sorted(c.code for c in response.context["object_list"])
    assert codes == ["DIG-1", "DIG-2"]


# The import -------------------------------------------------------------------------------

IMPORT_CSV = (
    "Муниципалитет;Образовательная организация;Тип;ИНН\r\n"
    f"Гусевский городской округ;Гимназия № 1;гимназия;{INN_A}\r\n"
    f"Гусевский городской округ;Школа № 2;;{INN_B}\r\n"
    ";Школа без муниципалитета;;\r\n"
).encode("cp1251")


def upload(client, content=IMPORT_CSV, name="schools.csv"):
    return client.post(
        reverse("wagtail_iom_directory_import:upload"),
        {"file": SimpleUploadedFile(name, content)},
    )


def test_upload_shows_a_preview_and_writes_nothing(admin_client):
    response = upload(admin_client)
    record = DirectoryImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("wagtail_iom_directory_import:detail", args=[record.pk])
    assert School.objects.count() == 0
    preview = admin_client.get(response.url)
    content = preview.content.decode()
    assert preview.status_code == 200
    assert "Гимназия № 1" in content
    assert "Школа без муниципалитета" in content  # the rejected row, with its reason
    assert "Не указан муниципалитет." in content
    assert record.report["counts"]["schools_created"] == 2


def test_apply_saves_the_good_rows_and_keeps_the_report(admin_client):
    upload(admin_client)
    record = DirectoryImport.objects.get()
    response = admin_client.post(reverse("wagtail_iom_directory_import:apply", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == DirectoryImportStatus.APPLIED
    assert set(School.objects.values_list("inn", flat=True)) == {INN_A, INN_B}
    assert Municipality.objects.count() == 1
    rejected = admin_client.get(
        reverse("wagtail_iom_directory_import:rejected_csv", args=[record.pk])
    )
    assert "Не указан муниципалитет." in rejected.content.decode("utf-8-sig")
    # Applying twice does not import twice.
    admin_client.post(reverse("wagtail_iom_directory_import:apply", args=[record.pk]))
    assert School.objects.count() == 2


def test_a_failing_apply_is_reported_and_leaves_nothing(admin_client, monkeypatch):
    from django.db import DatabaseError

    from wagtail_iom.directory import importing as directory_import

    upload(admin_client)
    record = DirectoryImport.objects.get()

    def broken_index(model, objects):
        raise DatabaseError("the search index is unavailable")

    monkeypatch.setattr(directory_import, "_index", broken_index)
    response = admin_client.post(
        reverse("wagtail_iom_directory_import:apply", args=[record.pk]), follow=True
    )
    assert response.status_code == 200
    assert "the search index is unavailable" in response.content.decode()
    record.refresh_from_db()
    assert record.status == DirectoryImportStatus.FAILED
    assert School.objects.count() == 0
    assert Municipality.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"municipality\r\n", "schools.pdf", "Загрузите файл .csv или .xlsx"),
        (b"PK\x03\x04not really a workbook", "schools.xlsx", "Excel"),
        (damaged_workbook("xl/worksheets/sheet1.xml", b"<worksheet><row"), "schools.xlsx", "Excel"),
        (damaged_workbook("xl/workbook.xml", b"<workbook>"), "schools.xlsx", "Excel"),
        (damaged_workbook("xl/styles.xml", b"\x00"), "schools.xlsx", "Excel"),
        (zip_of("readme.txt", b"text"), "schools.csv", "Excel"),
        ("школа;инн\r\nШкола;\r\n".encode(), "schools.csv", "нет столбца с муниципалитетом"),
        (b"", "schools.csv", "пуст"),
    ],
)
def test_bad_files_get_a_message_next_to_the_field(admin_client, content, name, message):
    response = upload(admin_client, content, name)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert DirectoryImport.objects.count() == 0


@override_settings(WAGTAIL_IOM={"IMPORT_MAX_UPLOAD_SIZE": 10})
def test_oversized_file(admin_client):
    response = upload(admin_client)
    assert "принимаются файлы до" in " ".join(response.context["form"].errors["file"])


def test_template_download(admin_client):
    response = admin_client.get(reverse("wagtail_iom_directory_import:template"))
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").startswith("municipality;oktmo;school")


def test_import_needs_the_rights_to_add_and_change_the_directory(client):
    editor = UserFactory(username="editor")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    url = reverse("wagtail_iom_directory_import:upload")
    assert client.get(url).status_code == 302  # sent away with "permission denied"
    upload(client)
    assert DirectoryImport.objects.count() == 0
    codenames = ["add_school", "change_school", "add_municipality", "change_municipality"]
    editor.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    assert client.get(url).status_code == 200


def test_import_menu_item_is_shown_only_to_those_who_may_import(client, admin_client):
    from wagtail_iom.core.access import can_import_directory

    editor = UserFactory(username="reader")
    assert not can_import_directory(editor)
    response = admin_client.get(reverse("wagtailadmin_home"))
    assert reverse("wagtail_iom_directory_import:upload") in response.content.decode()


def test_the_number_of_teachers_in_the_form_and_the_export(admin_client, schools):
    url = reverse("wagtail_iom_school:add")
    data = {"municipality": schools[0].municipality_id, "name": "Новая школа", "kind": "other"}
    response = admin_client.post(url, {**data, "teacher_count": "-1"})
    assert response.status_code == 200
    assert "teacher_count" in response.context["form"].errors
    admin_client.post(url, {**data, "teacher_count": "48"})
    assert School.objects.get(name="Новая школа").teacher_count == 48
    response = admin_client.get(reverse("wagtail_iom_school:index"), {"export": "xlsx"})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert ("Новая школа", 48) in {(row[0], row[-1]) for row in rows}


def test_the_template_names_the_number_of_teachers(admin_client):
    response = admin_client.get(reverse("wagtail_iom_directory_import:template"))
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header.split(";")[-1] == "teacher_count"
