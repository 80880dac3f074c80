"""Calendar feeds over HTTP: the map's feed, per track, filtered, and one event's ``.ics``."""

import datetime
import io
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone, translation
from django.utils.http import http_date
from django.utils.translation import gettext
from icalendar import Calendar
from wagtail.models import Page, PageViewRestriction, Revision

from tests.factories import make_event, make_resource_map
from wagtail_iom.events import calendar as calendar_service
from wagtail_iom.models import EventPage, EventSession, EventSessionCalendarState

pytestmark = [pytest.mark.django_db]


# Helpers ----------------------------------------------------------------------------------------


def days_from_today(days):
    return timezone.localdate() + datetime.timedelta(days=days)


def session(days=7, start=(10, 0), end=(13, 0), hours=4):
    return (days_from_today(days), datetime.time(*start), datetime.time(*end), hours)


def feed_url(page, name="feed", *args, query=""):
    url = page.url + page.reverse_subpage(name, args=list(args))
    return f"{url}?{query}" if query else url


def track_url(resource_map, track, query=""):
    return feed_url(resource_map, "track_feed", track, query=query)


def event_url(event):
    return feed_url(event, "ics")


def parse(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def vevents(calendar):
    return calendar.walk("VEVENT")


def summaries(calendar):
    return sorted(str(vevent["SUMMARY"]) for vevent in vevents(calendar))


def edit_and_publish(event, sessions=None, **fields):
    """Edit the live page as the admin does: a new revision, published."""
    page = EventPage.objects.get(pk=event.pk)
    for name, value in fields.items():
        setattr(page, name, value)
    if sessions is not None:
        current = list(page.sessions.all())
        for item, changes in zip(current, sessions, strict=False):
            for name, value in changes.items():
                setattr(item, name, value)
        page.sessions = current
    page.save_revision().publish()
    return EventPage.objects.get(pk=event.pk)


# Content and format ---------------------------------------------------------------------------


def test_the_map_feed_is_a_calendar_with_one_vevent_per_session(client, resource_map):
    seminar = make_event(resource_map, title="Семинар по читательской грамотности")
    course = make_event(
        resource_map,
        title="Курс «Цифровая школа»",
        track="formal",
        kind="course",
        format="blended",
        online_url="https://meet.example.org/room",
        sessions=[session(3), session(10, (14, 0), (17, 30), 3)],
    )
    response = client.get(feed_url(resource_map))

    calendar = parse(response)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["X-WR-CALNAME"]) == resource_map.title
    assert "PRODID" in calendar
    assert summaries(calendar) == [
        "Курс «Цифровая школа» (1/2)",
        "Курс «Цифровая школа» (2/2)",
        "Семинар по читательской грамотности",
    ]
    uids = {str(vevent["UID"]) for vevent in vevents(calendar)}
    expected = {
        f"iom-session-{s.pk}@localhost"
        for s in EventSession.objects.filter(page__in=[seminar, course])
    }
    assert uids == expected
    first = next(v for v in vevents(calendar) if str(v["SUMMARY"]).endswith("(1/2)"))
    assert first["DTSTART"].params["TZID"] == course.timezone
    assert first.decoded("DTSTART").replace(tzinfo=None) == datetime.datetime.combine(
        days_from_today(3), datetime.time(10)
    )
    assert first["DTSTAMP"].dt.tzinfo is not None
    assert int(first["SEQUENCE"]) == 0
    assert str(first["STATUS"]) == "CONFIRMED"
    # Links follow the host the feed was asked at (the test client's).
    course_url = "http://testserver" + course.get_url()
    assert str(first["URL"]) == course_url
    assert str(first["LOCATION"]) == course.location
    assert course.organiser in str(first["DESCRIPTION"])
    assert course_url in str(first["DESCRIPTION"])
    with translation.override("ru"):
        labels = [str(course.get_track_display()), str(course.get_kind_display())]
    assert [str(c) for c in first["CATEGORIES"].cats][:2] == labels

    assert response["Content-Disposition"] == 'inline; filename="map.ics"'
    assert response["Cache-Control"].startswith("public, max-age=")
    assert response["ETag"].startswith('"') and response["Last-Modified"]


