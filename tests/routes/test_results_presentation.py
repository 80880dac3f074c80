"""The mark that the teacher presented the route's results to the professional community (seed
004's indicator), written by the curator with the reflection: its rules, the admin form, and
that neither the editor nor a revert loses it."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from tests.routes.test_admin import form_data, login, set_status, url
from tests.routes.test_admin import world as world  # noqa: F401 - the fixture
from wagtail_iom.models import Route, RouteStatus
from wagtail_iom.routes import reflection
from wagtail_iom.routes.services import RouteError

pytestmark = pytest.mark.django_db

TEXT = "Педагог представил опыт на заседании ШМО."


@pytest.fixture
def route(world):
    route = world["routes"]["a"]
    set_status(route, RouteStatus.COMPLETED)
    # The route started ten days ago (its length unchanged).
    shift = datetime.timedelta(days=10)
    Route.objects.filter(pk=route.pk).update(
        starts_on=route.starts_on - shift, ends_on=route.ends_on - shift
    )
    route.refresh_from_db()
    return route


def yesterday():
    return timezone.localdate() - datetime.timedelta(days=1)


def test_the_curator_marks_the_presentation_with_the_reflection(world, route):
    reflection.save_curator_reflection(
        route, TEXT, world["curator"], presented_level="school", presented_on=yesterday()
    )
    stored = Route.objects.get(pk=route.pk)
    assert (stored.results_presented_level, stored.results_presented_on) == ("school", yesterday())
    assert stored.curator_reflection == TEXT
    # Saving the reflection alone leaves the mark; an empty level clears it.
    reflection.save_curator_reflection(route, "Другой текст", world["curator"])
    assert Route.objects.get(pk=route.pk).results_presented_level == "school"
    reflection.save_curator_reflection(route, TEXT, world["curator"], presented_level="")
    stored = Route.objects.get(pk=route.pk)
    assert (stored.results_presented_level, stored.results_presented_on) == ("", None)


@pytest.mark.parametrize(
    ("level", "on", "code"),
    [
        ("school", None, "presentation_incomplete"),
        ("", "yesterday", "presentation_incomplete"),
        ("galactic", "yesterday", "presentation_level"),
        ("regional", "tomorrow", "presentation_future"),
        ("regional", "before", "presentation_early"),
    ],
)
def test_a_mark_that_cannot_be_is_refused_and_changes_nothing(world, route, level, on, code):
    days = {
        None: None,
        "yesterday": yesterday(),
        "tomorrow": timezone.localdate() + datetime.timedelta(days=1),
        "before": route.starts_on - datetime.timedelta(days=1),
    }
    with pytest.raises(RouteError) as error:
        reflection.save_curator_reflection(
            route, TEXT, world["curator"], presented_level=level, presented_on=days[on]
        )
    assert error.value.code == code
    stored = Route.objects.get(pk=route.pk)
    assert (stored.results_presented_level, stored.curator_reflection) == ("", "")


def test_only_who_writes_the_reflection_marks_it(world, route):
    with pytest.raises(RouteError):
        reflection.save_curator_reflection(
            route, TEXT, world["methodist"], presented_level="school", presented_on=yesterday()
        )
    assert Route.objects.get(pk=route.pk).results_presented_level == ""


def test_the_form_on_the_route_page(client, world, route):
    login(client, world["curator"])
    page = client.get(url("inspect", route.pk)).content.decode()
    assert 'name="results_presented_level"' in page and 'name="results_presented_on"' in page
    response = client.post(
        url("curator_reflection", route.pk),
        {
            "curator_reflection": TEXT,
            "results_presented_level": "municipal",
            "results_presented_on": yesterday().isoformat(),
        },
    )
    assert response.status_code == 302
    assert Route.objects.get(pk=route.pk).results_presented_level == "municipal"
    page = client.get(url("inspect", route.pk)).content.decode()
    assert '<option value="municipal" selected>' in page


def test_a_bad_date_in_the_form_is_a_message(client, world, route):
    login(client, world["curator"])
    response = client.post(
        url("curator_reflection", route.pk),
        {
            "curator_reflection": TEXT,
            "results_presented_level": "school",
            "results_presented_on": "31.02",
        },
    )
    assert response.status_code == 302
    assert [message.level_tag for message in get_messages(response.wsgi_request)] == ["error"]
    assert Route.objects.get(pk=route.pk).curator_reflection == ""


def test_the_editor_keeps_the_mark(client, world, route):
    set_status(route, RouteStatus.IMPLEMENTATION)
    reflection.save_curator_reflection(
        route, TEXT, world["curator"], presented_level="regional", presented_on=yesterday()
    )
    login(client, world["curator"])
    response = client.post(url("edit", route.pk), form_data(route, goal="Новая цель"))
    assert response.status_code == 302
    stored = Route.objects.get(pk=route.pk)
    assert (stored.goal, stored.results_presented_level) == ("Новая цель", "regional")
