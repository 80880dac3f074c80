"""The calendar service: calendar state of sessions, feed contents, iCalendar output."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.http import QueryDict
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from wagtail.models import PageViewRestriction

from tests.factories import make_event
from wagtail_iom.events import calendar as service
from wagtail_iom.events.resource_map import FilterError
from wagtail_iom.models import EventPage, EventSession, EventSessionCalendarState, FeedVersion

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

# Even unsaved pages read their content type: every test may query (none writes inside @given).

BASE_URL = "https://cnppm.example.org"


def days_from_today(days):
    return timezone.localdate() + datetime.timedelta(days=days)


def unsaved_event(sessions=1, **fields):
    """An EventPage with sessions, never saved: for tests that need no database."""
    values = {
        "title": "Семинар",
        "summary": "Практический семинар.",
        "track": "non_formal",
        "kind": "seminar",
        "level": "regional",
        "format": "in_person",
        "organiser": "ЦНППМ",
        "venue_address": "г. Калининград, ул. Томская, 63",
        "timezone": "Europe/Kaliningrad",
    }
    values.update(fields)
    event = EventPage(**values)
    event.sessions = [
        EventSession(
            pk=100 + n,
            date=datetime.date(2030, 3, 1 + n),
            start_time=datetime.time(10),
            end_time=datetime.time(12, 30),
            academic_hours=Decimal("3.0"),
        )
        for n in range(sessions)
    ]
    return event


def parse_one(calendar):
    parsed = Calendar.from_ical(calendar.to_ical())
    (vevent,) = parsed.walk("VEVENT")
    return vevent


# Fingerprints and calendar state --------------------------------------------------------------


def test_the_fingerprint_follows_time_place_and_status_only():
    event = unsaved_event()
    (session,) = event.sessions.all()
    original = service.session_fingerprint(session, event)
    assert len(original) == 64

    event.title, session.title, event.summary = "Другое", "Модуль 2", "Другое описание"
    assert service.session_fingerprint(session, event) == original

    changes = [
        (session, "date", datetime.date(2030, 3, 2)),
        (session, "start_time", datetime.time(9)),
        (session, "end_time", datetime.time(13)),
        (event, "timezone", "Europe/Moscow"),
        (event, "venue_address", "Другой адрес"),
        (event, "online_url", "https://meet.example.org/x"),
        (event, "status", "cancelled"),
    ]
    for obj, name, value in changes:
        before = getattr(obj, name)
        setattr(obj, name, value)
        assert service.session_fingerprint(session, event) != original, name
        setattr(obj, name, before)


def test_publishing_records_the_state_and_sync_is_idempotent(resource_map):
    event = make_event(resource_map)
    state = EventSessionCalendarState.objects.get(session__page=event)
    assert state.sequence == 0 and state.cancelled_at is None

    later = timezone.now() + datetime.timedelta(hours=1)
    service.sync_calendar_state(event, now=later)
    service.sync_calendar_state(event, now=later)
    again = EventSessionCalendarState.objects.get(pk=state.pk)
    assert (again.sequence, again.changed_at) == (0, state.changed_at)


def test_sequence_grows_on_changes_and_cancellation_time_is_kept(resource_map):
    event = make_event(resource_map)
    (session,) = event.sessions.all()
    t1 = timezone.now() + datetime.timedelta(days=1)
    t2 = t1 + datetime.timedelta(days=1)
    t3 = t2 + datetime.timedelta(days=1)

    event.status = "cancelled"
    service.sync_calendar_state(event, now=t1)
    state = EventSessionCalendarState.objects.get(session=session)
    assert (state.sequence, state.changed_at, state.cancelled_at) == (1, t1, t1)

    service.sync_calendar_state(event, now=t2)  # still cancelled: nothing moves
    state.refresh_from_db()
    assert (state.sequence, state.cancelled_at) == (1, t1)

    event.status = "scheduled"
    service.sync_calendar_state(event, now=t3)
    state.refresh_from_db()
    assert (state.sequence, state.changed_at, state.cancelled_at) == (2, t3, None)


def test_a_new_session_starts_at_sequence_zero_and_ids_survive_edits(resource_map):
    event = make_event(resource_map)
    (first,) = event.sessions.all()
    page = EventPage.objects.get(pk=event.pk)
    sessions = list(page.sessions.all())
    sessions[0].start_time = datetime.time(9)
    sessions.append(
        EventSession(
            date=days_from_today(9), start_time=datetime.time(10), end_time=datetime.time(11)
        )
    )
    page.sessions = sessions
    page.save_revision().publish()

    states = {
        s.session_id: s.sequence
        for s in EventSessionCalendarState.objects.filter(session__page=event)
    }
    assert first.pk in states  # Wagtail kept the session's primary key
    assert states.pop(first.pk) == 1
    assert list(states.values()) == [0]


def test_uid():
    (session,) = unsaved_event().sessions.all()
    assert service.session_uid(session, "cnppm.example.org") == "iom-session-100@cnppm.example.org"
    assert service.calendar_domain(BASE_URL) == "cnppm.example.org"


# The feed version -----------------------------------------------------------------------------


def test_the_feed_version_lives_in_the_database():
    version = service.feed_version()
    assert service.feed_version() == version
    bumped = service.bump_feed_version()
    assert bumped > version
    assert FeedVersion.objects.get(name=FeedVersion.FEEDS).value == bumped
    cache.clear()  # nothing of it lives in the cache
    assert service.feed_version() == bumped
    assert service.seats_version() == FeedVersion.objects.get(name=FeedVersion.SEATS).value


def test_the_versions_are_read_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        versions = service.feed_versions()
    assert versions.key() == (versions.feeds, None)
    assert versions.key(with_seats=True) == (versions.feeds, versions.seats)


def test_last_changed_is_when_a_version_last_moved():
    moment = timezone.now()
    FeedVersion.objects.filter(name=FeedVersion.FEEDS).update(changed_at=moment)
    FeedVersion.objects.filter(name=FeedVersion.SEATS).update(
        changed_at=moment + datetime.timedelta(minutes=5)
    )
    versions = service.feed_versions()
    assert versions.last_changed() == moment
    assert versions.last_changed(with_seats=True) == moment + datetime.timedelta(minutes=5)
    before = timezone.now()
    service.bump_feed_version()
    assert service.feed_versions().last_changed() >= before


def test_a_missing_counter_reads_zero_and_is_created_when_moved():
    FeedVersion.objects.all().delete()
    assert service.feed_version() == 0
    assert service.feed_versions().last_changed() is None
    earliest = service.initial_version()
    assert service.bump_seats_version() >= earliest
    assert service.feed_version() == 0
    assert service.bump_feed_version() == service.feed_version() > 0


def test_a_sign_up_moves_the_seats_version_after_its_commit_in_one_statement(
    resource_map, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """Every sign-up moves the one seats counter: one UPDATE, committed by itself, so that
    simultaneous sign-ups do not hold the counter's row locked while reading it back."""
    from tests.factories import UserFactory
    from wagtail_iom.events import signup

    event = make_event(resource_map, title="Событие", capacity=5)
    before = service.seats_version()
    with django_capture_on_commit_callbacks() as callbacks:
        signup.register(event, UserFactory())
    assert service.seats_version() == before  # not before the commit

    with django_assert_num_queries(1) as queries:
        for callback in callbacks:
            callback()
    assert queries.captured_queries[0]["sql"].startswith('UPDATE "wagtail_iom_feedversion"')
    assert service.seats_version() > before