def test_links_follow_the_address_the_feed_is_asked_at_and_uids_the_site(client, resource_map):
    """The demo is served at 127.0.0.1:8000 while the Wagtail site says localhost:80: a
    subscriber must get links that work, and the same UIDs whatever the address."""
    event = make_event(resource_map, title="Вебинар", sessions=[session(5)])
    path = event.get_url()

    served = parse(client.get(feed_url(resource_map), HTTP_HOST="127.0.0.1:8000"))
    secure = parse(client.get(feed_url(resource_map), HTTP_HOST="127.0.0.1:8000", secure=True))

    (vevent,) = vevents(served)
    assert str(vevent["URL"]) == f"http://127.0.0.1:8000{path}"
    assert f"http://127.0.0.1:8000{path}" in str(vevent["DESCRIPTION"])
    assert "localhost" not in str(vevent["DESCRIPTION"])
    # The same host over HTTPS is another cache entry.
    assert str(vevents(secure)[0]["URL"]) == f"https://127.0.0.1:8000{path}"
    (session_pk,) = event.sessions.values_list("pk", flat=True)
    assert {str(vevents(c)[0]["UID"]) for c in (served, secure)} == {
        f"iom-session-{session_pk}@localhost"
    }


def test_every_tzid_has_a_vtimezone_before_the_events(client, resource_map):
    make_event(resource_map, title="Калининград", timezone="Europe/Kaliningrad")
    make_event(resource_map, title="Екатеринбург", timezone="Asia/Yekaterinburg")
    make_event(resource_map, title="Ещё Калининград", timezone="Europe/Kaliningrad")

    calendar = parse(client.get(feed_url(resource_map)))

    kinds = [component.name for component in calendar.subcomponents]
    assert kinds.count("VTIMEZONE") == 2
    assert max(i for i, k in enumerate(kinds) if k == "VTIMEZONE") < kinds.index("VEVENT")
    defined = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    used = {vevent["DTSTART"].params["TZID"] for vevent in vevents(calendar)}
    assert used == defined == {"Europe/Kaliningrad", "Asia/Yekaterinburg"}
    kaliningrad = next(v for v in vevents(calendar) if str(v["SUMMARY"]) == "Калининград")
    assert kaliningrad.decoded("DTSTART").utcoffset() == datetime.timedelta(hours=2)


def test_lines_are_folded_and_the_feed_is_utf8(client, resource_map):
    make_event(
        resource_map, title="Очень длинное название " * 8, summary="Описание; с, запятыми\\ 🎓"
    )
    body = client.get(feed_url(resource_map)).content
    body.decode("utf-8")
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))


# Identity and versions ------------------------------------------------------------------------


def the_vevent(client, resource_map):
    # No cache.clear(): each publication must make the cached feed stale by itself.
    (vevent,) = vevents(parse(client.get(feed_url(resource_map))))
    return vevent


def test_uid_stays_and_sequence_grows_when_time_place_or_status_change(client, resource_map):
    event = make_event(resource_map, title="Вебинар")
    first = the_vevent(client, resource_map)
    uid = str(first["UID"])
    assert int(first["SEQUENCE"]) == 0

    event = edit_and_publish(event, title="Вебинар (новое название)")
    renamed = the_vevent(client, resource_map)
    assert str(renamed["UID"]) == uid
    assert int(renamed["SEQUENCE"]) == 0  # a new title is not a new time
    assert str(renamed["SUMMARY"]) == "Вебинар (новое название)"

    event = edit_and_publish(event, sessions=[{"start_time": datetime.time(11, 0)}])
    moved = the_vevent(client, resource_map)
    assert str(moved["UID"]) == uid
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART").time() == datetime.time(11, 0)

    event = edit_and_publish(event, venue_address="г. Калининград, ул. Кирова, 1")
    assert int(the_vevent(client, resource_map)["SEQUENCE"]) == 2

    event = edit_and_publish(event, status="postponed", status_reason="Болезнь лектора")
    postponed = the_vevent(client, resource_map)
    assert int(postponed["SEQUENCE"]) == 3
    assert str(postponed["STATUS"]) == "TENTATIVE"
    assert "Болезнь лектора" in str(postponed["DESCRIPTION"])

    edit_and_publish(event, status="cancelled", status_reason="Болезнь лектора")
    cancelled = the_vevent(client, resource_map)
    assert str(cancelled["UID"]) == uid
    assert int(cancelled["SEQUENCE"]) == 4
    assert str(cancelled["STATUS"]) == "CANCELLED"


