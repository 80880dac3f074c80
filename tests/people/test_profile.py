"""The profile service: further education of the last three years, completeness, atomic saving."""

import datetime

import pytest

from tests.factories import MunicipalityFactory, SchoolFactory, make_teacher
from wagtail_iom.models import (
    Achievement,
    CommunityMembership,
    FurtherEducation,
    ProfessionalRequest,
    RegionalProject,
)
from wagtail_iom.people import profile as service
from wagtail_iom.people.forms import TeacherProfileForm, profile_formsets

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


TODAY = datetime.date(2026, 3, 15)


def course(profile, kind, completed_on, hours=36):
    return FurtherEducation.objects.create(
        profile=profile,
        kind=kind,
        place="ЦНППМ",
        programme=f"Курс {kind} {completed_on}",
        hours=hours,
        completed_on=completed_on,
    )


def test_recent_since_is_three_years_back_even_from_29_february():
    assert service.recent_since(TODAY) == datetime.date(2023, 3, 15)
    assert service.recent_since(datetime.date(2024, 2, 29)) == datetime.date(2021, 2, 28)


def test_further_education_is_grouped_by_kind_for_the_last_three_years(
    teacher, other_teacher, django_assert_num_queries
):
    newest = course(teacher, "regional", datetime.date(2025, 10, 1), hours=72)
    older = course(teacher, "regional", datetime.date(2023, 3, 15), hours=18)  # the first day
    course(teacher, "regional", datetime.date(2023, 3, 14))  # a day too old
    registry = course(teacher, "federal_registry", datetime.date(2024, 6, 1), hours=100)
    course(other_teacher, "federal", datetime.date(2025, 1, 1))

    with django_assert_num_queries(1):
        groups = service.recent_further_education(teacher, today=TODAY)

    assert [group.kind for group in groups] == ["regional", "federal", "federal_registry"]
    regional, federal, in_registry = groups
    assert regional.courses == [newest, older]
    assert regional.hours == 90
    assert federal.courses == [] and federal.hours == 0
    assert in_registry.courses == [registry]
    assert str(in_registry.label) == "In the federal registry of programmes"


def test_completeness_of_an_empty_profile(teacher, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = service.profile_completeness(teacher, today=TODAY)
    assert result.filled_count == 0
    assert result.total == 5
    assert not result.is_complete
    assert [section.key for section in result.missing] == [
        "card",
        "further_education",
        "achievements",
        "communities",
        "request",
    ]
    assert result.sections[-1].url_name == "wagtail_iom:cabinet_request"


def test_completeness_of_a_full_profile(teacher, other_teacher):
    municipality = MunicipalityFactory()
    teacher.municipality = municipality
    teacher.school = SchoolFactory(municipality=municipality)
    teacher.position = "Учитель"
    teacher.education_level = "higher"
    teacher.qualification_category = "first"
    teacher.save()
    course(teacher, "federal", datetime.date(2025, 1, 1))
    Achievement.objects.create(
        profile=teacher, direction="methodical", description="Статья", year=2025
    )
    RegionalProject.objects.create(profile=teacher, name="Проект")
    ProfessionalRequest.objects.create(profile=teacher, interest_areas="И", goal="Ц")
    # Another teacher's rows count for nobody else.
    CommunityMembership.objects.create(profile=other_teacher, name="РМО", status="member")

    result = service.profile_completeness(teacher, today=TODAY)
    assert result.is_complete
    assert service.profile_completeness(other_teacher, today=TODAY).filled_count == 1


def test_old_courses_do_not_fill_the_section(teacher):
    course(teacher, "federal", datetime.date(2020, 1, 1))
    result = service.profile_completeness(teacher, today=TODAY)
    assert "further_education" in [section.key for section in result.missing]


def test_save_profile_is_all_or_nothing(teacher, monkeypatch):
    data = {
        "last_name": "Смирнова",
        "first_name": "Анна",
        "further_education-TOTAL_FORMS": "1",
        "further_education-INITIAL_FORMS": "0",
        "further_education-0-kind": "regional",
        "further_education-0-programme": "Курс",
        "further_education-0-place": "ЦНППМ",
        "further_education-0-hours": "36",
        "further_education-0-completed_on": "2025-01-01",
    }
    for prefix in ("achievements", "communities", "regional_projects"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    form = TeacherProfileForm(data, instance=teacher)
    formsets = profile_formsets(teacher, data=data)
    assert form.is_valid() and all(f.is_valid() for f in formsets.values())

    def broken_save(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(formsets["communities"], "save", broken_save)
    with pytest.raises(RuntimeError):
        service.save_profile(form, formsets.values())
    teacher.refresh_from_db()
    assert teacher.last_name == "Иванова"
    assert not FurtherEducation.objects.exists()


def test_professional_request_of(teacher):
    assert service.professional_request_of(teacher) is None
    saved = ProfessionalRequest.objects.create(profile=teacher, interest_areas="И", goal="Ц")
    assert service.professional_request_of(make_teacher(username="x")) is None
    teacher.refresh_from_db()
    assert service.professional_request_of(teacher) == saved
