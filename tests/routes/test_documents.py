"""The printed route: one structure per layout, and the HTML, PDF and Word files made from it."""

import io
import subprocess

import docx
import lxml.html
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.routes.documents_data import (
    ACTIVITY,
    EVENT_TITLE,
    make_events,
    make_rich_teacher,
    make_route,
    mark_done,
)
from wagtail_iom.models import (
    CompetencyGroup,
    Route,
    RouteLayout,
    RouteStatus,
    RouteTransition,
    StaffMembership,
)
from wagtail_iom.routes.builder import take_snapshot
from wagtail_iom.routes.documents.html import render_html, render_pdf
from wagtail_iom.routes.documents.structure import route_document
from wagtail_iom.routes.documents.word import DOCX_FONT, render_docx

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


TEACHER_NAME = "Иванова Мария Петровна"
ROUTE_RELATED = ("teacher__school", "teacher__municipality", "curator")
LAYOUTS = RouteLayout.values


def normalise(text):
    return " ".join(text.split())


def structure_rows(document):
    """The tables the files print (those with rows): each a list of rows of cell texts, the
    header row first; a group row is one cell."""
    tables = []
    for table in document.tables():
        if not table.rows:
            continue
        rows = [list(table.columns)] if table.header else []
        rows += [row.cells[:1] if row.group else row.cells for row in table.rows]
        tables.append([[normalise(cell) for cell in row] for row in rows])
    return tables


def html_rows(html):
    tree = lxml.html.fromstring(html)
    for br in tree.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return [
        [
            [normalise(cell.text_content()) for cell in row.xpath("./th|./td")]
            for row in table.xpath(".//tr")
        ]
        for table in tree.xpath("//table[contains(@class, 'doc-table')]")
    ]


def docx_rows(content):
    tables = []
    for table in docx.Document(io.BytesIO(content)).tables:
        rows = []
        for row in table.rows:
            cells, seen = [], set()
            for cell in row.cells:
                # A merged (group) row repeats the same cell across the grid.
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                cells.append(normalise(cell.text))
            rows.append(cells)
        tables.append(rows)
    return tables


@pytest.fixture
def route(resource_map):
    teacher = make_rich_teacher()
    route = make_route(teacher, make_events(resource_map))
    mark_done(route)
    return route


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_builds(route, layout):
    document = route_document(route, layout)

    assert document.layout == layout
    assert document.title
    assert document.signatures and document.signatures[0].name == TEACHER_NAME
    assert document.filename("pdf") == f"route-{route.pk}-{layout}.pdf"
    text = normalise(
        " ".join(cell for table in structure_rows(document) for row in table for cell in row)
    )
    assert EVENT_TITLE in text
    assert document.landscape == (layout != RouteLayout.FULL)


def test_the_full_layout_has_the_four_sections_and_four_signatures(route):
    document = route_document(route, RouteLayout.FULL)

    assert [section.key for section in document.sections] == [
        "general",
        "competencies",
        "development_map",
        "recommendations",
    ]
    assert len(document.signatures) == 4
    tables = {table.key: table for table in document.tables()}
    assert {"info_card", "further_education", "achievements", "diagnostics",
            "competency_profile", "development_map"} <= set(tables)  # fmt: skip
    # Further education grouped regional / federal / federal registry, as section 1 lists it.
    groups = [row.cells[0] for row in tables["further_education"].rows if row.group]
    assert len(groups) == 3
    assert any("39-0001" in cell for row in tables["further_education"].rows for cell in row.cells)
    # Diagnostics: METH-1 scored 30 is a deficit, SUBJ-1 scored 90 a proficit.
    (result,) = tables["diagnostics"].rows
    assert "METH-1" in result.cells[3] and "SUBJ-1" in result.cells[4]
    # The development map: a group row per stage in the cycle's order, the done mark filled.
    stages = [row.cells[0] for row in tables["development_map"].rows if row.group]
    assert len(stages) == 4
    done = [row for row in tables["development_map"].rows if not row.group and row.cells[-1]]
    assert [ACTIVITY in row.cells[1] for row in done] == [True]
    # Section 4 from the route.
    recommendations = document.sections[3].blocks
    assert "«Учитель года»" in recommendations[0].text


def test_the_compact_table_has_a_row_per_step(route):
    document = route_document(route, RouteLayout.COMPACT)
    tasks = next(table for table in document.tables() if table.key == "tasks")

    assert len(tasks.rows) == 7  # every step of make_route
    assert [row.cells[0] for row in tasks.rows] == [str(n) for n in range(1, 8)]
    task_row = next(row for row in tasks.rows if row.cells[1] == "Проектирование урока")
    assert task_row.cells[2:4] == ["Освоить конструктор урока", "Посещение уроков коллег"]
    assert task_row.cells[5] == "Портфолио"
    card = next(table for table in document.tables() if table.key == "teacher")
    assert card.rows[0].cells[1] == TEACHER_NAME
    assert any(ACTIVITY in row.cells[1] for row in card.rows)  # the self-education topic


