"""The teacher's side of a route: choosing an offered event, done marks with evidence, the
reflection, requests for a correction, and the route page's data."""

import datetime
import uuid

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from wagtail.models import Revision

from tests.factories import CompetencyFactory, UserFactory, make_event
from wagtail_iom import tasks
from wagtail_iom.attendance import services as attendance
from wagtail_iom.events import signup
from wagtail_iom.models import (
    CuratorAssignment,
    Route,
    RouteComment,
    RouteStatus,
    SentNotification,
    StepCompletion,
    TeacherLogEntry,
)
from wagtail_iom.routes import teacher as service
from wagtail_iom.routes.services import RouteError, progress, route_steps

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


# Builders of routes (raw StreamField data, as the database stores it) -----------------------------


def _id():
    return str(uuid.uuid4())


def stage(code, *steps):
    return {"type": "stage", "id": _id(), "value": {"stage": code, "steps": list(steps)}}


def event_step(event, competencies=(), step_id=None, **value):
    return {
        "type": "event",
        "id": step_id or _id(),
        "value": {
            "event": event.pk,
            "level": "regional",
            "form": "",
            "planned_result": "",
            "result_presentation": "",
            "competencies": [str(c.pk) for c in competencies],
            "deadline": None,
            **value,
        },
    }


def choose_step(*events, competencies=(), step_id=None, **value):
    return {
        "type": "choose_one",
        "id": step_id or _id(),
        "value": {
            "options": [{"type": "item", "id": _id(), "value": e.pk} for e in events],
            "planned_result": "",
            "competencies": [str(c.pk) for c in competencies],
            "deadline": None,
            **value,
        },
    }


def self_step(activity="Изучить ФГОС", competencies=(), step_id=None, kind="self_education"):
    values = {
        "self_education": {"activity": activity, "form": "", "planned_result": ""},
        "external_course": {"place": "Вуз", "programme": activity, "hours": 16, "certificate": ""},
        "mentoring": {
            "mentor": "Петрова А. А.",
            "format": "flash",
            "meetings": "",
            "planned_result": "",
        },
    }[kind]
    return {
        "type": kind,
        "id": step_id or _id(),
        "value": {
            **values,
            "competencies": [str(c.pk) for c in competencies],
            "deadline": None,
        },
    }


def task_row(step_id=None):
    return {
        "type": "task_row",
        "id": step_id or _id(),
        "value": {
            "deficit": "Дефицит",
            "educational_task": "Задача",
            "actions": "Действия",
            "starts_on": None,
            "deadline": None,
            "result_form": "",
        },
    }


def make_route(teacher, roadmap=(), status=RouteStatus.IMPLEMENTATION, curator=None, **fields):
    today = timezone.localdate()
    route = Route.objects.create(
        teacher=teacher,
        curator=curator,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=300),
        status=status,
        roadmap=list(roadmap),
        goal="Освоить формирующее оценивание",
        **fields,
    )
    return Route.objects.get(pk=route.pk)


def raw_step(route, step_id):
    route = Route.objects.get(pk=route.pk)
    for stage_data in route.roadmap.raw_data:
        for step in stage_data["value"]["steps"]:
            if step["id"] == step_id:
                return step
    return None


def attend(event, teacher, by_user):
    """Sign the teacher up and mark them present at the event's first session."""
    registration = signup.register(event, teacher.user).registration
    session = event.sessions.order_by("date").first()
    attendance.mark_session(session, [registration.pk], by_user)
    return registration


# Choosing one of the offered events -----------------------------------------------------------


def test_choose_an_offered_event_makes_it_an_event_step_with_a_revision(teacher, resource_map):
    first = make_event(resource_map, title="Курс 1", slug="c1")
    second = make_event(resource_map, title="Курс 2", slug="c2")
    competency = CompetencyFactory()
    deadline = timezone.localdate() + datetime.timedelta(days=60)
    step = choose_step(
        first,
        second,
        competencies=[competency],
        planned_result="Разработать урок",
        deadline=deadline.isoformat(),
    )
    route = make_route(teacher, [stage("implementation", step)])

    chosen = service.choose_option(route, step["id"], second.pk, teacher.user)

    assert chosen.pk == second.pk
    stored = raw_step(route, step["id"])
    assert stored["type"] == "event"
    assert stored["value"]["event"] == second.pk
    assert stored["value"]["planned_result"] == "Разработать урок"
    assert stored["value"]["competencies"] == [str(competency.pk)]
    assert stored["value"]["deadline"] == deadline.isoformat()
    revision = Revision.objects.for_instance(Route.objects.get(pk=route.pk)).get()
    assert revision.user == teacher.user
    assert Route.objects.get(pk=route.pk).latest_revision_id == revision.pk
    assert TeacherLogEntry.objects.filter(
        object_id=str(route.pk), action="wagtail.edit", teacher=route.teacher
    ).exists()
    # The route's steps read the new event step, and the route is still valid for the admin.
    [event] = [s for s in route_steps(Route.objects.get(pk=route.pk)) if s.type == "event"]
    assert event.event.pk == second.pk
    Route.objects.get(pk=route.pk).full_clean()


