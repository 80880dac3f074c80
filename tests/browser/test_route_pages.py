"""Routes (ИОМ) end to end in a real browser: a curator builds and sends a route, the school
head approves it, the teacher chooses an event and signs up, attendance fills the mark."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from sandbox.home.demo.staff import STAFF_PASSWORD
from tests.browser.conftest import SCREENSHOTS
from tests.factories import make_teacher
from wagtail_iom.models import (
    CuratorAssignment,
    EventPage,
    Route,
    RouteStatus,
    StaffMembership,
    StaffRole,
)
from wagtail_iom.services import signup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEBUG = Path("/tmp/route-debug")


def dump(page, name):
    DEBUG.mkdir(exist_ok=True)
    (DEBUG / f"{name}.html").write_text(page.content())
    page.screenshot(path=str(DEBUG / f"{name}.png"), full_page=True)


def admin_login(page, base, username):
    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")


def offerable_events(count):
    """Upcoming events a new teacher can sign up for at once (a seat is free, no approval)."""
    today = timezone.localdate()
    found = []
    for event in (
        EventPage.objects.live()
        .filter(sessions__date__gt=today + datetime.timedelta(days=3))
        .distinct()
        .order_by("pk")
    ):
        if event.needs_approval:
            continue
        if signup.signup_state(event).state != signup.SignupState.OPEN:
            continue
        found.append(event)
        if len(found) == count:
            break
    return found


def test_route_from_the_editor_to_the_attendance_mark(browser, demo_site, screenshot):
    base = demo_site.url
    head = StaffMembership.objects.get(role=StaffRole.SCHOOL_HEAD, user__username="schoolhead")
    curator = CuratorAssignment.objects.filter(curator__username="curator").first().curator
    teacher = make_teacher(
        last_name="Воронцова",
        first_name="Ольга",
        patronymic="Ильинична",
        school=head.school,
        municipality=head.school.municipality,
    )
    CuratorAssignment.objects.create(teacher=teacher, curator=curator)
    events = offerable_events(2)
    assert len(events) == 2, "the demo site needs two upcoming open events"

    context = browser.new_context(
        locale="ru-RU", viewport={"width": 1280, "height": 900}, timezone_id="Europe/Moscow"
    )
    page = context.new_page()
    admin_login(page, base, "curator")
    page.goto(base + "/admin/iom/routes/add/")
    dump(page, "01-add")
    page.get_by_role("button", name="Выбрать педагога").click()
    dump(page, "02-chooser")
    page.wait_for_selector(".modal-body input[name=q]")
    dump(page, "03-chooser")
    page.fill(".modal-body input[name=q]", "Воронцова")
    modal = page.locator(".modal-body")
    modal.locator("a[data-chooser-modal-choice]", has_text="Воронцова Ольга").click()
    page.wait_for_selector(".modal", state="detached")
    dump(page, "05-chosen")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url("**/admin/iom/routes/edit/*/")
    route = Route.objects.get(teacher=teacher)
    dump(page, "06-editor")
