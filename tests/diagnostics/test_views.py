"""The competency profile page of the cabinet: chart, table, empty state, only own data."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_event
from wagtail_iom.models import (
    AttendanceMark,
    Competency,
    CompetencyScore,
    DiagnosticResult,
    Registration,
)

pytestmark = pytest.mark.django_db

URL = reverse("wagtail_iom:cabinet_competencies")
TODAY = timezone.localdate()


def add_result(teacher, days_ago, scores, procedure_name="", total=60):
    result = DiagnosticResult.objects.create(
        teacher=teacher,
        date=TODAY - datetime.timedelta(days=days_ago),
        procedure="regional",
        procedure_name=procedure_name,
        total_score=total,
        level="basic",
    )
    for code, score in scores.items():
        CompetencyScore.objects.create(
            result=result, competency=Competency.objects.get(code=code), score=score
        )
    return result


def test_not_signed_in_goes_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtail_iom:login"))


def test_post_is_not_allowed(teacher_client):
    assert teacher_client.post(URL).status_code == 405


def test_empty_state_without_diagnostics(teacher_client):
    response = teacher_client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="iom-competencies-empty"' in content
    assert 'role="img"' not in content
    assert 'id="iom-diagnostics-table"' not in content
    assert response.context["cabinet_section"] == "competencies"
    assert response["Cache-Control"] and "no-cache" in response["Cache-Control"]


def test_renders_the_radar_chart_and_the_tables(teacher_client, teacher):
    add_result(teacher, 100, {"METH-1": 30, "METH-2": 50, "DIG-1": 60})
    add_result(teacher, 10, {"METH-1": 40, "METH-2": 90, "DIG-1": 20}, procedure_name="РДУ-2026")
    response = teacher_client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()

    svg = re.search(r"<svg class=\"iom-chart__svg\"[^>]*>", content).group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="iom-competency-chart-title iom-competency-chart-desc"' in svg
    assert 'viewBox="0 0 480 400"' in svg and 'width="100%"' in svg
    assert '<title id="iom-competency-chart-title">' in content
    assert '<desc id="iom-competency-chart-desc">' in content
    assert content.count('class="iom-chart__axis-label"') == 3
    assert 'class="iom-chart__previous"' in content
    assert 'class="iom-chart__deficit"' in content

    assert 'id="iom-competency-table"' in content
    assert '<caption id="iom-competency-table-caption">' in content
    assert 'scope="col"' in content and 'scope="row"' in content
    assert 'id="iom-competency-meth-1"' in content
    assert "РДУ-2026" in content
    assert [row.competency.code for row in response.context["deficits"]] == ["DIG-1", "METH-1"]
    assert [row.competency.code for row in response.context["proficits"]] == ["METH-2"]
    assert len(response.context["results"]) == 2


def test_two_scored_competencies_draw_bars(teacher_client, teacher):
    add_result(teacher, 10, {"METH-1": 40, "DIG-1": 70})
    response = teacher_client.get(URL)
    assert response.context["chart"].kind == "bars"
    content = response.content.decode()
    assert 'role="img"' in content
    assert content.count('class="iom-chart__axis-label"') == 2


def test_a_result_without_scores_shows_the_chart_empty_state(teacher_client, teacher):
    add_result(teacher, 10, {})
    content = teacher_client.get(URL).content.decode()
    assert 'id="iom-diagnostics-table"' in content
    assert 'role="img"' not in content


def test_only_own_diagnostics_appear(teacher_client, teacher, other_teacher):
    add_result(teacher, 10, {"METH-1": 40}, procedure_name="Моя диагностика")
    secret = add_result(
        other_teacher, 5, {"METH-1": 99, "DIG-1": 3}, procedure_name="Чужая диагностика"
    )
    response = teacher_client.get(URL)
    content = response.content.decode()
    assert "Моя диагностика" in content
    assert "Чужая диагностика" not in content
    assert f'id="iom-diagnostics-{secret.pk}"' not in content
    assert [r.teacher_id for r in response.context["results"]] == [teacher.pk]
    rows = {row.competency.code: row for row in response.context["rows"]}
    assert rows["METH-1"].latest_score == 40
    assert rows["DIG-1"].latest is None


def test_evidence_of_attended_events_is_shown(teacher_client, teacher, resource_map):
    add_result(teacher, 10, {"METH-1": 40})
    day = TODAY - datetime.timedelta(days=3)
    event = make_event(
        resource_map,
        title="Стажировка по методике",
        sessions=[(day, datetime.time(10), datetime.time(16), 6)],
        competencies=[Competency.objects.get(code="METH-1")],
    )
    registration = Registration.objects.create(event=event, user=teacher.user)
    AttendanceMark.objects.create(registration=registration, session=event.sessions.get())
    response = teacher_client.get(URL)
    row = next(r for r in response.context["rows"] if r.competency.code == "METH-1")
    assert row.evidence.count == 1 and row.evidence.hours == 6
    assert "Стажировка по методике" in response.content.decode()


def test_query_count_is_flat(teacher_client, teacher, resource_map):
    day = TODAY - datetime.timedelta(days=3)
    methodical = Competency.objects.get(code="METH-1")

    def attended_event(number):
        event = make_event(
            resource_map,
            slug=f"e{number}",
            sessions=[(day, datetime.time(10), datetime.time(12), 2)],
            competencies=[methodical],
        )
        registration = Registration.objects.create(event=event, user=teacher.user)
        AttendanceMark.objects.create(registration=registration, session=event.sessions.get())

    add_result(teacher, 10, {"METH-1": 40, "METH-2": 50, "DIG-1": 70})
    attended_event(0)
    teacher_client.get(URL)  # warm caches
    with CaptureQueriesContext(connection) as few:
        teacher_client.get(URL)
    for number in range(1, 6):
        add_result(teacher, 20 + number, {"METH-1": 10 * number, "DIG-1": 5 * number})
        attended_event(number)
    with CaptureQueriesContext(connection) as many:
        teacher_client.get(URL)
    assert len(many) == len(few)