def test_a_move_without_reading_back_creates_a_missing_counter():
    FeedVersion.objects.filter(name=FeedVersion.SEATS).delete()
    assert service.bump_seats_version(read_back=False) is None
    assert service.seats_version() >= service.initial_version() - 10**6


def test_the_counter_never_comes_back_to_an_earlier_value():
    """A database restored from a backup has an old counter; a shared cache may hold feeds
    cached under the values it had since: the next move jumps past them all."""
    issued = service.bump_feed_version()
    FeedVersion.objects.filter(name=FeedVersion.FEEDS).update(value=issued - 10**9)
    assert service.bump_feed_version() > issued


def test_a_rolled_back_change_leaves_the_version_as_it_was(resource_map):
    event = make_event(resource_map, title="Событие")
    before = service.feed_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        EventPage.objects.get(pk=event.pk).save_revision().publish()
        assert service.feed_version() > before  # moved inside the transaction...
        raise RuntimeError
    assert service.feed_version() == before  # ... and back with it


def test_the_feed_version_moves_when_feeds_may_change(resource_map):
    def moved(action):
        before = service.feed_version()
        action()
        return service.feed_version() != before

    event = make_event(resource_map, title="Событие")
    assert moved(lambda: make_event(resource_map, title="Ещё одно"))
    assert moved(lambda: EventPage.objects.get(pk=event.pk).save_revision().publish())
    assert moved(lambda: EventPage.objects.get(pk=event.pk).unpublish())
    assert moved(
        lambda: PageViewRestriction.objects.create(
            page=resource_map, restriction_type=PageViewRestriction.LOGIN
        )
    )
    assert moved(lambda: EventPage.objects.get(title="Ещё одно").delete())
    draft = make_event(resource_map, title="Черновик", publish=False)
    assert not moved(lambda: EventPage.objects.get(pk=draft.pk).save_revision())


