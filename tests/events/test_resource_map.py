"""The resource map page: filters, list, month calendar, bad input and query counts."""

import datetime

import lxml.html
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction

from tests.factories import (
    MunicipalityFactory,
    UserFactory,
    bulk_events,
    make_event,
    make_resource_map,
)
from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.models import Competency, EventPage, Registration

pytestmark = pytest.mark.django_db

D = datetime.date
T = datetime.time
TODAY = timezone.localdate()
SOON = TODAY + datetime.timedelta(days=10)


def titles(response):
    return [event.title for event in response.context["events"]]


@pytest.fixture
def events(resource_map):
    gusev = MunicipalityFactory(name="Гусевский городской округ")
    digital = Competency.objects.get(code="DIG-1")
    methodical = Competency.objects.get(code="METH-1")
    return {
        "course": make_event(
            resource_map,
            title="Курсы повышения квалификации по цифровой дидактике",
            track="formal",
            kind="course",
            level="regional",
            format="online",
            venue_address="",
            online_url="https://example.org/course",
            capacity=1,
            competencies=[digital],
            sessions=[(SOON, T(10), T(13)), (SOON + datetime.timedelta(days=7), T(10), T(13))],
        ),
        "seminar": make_event(
            resource_map,
            title="Семинар для методистов",
            track="non_formal",
            kind="seminar",
            level="municipal",
            municipality=gusev,
            competencies=[methodical],
            sessions=[(SOON + datetime.timedelta(days=1), T(15), T(17))],
        ),
        "mentoring": make_event(
            resource_map,
            title="Наставническая встреча",
            track="informal",
            kind="mentoring",
            level="school",
            sessions=[(SOON + datetime.timedelta(days=2), T(9), T(10))],
        ),
        "past": make_event(
            resource_map,
            title="Прошедшая конференция",
            track="non_formal",
            kind="conference",
            level="federal",
            sessions=[(TODAY - datetime.timedelta(days=30), T(10), T(16))],
        ),
    }