def test_a_rebuilt_feed_is_byte_for_byte_the_same(client, resource_map):
    make_event(resource_map)
    first = client.get(feed_url(resource_map))
    cache.clear()
    time.sleep(1.1)  # DTSTAMP, LAST-MODIFIED must not come from the clock
    second = client.get(feed_url(resource_map))
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    # When the feeds last changed, from the database: not when this body was built.
    assert first["Last-Modified"] == second["Last-Modified"]


def test_a_cancelled_event_stays_for_the_retention_time_then_leaves(client, resource_map):
    event = make_event(resource_map, title="Отменённый семинар")
    make_event(resource_map, title="Семинар")
    edit_and_publish(event, status="cancelled", status_reason="Нет площадки")

    calendar = parse(client.get(feed_url(resource_map)))
    cancelled = next(v for v in vevents(calendar) if "Отменённый" in str(v["SUMMARY"]))
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert "Нет площадки" in str(cancelled["DESCRIPTION"])
    assert "Отменённый" in parse(client.get(event_url(event))).walk("VEVENT")[0]["SUMMARY"]

    # 31 days later (the default retention is 30 days) it has left the feed...
    EventSessionCalendarState.objects.filter(session__page=event).update(
        cancelled_at=timezone.now() - datetime.timedelta(days=31)
    )
    calendar_service.bump_feed_version()
    assert summaries(parse(client.get(feed_url(resource_map)))) == ["Семинар"]

    # ... unless the site keeps cancelled events longer.
    with override_settings(WAGTAIL_IOM={"FEED_CANCELLED_RETENTION_DAYS": 60}):
        assert len(vevents(parse(client.get(feed_url(resource_map))))) == 2


def test_events_that_just_ended_stay_older_ones_leave(client, resource_map):
    make_event(resource_map, title="Позавчера", sessions=[session(-2)])
    make_event(resource_map, title="Два месяца назад", sessions=[session(-60)])
    make_event(resource_map, title="Скоро", sessions=[session(2)])

    assert summaries(parse(client.get(feed_url(resource_map)))) == ["Позавчера", "Скоро"]
    assert summaries(parse(client.get(feed_url(resource_map, query="when=upcoming")))) == ["Скоро"]
    assert summaries(parse(client.get(feed_url(resource_map, query="when=past")))) == [
        "Два месяца назад",
        "Позавчера",
    ]


# Conditional requests and the cache -----------------------------------------------------------


def test_a_matching_etag_or_date_answers_304(client, resource_map):
    make_event(resource_map)
    url = feed_url(resource_map)
    response = client.get(url)
    etag, last_modified = response["ETag"], response["Last-Modified"]

    not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag

    assert client.get(url, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    an_hour_ago = http_date(time.time() - 3600)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=an_hour_ago).status_code == 200

    event_response = client.get(event_url(EventPage.objects.get()))
    assert (
        client.get(
            event_url(EventPage.objects.get()), HTTP_IF_NONE_MATCH=event_response["ETag"]
        ).status_code
        == 304
    )


def test_publishing_unpublishing_and_privacy_refresh_the_cached_feed(client, resource_map):
    event = make_event(resource_map, title="Было")
    url = feed_url(resource_map)
    first = client.get(url)
    assert summaries(parse(first)) == ["Было"]

    edit_and_publish(event, title="Стало")
    second = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert summaries(parse(second)) == ["Стало"]

    make_event(resource_map, title="Новое")
    assert summaries(parse(client.get(url))) == ["Новое", "Стало"]

    EventPage.objects.get(pk=event.pk).unpublish()
    assert summaries(parse(client.get(url))) == ["Новое"]

    PageViewRestriction.objects.create(
        page=EventPage.objects.get(title="Новое"), restriction_type=PageViewRestriction.LOGIN
    )
    assert vevents(parse(client.get(url))) == []


