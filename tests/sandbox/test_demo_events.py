"""The demo resource map: about sixty believable events, built idempotently by load_demo_data."""

import pytest
from django.core.management import call_command

from wagtail_iom.events.kinds import DEFAULT_EVENT_KINDS, EventTrack
from wagtail_iom.models import (
    EventFormat,
    EventLevel,
    EventPage,
    EventSession,
    EventStatus,
    ResourceMapPage,
)

pytestmark = pytest.mark.django_db


def load():
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115


def snapshot():
    return {
        "events": sorted(EventPage.objects.values_list("pk", "slug")),
        "sessions": sorted(EventSession.objects.values_list("pk", "page_id")),
        "maps": list(ResourceMapPage.objects.values_list("pk", "url_path")),
    }


def test_running_twice_leaves_the_same_live_events_and_sessions(capsys):
    call_command("load_demo_data")
    first = snapshot()
    call_command("load_demo_data")
    second = snapshot()
    assert first == second
    assert 50 <= len(first["events"]) <= 70
    assert first["maps"] == [(first["maps"][0][0], "/home/resource-map/")]
    assert EventPage.objects.live().count() == len(first["events"])
    assert not EventPage.objects.filter(has_unpublished_changes=True).exists()
    # Every run publishes a new revision, as an editor saving the page would.
    assert all(page.revisions.count() == 2 for page in EventPage.objects.all())
    assert f"{len(first['events'])} events" in capsys.readouterr().out


def test_demo_events_cover_the_resource_map_and_are_valid():
    load()
    events = list(EventPage.objects.prefetch_related("sessions", "competencies"))

    assert {e.track for e in events} == set(EventTrack.values)
    assert {e.kind for e in events} >= {code for code, _label, _track in DEFAULT_EVENT_KINDS}
    assert {e.level for e in events} == set(EventLevel.values)
    assert {e.format for e in events} == set(EventFormat.values)
    assert [e.status for e in events].count(EventStatus.CANCELLED) == 1
    assert [e.status for e in events].count(EventStatus.POSTPONED) == 1
    assert sum(len(e.sessions.all()) > 1 for e in events) >= 3
    for track in EventTrack.values:
        assert any(e.competencies.all() for e in events if e.track == track), track
    assert any(e.municipality_id for e in events)
    assert any(e.municipality_id is None for e in events)
    assert any(e.in_federal_registry for e in events)
    assert {e.timezone for e in events} == {"Europe/Kaliningrad", "Europe/Moscow"}

    for e in events:
        e.full_clean()
        assert e.sessions.all(), e.slug
        for session in e.sessions.all():
            session.full_clean(exclude=["page"])
            assert session.date.weekday() < 5, e.slug
