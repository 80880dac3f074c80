"""The teacher's route in the cabinet: the pages, the forms, who may reach them, and the number
of queries of the route page. The site runs in Russian: assertions use status codes, the
database, form error codes, element ids and URLs, not English text."""

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Revision

from tests.factories import CompetencyFactory, UserFactory, make_event
from tests.routes.test_teacher import (
    PDF,
    attend,
    choose_step,
    event_step,
    make_route,
    raw_step,
    self_step,
    stage,
    task_row,
)
from wagtail_iom.events import signup
from wagtail_iom.models import EventPage, Route, RouteComment, RouteStatus, StepCompletion
from wagtail_iom.routes import teacher as route_cabinet

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"wagtail_iom:{name}", args=args)


def levels(response):
    return [m.level for m in get_messages(response.wsgi_request)]


@pytest.fixture
def events(resource_map):
    return [make_event(resource_map, title=f"Мероприятие {n}", slug=f"event-{n}") for n in range(3)]


@pytest.fixture
def route(teacher, events):
    """A route in implementation with one step of each kind."""
    steps = {
        "event": event_step(events[0], step_id="event-step"),
        "choice": choose_step(events[1], events[2], step_id="choice-step"),
        "self": self_step(step_id="self-step"),
        "row": task_row(step_id="row-step"),
    }
    return make_route(
        teacher,
        [
            stage("design", steps["choice"]),
            stage("implementation", steps["event"], steps["self"], steps["row"]),
        ],
        further_support="Конкурс «Педагог года»",
    )


def all_urls(route):
    """(method, url, data) of every route URL of the cabinet."""
    return [
        ("get", url("cabinet_route", route.pk), {}),
        ("post", url("cabinet_route_choose", route.pk, "choice-step"), {"event": 1}),
        ("get", url("cabinet_route_step_done", route.pk, "self-step"), {}),
        ("post", url("cabinet_route_step_done", route.pk, "self-step"), {"evidence_text": "x"}),
        ("post", url("cabinet_route_step_done", route.pk, "self-step"), {"action": "undo"}),
        ("get", url("cabinet_route_reflection", route.pk), {}),
        ("post", url("cabinet_route_reflection", route.pk), {"reflection": "x"}),
        ("get", url("cabinet_route_correction", route.pk), {}),
        ("post", url("cabinet_route_correction", route.pk), {"text": "x"}),
    ]


def snapshot(route):
    route = Route.objects.get(pk=route.pk)
    return (
        list(route.roadmap.raw_data),
        route.reflection,
        list(StepCompletion.objects.values_list("step_id", "evidence_text")),
        RouteComment.objects.count(),
        Revision.objects.for_instance(route).count(),
    )


# Seeing the route ------------------------------------------------------------------------------


def test_route_list_shows_own_routes_only(teacher_client, route, other_teacher):
    others = make_route(other_teacher)

    response = teacher_client.get(url("cabinet_routes"))

    assert response.status_code == 200
    assert list(response.context["routes"]) == [route]
    assert url("cabinet_route", route.pk).encode() in response.content
    assert url("cabinet_route", others.pk).encode() not in response.content


def test_route_page_shows_the_route(teacher_client, route, events):
    response = teacher_client.get(url("cabinet_route", route.pk))

    assert response.status_code == 200
    assert response.context["route"] == route
    assert response.context["cabinet_section"] == "routes"
    html = response.content.decode()
    for element_id in (
        'id="iom-route-header"',
        'id="iom-route-progress-bar"',
        'id="iom-progress-by-stage"',
        'id="stage-diagnostic_motivational"',
        'id="stage-design"',
        'id="stage-implementation"',
        'id="stage-reflexive"',
        'id="step-event-step"',
        'id="step-choice-step"',
        'id="step-self-step"',
        'id="step-row-step"',
        'id="recommendations"',
        'id="reflection"',
        'id="corrections"',
    ):
        assert element_id in html
    # The event step offers the sign-up, back to the route.
    assert url("event_signup", events[0].pk) in html
    assert f'value="{url("cabinet_route", route.pk)}#step-event-step"' in html
    # The choice offers its events as radio buttons to the choose URL.
    assert url("cabinet_route_choose", route.pk, "choice-step") in html
    assert f'name="event" value="{events[1].pk}"' in html
    assert f'name="event" value="{events[2].pk}"' in html
    # Mark done, the reflection, the correction request and the printed forms.
    assert url("cabinet_route_step_done", route.pk, "self-step") in html
    assert url("cabinet_route_reflection", route.pk) in html
    assert url("cabinet_route_correction", route.pk) in html
    for layout in ("full", "compact", "competency_groups", "profiles"):
        for fmt in ("html", "pdf", "docx"):
            assert url("cabinet_route_print", route.pk, layout, fmt) in html
    assert "<h1>" in html and html.index("<h1>") < html.index("<h2")


