"""The teacher's profile (section 1) and professional request in the cabinet.

Asserts on status codes, the database and error keys/codes, never on UI text (the site runs in
Russian).
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory, make_teacher
from wagtail_iom.models import (
    Achievement,
    CommunityMembership,
    FurtherEducation,
    ProfessionalRequest,
    RegionalProject,
    TeacherProfile,
)
from wagtail_iom.people.forms import MAX_ROWS

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("wagtail_iom:cabinet_profile")
REQUEST_URL = reverse("wagtail_iom:cabinet_request")
TODAY = timezone.localdate()
LAST_YEAR = TODAY - datetime.timedelta(days=365)
TOMORROW = TODAY + datetime.timedelta(days=1)


def page_data(response):
    """The POST data the page would send as it is displayed (all forms unchanged)."""

    def value(bound):
        v = bound.value()
        return "" if v is None else v

    data = {}
    form = response.context["form"]
    for name in form.fields:
        data[form.add_prefix(name)] = value(form[name])
    for formset in response.context["formsets"].values():
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = value(management[name])
        for row in formset:
            for name in row.fields:
                if name != "DELETE":
                    data[row.add_prefix(name)] = value(row[name])
    return data


NEW_ROWS = {
    "further_education-0-kind": "federal_registry",
    "further_education-0-programme": "Школа современного учителя математики",
    "further_education-0-place": "Академия Минпросвещения России",
    "further_education-0-hours": "100",
    "further_education-0-completed_on": LAST_YEAR.isoformat(),
    "further_education-0-certificate_number": "040000123456",
    "achievements-0-direction": "methodical",
    "achievements-0-description": "Публикация методической разработки урока",
    "achievements-0-year": str(TODAY.year),
    "achievements-0-link": "https://example.org/lesson",
    "communities-0-name": "Ассоциация учителей математики",
    "communities-0-status": "member",
    "regional_projects-0-name": "Школа Минпросвещения",
    "regional_projects-0-role": "Наставник",
}


@pytest.fixture
def place():
    municipality = MunicipalityFactory(name="Гурьевский муниципальный округ")
    return municipality, SchoolFactory(municipality=municipality)


def get_data(client):
    response = client.get(PROFILE_URL)
    assert response.status_code == 200
    return page_data(response)


def row_count(profile):
    return sum(
        model.objects.filter(profile=profile).count()
        for model in (FurtherEducation, Achievement, CommunityMembership, RegionalProject)
    )


# Access ------------------------------------------------------------------------------------


def test_own_profile_renders(teacher_client, teacher):
    response = teacher_client.get(PROFILE_URL)
    assert response.status_code == 200
    assert response.context["cabinet_section"] == "profile"
    assert response.context["form"].instance.pk == teacher.pk
    assert set(response.context["formsets"]) == {
        "further_education",
        "achievements",
        "communities",
        "regional_projects",
    }
    # One empty row per list for a new entry.
    for formset in response.context["formsets"].values():
        assert len(formset.forms) == 1
    content = response.content.decode()
    assert 'id="iom-profile-card"' in content
    assert 'name="further_education-TOTAL_FORMS"' in content


def test_anonymous_is_sent_to_login(client):
    for url in (PROFILE_URL, REQUEST_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("wagtail_iom:login"))


def test_without_consent_is_sent_to_consent(client):
    client.force_login(UserFactory(username="noconsent"))
    for url in (PROFILE_URL, REQUEST_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("wagtail_iom:consent"))


def test_other_methods_are_refused(teacher_client):
    assert teacher_client.put(PROFILE_URL).status_code == 405
    assert teacher_client.delete(REQUEST_URL).status_code == 405


def test_post_without_csrf_token_is_forbidden(teacher):
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher.user)
    response = client.post(PROFILE_URL, {"last_name": "Подделкина", "first_name": "Анна"})
    assert response.status_code == 403
    response = client.post(REQUEST_URL, {"interest_areas": "x", "goal": "y"})
    assert response.status_code == 403
    teacher.refresh_from_db()
    assert teacher.last_name == "Иванова"
    assert not ProfessionalRequest.objects.exists()


# Saving --------------------------------------------------------------------------------------


def test_valid_post_saves_the_card_and_the_rows(teacher_client, teacher, place):
    municipality, school = place
    data = get_data(teacher_client)
    data.update(
        {
            "last_name": "Смирнова",
            "municipality": municipality.pk,
            "school": school.pk,
            "position": "Учитель математики",
            "subjects": "Математика, информатика",
            "education_level": "higher_pedagogical",
            "teaching_experience_years": "12",
            "qualification_category": "first",
            "attestation_date": LAST_YEAR.isoformat(),
            "mentoring_role": "mentor",
            "mentoring_partner": "Котова А. А.",
            **NEW_ROWS,
        }
    )
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code == 302
    assert response.url == PROFILE_URL

    teacher.refresh_from_db()
    assert teacher.last_name == "Смирнова"
    assert (teacher.municipality, teacher.school) == (municipality, school)
    assert teacher.attestation_date == LAST_YEAR
    assert teacher.qualification_category == "first"
    course = FurtherEducation.objects.get(profile=teacher)
    assert (course.kind, course.hours, course.completed_on) == ("federal_registry", 100, LAST_YEAR)
    assert Achievement.objects.get(profile=teacher).year == TODAY.year
    assert CommunityMembership.objects.get(profile=teacher).status == "member"
    assert RegionalProject.objects.get(profile=teacher).role == "Наставник"

    # The page comes back with the saved rows and a fresh empty row in each list.
    response = teacher_client.get(PROFILE_URL)
    for formset in response.context["formsets"].values():
        assert len(formset.forms) == 2
        assert formset.forms[0].instance.pk is not None
        assert formset.forms[1].instance.pk is None


def test_the_empty_rows_are_ignored(teacher_client, teacher):
    data = get_data(teacher_client)
    data["position"] = "Учитель"
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code == 302
    assert row_count(teacher) == 0


def test_a_school_alone_sets_its_municipality(teacher_client, teacher, place):
    municipality, school = place
    data = get_data(teacher_client)
    data.update({"municipality": "", "school": school.pk})
    assert teacher_client.post(PROFILE_URL, data).status_code == 302
    teacher.refresh_from_db()
    assert teacher.municipality == municipality


def test_a_row_is_edited_and_deleted(teacher_client, teacher):
    keep = FurtherEducation.objects.create(
        profile=teacher,
        kind="regional",
        place="ЦНППМ",
        programme="Курс 1",
        hours=36,
        completed_on=LAST_YEAR,
    )
    drop = FurtherEducation.objects.create(
        profile=teacher,
        kind="federal",
        place="ФГАОУ",
        programme="Курс 2",
        hours=72,
        completed_on=LAST_YEAR - datetime.timedelta(days=30),
    )
    response = teacher_client.get(PROFILE_URL)
    forms = response.context["formsets"]["further_education"].forms
    index = {form.instance.pk: i for i, form in enumerate(forms)}
    data = page_data(response)
    data[f"further_education-{index[keep.pk]}-hours"] = "48"
    data[f"further_education-{index[drop.pk]}-DELETE"] = "on"
    assert teacher_client.post(PROFILE_URL, data).status_code == 302
    keep.refresh_from_db()
    assert keep.hours == 48
    assert not FurtherEducation.objects.filter(pk=drop.pk).exists()


def test_schools_are_grouped_by_municipality(teacher_client, place):
    municipality, school = place
    SchoolFactory(municipality=MunicipalityFactory(name="Зеленоградский муниципальный округ"))
    response = teacher_client.get(PROFILE_URL)
    content = response.content.decode()
    assert content.count("<optgroup") == 2
    assert f'<optgroup label="{municipality.name}">' in content


# Bad values: an error on the field, nothing saved --------------------------------------------


def errors_of(response, target):
    if target == "card":
        return response.context["form"].errors
    return response.context["formsets"][target].forms[0].errors


@pytest.mark.parametrize(
    ("target", "field", "value"),
    [
        ("card", "attestation_date", TOMORROW.isoformat()),
        ("card", "attestation_date", "1900-01-01"),
        ("card", "attestation_date", "31.02.2020"),
        ("card", "teaching_experience_years", "-1"),
        ("card", "teaching_experience_years", "300"),
        ("card", "last_name", ""),
        ("card", "education_level", "phd"),
        ("further_education", "completed_on", TOMORROW.isoformat()),
        ("further_education", "hours", "0"),
        ("further_education", "hours", "-8"),
        ("further_education", "hours", "99999999999999999999"),
        ("further_education", "kind", "municipal"),
        ("further_education", "programme", ""),
        ("achievements", "year", str(TODAY.year + 1)),
        ("achievements", "year", "1900"),
        ("achievements", "link", "javascript:alert(1)"),
        ("communities", "status", "king"),
        ("regional_projects", "name", ""),
    ],
)
def test_a_bad_value_is_an_error_on_its_field(teacher_client, teacher, target, field, value):
    data = get_data(teacher_client)
    data.update({"last_name": "Смирнова", **NEW_ROWS})
    key = field if target == "card" else f"{target}-0-{field}"
    data[key] = value
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code == 200
    assert field in errors_of(response, target)
    assert response.context["has_errors"]
    teacher.refresh_from_db()
    assert teacher.last_name == "Иванова"
    assert row_count(teacher) == 0


def test_a_school_of_another_municipality_is_an_error_on_the_school(teacher_client, teacher, place):
    municipality, _school = place
    elsewhere = SchoolFactory(municipality=MunicipalityFactory(name="Другой округ"))
    data = get_data(teacher_client)
    data.update({"municipality": municipality.pk, "school": elsewhere.pk, **NEW_ROWS})
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert [error.code for error in errors["school"]] == ["school_municipality"]
    teacher.refresh_from_db()
    assert teacher.school is None and teacher.municipality is None
    assert row_count(teacher) == 0


def test_a_forged_total_forms_is_refused_without_a_500(teacher_client, teacher):
    data = get_data(teacher_client)
    data.update({"last_name": "Смирнова", **NEW_ROWS})
    data["further_education-TOTAL_FORMS"] = "10000"
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code == 200
    teacher.refresh_from_db()
    assert teacher.last_name == "Иванова"
    assert row_count(teacher) == 0
    # The list is shown again as saved (one empty row), so the next save can work.
    formset = response.context["formsets"]["further_education"]
    assert not formset.is_bound
    assert len(formset.forms) == 1


def test_more_rows_than_allowed_is_an_error(teacher_client, teacher):
    data = get_data(teacher_client)
    data["communities-TOTAL_FORMS"] = str(MAX_ROWS + 1)
    for i in range(MAX_ROWS + 1):
        data[f"communities-{i}-name"] = f"Сообщество {i}"
        data[f"communities-{i}-status"] = "member"
        data[f"communities-{i}-profile"] = teacher.pk
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code == 200
    formset = response.context["formsets"]["communities"]
    assert [e.code for e in formset.non_form_errors().as_data()] == ["too_many_forms"]
    assert row_count(teacher) == 0


def test_a_missing_management_form_is_refused_without_a_500(teacher_client, teacher):
    data = get_data(teacher_client)
    data.update({"last_name": "Смирнова", **NEW_ROWS})
    for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
        del data[f"achievements-{key}"]
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code == 200
    teacher.refresh_from_db()
    assert teacher.last_name == "Иванова"
    assert row_count(teacher) == 0
    assert not response.context["formsets"]["achievements"].is_bound


def test_an_empty_post_is_refused_without_a_500(teacher_client, teacher):
    response = teacher_client.post(PROFILE_URL, {})
    assert response.status_code == 200
    assert "last_name" in response.context["form"].errors
    teacher.refresh_from_db()
    assert teacher.last_name == "Иванова"


def test_another_teachers_row_cannot_be_changed(teacher_client, teacher, other_teacher):
    theirs = FurtherEducation.objects.create(
        profile=other_teacher,
        kind="regional",
        place="ЦНППМ",
        programme="Чужой курс",
        hours=36,
        completed_on=LAST_YEAR,
    )
    mine = FurtherEducation.objects.create(
        profile=teacher,
        kind="regional",
        place="ЦНППМ",
        programme="Мой курс",
        hours=24,
        completed_on=LAST_YEAR,
    )
    response = teacher_client.get(PROFILE_URL)
    data = page_data(response)
    # As an existing row (in place of the teacher's own), as a new row, and marked for deletion.
    for changes in (
        {"further_education-0-id": theirs.pk, "further_education-0-hours": "1"},
        {
            "further_education-1-id": theirs.pk,
            "further_education-1-hours": "1",
            "further_education-1-kind": "federal",
            "further_education-1-place": "X",
            "further_education-1-programme": "Y",
            "further_education-1-completed_on": LAST_YEAR.isoformat(),
        },
        {"further_education-0-id": theirs.pk, "further_education-0-DELETE": "on"},
        {"further_education-0-profile": other_teacher.pk, "further_education-0-hours": "1"},
    ):
        response = teacher_client.post(PROFILE_URL, {**data, **changes})
        assert response.status_code == 200, changes
        theirs.refresh_from_db()
        assert (theirs.profile_id, theirs.hours, theirs.programme) == (
            other_teacher.pk,
            36,
            "Чужой курс",
        )
        mine.refresh_from_db()
        assert mine.hours == 24
        assert FurtherEducation.objects.count() == 2


def test_only_the_own_profile_is_edited(teacher_client, teacher, other_teacher):
    data = get_data(teacher_client)
    data.update({"last_name": "Смирнова", "user": other_teacher.user.pk, "id": other_teacher.pk})
    assert teacher_client.post(PROFILE_URL, data).status_code == 302
    teacher.refresh_from_db()
    other_teacher.refresh_from_db()
    assert teacher.last_name == "Смирнова"
    assert teacher.user.username == "teacher"
    assert other_teacher.last_name == "Петров"


def test_page_queries_do_not_grow_with_the_rows(teacher_client, teacher, place):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    municipality, _school = place
    SchoolFactory.create_batch(3, municipality=municipality)

    def count():
        teacher_client.get(PROFILE_URL)  # warm caches (sessions, site, translations)
        with CaptureQueriesContext(connection) as queries:
            assert teacher_client.get(PROFILE_URL).status_code == 200
        return len(queries)

    few = count()
    for i in range(8):
        FurtherEducation.objects.create(
            profile=teacher,
            kind="regional",
            place="ЦНППМ",
            programme=f"Курс {i}",
            hours=36,
            completed_on=LAST_YEAR,
        )
        Achievement.objects.create(
            profile=teacher, direction="methodical", description=f"Статья {i}", year=TODAY.year
        )
        CommunityMembership.objects.create(profile=teacher, name=f"РМО {i}", status="member")
    SchoolFactory.create_batch(20, municipality=municipality)
    assert count() == few


# The professional request ------------------------------------------------------------------


def test_request_is_written_and_rewritten(teacher_client, teacher):
    response = teacher_client.get(REQUEST_URL)
    assert response.status_code == 200
    assert response.context["cabinet_section"] == "request"
    assert response.context["is_new"]

    words = {
        "interest_areas": "Функциональная грамотность, проектная деятельность",
        "needs": "Методики работы с одарёнными детьми",
        "goal": "Подготовиться к аттестации на высшую категорию",
    }
    response = teacher_client.post(REQUEST_URL, words)
    assert response.status_code == 302
    assert response.url == REQUEST_URL
    saved = ProfessionalRequest.objects.get(profile=teacher)
    assert saved.goal == words["goal"]

    response = teacher_client.get(REQUEST_URL)
    assert not response.context["is_new"]
    assert response.context["form"].instance.pk == saved.pk

    response = teacher_client.post(REQUEST_URL, {**words, "needs": ""})
    assert response.status_code == 302
    assert ProfessionalRequest.objects.filter(profile=teacher).count() == 1
    saved.refresh_from_db()
    assert saved.needs == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [("interest_areas", ""), ("goal", "   "), ("goal", "x" * 4001), ("needs", "a\x00b")],
)
def test_request_bad_values_are_errors(teacher_client, teacher, field, value):
    words = {"interest_areas": "Интересы", "needs": "", "goal": "Цель"}
    response = teacher_client.post(REQUEST_URL, {**words, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ProfessionalRequest.objects.exists()


def test_request_of_another_teacher_is_not_touched(teacher_client, teacher, other_teacher):
    theirs = ProfessionalRequest.objects.create(
        profile=other_teacher, interest_areas="Их интересы", goal="Их цель"
    )
    response = teacher_client.post(
        REQUEST_URL,
        {"interest_areas": "Мои", "goal": "Моя", "profile": other_teacher.pk, "id": theirs.pk},
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.goal == "Их цель"
    assert ProfessionalRequest.objects.get(profile=teacher).goal == "Моя"


def test_a_teacher_made_elsewhere_has_a_working_page(client):
    profile = make_teacher(username="fresh")
    client.force_login(profile.user)
    assert client.get(PROFILE_URL).status_code == 200
    assert TeacherProfile.objects.filter(pk=profile.pk).exists()
