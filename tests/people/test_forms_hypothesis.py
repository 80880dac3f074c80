"""Whatever a browser (or anyone) posts to the cabinet's profile and request pages, the answer
is the page again with errors (200) or a redirect after saving (302): never a server error."""

import datetime

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wagtail_iom.models import FurtherEducation

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("wagtail_iom:cabinet_profile")
REQUEST_URL = reverse("wagtail_iom:cabinet_request")

WEIRD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eRTL",
    "Zalgo z̴̛̟a̷l̸g̶o",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🎓👩‍🏫",
    "ё" * 600,
    "<script>alert(1)</script>",
    "'; DROP TABLE wagtail_iom_teacherprofile; --",
    "NaN",
    "1e400",
    "-0",
    "0x10",
    "２０２０",  # full-width digits
    "٣",  # Arabic-Indic digit
    "2020-02-30",
    "9999-12-31",
    "0001-01-01",
    "31.12.2020",
    "99999999999999999999999999",
    "-99999999999999999999999999",
]

texts = st.text(max_size=60)
numbers = st.one_of(st.integers(min_value=-(10**30), max_value=10**30), st.integers(-5, 5000)).map(
    str
)
dates = st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)).map(
    lambda d: d.isoformat()
)
values = st.one_of(texts, numbers, dates, st.sampled_from(WEIRD))
counts = st.one_of(st.sampled_from(["0", "1", "2", "10000", "-1", "", "x"]), numbers)

CARD_FIELDS = [
    "last_name",
    "first_name",
    "patronymic",
    "municipality",
    "school",
    "position",
    "subjects",
    "education_level",
    "education_institution",
    "qualification",
    "teaching_experience_years",
    "qualification_category",
    "attestation_date",
    "expert_area",
    "mentoring_role",
    "mentoring_partner",
]
ROW_FIELDS = {
    "further_education": [
        "id",
        "profile",
        "kind",
        "programme",
        "place",
        "hours",
        "completed_on",
        "certificate_number",
        "DELETE",
    ],
    "achievements": ["id", "profile", "direction", "description", "year", "link", "DELETE"],
    "communities": ["id", "profile", "name", "status", "DELETE"],
    "regional_projects": ["id", "profile", "name", "role", "DELETE"],
}
MANAGEMENT = ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"]

optional = dict.fromkeys(CARD_FIELDS, values)
for prefix, fields in ROW_FIELDS.items():
    for field in fields:
        optional[f"{prefix}-0-{field}"] = values
    for name in MANAGEMENT:
        optional[f"{prefix}-{name}"] = counts

# Mostly a well-formed page with bad values in it, sometimes broken management data.
well_formed = {
    f"{prefix}-{name}": st.just(value)
    for prefix in ROW_FIELDS
    for name, value in (("TOTAL_FORMS", "1"), ("INITIAL_FORMS", "0"))
}
profile_posts = st.one_of(
    st.fixed_dictionaries(
        {"last_name": values, "first_name": values, **well_formed},
        optional={
            k: v
            for k, v in optional.items()
            if k not in well_formed and k not in ("last_name", "first_name")
        },
    ),
    st.fixed_dictionaries({}, optional=optional),
)
request_posts = st.fixed_dictionaries(
    {}, optional={"interest_areas": values, "needs": values, "goal": values}
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(data=profile_posts)
def test_profile_page_never_fails(teacher_client, teacher, other_teacher, data):
    FurtherEducation.objects.get_or_create(
        profile=other_teacher,
        defaults={
            "kind": "regional",
            "place": "ЦНППМ",
            "programme": "Чужой курс",
            "hours": 36,
            "completed_on": datetime.date(2024, 5, 1),
        },
    )
    response = teacher_client.post(PROFILE_URL, data)
    assert response.status_code in (200, 302), data
    theirs = FurtherEducation.objects.get(profile=other_teacher)
    assert theirs.hours == 36 and theirs.programme == "Чужой курс"


@SETTINGS
@given(data=request_posts)
def test_request_page_never_fails(teacher_client, teacher, data):
    response = teacher_client.post(REQUEST_URL, data)
    assert response.status_code in (200, 302), data