def test_route_page_shows_a_signed_up_status_instead_of_the_button(
    teacher_client, teacher, route, events
):
    signup.register(events[0], teacher.user)

    response = teacher_client.get(url("cabinet_route", route.pk))

    assert url("event_signup", events[0].pk) not in response.content.decode()
    [card] = [c for c in response.context["stages"][2].cards if c.type == "event"]
    assert card.event.signed_up is True


def test_anonymous_visitors_are_sent_to_the_login(client, route):
    for method, address, data in all_urls(route):
        response = getattr(client, method)(address, data)
        assert response.status_code == 302
        assert response["Location"].startswith(url("login"))
    assert StepCompletion.objects.count() == 0


def test_another_teachers_route_is_404_for_every_url_and_nothing_changes(
    client, other_teacher, route
):
    client.force_login(other_teacher.user)
    before = snapshot(route)

    for method, address, data in all_urls(route):
        response = getattr(client, method)(address, data)
        assert response.status_code == 404, (method, address)
    download = client.get(url("cabinet_route_step_done", route.pk, "self-step") + "?download=1")
    assert download.status_code == 404

    assert snapshot(route) == before
    assert mail.outbox == []


def test_an_unknown_route_or_step_is_404(teacher_client, route):
    assert teacher_client.get(url("cabinet_route", 999999)).status_code == 404
    response = teacher_client.get(url("cabinet_route_step_done", route.pk, "no-such-step"))
    assert response.status_code == 404


def test_every_post_needs_the_csrf_token(teacher, route):
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher.user)
    before = snapshot(route)

    for method, address, data in all_urls(route):
        if method == "post":
            assert client.post(address, data).status_code == 403, address

    assert snapshot(route) == before


def test_choose_is_post_only(teacher_client, route):
    response = teacher_client.get(url("cabinet_route_choose", route.pk, "choice-step"))
    assert response.status_code == 405


# Choosing ----------------------------------------------------------------------------------------


def test_choose_an_offered_event(teacher_client, route, events):
    response = teacher_client.post(
        url("cabinet_route_choose", route.pk, "choice-step"), {"event": events[2].pk}
    )

    assert response.status_code == 302
    assert response["Location"] == url("cabinet_route", route.pk) + "#step-choice-step"
    assert levels(response) == [message_levels.SUCCESS]
    step = raw_step(route, "choice-step")
    assert step["type"] == "event"
    assert step["value"]["event"] == events[2].pk
    assert Revision.objects.for_instance(route).count() == 1
    # The route page now shows an event step with its sign-up.
    page = teacher_client.get(url("cabinet_route", route.pk))
    assert url("event_signup", events[2].pk) in page.content.decode()


@pytest.mark.parametrize("value", ["not offered", "abc", "", "-1"])
def test_an_option_that_was_not_offered_is_refused_with_a_message(
    teacher_client, route, events, resource_map, value
):
    stranger = make_event(resource_map, title="Чужое", slug="stranger")
    before = snapshot(route)
    data = {"event": stranger.pk if value == "not offered" else value}

    response = teacher_client.post(url("cabinet_route_choose", route.pk, "choice-step"), data)

    assert response.status_code == 302
    assert levels(response) == [message_levels.ERROR]
    assert snapshot(route) == before


# Marks with evidence ---------------------------------------------------------------------------


def test_mark_done_form_and_marks_with_text_link_and_file(teacher_client, route):
    address = url("cabinet_route_step_done", route.pk, "self-step")
    assert teacher_client.get(address).status_code == 200

    response = teacher_client.post(address, {"evidence_text": "Прочитала книгу"})
    assert response.status_code == 302
    assert StepCompletion.objects.get().evidence_text == "Прочитала книгу"

    response = teacher_client.post(address, {"evidence_url": "https://example.org/lesson"})
    assert response.status_code == 302
    mark = StepCompletion.objects.get()
    assert (mark.evidence_text, mark.evidence_url) == ("", "https://example.org/lesson")

    upload = SimpleUploadedFile("Конспект.pdf", PDF, content_type="application/pdf")
    response = teacher_client.post(address, {"evidence_file": upload})
    assert response.status_code == 302
    mark = StepCompletion.objects.get()
    assert mark.evidence_file.name.endswith("/Конспект.pdf")

    # The route page shows the file's name with a download link; the link serves the file.
    page = teacher_client.get(url("cabinet_route", route.pk)).content.decode()
    assert "Конспект.pdf" in page
    assert f"{address}?download=1" in page
    assert page.count(mark.evidence_file.name) == 0  # the stored (random) path is not shown
    download = teacher_client.get(address + "?download=1")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    # The progress counts the mark.
    assert teacher_client.get(url("cabinet_route", route.pk)).context["progress"].done == 1