def test_the_pages_can_be_created_in_the_admin(admin_client, resource_map):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

    response = admin_client.post(
        f"/admin/pages/add/wagtail_iom/eventpage/{resource_map.pk}/",
        nested_form_data(
            {
                "title": "Вебинар «Цифровая школа»",
                "slug": "webinar-digital",
                "summary": "Вебинар для учителей информатики.",
                "track": "non_formal",
                "kind": "webinar",
                "level": "federal",
                "format": "online",
                "organiser": "ЦНППМ",
                "online_url": "https://example.org/webinar",
                "timezone": "Europe/Moscow",
                "status": "scheduled",
                "body": streamfield([("heading", "Программа")]),
                "sessions": inline_formset(
                    [{"date": SOON.isoformat(), "start_time": "16:00", "end_time": "17:30"}]
                ),
                "action-publish": "publish",
            }
        ),
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    event = EventPage.objects.get(slug="webinar-digital")
    assert event.live
    session = event.sessions.get()
    assert session.starts_at == datetime.datetime.combine(
        SOON, T(16), tzinfo=datetime.timezone(datetime.timedelta(hours=3))
    )


def post_event(admin_client, resource_map, **changes):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

    data = {
        "title": "Семинар",
        "slug": "seminar-x",
        "summary": "Описание.",
        "track": "non_formal",
        "kind": "seminar",
        "level": "regional",
        "format": "in_person",
        "organiser": "ЦНППМ",
        "venue_address": "г. Калининград",
        "timezone": "Europe/Kaliningrad",
        "status": "scheduled",
        "body": streamfield([]),
        "sessions": inline_formset(
            [{"date": SOON.isoformat(), "start_time": "10:00", "end_time": "12:00"}]
        ),
        "action-publish": "publish",
    }
    data.update(changes)
    return admin_client.post(
        f"/admin/pages/add/wagtail_iom/eventpage/{resource_map.pk}/", nested_form_data(data)
    )


def test_a_session_ending_before_it_starts_cannot_be_saved(admin_client, resource_map):
    from wagtail.test.utils.form_data import inline_formset

    response = post_event(
        admin_client,
        resource_map,
        sessions=inline_formset(
            [{"date": SOON.isoformat(), "start_time": "12:00", "end_time": "10:00"}]
        ),
    )
    assert response.status_code == 200
    assert not EventPage.objects.filter(slug="seminar-x").exists()
    assert (
        "должно закончиться позже" in response.content.decode()
        or "end after" in response.content.decode()
    )


def test_an_event_without_sessions_cannot_be_saved(admin_client, resource_map):
    from wagtail.test.utils.form_data import inline_formset

    response = post_event(admin_client, resource_map, sessions=inline_formset([]))
    assert response.status_code == 200
    assert not EventPage.objects.filter(slug="seminar-x").exists()


def test_cancelling_asks_for_a_reason(admin_client, resource_map):
    response = post_event(admin_client, resource_map, status="cancelled", status_reason="")
    assert response.status_code == 200
    assert "status_reason" in response.context["form"].errors
    response = post_event(
        admin_client, resource_map, status="cancelled", status_reason="Болезнь лектора"
    )
    assert response.status_code == 302


def test_kind_must_belong_to_the_track(admin_client, resource_map):
    response = post_event(admin_client, resource_map, track="formal", kind="seminar")
    assert "kind" in response.context["form"].errors


def test_the_map_lists_upcoming_events_by_next_session(client, resource_map, events):
    response = client.get(resource_map.url)
    assert response.status_code == 200
    assert titles(response) == [
        "Курсы повышения квалификации по цифровой дидактике",
        "Семинар для методистов",
        "Наставническая встреча",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"track": "formal"}, ["course"]),
        ({"track": "informal"}, ["mentoring"]),
        ({"kind": "seminar"}, ["seminar"]),
        ({"level": "school"}, ["mentoring"]),
        ({"format": "online"}, ["course"]),
        ({"group": "digital"}, ["course"]),
        ({"competency": "METH-1"}, ["seminar"]),
        ({"when": "past"}, ["past"]),
        ({"q": "методистов"}, ["seminar"]),
        ({"track": "non_formal", "when": "past"}, ["past"]),
    ],
)
def test_each_filter_narrows_the_list(client, resource_map, events, params, expected):
    response = client.get(resource_map.url, params)
    assert response.status_code == 200
    assert sorted(titles(response)) == sorted(events[key].title for key in expected)


def test_municipality_and_date_range_filters(client, resource_map, events):
    gusev = events["seminar"].municipality
    assert titles(client.get(resource_map.url, {"municipality": gusev.pk})) == [
        events["seminar"].title
    ]
    day = (SOON + datetime.timedelta(days=2)).isoformat()
    assert titles(client.get(resource_map.url, {"date_from": day, "date_to": day})) == [
        events["mentoring"].title
    ]


def test_free_seats_filter(client, resource_map, events):
    Registration.objects.create(event=events["course"], user=UserFactory())
    response = client.get(resource_map.url, {"free_seats": "on"})
    assert events["course"].title not in titles(response)
    assert events["seminar"].title in titles(response)


def test_drafts_and_private_events_never_appear(client, resource_map, events):
    make_event(resource_map, title="Черновик семинара", publish=False)
    PageViewRestriction.objects.create(
        page=events["seminar"], restriction_type=PageViewRestriction.LOGIN
    )
    listed = titles(client.get(resource_map.url))
    assert "Черновик семинара" not in listed
    assert events["seminar"].title not in listed


@pytest.mark.parametrize(
    "params",
    [
        {"track": "underwater"},
        {"kind": "nonsense"},
        {"municipality": "abc"},
        {"municipality": "999999"},
        {"date_from": "2026-13-45"},
        {"competency": "NOPE-1"},
        {"page": "abc"},
        {"page": "999"},
        {"when": "someday"},
    ],
)
def test_bad_values_answer_400_with_a_message(client, resource_map, events, params):
    response = client.get(resource_map.url, params)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_bad_month_and_long_query_answer_400(client, resource_map, events):
    assert client.get(resource_map.url + "calendar/", {"month": "2026-99"}).status_code == 400
    assert client.get(resource_map.url + "calendar/", {"month": "99999-01"}).status_code == 400
    assert client.get(resource_map.url, {"q": "х" * 3000}).status_code == 400