@pytest.mark.parametrize("bad", ["not offered", "garbage", None])
def test_an_option_that_was_not_offered_is_refused_and_changes_nothing(teacher, resource_map, bad):
    first = make_event(resource_map, title="Курс 1", slug="c1")
    second = make_event(resource_map, title="Курс 2", slug="c2")
    other = make_event(resource_map, title="Другое", slug="other")
    step = choose_step(first, second)
    route = make_route(teacher, [stage("design", step)])
    before = Route.objects.get(pk=route.pk).roadmap.raw_data[0]

    value = {"not offered": other.pk, "garbage": "x; drop table", None: None}[bad]
    with pytest.raises(RouteError) as error:
        service.choose_option(route, step["id"], value, teacher.user)

    assert error.value.code == "not_offered"
    assert error.value.message
    assert Route.objects.get(pk=route.pk).roadmap.raw_data[0] == before
    assert not Revision.objects.for_instance(route).exists()


def test_choosing_twice_or_an_unknown_step_or_another_step_type_is_refused(teacher, resource_map):
    first = make_event(resource_map, title="Курс 1", slug="c1")
    second = make_event(resource_map, title="Курс 2", slug="c2")
    choice, learning = choose_step(first, second), self_step()
    route = make_route(teacher, [stage("design", choice, learning)])
    service.choose_option(route, choice["id"], first.pk, teacher.user)

    with pytest.raises(RouteError) as again:
        service.choose_option(route, choice["id"], second.pk, teacher.user)
    assert again.value.code == "already_chosen"
    with pytest.raises(RouteError) as unknown:
        service.choose_option(route, "no-such-step", first.pk, teacher.user)
    assert unknown.value.code == "no_step"
    with pytest.raises(RouteError) as wrong_type:
        service.choose_option(route, learning["id"], first.pk, teacher.user)
    assert wrong_type.value.code == "not_a_choice"
    assert raw_step(route, choice["id"])["value"]["event"] == first.pk
    assert Revision.objects.for_instance(route).count() == 1


def test_an_unpublished_option_cannot_be_chosen(teacher, resource_map):
    first = make_event(resource_map, title="Курс 1", slug="c1")
    hidden = make_event(resource_map, title="Снято", slug="hidden", publish=False)
    step = choose_step(first, hidden)
    route = make_route(teacher, [stage("design", step)])

    with pytest.raises(RouteError) as error:
        service.choose_option(route, step["id"], hidden.pk, teacher.user)

    assert error.value.code == "not_available"
    assert raw_step(route, step["id"])["type"] == "choose_one"


@pytest.mark.parametrize("status", [RouteStatus.COMPLETED, RouteStatus.AUDITED])
def test_no_choice_once_the_route_is_completed(teacher, resource_map, status):
    first = make_event(resource_map, title="Курс 1", slug="c1")
    second = make_event(resource_map, title="Курс 2", slug="c2")
    step = choose_step(first, second)
    route = make_route(teacher, [stage("design", step)], status=status)

    with pytest.raises(RouteError) as error:
        service.choose_option(route, step["id"], first.pk, teacher.user)

    assert error.value.code == "status"
    assert raw_step(route, step["id"])["type"] == "choose_one"


@pytest.mark.parametrize(
    "status",
    [
        RouteStatus.DEVELOPMENT,
        RouteStatus.RETURNED,
        RouteStatus.APPROVED,
        RouteStatus.IMPLEMENTATION,
    ],
)
def test_choice_is_open_while_the_route_is_planned_or_followed(teacher, resource_map, status):
    first = make_event(resource_map, title="Курс 1", slug="c1")
    second = make_event(resource_map, title="Курс 2", slug="c2")
    step = choose_step(first, second)
    route = make_route(teacher, [stage("design", step)], status=status)

    service.choose_option(route, step["id"], first.pk, teacher.user)

    assert raw_step(route, step["id"])["type"] == "event"


