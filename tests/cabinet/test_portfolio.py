"""The teacher's portfolio in the cabinet (000 §4.5): completed routes with their marks and both
reflections, the evidence of completed steps, the certificates and the attended events; the
same as a PDF. Only the teacher's own data, in a fixed number of queries."""

import datetime
import os
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, make_event
from tests.routes.test_teacher import PDF, attend, event_step, make_route, self_step, stage
from wagtail_iom.cabinet import portfolio as service
from wagtail_iom.models import Route, RouteStatus, RouteTransition, StepCompletion
from wagtail_iom.routes import documents

pytestmark = pytest.mark.django_db

PAGE = reverse("wagtail_iom:cabinet_portfolio")
PDF_URL = reverse("wagtail_iom:cabinet_portfolio_pdf")
DAY = timezone.localdate() + datetime.timedelta(days=5)


@pytest.fixture
def editor(db):
    return UserFactory(username="editor")


def completed_route(teacher, resource_map, editor, number, status=RouteStatus.COMPLETED):
    """A completed route with an attended event step and a self-education step done with a
    file; the reflections of both sides."""
    event = make_event(
        resource_map,
        title=f"Курс «Оценивание» {number}",
        slug=f"course-{teacher.pk}-{number}",
        sessions=[(DAY, datetime.time(10), datetime.time(13), 3)],
    )
    attend(event, teacher, editor)
    learning = self_step(activity=f"Изучить ФГОС {number}", step_id=f"self-{number}")
    route = make_route(
        teacher,
        [stage("implementation", event_step(event, step_id=f"event-{number}"), learning)],
        status=status,
        tasks=f"Освоить формирующее оценивание {number}",
        reflection=f"Научилась планировать уроки {number}",
        curator_reflection=f"Педагог освоил приёмы {number}",
        curator_reflection_by=editor,
        curator_reflection_at=timezone.now(),
    )
    Route.objects.filter(pk=route.pk).update(goal=route.tasks, tasks="")
    route.refresh_from_db()
    completion = StepCompletion.objects.create(
        route=route, step_id=f"self-{number}", evidence_text=f"Конспект {number}"
    )
    completion.evidence_file.save(f"konspekt-{number}.pdf", ContentFile(PDF))
    RouteTransition.objects.create(
        route=route, from_status=RouteStatus.IMPLEMENTATION, to_status=RouteStatus.COMPLETED
    )
    return route, event, completion


def test_the_page_gathers_routes_evidence_certificates_and_events(
    teacher_client, teacher, resource_map, editor
):
    route, event, completion = completed_route(teacher, resource_map, editor, 1)
    # A route under way is not in the routes' section (its evidence is in the evidence's).
    open_route = make_route(teacher, [stage("implementation", self_step(step_id="open"))])
    open_mark = StepCompletion.objects.create(
        route=open_route, step_id="open", evidence_text="Эссе"
    )

    response = teacher_client.get(PAGE)

    assert response.status_code == 200
    assert response.context["cabinet_section"] == "portfolio"
    data = response.context["portfolio"]
    assert [item.route.pk for item in data.routes] == [route.pk]
    item = data.routes[0]
    assert [(s.id, s.done) for s in item.steps] == [("event-1", True), ("self-1", True)]
    assert item.completed_at is not None
    assert (item.progress.done, item.progress.total) == (2, 2)
    assert {e.completion.pk for e in data.evidence} == {completion.pk, open_mark.pk}
    assert [c.item.event.pk for c in data.certificates] == [event.pk]
    html = response.content.decode()
    assert 'href="' + PAGE + '" aria-current="page"' in html  # the cabinet's navigation
    for text in (
        "Освоить формирующее оценивание 1",
        "Научилась планировать уроки 1",
        "Педагог освоил приёмы 1",
        "Курс «Оценивание» 1",
        "Изучить ФГОС 1",
        os.path.basename(completion.evidence_file.name),
        f"IOM-{event.pk}-",
    ):
        assert text in html
    file_url = reverse("wagtail_iom:cabinet_route_step_done", args=[route.pk, "self-1"])
    assert f"{file_url}?download=1" in html
    registration = data.certificates[0].item.registration
    assert reverse("wagtail_iom:certificate", args=[registration.pk]) in html
    assert PDF_URL in html