def test_mark_done_without_evidence_is_a_form_error(teacher_client, route):
    address = url("cabinet_route_step_done", route.pk, "self-step")

    response = teacher_client.post(address, {"evidence_text": "  ", "evidence_url": ""})

    assert response.status_code == 200
    assert response.context["form"].has_error("__all__", "no_evidence")
    assert not StepCompletion.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("script.exe", b"MZ\x90\x00", "file_type"),
        ("fake.pdf", b"<html><body>no</body></html>", "file_content"),
        ("empty.pdf", b"", "file_empty"),
    ],
)
def test_wrong_type_evidence_is_a_form_error(teacher_client, route, name, content, code):
    address = url("cabinet_route_step_done", route.pk, "self-step")

    response = teacher_client.post(address, {"evidence_file": SimpleUploadedFile(name, content)})

    assert response.status_code == 200
    form = response.context["form"]
    assert "evidence_file" in form.errors
    if code != "file_empty":  # Django's FileField refuses an empty file itself ("empty")
        assert form.has_error("evidence_file", code)
    assert not StepCompletion.objects.exists()


@override_settings(WAGTAIL_IOM={"ROUTE_EVIDENCE_MAX_SIZE": 64})
def test_oversized_evidence_is_a_form_error(teacher_client, route):
    address = url("cabinet_route_step_done", route.pk, "self-step")

    response = teacher_client.post(
        address, {"evidence_file": SimpleUploadedFile("big.pdf", PDF + b" " * 100)}
    )

    assert response.status_code == 200
    assert response.context["form"].has_error("evidence_file", "file_size")
    assert not StepCompletion.objects.exists()


def test_a_bad_link_is_a_form_error(teacher_client, route):
    address = url("cabinet_route_step_done", route.pk, "self-step")

    response = teacher_client.post(address, {"evidence_url": "javascript:alert(1)"})

    assert response.status_code == 200
    assert "evidence_url" in response.context["form"].errors
    assert not StepCompletion.objects.exists()


@pytest.mark.parametrize("step_id", ["event-step", "choice-step", "row-step"])
def test_other_step_types_cannot_be_marked(teacher_client, route, step_id):
    address = url("cabinet_route_step_done", route.pk, step_id)

    for response in (
        teacher_client.get(address),
        teacher_client.post(address, {"evidence_text": "Готово"}),
    ):
        assert response.status_code == 302
        assert set(levels(response)) == {message_levels.ERROR}
    assert not StepCompletion.objects.exists()


def test_undo_a_mark(teacher_client, teacher, route):
    route_cabinet.mark_done(route, "self-step", teacher.user, text="Готово")
    address = url("cabinet_route_step_done", route.pk, "self-step")

    response = teacher_client.post(address, {"action": "undo"})

    assert response.status_code == 302
    assert not StepCompletion.objects.exists()


def test_a_completed_route_takes_no_marks(teacher_client, teacher, events):
    route = make_route(
        teacher, [stage("implementation", self_step(step_id="s"))], status=RouteStatus.COMPLETED
    )
    address = url("cabinet_route_step_done", route.pk, "s")

    assert teacher_client.get(address).status_code == 302
    assert teacher_client.post(address, {"evidence_text": "x"}).status_code == 302
    assert not StepCompletion.objects.exists()


# Attendance -------------------------------------------------------------------------------------


def test_attendance_marks_the_event_step_and_the_progress_by_itself(
    teacher_client, teacher, route, events, superuser
):
    def page():
        return teacher_client.get(url("cabinet_route", route.pk))

    before = page()
    assert (before.context["progress"].done, before.context["progress"].total) == (0, 2)
    assert 'data-done="0" data-total="2"' in before.content.decode()
    edited_at = Route.objects.get(pk=route.pk).updated_at

    attend(events[0], teacher, superuser)

    after = page()
    assert (after.context["progress"].done, after.context["progress"].total) == (1, 2)
    assert 'data-done="1" data-total="2"' in after.content.decode()
    [card] = [c for c in after.context["stages"][2].cards if c.type == "event"]
    assert card.step.done is True
    assert Route.objects.get(pk=route.pk).updated_at == edited_at
    assert not Revision.objects.for_instance(route).exists()


