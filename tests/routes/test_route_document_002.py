"""The printed route's diagnostic history (section 2: every result of the period, one row each)
and the layout of 002 (the seven parts of «Структура ИОМ»), in the structure, HTML, PDF and
Word."""

import datetime
import io

import docx
import lxml.html
import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from tests.routes.documents_data import (
    EVENT_TITLE,
    START,
    competency,
    make_events,
    make_rich_teacher,
    make_route,
)
from tests.routes.test_documents import (
    MAP_COLUMNS,
    MAP_LEVELS,
    ROUTE_RELATED,
    docx_rows,
    html_rows,
    normalise,
    pdf_pages,
    structure_rows,
)
from wagtail_iom.models import CompetencyScore, DiagnosticResult, Route, RouteLayout
from wagtail_iom.routes.builder import take_snapshot
from wagtail_iom.routes.documents.html import render_html, render_pdf
from wagtail_iom.routes.documents.structure import route_document
from wagtail_iom.routes.documents.word import render_docx
from wagtail_iom.routes.services import add_months

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

#: 002, «Структура ИОМ»: the seven parts, in the form's order.
SECTIONS_002 = [
    ("personal_profile", "1. Personal profile", "1. Личный профиль"),
    ("professional_profile", "2. Professional profile", "2. Профессиональный профиль"),
    (
        "competency_profile",
        "3. Profile of the teacher's subject, meta-subject and methodical competencies",
        "3. Профиль предметных, метапредметных, методических компетенций педагога",
    ),
    ("request", "4. Professional request", "4. Профессиональный запрос"),
    ("goals", "5. Goals and tasks", "5. Цели и задачи"),
    (
        "recommendations",
        "6. Recommendations based on the professional and competency profiles, aimed at raising "
        "the command of the key professional competencies and current educational technologies "
        "and at involvement in the active process of supporting the functioning and development "
        "of the regional education system",
        "6. Рекомендации на основе профессионального и компетентностного профилей, направленные "
        "на повышение уровня овладения ключевыми профессиональными компетенциями, актуальными "
        "образовательными технологиями и вовлечение в активный процесс поддержания "
        "функционирования и развития региональной системы образования",
    ),
    ("reflection", "7. Reflection", "7. Рефлексия"),
]
#: 002's questions of the professional request.
REQUEST_QUESTIONS = [
    (
        "State the areas of your professional interests",
        "Укажите направления Ваших профессиональных интересов",
    ),
    (
        "Formulate the professional requests you would like to achieve while following the route?",
        "Сформулируйте свои профессиональные запросы, которые хотели бы достичь в ходе "
        "реализации ИОМ?",
    ),
]
FORM_WORDS_002 = [(english, russian) for _key, english, russian in SECTIONS_002] + [
    *REQUEST_QUESTIONS,
    (
        "Formulating the goals and tasks from the deficits found and the teacher's requests",
        "Формулирование целей и задач на основе определяемых дефицитов и запросов педагога",
    ),
]


@pytest.fixture
def teacher():
    return make_rich_teacher()


@pytest.fixture
def route(resource_map, teacher):
    return make_route(teacher, make_events(resource_map))


def result(teacher, day, procedure, scores=(), total=55, level="basic"):
    made = DiagnosticResult.objects.create(
        teacher=teacher, date=day, procedure=procedure, total_score=total, level=level
    )
    for code, score in scores:
        CompetencyScore.objects.create(result=made, competency=competency(code), score=score)
    return made


def history(document):
    return next(table for table in document.tables() if table.key == "diagnostics")


# Section 2: the diagnostic history ---------------------------------------------------------


