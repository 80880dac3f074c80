"""Every URL of every scoped admin viewset keeps a staff member inside their scope.

A curator with every model permission a centre could give (view, add, change, delete
teachers, diagnostics, routes, sign-ups) but assigned to one teacher walks every URL each
scoped viewset registers (index, results, edit, inspect, history, usage, delete, choosers,
chosen, chosen-multiple...) with the ids of another teacher's objects: each answers 403 or 404,
or a page that does not show the other teacher.
"""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.factories import UserFactory, make_event, make_teacher
from wagtail_iom.models import (
    CuratorAssignment,
    DiagnosticResult,
    Registration,
    Route,
    StaffMembership,
    StaffRole,
)

pytestmark = pytest.mark.django_db

SCOPED_PREFIXES = {
    "teachers": "admin/iom/teachers/",
    "diagnostics": "admin/iom/diagnostics/",
    "routes": "admin/iom/routes/",
    "registrations": "admin/iom/registrations/",
    "teacher chooser": "admin/iom/choose-teacher/",
    "route chooser": "admin/iom/choose-route/",
}

FOREIGN_NAME = "Чужаков"


@pytest.fixture
def foreign(resource_map):
    """Another teacher's profile, diagnostic, route and sign-up."""
    today = timezone.localdate()
    theirs = make_teacher(username="theirs", last_name=FOREIGN_NAME)
    diagnostic = DiagnosticResult.objects.create(
        teacher=theirs, date=today, procedure="self", level="low", total_score=30
    )
    route = Route.objects.create(
        teacher=theirs, starts_on=today, ends_on=today + datetime.timedelta(days=200)
    )
    route.save_revision()
    registration = Registration.objects.create(
        event=make_event(resource_map), user=theirs.user, status="pending"
    )
    return {
        "teacher": theirs.pk,
        "diagnostic": diagnostic.pk,
        "route": route.pk,
        "registration": registration.pk,
    }


@pytest.fixture
def curator(client, resource_map):
    mine = make_teacher(username="mine", last_name="Свой")
    user = UserFactory(username="curator")
    group = Group.objects.create(name="Кураторы со всеми правами")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["wagtail_iom"],
            content_type__model__in=[
                "teacherprofile",
                "diagnosticresult",
                "competencyscore",
                "route",
                "registration",
            ],
        ),
        Permission.objects.get(codename="access_admin"),
    )
    user.groups.add(group)
    StaffMembership.objects.create(user=user, role=StaffRole.CURATOR)
    CuratorAssignment.objects.create(teacher=mine, curator=user)
    client.force_login(user)
    return client


def scoped_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from scoped_routes(entry, route)
        elif isinstance(entry, URLPattern) and any(
            route.startswith(p) for p in SCOPED_PREFIXES.values()
        ):
            yield route


def concrete(route, pk):
    path = re.sub(r"<(?:iom_id|int|str):pk>", str(pk), route)
    path = re.sub(r"\(\?P<pk>[^)]*\)", str(pk), path)
    path = re.sub(r"<(?:iom_id|int):revision_id>", "1", path)
    path = re.sub(r"\(\?P<revision_id_a>[^)]*\)", "earliest", path)
    path = re.sub(r"\(\?P<revision_id_b>[^)]*\)", "latest", path)
    path = re.sub(r"<slug:to_status>", "sent_for_approval", path)
    path = path.replace("\\.", ".").rstrip("$")
    if "<" in path or "(?P" in path:
        return None
    return "/" + path


def foreign_pk(route, foreign):
    if "choose-teacher" in route or route.startswith(SCOPED_PREFIXES["teachers"]):
        return foreign["teacher"]
    if route.startswith(SCOPED_PREFIXES["diagnostics"]):
        return foreign["diagnostic"]
    if route.startswith(SCOPED_PREFIXES["registrations"]):
        return foreign["registration"]
    return foreign["route"]


def test_every_url_of_the_scoped_viewsets_keeps_a_curator_in_scope(curator, foreign):
    routes = sorted(set(scoped_routes()))
    assert len(routes) > 30, routes
    leaks = []
    for route in routes:
        pk = foreign_pk(route, foreign)
        path = concrete(route, pk)
        if path is None:
            continue
        query = {"id": pk}
        for method in ("get", "post"):
            response = getattr(curator, method)(path, query if method == "get" else query)
            body = (
                b"".join(response.streaming_content)
                if getattr(response, "streaming", False)
                else response.content
            ).decode("utf-8", "replace")
            if response.status_code in (403, 404, 405):
                continue
            if response.status_code == 302 and "/login/" in response.get("Location", ""):
                continue
            if FOREIGN_NAME in body:
                leaks.append(f"{method.upper()} {path} {response.status_code}")
    still_there = (
        Route.objects.filter(pk=foreign["route"]).exists()
        and DiagnosticResult.objects.filter(pk=foreign["diagnostic"]).exists()
        and Registration.objects.get(pk=foreign["registration"]).status == "pending"
    )
    assert leaks == []
    assert still_there