def test_the_evidence_file_link_downloads_the_teachers_file(
    teacher_client, teacher, resource_map, editor
):
    route, _event, _completion = completed_route(teacher, resource_map, editor, 1)
    data = teacher_client.get(PAGE).context["portfolio"]
    response = teacher_client.get(data.evidence[0].file_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_another_teachers_data_never_appears(client, teacher, other_teacher, resource_map, editor):
    route, event, completion = completed_route(teacher, resource_map, editor, 1)
    client.force_login(other_teacher.user)

    response = client.get(PAGE)

    assert response.status_code == 200
    data = response.context["portfolio"]
    assert (data.routes, data.evidence, data.attended) == ([], [], [])
    html = response.content.decode()
    for text in ("Освоить формирующее оценивание 1", "konspekt-1", "Курс «Оценивание» 1"):
        assert text not in html
    # The first teacher's file and certificate stay out of reach.
    file_url = reverse("wagtail_iom:cabinet_route_step_done", args=[route.pk, "self-1"])
    assert client.get(f"{file_url}?download=1").status_code == 404
    assert service.portfolio(other_teacher.user).routes == []


def test_not_signed_in_goes_to_the_login(client):
    for address in (PAGE, PDF_URL):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("wagtail_iom:login") in response["Location"]


def test_an_empty_portfolio(teacher_client):
    response = teacher_client.get(PAGE)
    assert response.status_code == 200
    assert 'id="portfolio-no-routes"' in response.content.decode()


def test_the_page_refuses_post(teacher_client):
    assert teacher_client.post(PAGE).status_code == 405


def test_the_number_of_queries_does_not_grow_with_routes_and_files(
    teacher_client, teacher, resource_map, editor, django_assert_num_queries
):
    completed_route(teacher, resource_map, editor, 1)
    with CaptureQueriesContext(connection) as one:
        assert teacher_client.get(PAGE).status_code == 200
    completed_route(teacher, resource_map, editor, 2)
    completed_route(teacher, resource_map, editor, 3, status=RouteStatus.AUDITED)

    with django_assert_num_queries(len(one)):
        response = teacher_client.get(PAGE)
    assert len(response.context["portfolio"].routes) == 3
    assert len(response.context["portfolio"].evidence) == 3
    assert len(response.context["portfolio"].attended) == 3


def test_the_document_has_the_same_content(teacher, resource_map, editor):
    route, event, completion = completed_route(teacher, resource_map, editor, 1)
    document = service.portfolio_document(service.portfolio(teacher.user))
    assert [section.key for section in document.sections] == [
        "routes",
        "evidence",
        "certificates",
        "attended",
    ]
    html = documents.render_html(document)
    for text in (
        "Освоить формирующее оценивание 1",
        "Научилась планировать уроки 1",
        "Педагог освоил приёмы 1",
        "Курс «Оценивание» 1",
        os.path.basename(completion.evidence_file.name),
        teacher.full_name,
    ):
        assert text in html


@pytest.mark.requires_tool("pango", "pdftotext")
def test_the_pdf_has_the_goal_and_the_events(
    teacher_client, teacher, resource_map, editor, tmp_path
):
    completed_route(teacher, resource_map, editor, 1)
    completed_route(teacher, resource_map, editor, 2)

    response = teacher_client.get(PDF_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    filename = f"portfolio-{timezone.localdate():%Y-%m-%d}.pdf"
    assert f'filename="{filename}"' in response["Content-Disposition"]
    path = tmp_path / "portfolio.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    text = " ".join(text.split())
    for expected in (
        "Освоить формирующее оценивание 1",
        "Освоить формирующее оценивание 2",
        "Курс «Оценивание» 1",
        "Курс «Оценивание» 2",
        "Педагог освоил приёмы 2",
        "Иванова Мария Петровна",
    ):
        assert expected in text


def test_without_weasyprint_the_pdf_goes_back_with_the_reason(teacher_client, monkeypatch):
    def unavailable(document):
        raise documents.DocumentUnavailable("no WeasyPrint")

    monkeypatch.setattr(documents, "render_pdf", unavailable)
    response = teacher_client.get(PDF_URL)
    assert response.status_code == 302
    assert response["Location"] == PAGE
