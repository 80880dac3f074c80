"""Route length by kind (000 §5.12, 003 §1.5, 002): each kind's bounds, the setting's check,
the kind a new route starts with and the editor's error."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_teacher
from wagtail_iom.checks import check_iom_settings
from wagtail_iom.models import DiagnosticResult, Route, RouteKind
from wagtail_iom.routes import builder as route_builder
from wagtail_iom.routes.services import add_months, length_bounds, period_errors

START = datetime.date(2027, 1, 10)


def months(n):
    return add_months(START, n)


@pytest.mark.parametrize(
    ("kind", "accepted", "refused"),
    [
        (RouteKind.REGULAR, [6, 9, 12], [1, 5, 13, 36]),
        (RouteKind.LOW_LEVEL, [6], [5, 7, 12]),
        (RouteKind.MENTORING, [12, 24, 36], [6, 11, 37]),
    ],
)
def test_each_kinds_bounds(kind, accepted, refused):
    for n in accepted:
        assert period_errors(START, months(n), kind) == {}, n
    for n in refused:
        assert "ends_on" in period_errors(START, months(n), kind), n
    # A day past the longest is refused too.
    longest = length_bounds(kind)[1]
    assert "ends_on" in period_errors(START, months(longest) + datetime.timedelta(days=1), kind)


@pytest.mark.usefixtures("english_messages")
def test_the_message_names_the_allowed_range():
    message = str(period_errors(START, months(3), RouteKind.REGULAR)["ends_on"])

    assert "6 to 12 months" in message
    assert months(6).strftime("%d.%m.%Y") in message
    assert months(12).strftime("%d.%m.%Y") in message
    message = str(period_errors(START, months(3), RouteKind.LOW_LEVEL)["ends_on"])
    assert "6 months" in message and months(6).strftime("%d.%m.%Y") in message


def test_the_setting_changes_a_kinds_bounds_and_the_overall_bounds_still_apply():
    with override_settings(WAGTAIL_IOM={"ROUTE_LENGTH_MONTHS": {"regular": (3, 18)}}):
        assert length_bounds(RouteKind.REGULAR) == (3, 18)
        assert length_bounds(RouteKind.MENTORING) == (12, 36)  # left out: the default
        assert period_errors(START, months(3), RouteKind.REGULAR) == {}
    # The overall bounds of before (here Buryatia's half a year to a year) still hold.
    with override_settings(WAGTAIL_IOM={"ROUTE_MIN_MONTHS": 6, "ROUTE_MAX_MONTHS": 12}):
        assert length_bounds(RouteKind.MENTORING) == (12, 12)
        assert "ends_on" in period_errors(START, months(24), RouteKind.MENTORING)


@pytest.mark.parametrize(
    "value",
    [
        ["regular", 6, 12],  # not a dict
        {"seasonal": (1, 2)},  # unknown kind
        {"regular": 6},  # not a pair
        {"regular": (6, "12")},  # not whole numbers
        {"regular": (0, 12)},  # not positive
        {"regular": (12, 6)},  # min above max
        {"mentoring": (12, 48)},  # above ROUTE_MAX_MONTHS
    ],
)
def test_a_bad_mapping_fails_the_check(value):
    with override_settings(WAGTAIL_IOM={"ROUTE_LENGTH_MONTHS": value}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E015"]


def test_overall_bounds_that_leave_a_kind_no_length_fail_the_check():
    with override_settings(WAGTAIL_IOM={"ROUTE_MAX_MONTHS": 6}):
        errors = check_iom_settings(None)
    assert [e.id for e in errors] == ["wagtail_iom.E015"]
    assert "'mentoring'" in errors[0].msg


def test_good_mappings_pass_the_check():
    for value in ({}, {"regular": (6, 12)}, {"low_level": (3, 6), "mentoring": (12, 36)}):
        with override_settings(WAGTAIL_IOM={"ROUTE_LENGTH_MONTHS": value}):
            assert check_iom_settings(None) == []


# The kind of a route -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_route_takes_its_kind_from_the_latest_diagnostics():
    teacher = make_teacher(username="t1")
    assert route_builder.default_kind(teacher) == RouteKind.REGULAR
    today = timezone.localdate()
    DiagnosticResult.objects.create(
        teacher=teacher,
        date=today - datetime.timedelta(days=60),
        procedure="self",
        total_score=60,
        level="basic",
    )
    DiagnosticResult.objects.create(
        teacher=teacher, date=today, procedure="self", total_score=20, level="low"
    )
    assert route_builder.default_kind(teacher) == RouteKind.LOW_LEVEL

    route = route_builder.create_route(teacher, None, today, add_months(today, 6), None)
    assert Route.objects.get(pk=route.pk).kind == RouteKind.LOW_LEVEL
    # A regular route's year is refused for this teacher unless the kind is chosen.
    with pytest.raises(ValidationError) as error:
        route_builder.create_route(teacher, None, today, add_months(today, 12), None)
    assert "ends_on" in error.value.message_dict
    route = route_builder.create_route(
        teacher, None, today, add_months(today, 12), None, kind=RouteKind.REGULAR
    )
    assert route.kind == RouteKind.REGULAR


@pytest.mark.django_db
def test_the_route_validates_its_period_by_its_kind():
    teacher = make_teacher(username="t2")
    route = Route(teacher=teacher, starts_on=START, ends_on=months(24))
    with pytest.raises(ValidationError) as error:
        route.full_clean()
    assert "ends_on" in error.value.message_dict
    route.kind = RouteKind.MENTORING
    route.full_clean()


@pytest.mark.django_db
def test_the_editor_shows_the_bound_as_a_form_error(admin_client):
    teacher = make_teacher(username="t3")
    route = Route.objects.create(teacher=teacher, starts_on=START, ends_on=months(12))
    from tests.routes.test_admin import form_data

    response = admin_client.post(
        reverse("wagtail_iom_routes:edit", args=[route.pk]),
        form_data(route, kind=RouteKind.LOW_LEVEL),
    )

    assert response.status_code == 200
    (message,) = response.context["form"].errors["ends_on"]
    assert "6" in message and months(6).strftime("%d.%m.%Y") in message
    assert Route.objects.get(pk=route.pk).kind == RouteKind.REGULAR

    response = admin_client.post(
        reverse("wagtail_iom_routes:edit", args=[route.pk]),
        form_data(route, kind=RouteKind.MENTORING),
    )
    assert response.status_code == 302
    assert Route.objects.get(pk=route.pk).kind == RouteKind.MENTORING