@pytest.mark.parametrize("layout", [RouteLayout.FULL, RouteLayout.PROFILES])
def test_every_result_of_the_period_is_a_row_and_none_outside_it(route, teacher, layout):
    lookback_start = add_months(START, -12)
    result(teacher, lookback_start - datetime.timedelta(days=1), "self")  # too early
    result(teacher, lookback_start, "federal", [("SUBJ-1", 20)], total=40, level="low")
    result(teacher, START + datetime.timedelta(days=20), "entry_test", [("PSY-1", 95)])
    result(teacher, route.ends_on + datetime.timedelta(days=1), "school")  # after the end

    rows = history(route_document(route, layout)).rows

    # Oldest first: the federal assessment, the regional one of the fixture (40 days ago),
    # the entry test during the route.
    assert [row.cells[0] for row in rows] == [
        lookback_start.strftime("%d.%m.%Y"),
        (START - datetime.timedelta(days=10)).strftime("%d.%m.%Y"),
        (START + datetime.timedelta(days=20)).strftime("%d.%m.%Y"),
    ]
    assert [row.cells[1].split("\n")[0] for row in rows] == [
        "Federal assessment",
        "Regional diagnostics",
        "Entry testing before a course",
    ]
    federal, regional, entry = rows
    assert federal.cells[2] == "40% / Low"
    # Each row has the deficits and proficits of its own result.
    assert "SUBJ-1" in federal.cells[3] and "— 20%" in federal.cells[3]
    assert federal.cells[4] == ""
    assert "METH-1" in regional.cells[3] and "SUBJ-1" in regional.cells[4]
    assert entry.cells[3] == "" and "PSY-1" in entry.cells[4]


def test_the_lookback_is_a_setting(route, teacher):
    result(teacher, add_months(START, -3), "self")

    with override_settings(WAGTAIL_IOM={"ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS": 1}):
        rows = history(route_document(route, RouteLayout.FULL)).rows

    # The regional result of the fixture (40 days ago, 10 days before the start) only.
    assert [row.cells[1].split("\n")[0] for row in rows] == ["Regional diagnostics"]


def test_without_results_a_row_says_so_in_every_format(resource_map):
    route = make_route(make_rich_teacher("other"), make_events(resource_map))
    route.teacher.diagnostic_results.all().delete()
    document = route_document(route, RouteLayout.PROFILES)

    (row,) = history(document).rows
    assert row.message and row.cells[0]
    tree = lxml.html.fromstring(render_html(document))
    (cell,) = tree.xpath("//table[@id='table-diagnostics']/tbody/tr/td")
    assert cell.get("colspan") == "5" and normalise(cell.text_content()) == row.cells[0]
    assert [normalise(c) for c in MAP_COLUMNS] in [table[0] for table in html_rows(
        render_html(document))]  # fmt: skip
    assert [row.cells[0]] in [r for table in docx_rows(render_docx(document)) for r in table]


def test_the_result_of_the_snapshot_stays_when_deleted(route, teacher):
    take_snapshot(route)
    route.save()
    teacher.diagnostic_results.all().delete()
    result(teacher, START + datetime.timedelta(days=5), "self")

    rows = history(route_document(route, RouteLayout.FULL)).rows

    assert [row.cells[1].split("\n")[0] for row in rows] == [
        "Regional diagnostics",
        "Self-diagnostics",
    ]
    assert "METH-1" in rows[0].cells[3]


def _queries(route_pk, layout):
    route = Route.objects.select_related(*ROUTE_RELATED).get(pk=route_pk)
    with CaptureQueriesContext(connection) as context:
        route_document(route, layout)
    return len(context.captured_queries)


@pytest.mark.parametrize("layout", [RouteLayout.FULL, RouteLayout.PROFILES])
def test_queries_do_not_grow_with_the_results(resource_map, layout):
    events = make_events(resource_map)
    few = make_route(make_rich_teacher("few"), events)
    many = make_route(make_rich_teacher("many"), events)
    for number in range(1, 8):
        result(
            many.teacher,
            START - datetime.timedelta(days=number * 20),
            "self" if number % 2 else "school",
            [("METH-1", 10 * number), ("SUBJ-1", 90)],
        )
    _queries(few.pk, layout)  # warm the caches

    assert _queries(few.pk, layout) == _queries(many.pk, layout)
    assert len(history(route_document(many, layout)).rows) == 8


@pytest.mark.parametrize("value", [-1, 121, "12", 2.5, True, None])
def test_the_lookback_must_be_0_to_120_months(value):
    with override_settings(WAGTAIL_IOM={"ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS": value}):
        ids = [message.id for message in run_checks()]
    assert "wagtail_iom.E020" in ids


@pytest.mark.parametrize("value", [0, 12, 120])
def test_a_lookback_within_bounds_passes(value):
    with override_settings(WAGTAIL_IOM={"ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS": value}):
        ids = [message.id for message in run_checks()]
    assert "wagtail_iom.E020" not in ids