def test_another_teacher_cannot_choose_in_a_route(teacher, other_teacher, resource_map):
    first = make_event(resource_map, title="Курс 1", slug="c1")
    second = make_event(resource_map, title="Курс 2", slug="c2")
    step = choose_step(first, second)
    route = make_route(teacher, [stage("design", step)])

    with pytest.raises(RouteError) as error:
        service.choose_option(route, step["id"], first.pk, other_teacher.user)

    assert error.value.code == "forbidden"
    assert raw_step(route, step["id"])["type"] == "choose_one"


# Marks with evidence --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["self_education", "external_course", "mentoring"])
def test_mark_done_with_text_link_or_file(teacher, kind):
    steps = [self_step(kind=kind) for _ in range(3)]
    route = make_route(teacher, [stage("implementation", *steps)])

    service.mark_done(route, steps[0]["id"], teacher.user, text="Прочитала и законспектировала")
    service.mark_done(route, steps[1]["id"], teacher.user, url="https://example.org/work")
    upload = SimpleUploadedFile("Отчёт.pdf", PDF, content_type="application/pdf")
    service.mark_done(route, steps[2]["id"], teacher.user, file=upload)

    marks = {c.step_id: c for c in StepCompletion.objects.filter(route=route)}
    assert marks[steps[0]["id"]].evidence_text == "Прочитала и законспектировала"
    assert marks[steps[1]["id"]].evidence_url == "https://example.org/work"
    stored = marks[steps[2]["id"]].evidence_file
    assert stored.name.endswith("/Отчёт.pdf")
    assert stored.storage.exists(stored.name)
    assert service.evidence_file_name(marks[steps[2]["id"]]) == "Отчёт.pdf"
    assert progress(route_steps(route))["overall"].done == 3


def test_marking_needs_some_evidence_and_checks_the_link(teacher):
    step = self_step()
    route = make_route(teacher, [stage("implementation", step)])

    with pytest.raises(RouteError) as empty:
        service.mark_done(route, step["id"], teacher.user, text="   ")
    assert empty.value.code == "no_evidence"
    with pytest.raises(RouteError) as bad_link:
        service.mark_done(route, step["id"], teacher.user, url="javascript:alert(1)")
    assert bad_link.value.code == "evidence"
    assert not StepCompletion.objects.exists()


def test_marking_again_replaces_the_evidence_and_keeps_the_file(
    teacher, django_capture_on_commit_callbacks
):
    step = self_step()
    route = make_route(teacher, [stage("implementation", step)])
    upload = SimpleUploadedFile("a.pdf", PDF)
    first = service.mark_done(route, step["id"], teacher.user, file=upload)
    first_name = first.evidence_file.name

    # Text only: the file stays.
    service.mark_done(route, step["id"], teacher.user, text="Дописала")
    mark = StepCompletion.objects.get()
    assert mark.evidence_text == "Дописала"
    assert mark.evidence_file.name == first_name

    # A new file replaces the old one, which is deleted on commit.
    with django_capture_on_commit_callbacks(execute=True):
        service.mark_done(route, step["id"], teacher.user, file=SimpleUploadedFile("b.png", PNG))
    mark = StepCompletion.objects.get()
    assert mark.evidence_file.name.endswith("/b.png")
    assert not mark.evidence_file.storage.exists(first_name)


def test_unmark_takes_the_mark_and_its_file_back(teacher, django_capture_on_commit_callbacks):
    step = self_step()
    route = make_route(teacher, [stage("implementation", step)])
    mark = service.mark_done(route, step["id"], teacher.user, file=SimpleUploadedFile("a.pdf", PDF))
    name, storage = mark.evidence_file.name, mark.evidence_file.storage

    with django_capture_on_commit_callbacks(execute=True):
        assert service.unmark(route, step["id"], teacher.user) is True

    assert not StepCompletion.objects.exists()
    assert not storage.exists(name)
    assert service.unmark(route, step["id"], teacher.user) is False


def test_other_step_types_cannot_be_marked(teacher, resource_map):
    event = make_event(resource_map)
    first, second = make_event(resource_map, slug="a"), make_event(resource_map, slug="b")
    steps = {
        "marked_by_attendance": event_step(event),
        "not_markable": choose_step(first, second),
        "not_markable_row": task_row(),
    }
    route = make_route(teacher, [stage("implementation", *steps.values())])

    for code, step in steps.items():
        with pytest.raises(RouteError) as error:
            service.mark_done(route, step["id"], teacher.user, text="Готово")
        assert error.value.code == code.removesuffix("_row")
        with pytest.raises(RouteError):
            service.unmark(route, step["id"], teacher.user)
    assert not StepCompletion.objects.exists()


