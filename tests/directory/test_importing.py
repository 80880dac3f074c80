import io
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from openpyxl import Workbook

from tests.factories import MunicipalityFactory, SchoolFactory, valid_inn
from wagtail_iom.directory.importing import (
    ACTION_CREATE_SCHOOL,
    ACTION_UNCHANGED,
    ACTION_UPDATE_SCHOOL,
    DirectoryImportError,
    apply_directory_import,
    plan_directory_import,
)
from wagtail_iom.models import Municipality, School, SchoolKind

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


INN_A, INN_B, INN_C = valid_inn(101), valid_inn(102), valid_inn(103)


def csv_bytes(*lines, encoding="utf-8"):
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


GOOD_FILE = csv_bytes(
    "Муниципалитет;ОКТМО;Образовательная организация;Краткое наименование;Тип;ИНН;Адрес",
    f"Гусевский городской округ;27710000;МАОУ «Гимназия № 1» г. Гусева;Гимназия № 1;гимназия;{INN_A};г. Гусев",
    f"Гусевский городской округ;;МАОУ «СОШ № 3» г. Гусева;СОШ № 3;secondary_school;{INN_B};",
    "Светлогорский городской округ;27732000;;;;;",
)


def test_plan_writes_nothing_and_says_what_would_happen():
    plan = plan_directory_import(GOOD_FILE, "schools.csv")
    assert Municipality.objects.count() == 0
    assert School.objects.count() == 0
    assert plan.counts == {
        "municipalities_created": 2,
        "municipalities_updated": 0,
        "schools_created": 2,
        "schools_updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert [row.action for row in plan.rows] == [
        ACTION_CREATE_SCHOOL,
        ACTION_CREATE_SCHOOL,
        "create_municipality",
    ]


def test_apply_saves_good_rows_and_second_apply_changes_nothing():
    apply_directory_import(GOOD_FILE, "schools.csv")
    gusev = Municipality.objects.get(oktmo="27710000")
    assert gusev.name == "Гусевский городской округ"
    gymnasium = School.objects.get(inn=INN_A)
    assert gymnasium.municipality == gusev
    assert gymnasium.kind == SchoolKind.GYMNASIUM
    assert gymnasium.short_name == "Гимназия № 1"
    assert Municipality.objects.filter(name="Светлогорский городской округ").exists()

    again = apply_directory_import(GOOD_FILE, "schools.csv")
    assert not again.has_changes
    assert again.counts["unchanged"] == 3
    assert School.objects.count() == 2


def test_cp1251_and_utf8_files_import_the_same():
    cp1251 = GOOD_FILE.decode("utf-8").encode("cp1251")
    plan = plan_directory_import(cp1251, "schools.csv")
    assert plan.encoding == "cp1251"
    assert plan.counts["schools_created"] == 2
    assert plan.rows[0].school == "МАОУ «Гимназия № 1» г. Гусева"