def test_every_filter_combination_has_a_shareable_url_and_a_feed_link(client, resource_map, events):
    response = client.get(resource_map.url, {"track": "formal", "level": "regional"})
    content = response.content.decode()
    assert '<link rel="alternate" type="text/calendar"' in content
    assert "/feed/?" in content and "track=formal" in content
    assert "webcal://" in content


@pytest.mark.parametrize("view", ["", "calendar/"])
def test_subscribe_links_are_at_the_host_and_port_the_page_is_served_at(
    client, resource_map, events, view
):
    """`make demo` serves 127.0.0.1:8000; the Wagtail site of a fresh database says localhost:80."""
    response = client.get(resource_map.url + view, {"track": "formal"}, HTTP_HOST="127.0.0.1:8000")
    content = response.content.decode()

    feed = resource_map.url + resource_map.reverse_subpage("feed")
    (alternate,) = lxml.html.fromstring(content).xpath('//link[@type="text/calendar"]')
    assert alternate.get("href") == f"http://127.0.0.1:8000{feed}?track=formal"
    assert f'href="webcal://127.0.0.1:8000{feed}?track=formal"' in content
    for track in EventTrack.values:
        track_feed = resource_map.url + resource_map.reverse_subpage("track_feed", args=[track])
        assert f'href="webcal://127.0.0.1:8000{track_feed}"' in content
    assert "//localhost" not in content


def test_month_calendar_places_sessions_on_their_days(client, resource_map):
    make_event(
        resource_map, title="Последний день месяца", sessions=[(D(2031, 1, 31), T(10), T(11))]
    )
    make_event(resource_map, title="Первый день месяца", sessions=[(D(2031, 2, 1), T(10), T(11))])
    response = client.get(resource_map.url + "calendar/", {"month": "2031-01"})
    assert response.status_code == 200
    month = response.context["month"]
    days = {day.date: [s.page.title for s in day.sessions] for week in month.weeks for day in week}
    assert days[D(2031, 1, 31)] == ["Последний день месяца"]
    in_month = [day for week in month.weeks for day in week if day.in_month and day.sessions]
    assert [day.date for day in in_month] == [D(2031, 1, 31)]
    content = response.content.decode()
    assert "Последний день месяца" in content
    assert "Первый день месяца" not in content  # 1 February is outside January's grid cells


def test_a_late_session_in_kaliningrad_lands_on_its_own_day(client, resource_map, settings):
    settings.TIME_ZONE = "Asia/Vladivostok"  # far east: 23:30 in Kaliningrad is the next day here
    make_event(
        resource_map,
        title="Поздний вебинар",
        timezone="Europe/Kaliningrad",
        sessions=[(D(2031, 3, 31), T(23, 30), T(23, 59))],
    )
    month = client.get(resource_map.url + "calendar/", {"month": "2031-03"}).context["month"]
    days = {day.date: [s.page.title for s in day.sessions] for week in month.weeks for day in week}
    assert days[D(2031, 3, 31)] == ["Поздний вебинар"]
    april = client.get(resource_map.url + "calendar/", {"month": "2031-04"}).context["month"]
    assert not april.days_with_sessions


def test_calendar_keeps_the_filters(client, resource_map, events):
    response = client.get(
        resource_map.url + "calendar/", {"track": "informal", "month": SOON.strftime("%Y-%m")}
    )
    titles_in_month = {
        s.page.title for day in response.context["month"].days_with_sessions for s in day.sessions
    }
    assert titles_in_month <= {events["mentoring"].title}


def test_event_page_shows_sessions_status_and_ics_link(client, resource_map):
    event = make_event(
        resource_map,
        title="Отменённый семинар",
        status="cancelled",
        status_reason="Лектор заболел, семинар перенесут на весну.",
    )
    response = client.get(event.url)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Лектор заболел" in content
    assert "/ics/" in content