@pytest.mark.parametrize("status", [RouteStatus.COMPLETED, RouteStatus.AUDITED])
def test_marks_are_frozen_once_the_route_is_completed(teacher, status):
    step = self_step()
    route = make_route(teacher, [stage("implementation", step)], status=status)
    StepCompletion.objects.create(route=route, step_id=step["id"], evidence_text="Было")

    with pytest.raises(RouteError):
        service.mark_done(route, step["id"], teacher.user, text="Стало")
    with pytest.raises(RouteError):
        service.unmark(route, step["id"], teacher.user)

    assert StepCompletion.objects.get().evidence_text == "Было"


# Evidence files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("work.pdf", PDF),
        ("photo.png", PNG),
        ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("report.docx", b"PK\x03\x04" + b"\x00" * 20),
        ("report.odt", b"PK\x03\x04" + b"\x00" * 20),
        ("report.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20),
        ("notes.txt", "Конспект".encode()),
    ],
)
def test_accepted_evidence_files(name, content):
    service.validate_evidence_file(SimpleUploadedFile(name, content))


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("virus.exe", b"MZ\x90\x00", "file_type"),
        ("page.html", b"<html></html>", "file_type"),
        ("noextension", PDF, "file_type"),
        ("fake.pdf", b"<html><script>alert(1)</script>", "file_content"),
        ("fake.png", PDF, "file_content"),
        ("binary.txt", b"\x00\x01\x02", "file_content"),
        ("empty.pdf", b"", "file_empty"),
    ],
)
def test_refused_evidence_files(name, content, code):
    with pytest.raises(ValidationError) as error:
        service.validate_evidence_file(SimpleUploadedFile(name, content))
    assert error.value.code == code


@override_settings(WAGTAIL_IOM={"ROUTE_EVIDENCE_MAX_SIZE": 100})
def test_an_oversized_evidence_file_is_refused(teacher):
    with pytest.raises(ValidationError) as error:
        service.validate_evidence_file(SimpleUploadedFile("big.pdf", PDF + b" " * 200))
    assert error.value.code == "file_size"

    step = self_step()
    route = make_route(teacher, [stage("implementation", step)])
    with pytest.raises(RouteError):
        service.mark_done(
            route, step["id"], teacher.user, file=SimpleUploadedFile("big.pdf", PDF + b" " * 200)
        )
    assert not StepCompletion.objects.exists()


# Attendance marks the event steps by itself ---------------------------------------------------


def test_attendance_marks_the_event_step_and_the_progress_without_editing_the_route(
    teacher, resource_map, superuser
):
    competency = CompetencyFactory()
    event = make_event(resource_map, title="Семинар", slug="s")
    other = make_event(resource_map, title="Курс", slug="k")
    route = make_route(
        teacher,
        [
            stage(
                "implementation",
                event_step(event, competencies=[competency]),
                event_step(other, competencies=[competency]),
                self_step(),
            )
        ],
    )
    updated_at = route.updated_at
    before = progress(route_steps(route))
    assert (before["overall"].done, before["overall"].total) == (0, 3)

    attend(event, teacher, superuser)

    route = Route.objects.get(pk=route.pk)
    after = progress(route_steps(route))
    assert (after["overall"].done, after["overall"].total) == (1, 3)
    assert after["by_stage"]["implementation"].done == 1
    assert (
        after["by_competency"][competency.pk].done,
        after["by_competency"][competency.pk].total,
    ) == (1, 2)
    assert route.updated_at == updated_at
    assert not Revision.objects.for_instance(route).exists()
    page = service.route_page(route)
    assert page["progress"].done == 1
    [card, *_rest] = page["stages"][2].cards
    assert card.step.done is True


# The reflection -------------------------------------------------------------------------------


def test_save_reflection(teacher):
    route = make_route(teacher, status=RouteStatus.COMPLETED)

    service.save_reflection(route, "  Научилась планировать уроки.  ", teacher.user)

    assert Route.objects.get(pk=route.pk).reflection == "Научилась планировать уроки."


def test_no_reflection_after_the_audit_or_from_another_teacher(teacher, other_teacher):
    route = make_route(teacher, status=RouteStatus.AUDITED)
    with pytest.raises(RouteError):
        service.save_reflection(route, "Текст", teacher.user)
    open_route = make_route(teacher)
    with pytest.raises(RouteError):
        service.save_reflection(open_route, "Текст", other_teacher.user)
    assert not Route.objects.exclude(reflection="").exists()