# The reflection and corrections ----------------------------------------------------------------


def test_reflection_is_saved(teacher_client, route):
    address = url("cabinet_route_reflection", route.pk)
    assert teacher_client.get(address).status_code == 200

    response = teacher_client.post(address, {"reflection": "Научилась новому."})

    assert response.status_code == 302
    assert Route.objects.get(pk=route.pk).reflection == "Научилась новому."


def test_a_too_long_reflection_is_a_form_error(teacher_client, route):
    response = teacher_client.post(
        url("cabinet_route_reflection", route.pk), {"reflection": "x" * 10001}
    )
    assert response.status_code == 200
    assert response.context["form"].has_error("reflection", "max_length")
    assert Route.objects.get(pk=route.pk).reflection == ""


def test_correction_request_reaches_the_curator_once(
    teacher_client, teacher, route, django_capture_on_commit_callbacks
):
    curator = UserFactory(username="curator")
    Route.objects.filter(pk=route.pk).update(curator=curator)
    address = url("cabinet_route_correction", route.pk)
    assert teacher_client.get(address).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = teacher_client.post(address, {"text": "Перенесите семинар"})
        teacher_client.post(address, {"text": "Перенесите семинар"})  # a double click

    assert response.status_code == 302
    comment = RouteComment.objects.get()
    assert (comment.kind, comment.author, comment.text) == (
        RouteComment.Kind.CORRECTION_REQUEST,
        teacher.user,
        "Перенесите семинар",
    )
    assert [m.to for m in mail.outbox] == [[curator.email]]
    page = teacher_client.get(url("cabinet_route", route.pk))
    assert page.context["correction_requests"] == [comment]


def test_an_empty_correction_request_is_a_form_error(teacher_client, route):
    response = teacher_client.post(url("cabinet_route_correction", route.pk), {"text": ""})
    assert response.status_code == 200
    assert response.context["form"].has_error("text", "required")
    assert not RouteComment.objects.exists()


# Query count ------------------------------------------------------------------------------------


def build_route(teacher, resource_map, count, tag):
    """A route with ``count`` steps of every kind, in all four stages, with marks, sign-ups
    and attendance, so that every part of the page is drawn."""
    before = set(EventPage.objects.values_list("pk", flat=True))
    add_events(resource_map, count + 2, tag)
    pool = list(EventPage.objects.exclude(pk__in=before).order_by("pk"))
    competency = CompetencyFactory()
    kinds = ["event", "choose_one", "self_education", "mentoring", "task_row"]
    stages = {
        code: [] for code in ("diagnostic_motivational", "design", "implementation", "reflexive")
    }
    codes = list(stages)
    for number in range(count):
        kind = kinds[number % len(kinds)]
        if kind == "event":
            step = event_step(pool[number], competencies=[competency])
        elif kind == "choose_one":
            step = choose_step(pool[number], pool[number + 1], competencies=[competency])
        elif kind == "task_row":
            step = task_row()
        else:
            step = self_step(kind=kind, competencies=[competency])
        stages[codes[number % 4]].append(step)
    route = make_route(teacher, [stage(code, *steps) for code, steps in stages.items()])
    for stage_steps in stages.values():
        for step in stage_steps:
            if step["type"] == "event":
                signup.register(EventPage.objects.get(pk=step["value"]["event"]), teacher.user)
            elif step["type"] in ("self_education", "mentoring"):
                StepCompletion.objects.create(route=route, step_id=step["id"], evidence_text="ok")
    return route


def add_events(resource_map, count, tag):
    """``count`` live events with a session each and 50 seats, quickly (no revisions)."""
    import datetime
    import zoneinfo

    from wagtail_iom.models import EventSession

    start = timezone.localdate() + datetime.timedelta(days=5)
    sessions = []
    for number in range(count):
        event = resource_map.add_child(
            instance=EventPage(
                title=f"Событие {tag}-{number}",
                slug=f"event-{tag}-{number}",
                summary="Описание.",
                track="non_formal",
                kind="seminar",
                level="regional",
                format="in_person",
                organiser="ЦНППМ",
                venue_address="г. Калининград",
                timezone="Europe/Kaliningrad",
                capacity=50,
            )
        )
        session = EventSession(
            page=event,
            date=start,
            start_time=datetime.time(10, 0),
            end_time=datetime.time(12, 0),
            academic_hours=2,
        )
        session.starts_at, session.ends_at = session.compute_moments(
            zoneinfo.ZoneInfo("Europe/Kaliningrad")
        )
        sessions.append(session)
    EventSession.objects.bulk_create(sessions)