def _count_queries(client, url):
    client.get(url)  # warm caches (site root paths)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("suffix", ["", "calendar/", "?track=formal", "calendar/?track=non_formal"])
def test_query_counts_stay_flat_from_10_to_500_events(client, suffix):
    small = make_resource_map(slug="small-map")
    large = make_resource_map(slug="large-map")
    bulk_events(small, 10)
    bulk_events(large, 500)
    few = _count_queries(client, small.url + suffix)
    many = _count_queries(client, large.url + suffix)
    assert few == many


def test_api_lists_events_with_sessions_and_competencies(client, resource_map, events):
    response = client.get("/api/v2/events/", {"track": "formal"})
    assert response.status_code == 200
    (item,) = response.json()["items"]
    assert item["track"] == "formal"
    assert item["kind"] == "course"
    assert len(item["api_sessions"]) == 2
    assert item["api_competencies"][0]["code"] == "DIG-1"


def test_admin_event_listing_filters(admin_client, events):
    response = admin_client.get("/admin/iom/events/", {"track": "informal"})
    assert response.status_code == 200
    content = response.content.decode()
    assert events["mentoring"].title in content
    assert events["course"].title not in content
    response = admin_client.get("/admin/iom/events/", {"status": "scheduled", "level": "federal"})
    assert events["past"].title in response.content.decode()


def publish_form_data(event, session, capacity):
    """The event editor's POST that publishes ``event`` with ``capacity`` seats."""
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

    return nested_form_data(
        {
            "title": event.title,
            "slug": event.slug,
            "summary": event.summary,
            "track": event.track,
            "kind": event.kind,
            "level": event.level,
            "format": event.format,
            "organiser": event.organiser,
            "venue_address": event.venue_address,
            "timezone": event.timezone,
            "status": "scheduled",
            "capacity": str(capacity),
            "body": streamfield([]),
            "sessions": inline_formset(
                [
                    {
                        "id": session.pk,
                        "date": session.date.isoformat(),
                        "start_time": "10:00",
                        "end_time": "13:00",
                    }
                ],
                initial=1,
            ),
            "action-publish": "publish",
        }
    )


def test_capacity_cannot_drop_below_the_sign_ups_and_the_editor_sees_who(
    admin_client, resource_map
):
    event = make_event(resource_map, capacity=5)
    for name in ("Анна Петрова", "Борис Смирнов", "Вера Иванова"):
        first, last = name.split()
        Registration.objects.create(event=event, user=UserFactory(first_name=first, last_name=last))
    session = event.sessions.get()
    data = publish_form_data(event, session, capacity=1)
    response = admin_client.post(f"/admin/pages/{event.pk}/edit/", data)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["capacity"])
    assert "Борис Смирнов" in errors and "Вера Иванова" in errors
    assert "Анна Петрова" not in errors
    event.refresh_from_db()
    assert event.capacity == 5


def test_the_capacity_check_and_the_publication_run_under_the_event_lock(
    admin_client, resource_map
):
    """The editor's seat check and the page's save happen in one transaction that locked the
    event first, as sign-ups do: no sign-up can take a seat between the check and the save."""
    from unittest import mock

    from django.db import connection

    from wagtail_iom.events import signup
    from wagtail_iom.events.models import EventPageForm

    event = make_event(resource_map, capacity=5)
    session = event.sessions.get()
    seen = []
    real_lock, real_check = signup.lock_event, EventPageForm._check_capacity

    def lock(page):
        seen.append(("lock", connection.in_atomic_block))
        return real_lock(page)

    def check(form, capacity):
        seen.append(("check", connection.in_atomic_block))
        return real_check(form, capacity)

    data = publish_form_data(event, session, capacity=3)
    with (
        mock.patch.object(signup, "lock_event", lock),
        mock.patch.object(EventPageForm, "_check_capacity", check),
    ):
        response = admin_client.post(f"/admin/pages/{event.pk}/edit/", data)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.capacity == 3
    # Locked first, then checked, in a transaction (publishing locks again to fill seats).
    assert seen[:2] == [("lock", True), ("check", True)]


