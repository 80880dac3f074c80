"""The teachers' profiles in the Wagtail admin: listing, search, filters, the edit form, rights."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory, make_teacher
from wagtail_iom.models import FurtherEducation, ProfessionalRequest, TeacherProfile

pytestmark = pytest.mark.django_db

INDEX = reverse("wagtail_iom_teachers:index")


def edit_url(profile):
    return reverse("wagtail_iom_teachers:edit", args=[profile.pk])


@pytest.fixture
def teachers(teacher, other_teacher):
    gusev = MunicipalityFactory(name="Гусевский городской округ")
    svetly = MunicipalityFactory(name="Светловский городской округ")
    teacher.municipality = gusev
    teacher.school = SchoolFactory(municipality=gusev)
    teacher.qualification_category = "highest"
    teacher.position = "Учитель физики"
    teacher.save()
    other_teacher.municipality = svetly
    other_teacher.school = SchoolFactory(municipality=svetly)
    other_teacher.qualification_category = "first"
    other_teacher.save()
    return teacher, other_teacher


def names(response):
    return sorted(profile.last_name for profile in response.context["object_list"])


def staff_user(*codenames):
    user = UserFactory(username="curator", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="wagtail_iom")
        )
    return user


def test_listing(admin_client, teachers):
    response = admin_client.get(INDEX)
    assert response.status_code == 200
    assert names(response) == ["Иванова", "Петров"]
    content = response.content.decode()
    assert "Гусевский городской округ" in content
    assert "Иванова Мария Петровна" in content
    assert edit_url(teachers[0]) in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("иванова", ["Иванова"]),
        ("ИВАНОВА", ["Иванова"]),
        ("Мария Иван", ["Иванова"]),
        ("петр", ["Иванова", "Петров"]),  # Петров, and Иванова Мария Петровна
        ("Сидоров", []),
    ],
)
def test_search_by_name(admin_client, teachers, query, expected):
    response = admin_client.get(INDEX, {"q": query})
    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda t: {"municipality": t[0].municipality_id}, ["Иванова"]),
        (lambda t: {"school": t[1].school_id}, ["Петров"]),
        (lambda t: {"qualification_category": "first"}, ["Петров"]),
        (lambda t: {"municipality": "abc"}, ["Иванова", "Петров"]),
    ],
)
def test_filters(admin_client, teachers, params, expected):
    response = admin_client.get(INDEX, params(teachers))
    assert response.status_code == 200
    assert names(response) == expected


def test_listing_queries_do_not_grow_with_the_rows(admin_client, teachers):
    admin_client.get(INDEX)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(INDEX)
    municipality = MunicipalityFactory()
    for n in range(6):
        make_teacher(
            username=f"t{n}",
            last_name=f"Учитель{n}",
            municipality=municipality,
            school=SchoolFactory(municipality=municipality),
        )
    with CaptureQueriesContext(connection) as many:
        admin_client.get(INDEX)
    assert len(many) == len(few)


def test_add_is_not_offered(admin_client, teachers):
    with pytest.raises(NoReverseMatch):
        reverse("wagtail_iom_teachers:add")
    response = admin_client.get(INDEX)
    assert not response.context.get("add_url")
    assert "/iom/teachers/new/" not in response.content.decode()
    assert admin_client.get("/admin/iom/teachers/new/").status_code == 404


def test_edit_page_shows_the_request_read_only(admin_client, teachers):
    teacher = teachers[0]
    response = admin_client.get(edit_url(teacher))
    assert response.status_code == 200
    assert 'id="iom-no-request"' in response.content.decode()
    form = response.context["form"]
    assert "user" not in form.fields and "consent" not in form.fields
    assert set(form.formsets) == {
        "further_education",
        "achievements",
        "communities",
        "regional_projects",
    }

    ProfessionalRequest.objects.create(
        profile=teacher, interest_areas="Цифровая дидактика", goal="Высшая категория к 2027"
    )
    response = admin_client.get(edit_url(teacher))
    content = response.content.decode()
    assert "Цифровая дидактика" in content
    assert 'id="iom-no-request"' not in content


def edit_data(profile, **changes):
    data = {
        "last_name": profile.last_name,
        "first_name": profile.first_name,
        "patronymic": profile.patronymic,
        "municipality": profile.municipality_id or "",
        "school": profile.school_id or "",
        "position": profile.position,
        "subjects": "",
        "education_level": "",
        "education_institution": "",
        "qualification": "",
        "teaching_experience_years": "",
        "qualification_category": profile.qualification_category,
        "attestation_date": "",
        "expert_area": "",
        "mentoring_role": "",
        "mentoring_partner": "",
        "further_education": inline_formset([]),
        "achievements": inline_formset([]),
        "communities": inline_formset([]),
        "regional_projects": inline_formset([]),
    }
    data.update(changes)
    return nested_form_data(data)


def test_edit_saves_the_card_and_the_rows(admin_client, teachers, other_teacher):
    teacher = teachers[0]
    completed = timezone.localdate() - datetime.timedelta(days=100)
    data = edit_data(
        teacher,
        position="Учитель информатики",
        further_education=inline_formset(
            [
                {
                    "kind": "regional",
                    "programme": "Цифровая образовательная среда",
                    "place": "ЦНППМ",
                    "hours": "36",
                    "completed_on": completed.isoformat(),
                    "certificate_number": "390000111",
                }
            ]
        ),
        communities=inline_formset([{"name": "РМО учителей информатики", "status": "head"}]),
    )
    data["user"] = other_teacher.user_id  # not a field of the form: ignored
    response = admin_client.post(edit_url(teacher), data)
    assert response.status_code == 302, response.context["form"].errors
    teacher.refresh_from_db()
    assert teacher.position == "Учитель информатики"
    assert teacher.user.username == "teacher"
    course = FurtherEducation.objects.get(profile=teacher)
    assert (course.hours, course.completed_on) == (36, completed)
    assert teacher.communities.get().status == "head"


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"attestation_date": "2999-01-01"}, "attestation_date"),
        ("school", "school"),
    ],
)
def test_edit_rejects_bad_values(admin_client, teachers, changes, where):
    teacher, other = teachers
    if changes == "school":
        changes = {"school": other.school_id}
    response = admin_client.post(edit_url(teacher), edit_data(teacher, **changes))
    assert response.status_code == 200
    assert where in response.context["form"].errors
    teacher.refresh_from_db()
    assert teacher.school.municipality_id == teacher.municipality_id
    assert teacher.attestation_date is None


def test_edit_rejects_bad_rows(admin_client, teachers):
    teacher = teachers[0]
    data = edit_data(
        teacher,
        further_education=inline_formset(
            [
                {
                    "kind": "regional",
                    "programme": "Курс",
                    "place": "ЦНППМ",
                    "hours": "0",
                    "completed_on": "2999-01-01",
                }
            ]
        ),
    )
    response = admin_client.post(edit_url(teacher), data)
    assert response.status_code == 200
    row_errors = response.context["form"].formsets["further_education"].forms[0].errors
    assert {"hours", "completed_on"} <= set(row_errors)
    assert not FurtherEducation.objects.exists()


def test_staff_without_permission_is_turned_away(client, teachers):
    client.force_login(staff_user())
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response.url == reverse("wagtailadmin_home")
    assert client.get(edit_url(teachers[0])).status_code == 302


def test_non_staff_is_sent_to_the_admin_login(client, teachers):
    client.force_login(teachers[0].user)
    response = client.get(INDEX)
    assert response.status_code == 302
    assert reverse("wagtailadmin_login") in response.url


def test_view_permission_lists_but_does_not_edit(client, teachers):
    client.force_login(staff_user("view_teacherprofile"))
    response = client.get(INDEX)
    assert response.status_code == 200
    assert names(response) == ["Иванова", "Петров"]
    teacher = teachers[0]
    inspect_url = reverse("wagtail_iom_teachers:inspect", args=[teacher.pk])
    assert inspect_url in response.content.decode()
    assert client.get(inspect_url).status_code == 200
    response = client.post(edit_url(teacher), edit_data(teacher, last_name="Взломова"))
    assert response.status_code in (302, 403)
    teacher.refresh_from_db()
    assert teacher.last_name == "Иванова"


def test_change_without_view_of_teachers_lists_nothing(client, teachers, monkeypatch):
    # The listing is what access.teacher_profiles_visible_to gives, not the whole table.
    from wagtail_iom.core import access

    client.force_login(staff_user("change_teacherprofile", "view_teacherprofile"))
    monkeypatch.setattr(
        access,
        "teacher_profiles_visible_to",
        lambda user: TeacherProfile.objects.filter(pk=teachers[1].pk),
    )
    response = client.get(INDEX)
    assert names(response) == ["Петров"]
    assert client.get(edit_url(teachers[0])).status_code == 404
    assert client.get(edit_url(teachers[1])).status_code == 200