def count_queries(client, address):
    with CaptureQueriesContext(connection) as context:
        response = client.get(address)
    assert response.status_code == 200
    return len(context.captured_queries)


def compare_query_counts(client, teacher, resource_map):
    """The route page's queries for a 5-step and a 100-step route (caches warmed first)."""
    small = build_route(teacher, resource_map, 5, "small")
    large = build_route(teacher, resource_map, 100, "large")
    counts = []
    for route in (small, large):
        url = reverse("wagtail_iom:cabinet_route", args=[route.pk])
        client.get(url)  # warm the site and page caches
        counts.append(count_queries(client, url))
    return counts[0], counts[1], reverse("wagtail_iom:cabinet_route", args=[large.pk])


def test_route_page_queries_do_not_grow_with_the_steps(teacher_client, teacher, resource_map):
    small_count, large_count, large_url = compare_query_counts(
        teacher_client, teacher, resource_map
    )

    assert large_count == small_count
    page = teacher_client.get(large_url)
    assert page.context["progress"].total == 60  # 100 steps, less 20 task rows and 20 choices
    assert page.context["progress"].done == 40  # the self-education and mentoring marks
    assert len(page.context["competency_progress"]) == 1


def test_a_deleted_event_in_the_roadmap_does_not_break_the_page(teacher_client, teacher, events):
    missing = EventPage(pk=999999)
    route = make_route(
        teacher,
        [
            stage(
                "implementation",
                event_step(missing, step_id="gone"),
                choose_step(events[0], missing, step_id="half-gone"),
            )
        ],
    )

    response = teacher_client.get(url("cabinet_route", route.pk))

    assert response.status_code == 200
    assert 'id="step-gone"' in response.content.decode()
    choice = teacher_client.post(
        url("cabinet_route_choose", route.pk, "half-gone"), {"event": missing.pk}
    )
    assert choice.status_code == 302
    assert raw_step(route, "half-gone")["type"] == "choose_one"


@pytest.mark.parametrize("name", ["cabinet_route_correction", "cabinet_route_reflection"])
def test_forms_closed_by_the_status_send_back_to_the_route(teacher_client, teacher, name):
    route = make_route(teacher, status=RouteStatus.AUDITED)

    for response in (
        teacher_client.get(url(name, route.pk)),
        teacher_client.post(url(name, route.pk), {"text": "x", "reflection": "x"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(url("cabinet_route", route.pk))
    assert not RouteComment.objects.exists()
    assert Route.objects.get(pk=route.pk).reflection == ""


def test_the_route_never_names_an_event_the_teacher_may_not_see(teacher_client, teacher, events):
    """A private (restricted), a draft and a public event in one route: the teacher's page and
    the teacher's print name only the public one; the step says the others are not available.
    Staff's print names them all."""
    from wagtail.models import PageViewRestriction

    public, restricted, draft = events
    restricted.title, draft.title = "Закрытый семинар", "Черновик вебинара"
    restricted.save_revision().publish()
    PageViewRestriction.objects.create(page=restricted, restriction_type="login")
    draft.save_revision().publish()
    draft.unpublish()
    route = make_route(
        teacher,
        [
            stage("design", choose_step(public, restricted, step_id="choice-step")),
            stage("implementation", event_step(draft, step_id="draft-step")),
        ],
    )
    page = teacher_client.get(url("cabinet_route", route.pk)).content.decode()
    printed = teacher_client.get(
        url("cabinet_route_print", route.pk, "full", "html")
    ).content.decode()
    for content in (page, printed):
        assert public.title in content
        assert "Закрытый семинар" not in content
        assert "Черновик вебинара" not in content
    assert 'id="step-draft-step"' in page
    assert f'value="{restricted.pk}"' in page  # the option stays, disabled, without its title
    admin = UserFactory(username="centre", is_superuser=True, is_staff=True)
    staff_client = Client()
    staff_client.force_login(admin)
    staff_print = staff_client.get(
        reverse("wagtail_iom_route_print:print", args=(route.pk, "full", "html"))
    ).content.decode()
    assert "Закрытый семинар" in staff_print
    assert "Черновик вебинара" in staff_print
