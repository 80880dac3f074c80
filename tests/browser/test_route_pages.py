"""Routes (ИОМ) end to end in a real browser: a curator builds and sends a route, the school
head approves it, the teacher chooses an event and signs up, attendance fills the mark."""

import datetime
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation

from sandbox.home.demo.staff import STAFF_PASSWORD
from tests.browser.conftest import SCREENSHOTS, finish_animations
from tests.factories import make_teacher
from wagtail_iom.attendance import services as attendance
from wagtail_iom.events import signup
from wagtail_iom.models import (
    CuratorAssignment,
    EventPage,
    Registration,
    RegistrationStatus,
    Route,
    RouteLayout,
    RouteStatus,
    StaffMembership,
    StaffRole,
)
from wagtail_iom.routes import services as routes
from wagtail_iom.routes.blocks import RouteStage, StepsBlock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEACHER_EMAIL = "vorontsova@example.org"
TEACHER_PASSWORD = "маршрут-2026-Калининград"  # noqa: S105
ACTIVITY = "Изучение методических рекомендаций по формирующему оцениванию"


def new_context(browser):
    """A browser of its own for each person (the ``page`` fixture's settings)."""
    return browser.new_context(
        locale="ru-RU", viewport={"width": 1280, "height": 900}, timezone_id="Europe/Moscow"
    )


def admin_screenshot(screenshot, page, name):
    """The admin scrolls inside its own panes: make the window as tall as the content, so that
    the screenshot shows all of it, with the animations (messages, tabs) at their end."""
    finish_animations(page)
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('body, body *')].map((e) => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1280, "height": min(height, 8000)})
    screenshot(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})


def admin_login(page, base, username):
    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")


def block_label(name):
    """The block picker's label of a step type, as the Russian admin shows it."""
    with translation.override("ru"):
        return str(StepsBlock.base_blocks[name].label)


def choose_page(page, field_id, event):
    """Pick ``event`` in the page chooser of the hidden input ``field_id``, by searching."""
    page.locator(f"#{field_id}-chooser button[data-chooser-action-choose]").click()
    search = page.locator(".modal-body input[name=q]")
    search.wait_for()
    with page.expect_response(lambda response: "/admin/choose-page/search/" in response.url):
        search.fill(event.title)
    page.locator(f".modal-body a.choose-page[data-id='{event.pk}']").click()
    page.locator(".modal").wait_for(state="detached")
    assert page.input_value(f"#{field_id}") == str(event.pk)


def stage_prefix(page, stage):
    """The form prefix of the roadmap's stage block ``stage`` (e.g. ``roadmap-1``)."""
    return page.evaluate(
        """(stage) => [...document.querySelectorAll('select[name^="roadmap-"][name$="-value-stage"]')]
            .find((select) => select.value === stage).name.replace(/-value-stage$/, '')""",
        stage,
    )


def add_step(page, prefix, block_type):
    """Add a step of ``block_type`` at the start of the stage block ``prefix``."""
    page.locator(
        f"div:has(> input[name='{prefix}-value-steps-count']) > [data-streamfield-stream-container]"
    ).locator("button.c-sf-add-button").first.click()
    page.get_by_role("option", name=block_label(block_type), exact=True).click()
    page.locator(f"input[name='{prefix}-value-steps-0-type'][value='{block_type}']").wait_for(
        state="attached"
    )


def progress_of(page):
    """(done, total) of the cabinet route page's progress."""
    text = page.locator("#iom-route-progress-text")
    return int(text.get_attribute("data-done")), int(text.get_attribute("data-total"))


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