def test_the_programme_groups_steps_by_competency_group(route):
    document = route_document(route, RouteLayout.COMPETENCY_GROUPS)
    programme = next(table for table in document.tables() if table.key == "programme")
    methodical = CompetencyGroup.objects.get(code="methodical").name

    blocks, current = {}, None
    for row in programme.rows:
        if row.group:
            current = row.cells[0].split(". ", 1)[1]
            blocks[current] = []
        else:
            blocks[current].append(row)

    # Every group of the framework is listed, in its order, then the steps without one.
    assert list(blocks)[:-1] == list(CompetencyGroup.objects.values_list("name", flat=True))
    assert blocks[methodical] and all(
        row.cells[0].startswith("METH-1") for row in blocks[methodical]
    )
    assert any(EVENT_TITLE in row.cells[3] for row in blocks[methodical])
    # A group no step targets keeps a blank row, as the regulation's form does.
    assert any(rows == [] or rows[0].blank for rows in blocks.values())
    # The choice step names no competency: it is listed apart, last.
    assert any("One of" in row.cells[3] for row in list(blocks.values())[-1])


def test_snapshots_are_used_instead_of_the_live_profile(route):
    take_snapshot(route)
    for row in route.profile_snapshot["card"]:
        if row["field"] == "full_name":
            row["value"] = "Смирнова Ольга Игоревна"
    route.save()
    route.teacher.further_education.all().delete()
    route.teacher.diagnostic_results.all().delete()

    document = route_document(route, RouteLayout.FULL)

    assert document.subtitle == "Смирнова Ольга Игоревна"
    tables = {table.key: table for table in document.tables()}
    assert any("39-0001" in cell for row in tables["further_education"].rows for cell in row.cells)
    assert "METH-1" in tables["diagnostics"].rows[0].cells[3]


def test_without_snapshots_the_live_profile_is_printed(route):
    assert route.profile_snapshot == {} and route.diagnostics_snapshot == {}

    tables = {table.key: table for table in route_document(route, RouteLayout.FULL).tables()}

    assert tables["info_card"].rows[0].cells[1] == TEACHER_NAME
    assert tables["info_card"].rows[4].cells[1] == "12 years"
    assert len(tables["competency_profile"].rows) == 4


def test_the_header_says_when_the_route_was_sent_and_approved(route, superuser):
    RouteTransition.objects.create(route=route, from_status=RouteStatus.DEVELOPMENT,
                                   to_status=RouteStatus.SENT_FOR_APPROVAL, by=superuser)  # fmt: skip
    RouteTransition.objects.create(route=route, from_status=RouteStatus.SENT_FOR_APPROVAL,
                                   to_status=RouteStatus.APPROVED, by=superuser)  # fmt: skip
    superuser.first_name, superuser.last_name = "Олег", "Директоров"
    superuser.save()
    StaffMembership.objects.create(user=superuser, role="school_head", school=route.teacher.school)

    document = route_document(route, RouteLayout.FULL)

    labels = [label for label, _value in document.facts]
    assert "Sent for approval on" in labels and "Approved by the school on" in labels
    assert document.signatures[1].name == "Олег Директоров"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_html_and_docx_hold_the_rows_of_the_structure(route, layout):
    document = route_document(route, layout)
    expected = structure_rows(document)

    assert expected
    assert html_rows(render_html(document)) == expected
    assert docx_rows(render_docx(document)) == expected


def test_the_docx_uses_a_cyrillic_font(route):
    content = render_docx(route_document(route, RouteLayout.FULL))
    word = docx.Document(io.BytesIO(content))

    assert word.styles["Normal"].font.name == DOCX_FONT
    assert TEACHER_NAME in "\n".join(p.text for p in word.paragraphs)
    # Section 3's wide table is on a landscape page between portrait ones.
    orientations = [section.orientation for section in word.sections]
    assert len(orientations) == 3 and orientations[0] == orientations[2] != orientations[1]


@pytest.mark.requires_tool("pango", "pdftotext")
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_pdf_text_holds_the_teachers_cyrillic_name(route, layout, tmp_path):
    pdf = render_pdf(route_document(route, layout))
    path = tmp_path / "route.pdf"
    path.write_bytes(pdf)

    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    ).stdout.decode()

    assert pdf.startswith(b"%PDF")
    assert TEACHER_NAME in normalise(text)
    assert "Смысловое чтение" in normalise(text)


def _queries(route_pk, layout):
    route = Route.objects.select_related(*ROUTE_RELATED).get(pk=route_pk)
    with CaptureQueriesContext(connection) as context:
        route_document(route, layout)
    return len(context.captured_queries)


@pytest.fixture
def small_and_large(resource_map):
    events = make_events(resource_map)
    small = make_route(make_rich_teacher("small"), events, extra_steps=0)
    large = make_route(make_rich_teacher("large"), events, extra_steps=53)  # 60 steps
    mark_done(small)
    mark_done(large)
    assert sum(len(stage.value["steps"]) for stage in large.roadmap) == 60
    return small.pk, large.pk


@pytest.mark.parametrize("layout", LAYOUTS)
def test_queries_do_not_grow_with_the_steps(small_and_large, layout):
    small, large = small_and_large
    _queries(small, layout)  # warm the content types and the site cache

    count = _queries(small, layout)
    assert count == _queries(large, layout)
    # Without snapshots the live profile is read too: still a handful of queries.
    assert count <= 20