def test_xlsx_file():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["municipality", "school", "kind", "inn"])
    sheet.append(["Гусевский городской округ", "Лицей № 5", "Lyceum", int(INN_C)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    apply_directory_import(buffer.getvalue(), "schools.xlsx")
    assert School.objects.get(inn=INN_C).kind == SchoolKind.LYCEUM


def test_existing_schools_are_matched_by_inn_then_by_name_and_updated():
    gusev = MunicipalityFactory(name="Гусевский городской округ")
    by_inn = SchoolFactory(municipality=gusev, name="Старое название", inn=INN_A)
    by_name = SchoolFactory(municipality=gusev, name="МАОУ «СОШ № 3» г. Гусева", inn="", address="")
    plan = apply_directory_import(GOOD_FILE, "schools.csv")
    assert [row.action for row in plan.rows[:2]] == [ACTION_UPDATE_SCHOOL, ACTION_UPDATE_SCHOOL]
    by_inn.refresh_from_db()
    by_name.refresh_from_db()
    assert by_inn.name == "МАОУ «Гимназия № 1» г. Гусева"
    assert by_name.inn == INN_B
    assert School.objects.count() == 2
    gusev.refresh_from_db()
    assert gusev.oktmo == "27710000"  # filled in from the file


def test_names_differing_only_in_case_spaces_and_yo_are_the_same():
    MunicipalityFactory(name="Гусевский городской округ")
    content = csv_bytes("municipality", "  гусевский   ГОРОДСКОЙ округ ")
    plan = plan_directory_import(content, "m.csv")
    assert [row.action for row in plan.rows] == [ACTION_UNCHANGED]


def test_bad_rows_are_rejected_with_reasons_and_good_rows_still_saved():
    SchoolFactory(inn=INN_C, name="Школа в другом месте")
    content = csv_bytes(
        "municipality;school;kind;inn",
        f"Гусевский городской округ;Гимназия № 1;гимназия;{INN_A}",
        ";Школа без муниципалитета;;",
        "Гусевский городской округ;Школа № 9;космическая школа;",
        "Гусевский городской округ;Школа № 10;;3900100011",
        f"Гусевский городской округ;Гимназия № 2;;{INN_A}",
        "Гусевский городской округ;гимназия № 1;;",
        "Гусевский городской округ;;;" + INN_B,
        "Гусевский городской округ;" + "Я" * 501 + ";;",
        "Гусевский городской округ;Школа № 11;;",
    )
    plan = apply_directory_import(content, "schools.csv")
    reasons = {row.line: row.reason for row in plan.rejected}
    assert set(reasons) == {3, 4, 5, 6, 7, 8, 9}
    assert "municipality is empty" in reasons[3]
    assert "космическая школа" in reasons[4]
    assert "control digit" in reasons[5]
    assert "repeats line 2" in reasons[6]
    assert "repeats line 2" in reasons[7]
    assert "name is empty" in reasons[8]
    assert "500" in reasons[9]
    assert set(School.objects.values_list("name", flat=True)) == {
        "Школа в другом месте",
        "Гимназия № 1",
        "Школа № 11",
    }
    report = plan.as_report()
    assert report["counts"]["rejected"] == 7
    assert report["rejected"][0]["values"]["school"] == "Школа без муниципалитета"


def test_conflicting_codes_are_rejected_not_overwritten():
    MunicipalityFactory(name="Гусевский городской округ", oktmo="27710000")
    SchoolFactory(name="Гимназия № 1", inn=INN_A)
    content = csv_bytes(
        "municipality;oktmo;school;inn",
        "Гусевский городской округ;27799000;;",
    )
    plan = plan_directory_import(content, "m.csv")
    assert "27799000" in plan.rejected[0].reason


def test_file_without_a_municipality_column_is_refused_whole():
    with pytest.raises(DirectoryImportError, match="municipality column"):
        plan_directory_import(csv_bytes("school;inn", "Школа;"), "s.csv")


def test_unknown_columns_are_reported_and_ignored():
    plan = plan_directory_import(
        csv_bytes("municipality;director", "Гусевский городской округ;Иванов"), "m.csv"
    )
    assert plan.unknown_columns == ["director"]
    assert plan.counts["municipalities_created"] == 1


def test_a_failed_apply_leaves_nothing_half_written():
    original_bulk_create = School.objects.bulk_create

    with (
        mock.patch.object(
            School.objects.__class__,
            "bulk_create",
            side_effect=DatabaseError("disk full"),
        ),
        pytest.raises(DatabaseError),
    ):
        apply_directory_import(GOOD_FILE, "schools.csv")
    assert original_bulk_create  # the patch is gone again
    # The municipalities were written before the schools failed: they were rolled back too.
    assert Municipality.objects.count() == 0
    assert School.objects.count() == 0


def test_imported_schools_are_found_by_the_search_index():
    from wagtail.search.backends import get_search_backend

    apply_directory_import(GOOD_FILE, "schools.csv")
    results = get_search_backend().autocomplete("гимназ", School)
    assert [s.inn for s in results] == [INN_A]


def test_a_municipality_renamed_by_its_oktmo_is_matched_by_its_new_name_afterwards():
    MunicipalityFactory(name="Гусевский муниципальный район", oktmo="27710000")
    apply_directory_import(
        csv_bytes("municipality;oktmo", "Гусевский городской округ;27710000"), "m.csv"
    )
    renamed = Municipality.objects.get(oktmo="27710000")
    assert renamed.name == "Гусевский городской округ"
    assert renamed.name_key == "гусевский городской округ"
    # The database's uniqueness now guards the new name.
    duplicate = Municipality(name="ГУСЕВСКИЙ городской округ")
    with pytest.raises(ValidationError):
        duplicate.full_clean()


def test_stale_previews_are_deleted_and_applied_imports_kept(settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from wagtail_iom.directory.importing import delete_stale_import_previews
    from wagtail_iom.models import DirectoryImport, DirectoryImportStatus
    from wagtail_iom.tasks import clear_import_previews

    old = timezone.now() - timedelta(days=8)
    stale = DirectoryImport.objects.create(file_name="old.csv", content=b"x")
    applied = DirectoryImport.objects.create(
        file_name="done.csv", content=b"x", status=DirectoryImportStatus.APPLIED
    )
    fresh = DirectoryImport.objects.create(file_name="new.csv", content=b"x")
    DirectoryImport.objects.filter(pk__in=[stale.pk, applied.pk]).update(created_at=old)

    assert delete_stale_import_previews() == 1
    assert set(DirectoryImport.objects.values_list("pk", flat=True)) == {applied.pk, fresh.pk}

    settings.WAGTAIL_IOM = {"IMPORT_PREVIEW_RETENTION_DAYS": 1}
    DirectoryImport.objects.filter(pk=fresh.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert clear_import_previews.delay().get() == 1  # the Celery task, run eagerly
    call_command("iom_clear_import_previews", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(DirectoryImport.objects.values_list("pk", flat=True)) == [applied.pk]


# The number of teachers ----------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Число педагогов", "teachers", "Количество педагогов"])
def test_the_number_of_teachers_is_imported(header):
    content = csv_bytes(
        f"Муниципалитет;Образовательная организация;{header}",
        "Гусевский городской округ;СОШ № 1;48",
        "Гусевский городской округ;СОШ № 2;0",
        "Гусевский городской округ;СОШ № 3;",
    )
    plan = apply_directory_import(content, "schools.csv")
    assert plan.rejected == [] and plan.unknown_columns == []
    counts = dict(School.objects.values_list("name", "teacher_count"))
    assert counts == {"СОШ № 1": 48, "СОШ № 2": 0, "СОШ № 3": None}


def test_the_number_of_teachers_updates_and_an_empty_cell_keeps_it():
    school = SchoolFactory(name="СОШ № 1", teacher_count=10)
    other = SchoolFactory(name="СОШ № 2", municipality=school.municipality, teacher_count=7)
    name = school.municipality.name
    plan = apply_directory_import(
        csv_bytes(
            "municipality;school;teachers",
            f"{name};СОШ № 1;1 250",  # spaces between thousands are fine
            f"{name};СОШ № 2;",
        ),
        "schools.csv",
    )
    assert [row.action for row in plan.rows] == [ACTION_UPDATE_SCHOOL, ACTION_UNCHANGED]
    assert plan.rows[0].changes == ["number of teachers"]
    school.refresh_from_db()
    other.refresh_from_db()
    assert (school.teacher_count, other.teacher_count) == (1250, 7)


def test_the_number_of_teachers_from_a_workbook():
    workbook = Workbook()
    workbook.active.append(["Муниципалитет", "Школа", "Число педагогов"])
    workbook.active.append(["Гусевский городской округ", "СОШ № 1", 48])
    stream = io.BytesIO()
    workbook.save(stream)
    plan = apply_directory_import(stream.getvalue(), "schools.xlsx")
    assert plan.rejected == []
    assert School.objects.get().teacher_count == 48


def test_bad_numbers_of_teachers_are_rejected_per_row():
    plan = apply_directory_import(
        csv_bytes(
            "Муниципалитет;Образовательная организация;Число педагогов",
            "Гусевский городской округ;СОШ № 1;сорок",
            "Гусевский городской округ;СОШ № 2;-3",
            "Гусевский городской округ;СОШ № 3;4.5",
            "Гусевский городской округ;СОШ № 4;²",
            "Гусевский городской округ;;12",
            "Гусевский городской округ;СОШ № 5;31",
        ),
        "schools.csv",
    )
    assert [(row.line, row.reason.split(" ")[:4]) for row in plan.rejected] == [
        (2, ["The", "number", "of", "teachers"]),
        (3, ["The", "number", "of", "teachers"]),
        (4, ["The", "number", "of", "teachers"]),
        (5, ["The", "number", "of", "teachers"]),
        (6, ["The", "number", "of", "teachers"]),
    ]
    assert "“сорок” is not a whole number" in plan.rejected[0].reason
    assert "without a school" in plan.rejected[4].reason
    assert list(School.objects.values_list("name", "teacher_count")) == [("СОШ № 5", 31)]