# Which events ---------------------------------------------------------------------------------


def titles(events):
    return sorted(event.title for event in events)


def test_track_slugs():
    assert service.track_from_slug("non-formal") == "non_formal"
    assert service.track_from_slug("non_formal") == "non_formal"
    assert service.track_from_slug("Formal") == "formal"
    with pytest.raises(FilterError) as excinfo:
        service.track_from_slug("nonformal")
    assert list(excinfo.value.errors) == ["track"]
    assert "nonformal" in excinfo.value.errors["track"][0]


def test_feed_events_follow_the_pages_filters(resource_map):
    make_event(resource_map, title="Курс", track="formal", kind="course")
    make_event(resource_map, title="Семинар")
    make_event(resource_map, title="Черновик", publish=False)

    assert titles(service.feed_events({}, resource_map)) == ["Курс", "Семинар"]
    assert titles(service.feed_events({"track": "formal"}, resource_map)) == ["Курс"]
    assert titles(service.feed_events({}, resource_map, track="non-formal")) == ["Семинар"]
    assert titles(service.feed_events({"kind": ["seminar"]}, resource_map)) == ["Семинар"]
    with pytest.raises(FilterError):
        service.feed_events({"level": "galactic"}, resource_map)
    with pytest.raises(FilterError):
        service.feed_events({}, resource_map, track="everything")


def test_cancelled_events_stay_for_the_retention_time(resource_map):
    event = make_event(
        resource_map,
        title="Отменён",
        sessions=[(days_from_today(7),) + (datetime.time(10), datetime.time(12))],
    )
    make_event(resource_map, title="Идёт")
    cancelled_at = timezone.now()
    event.status, event.status_reason = "cancelled", "Нет площадки"
    event.save_revision().publish()
    EventSessionCalendarState.objects.update(cancelled_at=cancelled_at)

    def on(days):
        return titles(
            service.feed_events({}, resource_map, now=cancelled_at + datetime.timedelta(days=days))
        )

    assert on(10) == ["Идёт", "Отменён"]
    assert on(29) == ["Идёт", "Отменён"]
    assert on(31) == ["Идёт"]
    with override_settings(WAGTAIL_IOM={"FEED_CANCELLED_RETENTION_DAYS": 5}):
        assert on(6) == ["Идёт"]
    with override_settings(WAGTAIL_IOM={"FEED_CANCELLED_RETENTION_DAYS": 60}):
        assert on(31) == ["Идёт", "Отменён"]


def test_a_cancelled_event_without_a_recorded_state_uses_its_publication(resource_map):
    event = make_event(resource_map, title="Отменён", status="cancelled", status_reason="Причина")
    EventSessionCalendarState.objects.all().delete()
    now = event.last_published_at
    assert titles(service.feed_events({}, resource_map, now=now)) == ["Отменён"]
    later = now + datetime.timedelta(days=31)
    assert titles(service.feed_events({}, resource_map, now=later)) == []


