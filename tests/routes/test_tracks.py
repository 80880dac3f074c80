"""Tracks on steps (000 §2.5): each step's track, the shares by track on the route's progress
(admin and cabinet) and under the printed map."""

import copy

import pytest
from django.urls import reverse

from tests.routes.documents_data import make_events, make_route
from tests.routes.test_documents import docx_rows, html_rows
from wagtail_iom.models import RouteLayout, RouteStatus
from wagtail_iom.routes.blocks import DEFAULT_STEP_TRACKS, StepsBlock
from wagtail_iom.routes.documents.html import render_html
from wagtail_iom.routes.documents.structure import route_document
from wagtail_iom.routes.documents.word import render_docx
from wagtail_iom.routes.services import route_steps, track_shares

pytestmark = pytest.mark.django_db

# make_route: self-education ×2, a choice of events 0 and 1, an external course, mentoring,
# a task row and an event step (the events are non-formal seminars).
EXPECTED_TRACKS = {
    "self_education": "informal",
    "choose_one": "non_formal",
    "external_course": "formal",
    "mentoring": "informal",
    "task_row": "informal",
    "event": "non_formal",
}
EXPECTED_SHARES = [("formal", 1, 14), ("non_formal", 2, 29), ("informal", 4, 57)]


def shares(route):
    return [(s.track, s.count, s.percent) for s in track_shares(route_steps(route))]


def test_each_kind_of_step_has_its_track(resource_map, teacher):
    route = make_route(teacher, make_events(resource_map))

    assert {step.type: step.track for step in route_steps(route)} == EXPECTED_TRACKS


def test_an_event_step_takes_its_events_track_and_a_choice_its_first_option(resource_map, teacher):
    events = make_events(resource_map)
    events[0].track, events[0].kind = "formal", "course"
    events[0].save()
    route = make_route(teacher, events)

    tracks = {step.type: step.track for step in route_steps(route)}

    assert tracks["event"] == "formal"  # the event step holds event 0
    assert tracks["choose_one"] == "formal"  # event 0 is offered first


def test_a_track_chosen_in_the_step_wins_and_a_stored_step_without_one_takes_the_default(
    resource_map, teacher
):
    route = make_route(teacher, make_events(resource_map))
    roadmap = copy.deepcopy(list(route.roadmap.raw_data))
    for stage in roadmap:
        for step in stage["value"]["steps"]:
            step["value"].pop("track", None)
            if step["type"] == "external_course":
                step["value"]["track"] = "non_formal"
    route.roadmap = roadmap
    route.save()

    tracks = {step.type: step.track for step in route_steps(route)}

    assert tracks["external_course"] == "non_formal"
    assert tracks["mentoring"] == DEFAULT_STEP_TRACKS["mentoring"] == "informal"


@pytest.mark.parametrize("step_type", sorted(DEFAULT_STEP_TRACKS))
def test_a_new_step_starts_with_its_kinds_track(step_type):
    child = StepsBlock().child_blocks[step_type]

    assert child.child_blocks["track"].get_default() == DEFAULT_STEP_TRACKS[step_type]


def test_shares_count_every_step_with_its_percentage(resource_map, teacher):
    route = make_route(teacher, make_events(resource_map))

    assert shares(route) == EXPECTED_SHARES


def test_a_route_without_steps_has_three_empty_shares(resource_map, teacher):
    route = make_route(teacher, make_events(resource_map))
    route.roadmap = []
    route.save()

    assert shares(route) == [("formal", 0, 0), ("non_formal", 0, 0), ("informal", 0, 0)]


@pytest.mark.parametrize("layout", RouteLayout.values)
def test_the_shares_are_printed_under_the_map(resource_map, teacher, layout):
    route = make_route(teacher, make_events(resource_map))
    document = route_document(route, layout)
    table = next(t for t in document.tables() if t.key == "tracks")
    expected = [[str(count), str(percent)] for _track, count, percent in EXPECTED_SHARES]

    assert [row.cells[1:] for row in table.rows] == expected
    html_tables = html_rows(render_html(document))
    assert any([row[1:] for row in t[1:]] == expected for t in html_tables)
    word_tables = docx_rows(render_docx(document))
    assert any([row[1:] for row in t[1:]] == expected for t in word_tables)


def test_the_admin_route_page_shows_the_shares(client, superuser, resource_map, teacher):
    route = make_route(teacher, make_events(resource_map))
    client.force_login(superuser)

    response = client.get(reverse("wagtail_iom_routes:inspect", args=[route.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="iom-progress-by-track"' in content
    assert 'id="iom-route-kind" data-kind="regular"' in content
    for track, count, percent in EXPECTED_SHARES:
        assert f'data-track="{track}" data-count="{count}" data-percent="{percent}"' in content


def test_the_cabinet_route_page_shows_the_shares(teacher_client, teacher, resource_map):
    route = make_route(teacher, make_events(resource_map), status=RouteStatus.IMPLEMENTATION)

    response = teacher_client.get(reverse("wagtail_iom:cabinet_route", args=[route.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    for track, count, percent in EXPECTED_SHARES:
        assert f'data-track="{track}" data-count="{count}" data-percent="{percent}"' in content