# The layout of 002 ------------------------------------------------------------------------------


def test_the_002_layout_has_the_seven_parts_in_the_forms_order(route):
    route.reflection = "Освоила проектирование уроков"
    route.save()
    document = route_document(route, RouteLayout.PROFILES)

    assert [(s.key, s.title) for s in document.sections] == [
        (key, english) for key, english, _russian in SECTIONS_002
    ]
    request = document.sections[3].blocks
    assert [block.label for block in request] == [english for english, _r in REQUEST_QUESTIONS]
    assert [block.text for block in request] == [
        "Формирующее оценивание",
        "Научиться проектировать уроки",
    ]
    goals = document.sections[4]
    assert goals.wide
    assert [block.kind for block in goals.blocks[:3]] == ["note", "paragraph", "paragraph"]
    assert goals.blocks[1].text == "Развить методические компетенции"
    (development_map,) = [b for b in goals.blocks if getattr(b, "key", "") == "development_map"]
    assert development_map.columns == MAP_COLUMNS
    # The five levels under each of the four stages; an empty level is a blank row.
    levels = [row.cells[1] for row in development_map.rows if row.cells[1]]
    assert levels == MAP_LEVELS * 4
    assert any(row.blank is False and row.cells[2:] == [""] * 6 for row in development_map.rows)
    reflection = document.sections[6].blocks
    assert [block.text for block in reflection] == ["Освоила проектирование уроков"]
    assert [s.role for s in document.signatures] == [
        "Teaching employee",
        "Head of the school",
        "Tutor of the centre",
    ]


def test_an_empty_reflection_is_a_line_to_fill_in_and_the_curators_prints_when_there(route):
    document = route_document(route, RouteLayout.PROFILES)
    (teacher_reflection,) = document.sections[6].blocks
    assert teacher_reflection.lines == ["—"]

    route.curator_reflection = "Маршрут выполнен, рекомендована аттестация"
    document = route_document(route, RouteLayout.PROFILES)
    assert [block.text for block in document.sections[6].blocks] == [
        "",
        "Маршрут выполнен, рекомендована аттестация",
    ]


def test_the_002_html_and_word_hold_its_headings_and_rows(route):
    document = route_document(route, RouteLayout.PROFILES)
    html = render_html(document)
    content = render_docx(document)

    tree = lxml.html.fromstring(html)
    assert [normalise(h.text_content()) for h in tree.xpath("//section[@id]/h2")] == [
        english for _key, english, _russian in SECTIONS_002
    ]
    word = docx.Document(io.BytesIO(content))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings == [english for _key, english, _russian in SECTIONS_002]
    expected = structure_rows(document)
    assert html_rows(html) == expected
    assert docx_rows(content) == expected
    assert [normalise(c) for c in MAP_COLUMNS] in [table[0] for table in expected]
    text = "\n".join(p.text for p in word.paragraphs)
    for english, _russian in REQUEST_QUESTIONS:
        assert english in text


@pytest.mark.requires_tool("pango", "pdftotext")
def test_the_002_pdf_prints_its_headings_columns_and_every_level(route, teacher, tmp_path):
    result(teacher, START + datetime.timedelta(days=3), "federal", total=72, level="elevated")
    document = route_document(route, RouteLayout.PROFILES)

    text = " ".join(pdf_pages(render_pdf(document), tmp_path))

    for _key, english, _russian in SECTIONS_002:
        assert normalise(english) in text
    for column in MAP_COLUMNS:
        assert normalise(column) in text
    for level in MAP_LEVELS:
        assert text.count(level) >= 4, level
    assert EVENT_TITLE in text
    # Section 3's history: both results, one row each.
    assert "Federal assessment" in text and "Regional diagnostics" in text
    assert "72% / Elevated" in text


@pytest.mark.parametrize(
    ("english", "russian"), FORM_WORDS_002, ids=[e for e, _r in FORM_WORDS_002]
)
def test_the_russian_translation_prints_002s_words(english, russian):
    """In Russian, a heading is the regulation's own words."""
    from django.utils import translation

    with translation.override("ru"):
        assert translation.pgettext("route form", english) == russian