def test_the_feed_keeps_a_month_of_the_past(resource_map):
    make_event(
        resource_map,
        title="Неделю назад",
        sessions=[(days_from_today(-7), datetime.time(10), datetime.time(12))],
    )
    make_event(
        resource_map,
        title="Полгода назад",
        sessions=[(days_from_today(-180), datetime.time(10), datetime.time(12))],
    )
    assert titles(service.feed_events({}, resource_map)) == ["Неделю назад"]
    assert titles(service.feed_events({"when": "past"}, resource_map)) == [
        "Неделю назад",
        "Полгода назад",
    ]
    assert titles(service.feed_events({"when": "upcoming"}, resource_map)) == []


# The calendar -----------------------------------------------------------------------------------


def test_a_vevent_carries_everything_a_calendar_app_shows():
    event = unsaved_event(sessions=2, status="postponed", status_reason="Перенос на весну")
    now = timezone.now()
    calendar = service.build_calendar(
        [event], request_or_base_url=BASE_URL, name="Ресурсная карта", now=now
    )
    parsed = Calendar.from_ical(calendar.to_ical())
    assert [c.name for c in parsed.subcomponents] == ["VTIMEZONE", "VEVENT", "VEVENT"]
    first, second = parsed.walk("VEVENT")
    assert str(first["SUMMARY"]) == "Postponed: Семинар (1/2)"
    assert str(second["SUMMARY"]) == "Postponed: Семинар (2/2)"
    assert str(first["STATUS"]) == "TENTATIVE"
    description = str(first["DESCRIPTION"])
    assert description.startswith("The event is postponed: Перенос на весну")
    assert "Session 1 of 2" in description
    assert "Organiser: ЦНППМ" in description
    assert "Academic hours: 3" in description
    assert "Format: In person" in description
    assert [str(c) for c in first["CATEGORIES"].cats] == [
        "Non-formal education",
        "Seminar",
        "Regional",
    ]
    assert str(first["UID"]) == "iom-session-100@cnppm.example.org"
    assert first.decoded("DTSTART") == datetime.datetime(2030, 3, 1, 10, tzinfo=event.tzinfo)
    assert first["DTSTART"].params["TZID"] == "Europe/Kaliningrad"
    assert parsed["REFRESH-INTERVAL"].dt == datetime.timedelta(hours=1)
    assert str(parsed["X-PUBLISHED-TTL"]) == "PT1H"


def test_session_topics_and_cancellation_in_the_summary():
    event = unsaved_event(status="cancelled", status_reason="Нет площадки")
    (session,) = event.sessions.all()
    session.title = "Модуль 2"
    assert service.session_summary(event, session) == "Cancelled: Семинар — Модуль 2"
    assert service.session_status(event) == "CANCELLED"


def test_a_rebuilt_calendar_is_the_same_bytes(resource_map):
    make_event(resource_map, sessions=[(days_from_today(3), datetime.time(10), datetime.time(12))])
    events = service.feed_events({}, resource_map)
    first = service.build_calendar(events, request_or_base_url=BASE_URL, name="Карта")
    later = timezone.now() + datetime.timedelta(hours=5)
    second = service.build_calendar(
        service.feed_events({}, resource_map), request_or_base_url=BASE_URL, name="Карта", now=later
    )
    assert first.to_ical() == second.to_ical()


def test_vtimezones_describe_daylight_saving():
    event = unsaved_event(timezone="Europe/Berlin")
    calendar = service.build_calendar([event], request_or_base_url=BASE_URL, name="x")
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Berlin"
    assert vtimezone.walk("DAYLIGHT") and vtimezone.walk("STANDARD")


def test_an_empty_calendar_is_still_a_calendar():
    parsed = Calendar.from_ical(
        service.build_calendar([], request_or_base_url=BASE_URL, name="Пусто").to_ical()
    )
    assert parsed.walk("VEVENT") == [] and str(parsed["X-WR-CALNAME"]) == "Пусто"


