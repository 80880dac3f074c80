"""The curator's reflection on a route (000 §4.5: the teacher and the tutor / curator analyse
the route): who writes it and when, in the admin; the teacher reads it; the full printed
document has it beside the teacher's."""

import pytest
from django.urls import reverse

from tests.routes.test_admin import login, set_status, url
from tests.routes.test_admin import world as world  # noqa: F401 - the fixture
from wagtail_iom.models import Route, RouteStatus
from wagtail_iom.privacy import withdrawal
from wagtail_iom.routes import reflection
from wagtail_iom.routes.documents import route_document
from wagtail_iom.routes.services import RouteError

pytestmark = pytest.mark.django_db

TEXT = "Педагог освоил приёмы формирующего оценивания; нужна поддержка в аттестации."


@pytest.fixture
def route(world):
    route = world["routes"]["a"]
    set_status(route, RouteStatus.COMPLETED)
    return route


# The service ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [RouteStatus.IMPLEMENTATION, RouteStatus.COMPLETED])
def test_the_curator_writes_the_reflection_with_who_and_when(world, route, status):
    set_status(route, status)
    reflection.save_curator_reflection(route, f"  {TEXT}  ", world["curator"])

    stored = Route.objects.get(pk=route.pk)
    assert stored.curator_reflection == TEXT
    assert stored.curator_reflection_by == world["curator"]
    assert stored.curator_reflection_at is not None
    # The teacher's own reflection and the status are not touched.
    assert (stored.reflection, stored.status) == ("", status)


def test_the_centre_head_may_write_it_too(world, route):
    reflection.save_curator_reflection(route, TEXT, world["head"])
    assert Route.objects.get(pk=route.pk).curator_reflection_by == world["head"]


def test_an_empty_text_clears_it(world, route):
    reflection.save_curator_reflection(route, TEXT, world["curator"])
    reflection.save_curator_reflection(route, "   ", world["curator"])
    stored = Route.objects.get(pk=route.pk)
    assert (stored.curator_reflection, stored.curator_reflection_by_id) == ("", None)
    assert stored.curator_reflection_at is None


@pytest.mark.parametrize(
    "status",
    [
        RouteStatus.DEVELOPMENT,
        RouteStatus.SENT_FOR_APPROVAL,
        RouteStatus.RETURNED,
        RouteStatus.APPROVED,
        RouteStatus.AUDITED,
    ],
)
def test_refused_outside_implementation_and_completion(world, route, status):
    set_status(route, status)
    with pytest.raises(RouteError) as caught:
        reflection.save_curator_reflection(route, TEXT, world["curator"])
    assert caught.value.code == "status"
    assert Route.objects.get(pk=route.pk).curator_reflection == ""


@pytest.mark.parametrize("who", ["methodist", "school_head"])
def test_methodists_and_school_heads_only_read_it(world, route, who):
    with pytest.raises(RouteError) as caught:
        reflection.save_curator_reflection(route, TEXT, world[who])
    assert caught.value.code == "forbidden"


def test_not_the_curator_of_another_teacher(world):
    other = world["routes"]["b"]  # teacher B is not assigned to the curator
    set_status(other, RouteStatus.COMPLETED)
    with pytest.raises(RouteError):
        reflection.save_curator_reflection(other, TEXT, world["curator"])
    assert Route.objects.get(pk=other.pk).curator_reflection == ""


def test_a_frozen_route_is_refused(world, route):
    withdrawal.withdraw(world["teachers"]["a"].user)
    with pytest.raises(RouteError) as caught:
        reflection.save_curator_reflection(route, TEXT, world["curator"])
    assert caught.value.code == "frozen"
    assert Route.objects.get(pk=route.pk).curator_reflection == ""


def test_too_long_is_refused(world, route):
    with pytest.raises(RouteError) as caught:
        reflection.save_curator_reflection(
            route, "x" * (reflection.CURATOR_REFLECTION_MAX_LENGTH + 1), world["curator"]
        )
    assert caught.value.code == "too_long"


# The admin --------------------------------------------------------------------------------------


def test_the_curator_saves_it_from_the_route_page(client, world, route):
    login(client, world["curator"])
    # A completed route is read-only for the curator: its page has the reflection's form.
    page = client.get(url("inspect", route.pk)).content.decode()
    assert 'id="iom-curator-reflection-form"' in page
    assert url("curator_reflection", route.pk) in page

    response = client.post(url("curator_reflection", route.pk), {"curator_reflection": TEXT})

    assert response.status_code == 302
    assert response.url == url("inspect", route.pk)
    stored = Route.objects.get(pk=route.pk)
    assert (stored.curator_reflection, stored.curator_reflection_by) == (TEXT, world["curator"])
    assert TEXT in client.get(url("inspect", route.pk)).content.decode()


