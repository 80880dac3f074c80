import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import MunicipalityFactory, SchoolFactory, valid_inn
from wagtail_iom.core.validators import validate_oktmo, validate_organisation_inn
from wagtail_iom.directory.framework import DEFAULT_FRAMEWORK
from wagtail_iom.models import Competency, CompetencyGroup, School

pytestmark = pytest.mark.django_db


def test_the_data_migration_loads_every_default_group_in_the_sites_language():
    codes = list(CompetencyGroup.objects.values_list("code", flat=True))
    assert codes == [
        "subject",
        "meta-subject",
        "methodical",
        "psychological-pedagogical",
        "communicative",
        "digital",
        "inclusive",
        "upbringing",
    ]
    assert Competency.objects.count() == sum(len(g["competencies"]) for g in DEFAULT_FRAMEWORK)
    # The sandbox runs in Russian, so the migration stored Russian names.
    assert CompetencyGroup.objects.get(code="methodical").name == "Методические компетенции"


def test_the_framework_is_editable_and_reloading_keeps_edits():
    from wagtail_iom.directory.framework import load_default_framework

    group = CompetencyGroup.objects.get(code="digital")
    group.name = "Цифровая грамотность"
    group.save()
    Competency.objects.filter(code="DIG-2").delete()
    created = load_default_framework(CompetencyGroup, Competency)
    assert created == 1  # only the deleted competency comes back
    assert CompetencyGroup.objects.get(code="digital").name == "Цифровая грамотность"


def test_school_names_are_unique_within_a_municipality_ignoring_case():
    school = SchoolFactory(name="Гимназия № 1")
    SchoolFactory(name="Гимназия № 1")  # another municipality: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        School.objects.create(municipality=school.municipality, name="ГИМНАЗИЯ № 1")


def test_inn_is_unique_when_given_and_may_be_blank_for_many():
    SchoolFactory(inn="")
    SchoolFactory(inn="")
    school = SchoolFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolFactory(inn=school.inn)


def test_full_clean_reports_constraints_in_the_users_words():
    municipality = MunicipalityFactory(name="Гурьевский муниципальный округ")
    duplicate = type(municipality)(name="гурьевский муниципальный округ")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "already exists" in str(excinfo.value) or "уже существует" in str(excinfo.value)


@pytest.mark.parametrize("value", ["3900100010", valid_inn(5)])
def test_valid_inns_pass(value):
    validate_organisation_inn(value)


@pytest.mark.parametrize("value", ["3900100011", "12345", "39001000a0", ""])
def test_invalid_inns_fail(value):
    with pytest.raises(ValidationError):
        validate_organisation_inn(value)


def test_oktmo_has_8_or_11_digits():
    validate_oktmo("27701000")
    validate_oktmo("27701000001")
    for bad in ("2770100", "27701000x", "277010000"):
        with pytest.raises(ValidationError):
            validate_oktmo(bad)


def test_str():
    school = SchoolFactory(name="Муниципальное учреждение «Школа № 3»", short_name="Школа № 3")
    assert str(school) == "Школа № 3"
    school.short_name = ""
    assert str(school) == "Муниципальное учреждение «Школа № 3»"
    assert str(Competency.objects.get(code="METH-1")).startswith("METH-1 ")