def build_and_send(browser, base, teacher, events, screenshot):
    """The curator creates the route, offers ``events`` to choose from at the design stage, adds
    self-education at the reflexive stage, saves and sends the route for approval. Returns the
    route and the choice step's id."""
    context = new_context(browser)
    page = context.new_page()
    admin_login(page, base, "curator")
    page.goto(base + "/admin/iom/routes/add/")
    page.get_by_role("button", name="Выбрать педагога").click()
    search = page.locator(".modal-body input[name=q]")
    search.wait_for()
    with page.expect_response(lambda response: "/choose-teacher/results/" in response.url):
        search.fill(teacher.last_name)
    choice = page.locator(".modal-body a[data-chooser-modal-choice]", has_text=teacher.full_name)
    assert choice.count() == 1
    admin_screenshot(screenshot, page, "route-new-teacher-chooser")
    choice.click()
    page.locator(".modal").wait_for(state="detached")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url("**/admin/iom/routes/edit/*/")
    route = Route.objects.get(teacher=teacher)
    assert [stage.value["stage"] for stage in route.roadmap] == RouteStage.ORDER

    # The development map: a choice of two events, then self-education.
    map_panel = page.evaluate(
        "document.querySelector('[data-contentpath=roadmap]').closest('[role=tabpanel]').id"
    )
    map_tab = page.locator(f"[role=tab][aria-controls='{map_panel}']")
    map_tab.click()
    prefix = stage_prefix(page, RouteStage.DESIGN)
    add_step(page, prefix, "choose_one")
    step = f"{prefix}-value-steps-0"
    page.locator(
        f"div:has(> input[name='{step}-value-options-count']) > [data-streamfield-list-container]"
        " > button[data-streamfield-list-add]"
    ).last.click()
    for number, event in enumerate(events):
        choose_page(page, f"{step}-value-options-{number}-value", event)
    page.fill(f"#{step}-value-planned_result", "Выбранный курс включён в маршрут")
    prefix = stage_prefix(page, RouteStage.REFLEXIVE)
    add_step(page, prefix, "self_education")
    page.fill(f"#{prefix}-value-steps-0-value-activity", ACTIVITY)
    with page.expect_navigation():
        page.get_by_role("button", name="Сохранить", exact=True).click()

    route.refresh_from_db()
    steps = {step.type: step for step in routes.route_steps(route)}
    assert set(steps) == {"choose_one", "self_education"}
    assert steps["choose_one"].stage == RouteStage.DESIGN
    assert [option.pk for option in steps["choose_one"].options] == [e.pk for e in events]
    assert steps["self_education"].stage == RouteStage.REFLEXIVE
    assert steps["self_education"].value["activity"] == ACTIVITY
    map_tab.click()
    admin_screenshot(screenshot, page, "route-editor-development-map")

    page.locator("#iom-route-transitions a[data-iom-transition=sent_for_approval]").click()
    page.wait_for_url("**/admin/iom/routes/transition/*/sent_for_approval/")
    page.fill("#id_comment", "Маршрут составлен по итогам диагностики, прошу согласовать.")
    with page.expect_navigation():
        page.locator("#iom-transition-form button[type=submit]").click()
    route.refresh_from_db()
    assert route.status == RouteStatus.SENT_FOR_APPROVAL
    status = page.locator("#iom-route-status [data-iom-status]")
    assert status.get_attribute("data-iom-status") == RouteStatus.SENT_FOR_APPROVAL
    context.close()
    return route, steps["choose_one"].id


def approve(browser, base, route, choice_id, screenshot):
    """The head of the teacher's school finds the route in the listing and approves it."""
    context = new_context(browser)
    page = context.new_page()
    admin_login(page, base, "schoolhead")
    page.goto(base + "/admin/iom/routes/")
    inspect_url = f"/admin/iom/routes/inspect/{route.pk}/"
    page.locator(f"table.listing a[href='{inspect_url}']").click()
    page.wait_for_url("**" + inspect_url)
    assert page.locator(f"#iom-route-steps [data-iom-step='{choice_id}']").count() == 1
    page.locator("#iom-route-transitions a[data-iom-transition=approved]").click()
    page.wait_for_url("**/admin/iom/routes/transition/*/approved/")
    page.fill("#id_comment", "Согласовано. Руководитель ОО.")
    admin_screenshot(screenshot, page, "route-approve")
    with page.expect_navigation():
        page.locator("#iom-transition-form button[type=submit]").click()
    route.refresh_from_db()
    assert route.status == RouteStatus.APPROVED
    assert route.transitions.filter(to_status=RouteStatus.APPROVED, by__username="schoolhead")
    status = page.locator("#iom-route-status [data-iom-status]")
    assert status.get_attribute("data-iom-status") == RouteStatus.APPROVED
    admin_screenshot(screenshot, page, "route-approved-inspect")
    context.close()


