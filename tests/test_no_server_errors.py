"""Bad input never gets a 500: every URL pattern of the site, fed integer overflows, values
that are not numbers and NUL bytes, in the path, the query string and POST fields, answers
with 4xx (or a page), as an administrator, a teacher and a visitor."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import make_event

pytestmark = pytest.mark.django_db

HUGE = str(2**64)  # beyond SQLite's and PostgreSQL's 64-bit integers
HOSTILE_VALUES = [HUGE, "-" + HUGE, "abc", "1\x00", "\x00"]
HOSTILE_PARAMS = [
    "id",
    "pk",
    "page",
    "p",
    "offset",
    "limit",
    "event",
    "teacher",
    "next",
    "q",
    "search",
    "month",
    "municipality",
    "school",
    "competency",
    "status",
    "stage",
    "curator",
    "order",
    "ordering",
    "format",
    "layout",
    "track",
    "level",
]


def patterns(resolver=None, prefix=""):
    """Every route of the site that the package serves: its front end, its admin screens
    (under ``iom/``), its pages' routes and the events API."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from patterns(entry, route)
        elif isinstance(entry, URLPattern) and ("iom/" in route or "api/v2/" in route):
            yield route


def concrete_paths(route, value):
    """The route with every converter replaced by ``value`` (int converters) or a slug."""
    route = route.lstrip("^").rstrip("$")
    path = re.sub(r"<int:\w+>", value, route)
    path = re.sub(r"<str:pk>", value, path)
    path = re.sub(r"<(?:str|slug|path):\w+>", "x", path)
    path = re.sub(r"<\w+>", "x", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", value, path)
    if any(ch in path for ch in "()[]?*+\\"):
        return None
    return "/" + path.lstrip("/")


def clients(admin_user, teacher):
    admin = Client()
    admin.force_login(admin_user)
    teacher_client = Client()
    teacher_client.force_login(teacher.user)
    return {"admin": admin, "teacher": teacher_client, "visitor": Client()}


@pytest.fixture
def site(resource_map):
    event = make_event(resource_map)
    return [resource_map.url, resource_map.url + "calendar/", event.url]


def test_no_url_answers_500_to_hostile_values(admin_user, teacher, site):
    failures = []
    routes = sorted(set(patterns())) + [url.lstrip("/") for url in site]
    for name, client in clients(admin_user, teacher).items():
        client.raise_request_exception = False
        for route in routes:
            values = HOSTILE_VALUES if "<int:" in route or "(?P<" in route else ["1"]
            for value in values:
                path = concrete_paths(route, value)
                if path is None or "\x00" in path:
                    continue
                for bad in ("", *HOSTILE_VALUES):
                    params = dict.fromkeys(HOSTILE_PARAMS, bad) if bad else {}
                    response = client.get(path, params)
                    if response.status_code >= 500:
                        failures.append((name, "GET", path, repr(bad), response.status_code))
                response = client.post(path, dict.fromkeys(HOSTILE_PARAMS, HUGE))
                if response.status_code >= 500:
                    failures.append((name, "POST", path, "huge ids", response.status_code))
    assert not failures, "\n".join(" ".join(map(str, failure)) for failure in failures)


@pytest.mark.parametrize(
    "query",
    [{"offset": "99999999999999999999"}, {"limit": "99999999999999999999"}, {"search": "\x00"}],
)
def test_the_events_api_answers_400_to_values_no_database_takes(client, site, query):
    response = client.get("/api/v2/events/", query)
    assert response.status_code == 400
    assert "message" in response.json()


@pytest.mark.parametrize("value", ["abc", HUGE, "-1", "1\x00"])
def test_the_teacher_chooser_refuses_ids_that_cannot_be_ids(admin_client, teacher, value):
    multiple = admin_client.get("/admin/iom/choose-teacher/chosen-multiple/", {"id": value})
    assert multiple.status_code == 200
    assert multiple.json()["result"] == []
    if "\x00" not in value:
        assert admin_client.get(f"/admin/iom/choose-teacher/chosen/{value}/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/iom/routes/edit/{HUGE}/",
        f"/admin/iom/schools/edit/{HUGE}/",
        f"/admin/iom/attendance/events/{HUGE}/",
        f"/iom/cabinet/routes/{HUGE}/",
        f"/iom/events/{HUGE}/signup/",
    ],
)
def test_ids_past_64_bits_in_a_path_are_not_found(admin_client, teacher, path):
    assert admin_client.get(path).status_code == 404