def test_the_editor_of_a_route_in_implementation_has_it_and_keeps_it(client, world, route):
    from tests.routes.test_admin import form_data

    set_status(route, RouteStatus.IMPLEMENTATION)
    login(client, world["curator"])
    page = client.get(url("edit", route.pk)).content.decode()
    assert 'id="iom-curator-reflection-form"' in page
    assert 'form="iom-curator-reflection-form"' in page
    client.post(url("curator_reflection", route.pk), {"curator_reflection": TEXT})

    # Saving the editor's form (which does not hold the reflection) keeps it.
    response = client.post(url("edit", route.pk), form_data(route, goal="Новая цель"))
    assert response.status_code == 302
    stored = Route.objects.get(pk=route.pk)
    assert (stored.goal, stored.curator_reflection) == ("Новая цель", TEXT)
    assert stored.curator_reflection_by == world["curator"]


def test_refused_in_the_admin_changes_nothing(client, world, route):
    set_status(route, RouteStatus.APPROVED)
    login(client, world["curator"])
    assert 'id="iom-curator-reflection-text"' not in (
        client.get(url("inspect", route.pk)).content.decode()
    )
    response = client.post(url("curator_reflection", route.pk), {"curator_reflection": TEXT})
    assert response.status_code == 302
    assert Route.objects.get(pk=route.pk).curator_reflection == ""

    # The methodist reads the route but may not write the curator's reflection.
    set_status(route, RouteStatus.COMPLETED)
    login(client, world["methodist"])
    assert 'id="iom-curator-reflection-text"' not in (
        client.get(url("inspect", route.pk)).content.decode()
    )
    client.post(url("curator_reflection", route.pk), {"curator_reflection": TEXT})
    assert Route.objects.get(pk=route.pk).curator_reflection == ""
    # A route the user does not reach is not found.
    login(client, world["school_head"])
    other = world["routes"]["b"]
    response = client.post(url("curator_reflection", other.pk), {"curator_reflection": TEXT})
    assert response.status_code == 404


def test_a_too_long_text_is_a_message_not_an_error(client, world, route):
    login(client, world["curator"])
    response = client.post(
        url("curator_reflection", route.pk),
        {"curator_reflection": "x" * (reflection.CURATOR_REFLECTION_MAX_LENGTH + 1)},
    )
    assert response.status_code == 302
    assert Route.objects.get(pk=route.pk).curator_reflection == ""


def test_reverting_to_an_old_revision_keeps_the_reflection(client, world, route):
    set_status(route, RouteStatus.IMPLEMENTATION)
    revision = route.save_revision(user=world["curator"])
    reflection.save_curator_reflection(route, TEXT, world["curator"])
    login(client, world["curator"])
    from tests.routes.test_admin import form_data

    response = client.post(
        reverse("wagtail_iom_routes:revisions_revert", args=[route.pk, revision.pk]),
        form_data(route),
    )
    assert response.status_code == 302
    assert Route.objects.get(pk=route.pk).curator_reflection == TEXT


# The teacher and the printed route ------------------------------------------------------------


def test_the_teacher_reads_it_on_the_route_page(client, world, route):
    reflection.save_curator_reflection(route, TEXT, world["curator"])
    client.force_login(world["teachers"]["a"].user)
    response = client.get(reverse("wagtail_iom:cabinet_route", args=[route.pk]))
    html = response.content.decode()
    assert 'id="iom-route-curator-reflection"' in html
    assert TEXT in html
    # Read-only: no form posts it from the cabinet.
    assert 'name="curator_reflection"' not in html


def test_the_full_document_prints_both_reflections(world, route):
    Route.objects.filter(pk=route.pk).update(reflection="Научилась планировать уроки.")
    reflection.save_curator_reflection(route, TEXT, world["curator"])
    route = Route.objects.get(pk=route.pk)
    document = route_document(route, "full")
    texts = [
        " ".join(block.lines)
        for section in document.sections
        for block in section.blocks
        if block.kind == "paragraph"
    ]
    assert "Научилась планировать уроки." in texts
    assert TEXT in texts
    assert texts.index(TEXT) == texts.index("Научилась планировать уроки.") + 1
