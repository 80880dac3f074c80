"""The cabinet's attended events and the participation certificates."""

import datetime
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CompetencyFactory, UserFactory, bulk_events, make_event
from wagtail_iom.attendance import services as attendance
from wagtail_iom.models import AttendanceMark, EventPage, Registration

pytestmark = pytest.mark.django_db

ATTENDED = reverse("wagtail_iom:cabinet_attended")
DAY = datetime.date(2026, 2, 3)


def certificate_url(registration):
    return reverse("wagtail_iom:certificate", args=[registration.pk])


@pytest.fixture
def event(resource_map):
    return make_event(
        resource_map,
        sessions=[
            (DAY, datetime.time(10), datetime.time(13), 3),
            (DAY, datetime.time(14), datetime.time(16), 2),
        ],
        competencies=[CompetencyFactory(name="Оценивание")],
    )


@pytest.fixture
def editor(db):
    return UserFactory(username="editor")


@pytest.fixture
def attended(event, teacher, editor):
    registration = Registration.objects.create(event=event, user=teacher.user)
    first = event.sessions.order_by("start_time").first()
    attendance.mark_session(first, [registration.pk], editor)
    return registration


def test_attended_page_shows_events_with_hours(teacher_client, attended, event, resource_map):
    # An event signed up for but not attended is not listed.
    Registration.objects.create(
        event=make_event(resource_map, title="Пропущено", slug="missed"),
        user=attended.user,
    )
    response = teacher_client.get(ATTENDED)
    assert response.status_code == 200
    assert response.context["cabinet_section"] == "attended"
    items = response.context["items"]
    assert [item.registration.pk for item in items] == [attended.pk]
    assert items[0].hours == 3
    assert response.context["total_hours"] == 3
    content = response.content.decode()
    assert f'id="attended-{attended.pk}"' in content
    assert 'data-hours="3' in content
    assert "Оценивание" in content
    assert certificate_url(attended) in content
    assert "Пропущено" not in content


def test_attended_page_without_events(teacher_client):
    response = teacher_client.get(ATTENDED)
    assert response.status_code == 200
    assert response.context["items"] == []


def test_attended_page_needs_a_signed_in_teacher(client):
    response = client.get(ATTENDED)
    assert response.status_code == 302
    assert reverse("wagtail_iom:login") in response["Location"]


def test_attended_page_refuses_post(teacher_client):
    assert teacher_client.post(ATTENDED).status_code == 405


@pytest.mark.requires_tool("pango", "pdftotext")
def test_certificate_is_a_pdf_with_the_teachers_cyrillic_name(
    teacher_client, attended, event, tmp_path
):
    response = teacher_client.get(certificate_url(attended))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    number = f"IOM-{event.pk}-{attended.pk}"
    assert f'filename="certificate-{number}.pdf"' in response["Content-Disposition"]
    path = tmp_path / "certificate.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Иванова Мария Петровна" in text
    assert number in text


def test_other_teachers_certificate_is_404(client, attended, other_teacher):
    client.force_login(other_teacher.user)
    assert client.get(certificate_url(attended)).status_code == 404


def test_certificate_of_a_sign_up_not_attended_is_404(teacher_client, event, teacher):
    registration = Registration.objects.create(event=event, user=teacher.user)
    assert teacher_client.get(certificate_url(registration)).status_code == 404
    assert teacher_client.get(reverse("wagtail_iom:certificate", args=[999999])).status_code == 404


def test_certificate_needs_a_signed_in_teacher(client, attended):
    response = client.get(certificate_url(attended))
    assert response.status_code == 302


def test_attended_page_query_count_is_flat(client, resource_map, editor):
    """10 attended events cost as many queries as 100."""
    from tests.factories import make_teacher

    bulk_events(resource_map, 100, start=DAY)
    events = list(EventPage.objects.order_by("pk"))
    competencies = [CompetencyFactory(), CompetencyFactory()]
    through = EventPage.competencies.through
    through.objects.bulk_create(
        through(eventpage_id=e.pk, competency_id=c.pk) for e in events for c in competencies
    )
    few = make_teacher(username="few")
    many = make_teacher(username="many")

    def attend(profile, count):
        registrations = Registration.objects.bulk_create(
            Registration(event=e, user=profile.user) for e in events[:count]
        )
        registrations = Registration.objects.filter(user=profile.user)
        sessions = {s.page_id: s for e in events[:count] for s in [e.sessions.first()]}
        AttendanceMark.objects.bulk_create(
            AttendanceMark(registration=r, session=sessions[r.event_id], marked_by=editor)
            for r in registrations
        )

    attend(few, 10)
    attend(many, 100)

    def count_queries(profile, expected):
        client.force_login(profile.user)
        client.get(ATTENDED)  # warm caches (site root paths, translations)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(ATTENDED)
        assert response.status_code == 200
        assert len(response.context["items"]) == expected
        return len(ctx)

    assert count_queries(few, 10) == count_queries(many, 100)