@pytest.mark.requires_tool("pango", "pdftotext", "pdftoppm")
def test_route_from_the_editor_to_the_attendance_mark(
    page, browser, demo_site, screenshot, axe_violations, tmp_path
):
    base = demo_site.url
    head = StaffMembership.objects.get(role=StaffRole.SCHOOL_HEAD, user__username="schoolhead")
    curator = get_user_model().objects.get(username="curator")
    # Every demo teacher has a route already: a new teacher of the school head's school, whom
    # the curator accompanies.
    teacher = make_teacher(
        username=TEACHER_EMAIL,  # a teacher's username is the e-mail they sign in with
        last_name="Воронцова",
        first_name="Ольга",
        patronymic="Ильинична",
        school=head.school,
        municipality=head.school.municipality,
    )
    user = teacher.user
    user.email = TEACHER_EMAIL
    user.set_password(TEACHER_PASSWORD)
    user.save()
    CuratorAssignment.objects.create(teacher=teacher, curator=curator)
    events = offerable_events(2)
    assert len(events) == 2, "the demo site needs two upcoming events open for sign-up"

    route, choice_id = build_and_send(browser, base, teacher, events, screenshot)
    approve(browser, base, route, choice_id, screenshot)

    # The teacher chooses one of the offered events and signs up for it from the route.
    page.goto(base + "/iom/accounts/login/?next=/iom/cabinet/routes/")
    page.get_by_label("Электронная почта").fill(TEACHER_EMAIL)
    page.get_by_label("Пароль").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Вход").click()
    page.wait_for_url(base + "/iom/cabinet/routes/")
    assert axe_violations(page) == []
    screenshot(page, "cabinet-routes")
    route_url = f"/iom/cabinet/routes/{route.pk}/"
    page.locator(f"#route-{route.pk} a[href='{route_url}']").click()
    page.wait_for_url(base + route_url)
    assert progress_of(page) == (0, 1)  # a choice is not a step to mark until it is made
    assert axe_violations(page) == []
    screenshot(page, "cabinet-route-choice")

    chosen = events[1]
    card = page.locator(f"#step-{choice_id}")
    card.locator(f"#step-{choice_id}-option-{chosen.pk}").check()
    with page.expect_navigation():
        card.locator("form.iom-route-options button[type=submit]").click()
    route.refresh_from_db()
    step = next(step for step in routes.route_steps(route) if step.id == choice_id)
    assert step.type == "event"
    assert step.event.pk == chosen.pk
    assert "iom-route-step--event" in card.get_attribute("class")
    assert progress_of(page) == (0, 2)
    with page.expect_navigation():
        card.locator(f"form[action='/iom/events/{chosen.pk}/signup/'] button[type=submit]").click()
    registration = Registration.objects.get(user=user, event=chosen)
    assert registration.status == RegistrationStatus.CONFIRMED
    assert card.locator(".iom-badge--confirmed").count() == 1
    assert "iom-route-step--done" not in card.get_attribute("class")
    screenshot(page, "cabinet-route-signed-up")

    # Attendance is marked in the admin; the route's step is done.
    result = attendance.mark_session(chosen.sessions.first(), [registration.pk], curator)
    assert result.added == (registration.pk,)
    page.reload()
    assert "iom-route-step--done" in card.get_attribute("class")
    assert card.locator(".iom-badge--done").count() == 1
    assert progress_of(page) == (1, 2)
    assert page.locator("#iom-route-progress-bar").get_attribute("value") == "1"
    by_stage = {
        row.get_attribute("data-stage"): (
            row.get_attribute("data-done"),
            row.get_attribute("data-total"),
        )
        for row in page.locator("#iom-progress-by-stage tbody tr").all()
    }
    assert by_stage == {RouteStage.DESIGN: ("1", "1"), RouteStage.REFLEXIVE: ("0", "1")}
    assert axe_violations(page) == []
    screenshot(page, "cabinet-route-attended")

    # The printed route: each layout on screen, its PDF's pages as pictures, and the Word file.
    for layout in RouteLayout.values:
        response = page.goto(base + f"{route_url}print/{layout}.html")
        assert response.status == 200, layout
        assert axe_violations(page) == [], layout
        screenshot(page, f"route-print-{layout}")
        response = page.request.get(base + f"{route_url}print/{layout}.pdf")
        assert response.status == 200, layout
        assert response.headers["content-type"] == "application/pdf"
        pdf = tmp_path / f"{layout}.pdf"
        pdf.write_bytes(response.body())
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert teacher.full_name in " ".join(text.split()), layout
        for old in SCREENSHOTS.glob(f"route-pdf-{layout}-*.png"):
            old.unlink()
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", str(pdf), str(SCREENSHOTS / f"route-pdf-{layout}")],
            check=True,
        )
        assert list(SCREENSHOTS.glob(f"route-pdf-{layout}-*.png")), layout
        response = page.request.get(base + f"{route_url}print/{layout}.docx")
        assert response.status == 200, layout
        assert response.body()[:2] == b"PK", layout  # a .docx is a ZIP


def test_the_suggested_events_fit_the_editor_at_1280_px(page, demo_site, screenshot):
    """Every "add as a step" button of the events suggested per deficit stays inside the
    window: the stage picker and the button wrap under each other in their column."""
    base = demo_site.url
    route = Route.objects.filter(status=RouteStatus.DEVELOPMENT).first()
    assert route is not None, "the demo site has a route in development with deficits"
    admin_login(page, base, "centre")
    page.goto(base + reverse("wagtail_iom_routes:edit", args=[route.pk]))
    buttons = page.locator("#iom-route-suggestions form button[type=submit]")
    assert buttons.count() > 0, "the demo route's teacher has deficits with suggested events"
    width = page.viewport_size["width"]
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (index, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#iom-route-suggestions").scroll_into_view_if_needed()
    screenshot(page, "route-editor-suggestions", full_page=False)