# Requests for a correction --------------------------------------------------------------------


def test_a_correction_request_reaches_the_route_curator_once_on_commit(
    teacher, django_capture_on_commit_callbacks
):
    curator = UserFactory(username="curator", first_name="Анна", last_name="Кураторова")
    route = make_route(teacher, curator=curator)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = service.request_correction(route, "Перенесите курс на осень", teacher.user)
    assert len(mail.outbox) == 0  # nothing before the commit
    for callback in callbacks:
        callback()

    comment = RouteComment.objects.get()
    assert result.comment == comment
    assert comment.kind == RouteComment.Kind.CORRECTION_REQUEST
    assert comment.author == teacher.user
    assert comment.text == "Перенесите курс на осень"
    assert result.recipient == curator
    [message] = mail.outbox
    assert message.to == [curator.email]
    assert "Перенесите курс на осень" in message.body
    assert teacher.full_name in message.subject
    assert SentNotification.objects.filter(key=f"correction:{comment.pk}").count() == 1

    # The task run again (a retry) sends nothing more.
    assert tasks.notify_route_correction(comment.pk) is False
    assert len(mail.outbox) == 1


def test_without_a_route_curator_the_current_assigned_curator_is_told(
    teacher, django_capture_on_commit_callbacks
):
    ended = UserFactory(username="former")
    current = UserFactory(username="current")
    from django.utils import timezone

    CuratorAssignment.objects.create(teacher=teacher, curator=ended, ended_at=timezone.now())
    CuratorAssignment.objects.create(teacher=teacher, curator=current)
    route = make_route(teacher)

    with django_capture_on_commit_callbacks(execute=True):
        result = service.request_correction(route, "Замените вебинар", teacher.user)

    assert result.recipient == current
    assert [m.to for m in mail.outbox] == [[current.email]]


def test_without_any_curator_the_request_is_kept_and_nobody_is_mailed(
    teacher, django_capture_on_commit_callbacks
):
    route = make_route(teacher)

    with django_capture_on_commit_callbacks(execute=True):
        result = service.request_correction(route, "Замените вебинар", teacher.user)

    assert result.recipient is None
    assert RouteComment.objects.count() == 1
    assert mail.outbox == []


def test_a_double_submit_is_one_request(teacher, django_capture_on_commit_callbacks):
    curator = UserFactory(username="curator")
    route = make_route(teacher, curator=curator)

    with django_capture_on_commit_callbacks(execute=True):
        service.request_correction(route, "Замените вебинар", teacher.user)
        service.request_correction(route, "Замените вебинар", teacher.user)

    assert RouteComment.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
def test_an_empty_or_too_long_request_is_refused(teacher, text):
    route = make_route(teacher)
    with pytest.raises(RouteError):
        service.request_correction(route, text, teacher.user)
    assert not RouteComment.objects.exists()


def test_no_correction_request_for_a_completed_route(teacher):
    route = make_route(teacher, status=RouteStatus.COMPLETED)
    with pytest.raises(RouteError) as error:
        service.request_correction(route, "Поменяйте", teacher.user)
    assert error.value.code == "status"
    assert not RouteComment.objects.exists()


# The route page -------------------------------------------------------------------------------


def test_route_page_groups_steps_by_stage_with_event_facts(teacher, resource_map):
    competency = CompetencyFactory()
    event = make_event(resource_map, title="Семинар", slug="s", capacity=1)
    signup.register(event, UserFactory(username="first"))
    first, second = make_event(resource_map, slug="a"), make_event(resource_map, slug="b")
    route = make_route(
        teacher,
        [
            stage("diagnostic_motivational", self_step(competencies=[competency])),
            stage("implementation", event_step(event), choose_step(first, second), task_row()),
        ],
    )

    page = service.route_page(route)

    assert [s.code for s in page["stages"]] == [
        "diagnostic_motivational",
        "design",
        "implementation",
        "reflexive",
    ]
    implementation = page["stages"][2]
    assert [c.type for c in implementation.cards] == ["event", "choose_one"]
    assert [c.type for c in implementation.task_rows] == ["task_row"]
    event_card = implementation.cards[0]
    assert event_card.event.full is True
    assert event_card.event.can_sign_up is True
    assert event_card.event.first_date is not None
    assert [o.event.pk for o in implementation.cards[1].options] == [first.pk, second.pk]
    assert page["competency_progress"][0][0] == competency
    assert page["progress"].total == 2  # the event and the self-education step