def test_copying_an_event_copies_its_sessions(resource_map):
    event = make_event(resource_map, sessions=[(SOON, T(10), T(12)), (SOON, T(14), T(16))])
    copy = event.copy(update_attrs={"slug": "copy-of-event", "title": "Копия"})
    assert copy.pk != event.pk
    assert copy.sessions.count() == 2
    assert set(copy.sessions.values_list("pk", flat=True)).isdisjoint(
        event.sessions.values_list("pk", flat=True)
    )


def test_the_list_shows_every_filter_and_the_calendar_hides_the_period(
    client, resource_map, events
):
    listed = client.get(resource_map.url).content.decode()
    for name in (
        "q",
        "track",
        "kind",
        "level",
        "format",
        "group",
        "competency",
        "municipality",
        "date_from",
        "date_to",
        "when",
    ):
        assert f'name="{name}"' in listed, name
    month = client.get(resource_map.url + "calendar/").content.decode()
    assert 'name="track"' in month
    for name in ("date_from", "date_to", "when"):
        assert f'name="{name}"' not in month, name


class TestPageTypes:
    """Wagtail's own assertions for where the pages may be created."""

    @pytest.fixture(autouse=True)
    def _case(self, admin_client):
        from wagtail.test.utils import WagtailPageTestCase

        class Case(WagtailPageTestCase):
            def runTest(self):  # noqa: N802 - unittest's name
                pass

        self.case = Case()
        self.client = admin_client

    def test_rules_of_the_tree(self):
        from wagtail.models import Page

        from sandbox.home.models import HomePage
        from wagtail_iom.models import ResourceMapPage

        self.case.assertAllowedParentPageTypes(EventPage, {ResourceMapPage})
        self.case.assertAllowedSubpageTypes(EventPage, set())
        self.case.assertAllowedSubpageTypes(ResourceMapPage, {EventPage})
        self.case.assertCanCreateAt(HomePage, ResourceMapPage)
        self.case.assertCanNotCreateAt(Page, EventPage)

    def test_can_create_both_pages(self, resource_map):
        from wagtail.test.utils.form_data import (
            inline_formset,
            nested_form_data,
            rich_text,
            streamfield,
        )

        from wagtail_iom.models import ResourceMapPage

        self.case.client = self.client
        home = resource_map.get_parent()
        self.case.assertCanCreate(
            home,
            ResourceMapPage,
            nested_form_data(
                {
                    "title": "Карта мероприятий",
                    "slug": "events-map",
                    "intro": rich_text("<p>Все мероприятия.</p>"),
                }
            ),
        )
        self.case.assertCanCreate(
            resource_map,
            EventPage,
            nested_form_data(
                {
                    "title": "Стажировка в лицее № 23",
                    "slug": "internship-23",
                    "summary": "Двухдневная стажировка.",
                    "track": "formal",
                    "kind": "internship",
                    "level": "regional",
                    "format": "in_person",
                    "organiser": "ЦНППМ",
                    "venue_address": "г. Калининград, ул. Кирова, 23",
                    "timezone": "Europe/Kaliningrad",
                    "status": "scheduled",
                    "body": streamfield([("paragraph", rich_text("<p>Программа стажировки.</p>"))]),
                    "sessions": inline_formset(
                        [
                            {
                                "date": SOON.isoformat(),
                                "start_time": "09:00",
                                "end_time": "16:00",
                                "academic_hours": "8",
                            },
                            {
                                "date": (SOON + datetime.timedelta(days=1)).isoformat(),
                                "start_time": "09:00",
                                "end_time": "16:00",
                                "academic_hours": "8",
                            },
                        ]
                    ),
                }
            ),
        )
        assert EventPage.objects.get(slug="internship-23").sessions.count() == 2


def test_admin_event_listing_query_count_is_flat(admin_client):
    small = make_resource_map(slug="small-admin")
    bulk_events(small, 5)
    admin_client.get("/admin/iom/events/")  # warm caches (site root paths, menus)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get("/admin/iom/events/").status_code == 200
    bulk_events(make_resource_map(slug="large-admin"), 40)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get("/admin/iom/events/").status_code == 200
    assert len(many) == len(few)