def test_one_events_calendar(resource_map):
    event = make_event(
        resource_map,
        title="Курс",
        track="formal",
        kind="course",
        sessions=[
            (days_from_today(3), datetime.time(10), datetime.time(12)),
            (days_from_today(4), datetime.time(10), datetime.time(12)),
        ],
    )
    calendar = service.event_calendar(event, request_or_base_url=BASE_URL)
    assert str(calendar["X-WR-CALNAME"]) == "Курс"
    assert len(calendar.walk("VEVENT")) == 2
    assert str(calendar.walk("VEVENT")[0]["URL"]) == BASE_URL + event.url


# Text survives the trip -------------------------------------------------------------------------

TRICKY = [
    "\r",
    "\n",
    "\r\n",
    ",",
    ";",
    "\\",
    "\\n",
    "\\N",
    ":",
    '"',
    "🎓",
    "👩‍🏫",
    "Ж",
    "ё",
    "N",
    "n",
    " ",
]
# What plain_text() leaves out: carriage returns (as line breaks), control characters, BOMs.
DROPPED = {chr(c) for c in [*range(9), *range(11, 32), 127]} | {"\ufeff"}
tricky_text = st.lists(
    st.sampled_from(TRICKY) | st.text(st.characters(exclude_categories=["Cs"]), max_size=5),
    max_size=60,
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=tricky_text, summary=tricky_text, topic=tricky_text, address=tricky_text)
def test_any_text_makes_valid_short_utf8_lines_and_comes_back_exactly(
    title, summary, topic, address
):
    event = unsaved_event(title=title, summary=summary, venue_address=address)
    (session,) = event.sessions.all()
    session.title = topic
    calendar = service.build_calendar(
        [event], request_or_base_url=BASE_URL, name=title, now=timezone.now()
    )
    body = calendar.to_ical()

    body.decode("utf-8")
    assert body.endswith(b"\r\n")
    for line in body[:-2].split(b"\r\n"):
        assert len(line) <= 75, line
        assert b"\r" not in line and b"\n" not in line

    parsed = Calendar.from_ical(body)
    (vevent,) = parsed.walk("VEVENT")
    url = BASE_URL + "/"
    assert str(vevent["SUMMARY"]) == service.session_summary(event, session)
    assert str(vevent["DESCRIPTION"]) == service.session_description(event, session, url)
    if event.location:
        assert str(vevent["LOCATION"]) == service.plain_text(event.location)
    # What the service wrote is the text itself, line breaks normalised to "\n".
    expected_title = service.plain_text(title)
    assert service.session_summary(event, session).startswith(expected_title)
    if not set(title) & DROPPED:
        assert expected_title == title


def test_plain_text_normalises_line_breaks_and_drops_control_characters():
    assert service.plain_text("a\r\nb\rc\nd\x00e\x1bf\tg") == "a\nb\nc\nd" + "ef\tg"
    assert service.plain_text(None) == ""


# Links ------------------------------------------------------------------------------------------


def test_webcal_links():
    assert (
        service.webcal("https://example.org/map/feed.ics?x=1")
        == "webcal://example.org/map/feed.ics?x=1"
    )
    assert service.webcal("HTTP://example.org/a") == "webcal://example.org/a"
    rendered = Template("{% load wagtail_iom_feeds %}{% webcal_url url %}").render(
        Context({"url": "https://example.org/map/formal.ics"})
    )
    assert rendered == "webcal://example.org/map/formal.ics"


def test_feed_urls_keep_the_filters_only(resource_map):
    params = QueryDict(
        "track=formal&utm_source=mail&level=regional&page=2&when=past&month=2026-01&q="
    )
    assert service.feed_query(params) == "track=formal&level=regional"
    request = RequestFactory().get("/map/", SERVER_NAME="localhost")
    urls = service.feed_urls(request, resource_map, params)
    feed = resource_map.get_full_url(request) + resource_map.reverse_subpage("feed")
    expected = feed + "?track=formal&level=regional"
    assert urls == {"https": expected, "webcal": service.webcal(expected)}
    assert service.feed_urls(request, resource_map, QueryDict())["https"] == feed