def test_publish_scheduled_from_cron_refreshes_the_feed(client, resource_map):
    """``manage.py publish_scheduled`` runs in a process of its own (cron): Wagtail publishes
    and unpublishes through the same signals as the admin, which move the version in the
    database, where the web processes read it."""
    event = make_event(resource_map, title="Было")
    url = feed_url(resource_map)
    first = client.get(url)
    page = EventPage.objects.get(pk=event.pk)
    page.title = "Стало"
    page.go_live_at = timezone.now() + datetime.timedelta(hours=1)
    page.save_revision().publish()  # scheduled: the live page stays as it was
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    version = calendar_service.feed_version()
    # An hour later, when cron runs the command: the go-live time has passed.
    revision = Revision.objects.get(approved_go_live_at__isnull=False)
    revision.approved_go_live_at = timezone.now() - datetime.timedelta(minutes=1)
    revision.content["go_live_at"] = revision.approved_go_live_at.isoformat()
    revision.save()
    call_command("publish_scheduled", stdout=io.StringIO())
    assert calendar_service.feed_version() > version
    published = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert summaries(parse(published)) == ["Стало"]

    version = calendar_service.feed_version()
    EventPage.objects.filter(pk=event.pk).update(
        expire_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    call_command("publish_scheduled", stdout=io.StringIO())
    assert calendar_service.feed_version() > version
    assert vevents(parse(client.get(url, HTTP_IF_NONE_MATCH=published["ETag"]))) == []


def test_a_draft_never_shows_not_even_as_unpublished_changes(client, resource_map):
    make_event(resource_map, title="Черновик", publish=False)
    live = make_event(resource_map, title="Опубликовано")
    page = EventPage.objects.get(pk=live.pk)
    page.title = "Правка, ещё не опубликованная"
    page.save_revision()

    assert summaries(parse(client.get(feed_url(resource_map)))) == ["Опубликовано"]
    draft = EventPage.objects.get(title="Черновик")
    assert client.get(event_url(draft)).status_code == 404


def test_private_events_and_private_maps_are_never_in_a_feed(client, resource_map):
    make_event(resource_map, title="Для всех")
    private = make_event(resource_map, title="Только для своих")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    password = make_event(resource_map, title="По паролю")
    PageViewRestriction.objects.create(
        page=password, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )

    assert summaries(parse(client.get(feed_url(resource_map)))) == ["Для всех"]
    assert summaries(parse(client.get(track_url(resource_map, "non-formal")))) == ["Для всех"]
    for event in (private, password):
        response = client.get(event_url(event))  # a login redirect, a password form
        assert not response["Content-Type"].startswith("text/calendar")

    # A private map: its feeds are not served, and its events are in no other map's feed.
    other_map = make_resource_map(title="Закрытая карта", slug="closed")
    make_event(other_map, title="Событие закрытой карты")
    PageViewRestriction.objects.create(page=other_map, restriction_type=PageViewRestriction.LOGIN)
    response = client.get(feed_url(other_map))
    assert response.status_code == 302 and "login" in response["Location"]
    assert "Событие закрытой карты" not in summaries(parse(client.get(feed_url(resource_map))))


def test_a_logged_in_editor_gets_no_ics_of_a_private_event(client, resource_map, superuser):
    private = make_event(resource_map, title="Только для своих")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    client.force_login(superuser)
    assert client.get(event_url(private)).status_code == 404


# Filters and tracks -----------------------------------------------------------------------------


@pytest.fixture
def three_tracks(resource_map):
    make_event(resource_map, title="Курс", track="formal", kind="course", level="federal")
    make_event(resource_map, title="Семинар", track="non_formal", kind="seminar", level="regional")
    make_event(
        resource_map,
        title="Вебинар",
        track="non_formal",
        kind="webinar",
        level="municipal",
        format="online",
        venue_address="",
        online_url="https://meet.example.org/w",
    )
    make_event(
        resource_map, title="Наставничество", track="informal", kind="mentoring", level="school"
    )


def test_a_feed_per_track(client, resource_map, three_tracks):
    assert summaries(parse(client.get(track_url(resource_map, "formal")))) == ["Курс"]
    non_formal = ["Вебинар", "Семинар"]
    assert summaries(parse(client.get(track_url(resource_map, "non_formal")))) == non_formal
    response = client.get(track_url(resource_map, "non-formal"))
    assert summaries(parse(response)) == non_formal
    assert response["Content-Disposition"] == 'inline; filename="map-non-formal.ics"'
    informal = parse(client.get(track_url(resource_map, "informal")))
    assert summaries(informal) == ["Наставничество"]
    assert ": " in str(informal["X-WR-CALNAME"])
    # The track in the path wins over a track in the query string.
    assert summaries(parse(client.get(track_url(resource_map, "formal", "track=informal")))) == [
        "Курс"
    ]


def test_a_feed_for_a_filter_combination(client, resource_map, three_tracks):
    query = "track=non_formal&format=online"
    assert summaries(parse(client.get(feed_url(resource_map, query=query)))) == ["Вебинар"]
    query = "level=regional&level=federal"  # the last value wins, as on the page
    assert len(vevents(parse(client.get(feed_url(resource_map, query=query))))) == 1
    query = "kind=seminar&track=non_formal"
    assert summaries(parse(client.get(feed_url(resource_map, query=query)))) == ["Семинар"]
    query = f"date_from={days_from_today(1)}&date_to={days_from_today(30)}&track=formal"
    assert summaries(parse(client.get(feed_url(resource_map, query=query)))) == ["Курс"]
    query = f"date_from={days_from_today(8)}"
    assert vevents(parse(client.get(feed_url(resource_map, query=query)))) == []
    query = "page=3&month=2020-01&utm_source=mail"  # not filters: ignored
    assert len(vevents(parse(client.get(feed_url(resource_map, query=query))))) == 4


def test_an_unknown_filter_value_answers_400_with_a_message(client, resource_map, three_tracks):
    for query, name in [
        ("track=nonsense", "track"),
        ("level=galactic", "level"),
        ("municipality=999999", "municipality"),
        ("date_from=tomorrow", "date_from"),
        ("competency=NO-SUCH", "competency"),
    ]:
        response = client.get(feed_url(resource_map, query=query), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, query
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        with translation.override("en"):
            expected = gettext(
                "The filter “%(name)s” has a value that cannot be used: %(problem)s"
            ) % {"name": name, "problem": ""}
        assert response.content.decode().startswith(expected), response.content

    response = client.get(track_url(resource_map, "no-such-track"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "no-such-track" in response.content.decode()
    assert "non-formal" in response.content.decode()


def test_an_over_long_query_string_is_refused(client, resource_map):
    make_event(resource_map)
    response = client.get(feed_url(resource_map, query="q=" + "а" * 1200))
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "2048" in response.content.decode()
    with override_settings(WAGTAIL_IOM={"MAX_QUERY_STRING_LENGTH": 20}):
        assert (
            client.get(feed_url(resource_map, query="track=non_formal&level=regional")).status_code
            == 400
        )
        assert client.get(feed_url(resource_map, query="track=formal")).status_code == 200


def test_only_get_and_head(client, resource_map):
    event = make_event(resource_map)
    assert client.post(feed_url(resource_map)).status_code == 405
    assert client.post(event_url(event)).status_code == 405
    head = client.head(feed_url(resource_map))
    assert head.status_code == 200 and head["ETag"]


# One event -------------------------------------------------------------------------------------


def test_one_events_ics(client, resource_map):
    event = make_event(
        resource_map,
        title="Стажировка",
        track="formal",
        kind="internship",
        slug="internship",
        sessions=[session(5), session(6), session(7)],
    )
    make_event(resource_map, title="Другое событие")
    response = client.get(event_url(event))
    calendar = parse(response)
    assert str(calendar["X-WR-CALNAME"]) == "Стажировка"
    assert summaries(calendar) == ["Стажировка (1/3)", "Стажировка (2/3)", "Стажировка (3/3)"]
    assert response["Content-Disposition"] == 'inline; filename="internship.ics"'
    assert calendar.walk("VTIMEZONE")


def test_an_events_ics_survives_its_sessions_being_in_the_past(client, resource_map):
    event = make_event(resource_map, title="Давно прошло", sessions=[session(-400)])
    assert summaries(parse(client.get(event_url(event)))) == ["Давно прошло"]


# The real URLs ----------------------------------------------------------------------------------


def test_feeds_are_served_by_wagtails_own_urls(client, resource_map):
    event = make_event(resource_map)
    assert client.get(feed_url(resource_map)).status_code == 200
    assert client.get(track_url(resource_map, "formal")).status_code == 200
    assert client.get(event_url(event)).status_code == 200


# Queries ----------------------------------------------------------------------------------------


TRACK_KINDS = [("formal", "course"), ("non_formal", "seminar"), ("informal", "mentoring")]


def add_events_in_bulk(resource_map, count, offset):
    """Live, public events with two sessions each, inserted without revisions (fast)."""
    now = timezone.now()
    resource_map = Page.objects.get(pk=resource_map.pk)
    sessions = []
    states = []
    for n in range(offset, offset + count):
        track, kind = TRACK_KINDS[n % 3]
        event = EventPage(
            title=f"Событие № {n}",
            slug=f"bulk-{n}",
            summary="Для проверки числа запросов.",
            track=track,
            kind=kind,
            level="regional",
            format="in_person",
            organiser="ЦНППМ",
            venue_address="г. Калининград, ул. Томская, 63",
            live=True,
            has_unpublished_changes=False,
            first_published_at=now,
            last_published_at=now,
        )
        resource_map.add_child(instance=event)
        for number, days in enumerate((5 + n % 20, 40 + n % 20)):
            item = EventSession(
                page=event,
                date=days_from_today(days),
                start_time=datetime.time(10),
                end_time=datetime.time(12),
                academic_hours=2,
                sort_order=number,
            )
            item.starts_at, item.ends_at = item.compute_moments(event.tzinfo)
            sessions.append(item)
    EventSession.objects.bulk_create(sessions)
    for item in sessions[::3]:
        states.append(
            EventSessionCalendarState(
                session=item, sequence=1, fingerprint="x", changed_at=now, cancelled_at=None
            )
        )
    EventSessionCalendarState.objects.bulk_create(states)
    calendar_service.bump_feed_version()


FEEDS_MEASURED = [
    ("the whole map", lambda m: feed_url(m)),
    ("a track", lambda m: track_url(m, "non-formal")),
    (
        "a filter combination",
        lambda m: feed_url(m, query="track=formal&level=regional&format=in_person"),
    ),
]


def count_queries(client, url):
    cache.clear()
    client.get(url)  # warm Wagtail's site caches; then measure a rebuild
    calendar_service.bump_feed_version()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(vevents(parse(response)))


def test_the_query_count_of_each_feed_stays_flat_as_events_grow(client, resource_map):
    for n in range(10):
        track, kind = TRACK_KINDS[n % 3]
        make_event(resource_map, title=f"Событие {n}", track=track, kind=kind, slug=f"few-{n}")
    event = EventPage.objects.get(slug="few-0")
    few = {name: count_queries(client, url(resource_map)) for name, url in FEEDS_MEASURED}
    few["one event"] = count_queries(client, event_url(event))

    add_events_in_bulk(resource_map, 490, offset=10)
    many = {name: count_queries(client, url(resource_map)) for name, url in FEEDS_MEASURED}
    many["one event"] = count_queries(client, event_url(event))

    assert many["the whole map"][1] == 10 + 490 * 2  # the feed did grow
    assert {name: queries for name, (queries, _) in many.items()} == {
        name: queries for name, (queries, _) in few.items()
    }
    print("queries with 10 events / 500 events:", few, many)


def test_a_new_sign_up_makes_only_free_seat_feeds_stale(
    client, resource_map, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory
    from wagtail_iom.models import Registration

    event = make_event(resource_map, capacity=1)
    url = resource_map.url + resource_map.reverse_subpage("feed")
    free = client.get(url, {"free_seats": "on"})
    every = client.get(url)
    assert summaries(parse(free)) == [event.title]
    before = calendar_service.feed_versions()
    with django_capture_on_commit_callbacks(execute=True):
        Registration.objects.create(event=event, user=UserFactory())
    after = calendar_service.feed_versions()
    assert after.seats > before.seats  # moved once the sign-up is committed
    assert after.feeds == before.feeds  # the other feeds stay cached
    assert summaries(parse(client.get(url, {"free_seats": "on"}))) == []
    again = client.get(url, HTTP_IF_NONE_MATCH=every["ETag"])
    assert again.status_code == 304
