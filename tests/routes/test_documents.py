"""The printed route: one structure per layout, and the HTML, PDF and Word files made from it."""

import copy
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
    competency,
    make_events,
    make_rich_teacher,
    make_route,
    mark_done,
)
from wagtail_iom.models import (
    Competency,
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
        # A cell that spans rows is printed in the first of them only.
        rows += [
            row.cells[:1] if row.group or row.message else [text for _i, text, _span in row.visible]
            for row in table.rows
        ]
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
        # The cells met so far, kept alive so that their ids stay theirs.
        rows, seen = [], {}
        for row in table.rows:
            cells = []
            for cell in row.cells:
                # A merged cell (a group row across the grid, a stage down its levels) is
                # repeated in every position it covers: it counts where it starts.
                if id(cell._tc) in seen:
                    continue
                seen[id(cell._tc)] = cell._tc
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
    assert document.landscape == (layout not in (RouteLayout.FULL, RouteLayout.PROFILES))


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
    # The development map: the stage column names the four stages in the cycle's order, the
    # done mark filled.
    stages = [row.cells[0] for row in tables["development_map"].rows if row.cells[0]]
    assert [stage.split(":")[0] for stage in stages] == [
        "Diagnostic-motivational stage",
        "Design stage",
        "Implementation stage",
        "Reflexive stage",
    ]
    done = [row for row in tables["development_map"].rows if row.cells[-1]]
    assert [ACTIVITY in row.cells[2] for row in done] == [True]
    # Section 4 from the route, under the note on who fills it in.
    recommendations = document.sections[3].blocks
    assert recommendations[0].text == "* filled in by the curator / tutor / municipal methodist"
    assert "«Учитель года»" in recommendations[1].text


def test_the_compact_table_has_a_row_per_deficit(route):
    route.self_education_topic = "Формирующее оценивание на уроках математики"
    route.save()
    document = route_document(route, RouteLayout.COMPACT)
    tasks = next(table for table in document.tables() if table.key == "tasks")

    # The deficits of section 2 (METH-1 scored 30, COMM-1 45; the weakest first), the task
    # row, then the steps that address no deficit.
    assert [row.cells[0].split("\n")[0] for row in tasks.rows] == [
        f"1. METH-1 {competency('METH-1').name}",
        f"2. COMM-1 {competency('COMM-1').name}",
        "3. Проектирование урока",
        "4. Other tasks for the coming period",
    ]
    methodical, communicative, task_row, others = (row.cells for row in tasks.rows)
    # The steps that target a deficit are listed in its row, with their results and dates.
    assert methodical[1:3] == ["Освоить смысловое чтение", f"– {EVENT_TITLE}"]
    assert methodical[3].startswith("Implementation stage: ")
    assert methodical[4] == "Открытый урок"
    assert communicative[2].startswith("– Mentoring, mentor: Сидорова Анна Ивановна")
    assert task_row[1:3] == ["Освоить конструктор урока", "Посещение уроков коллег"]
    assert task_row[3].startswith("Design stage: ") and task_row[4] == "Портфолио"
    assert [line for line in others[2].splitlines() if line.startswith("– ")] == [
        "– Самодиагностика",
        "– One of: Семинар «Смысловое чтение»; Вебинар № 1",
        "– Цифровая дидактика",
        f"– {ACTIVITY}",
    ]
    card = next(table for table in document.tables() if table.key == "teacher")
    assert card.rows[0].cells[1] == TEACHER_NAME
    # The self-education topic is the route's own field, not the steps' titles.
    assert card.rows[-1].cells == [
        "Topic of self-education",
        "Формирующее оценивание на уроках математики",
    ]


def programme_blocks(document):
    """The programme's rows under each group: {"1. Subject": [row cells…], …}."""
    programme = next(table for table in document.tables() if table.key == "programme")
    blocks, current = {}, None
    for row in programme.rows:
        if row.cells[0]:
            current = f"{row.cells[0]}. {row.cells[1]}"
            blocks[current] = []
        blocks[current].append(row.cells)
    return blocks


def test_the_programme_has_the_four_groups_of_its_form(route):
    Competency.objects.filter(code="METH-1").update(
        labour_functions="A/01.6 Общепедагогическая функция. Обучение",
        knowledge_and_skills="Умение проектировать урок",
    )
    document = route_document(route, RouteLayout.COMPETENCY_GROUPS)
    blocks = programme_blocks(document)

    assert document.title == (
        "Programme of the teacher's professional development in the period between courses"
    )
    # The form's four groups in its order, then the steps that target no competency.
    assert list(blocks) == [
        "1. Subject",
        "2. Methodical",
        "3. Psychological",
        "4. Communicative",
        "5. Steps without a targeted competency",
    ]
    # A group no step is filed under keeps its pre-printed empty row.
    assert blocks["1. Subject"] == [["1", "Subject", "", "", "", "", "", ""]]
    # The digital group is filed under the methodical one (ROUTE_PROGRAMME_GROUPS).
    methodical = blocks["2. Methodical"]
    assert [row[5].split("\n")[0] for row in methodical] == [
        "Цифровая дидактика",
        EVENT_TITLE,
    ]
    # Labour functions and knowledge and skills come from the framework's competencies; the
    # leading tasks are the steps' tasks, not the competencies' names.
    event_row = methodical[1]
    assert event_row[2] == "Освоить смысловое чтение"
    assert event_row[3] == "A/01.6 Общепедагогическая функция. Обучение"
    assert event_row[4] == "Умение проектировать урок"
    assert "METH-1" not in " ".join(event_row)
    assert any("One of" in row[5] for row in blocks["5. Steps without a targeted competency"])


def test_the_programme_never_prints_a_step_twice(resource_map):
    events = make_events(resource_map)
    route = make_route(make_rich_teacher(), events)
    roadmap = route.roadmap.raw_data
    # A step that targets competencies of three groups is filed under the first one's.
    step = roadmap[2]["value"]["steps"][0]
    step["value"]["competencies"] = [
        str(competency(code).pk) for code in ("COMM-1", "METH-1", "SUBJ-1")
    ]
    route.roadmap = copy.deepcopy(list(roadmap))
    route.save()

    blocks = programme_blocks(route_document(route, RouteLayout.COMPETENCY_GROUPS))

    what = [row[5] for rows in blocks.values() for row in rows if row[5]]
    assert len(what) == len(set(what)) == 7  # every step of make_route, each once
    assert any(EVENT_TITLE in row[5] for row in blocks["4. Communicative"])


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


# The regulations' forms ------------------------------------------------------------------------
#
# Messages are read in English here; the Russian words each column and label must translate to
# (the forms' own words) are in the translators' comments of routes/documents/structure.py.

#: 000, appendix, section 3: «Этап», «Уровень», «Образовательные мероприятия и события», «Формы
#: и форматы», «Сроки», «Планируемые результаты и формы их предъявления», «Профессиональные
#: компетенции, на формирование или развитие которых нацелено мероприятие», «Отметка о
#: выполнении».
MAP_COLUMNS = [
    "Stage",
    "Level",
    "Educational events and activities",
    "Forms and formats",
    "Dates",
    "Planned results and the forms of presenting them",
    "Professional competencies the event aims to form or develop",
    "Completion mark",
]
#: Pre-printed under every stage: «Личностный», «Образовательной организации», «Муниципальный»,
#: «Региональный», «Федеральный».
MAP_LEVELS = ["Personal", "Of the school", "Municipal", "Regional", "Federal"]
#: 003: «Профессиональные дефициты / Задачи на предстоящий период», «Образовательные задачи»,
#: «Действия, мероприятия по реализации образовательных задач», «Примерное время, разбитое по
#: этапам (дд.мм.гг)», «Форма предъявления результата».
COMPACT_COLUMNS = [
    "Professional deficits / tasks for the coming period",
    "Educational tasks",
    "Actions, events to carry out the educational tasks",
    "Approximate time, broken down by stage (dd.mm.yy)",
    "Form of presenting the result",
]
#: 004: «№», «Компетенции», «Ведущие задачи по развитию профессиональной компетентности»,
#: «ТФ*», «Необходимые знания и умения», «Что предполагается для этого сделать», «Ожидаемый
#: результат», «Срок реализации задач».
PROGRAMME_COLUMNS = [
    "No.",
    "Competencies",
    "Leading tasks of developing the professional competence",
    "LF*",
    "Knowledge and skills needed",
    "What is planned to be done for it",
    "Expected result",
    "Deadline of the tasks",
]
FORM_TABLES = {
    RouteLayout.FULL: ("development_map", MAP_COLUMNS),
    RouteLayout.COMPACT: ("tasks", COMPACT_COLUMNS),
    RouteLayout.COMPETENCY_GROUPS: ("programme", PROGRAMME_COLUMNS),
    # 002 names no columns of its own: its goals and tasks are reached on 000's map.
    RouteLayout.PROFILES: ("development_map", MAP_COLUMNS),
}


def form_table(document):
    key, _columns = FORM_TABLES[document.layout]
    return next(table for table in document.tables() if table.key == key)


def test_the_development_map_is_the_regulations_grid(route):
    document = route_document(route, RouteLayout.FULL)
    table = form_table(document)

    assert table.columns == MAP_COLUMNS
    grid = [
        (row.cells[0].split(":")[0], row.cells[1], row.cells[2].split("\n")[0])
        for row in table.rows
    ]
    assert grid == [
        ("Diagnostic-motivational stage", "Personal", "Самодиагностика"),
        ("", "Of the school", ""),
        ("", "Municipal", ""),
        ("", "Regional", ""),
        ("", "Federal", ""),
        ("Design stage", "Personal", "Посещение уроков коллег"),  # the task row
        ("", "Of the school", "Mentoring, mentor: Сидорова Анна Ивановна"),
        ("", "Municipal", ""),
        ("", "Regional", "One of: Семинар «Смысловое чтение»; Вебинар № 1"),
        ("", "", "Цифровая дидактика"),  # the external course, at the same level
        ("", "Federal", ""),
        ("Implementation stage", "Personal", ""),
        ("", "Of the school", ""),
        ("", "Municipal", ""),
        ("", "Regional", EVENT_TITLE),
        ("", "Federal", ""),
        ("Reflexive stage", "Personal", ACTIVITY),
        ("", "Of the school", ""),
        ("", "Municipal", ""),
        ("", "Regional", ""),
        ("", "Federal", ""),
    ]
    # Each stage says what it holds; empty levels are rows of empty cells to fill in by hand.
    stage_cells = [row.cells[0] for row in table.rows if row.cells[0]]
    assert all(len(cell.split("\n")) == 2 and cell.split("\n")[1] for cell in stage_cells)
    assert ["", "", "", "", "", ""] == table.rows[1].cells[2:]
    section = document.sections[2]
    assert section.blocks[0].text == "* filled in jointly by the curator / tutor and the teacher"


def test_the_signatures_and_the_date_use_the_forms_words(route):
    document = route_document(route, RouteLayout.FULL)

    # «Педагогический работник», «Руководитель ОО», «Ответственный в МО», «Тьютор ЦНППМ».
    assert [signature.role for signature in document.signatures] == [
        "Teaching employee",
        "Head of the school",
        "Responsible in the municipality",
        "Tutor of the centre",
    ]
    # «Дата разработки ИОМ».
    assert document.date_label == "Date of developing the route"


def test_steps_saved_without_a_level_print_at_their_kinds_level(resource_map):
    route = make_route(make_rich_teacher(), make_events(resource_map))
    roadmap = copy.deepcopy(list(route.roadmap.raw_data))
    for stage in roadmap:
        for step in stage["value"]["steps"]:
            step["value"].pop("level", None)
            if step["type"] == "event":
                step["value"]["level"] = ""  # the event's own level (regional) applies
    route.roadmap = roadmap
    route.save()

    rows = form_table(route_document(route, RouteLayout.FULL)).rows

    levels = {}
    current = ""
    for row in rows:
        current = row.cells[1] or current
        if row.cells[2]:
            levels[row.cells[2].split("\n")[0]] = current
    assert levels["Самодиагностика"] == "Personal"  # self-education
    assert levels["Mentoring, mentor: Сидорова Анна Ивановна"] == "Of the school"
    assert levels["Цифровая дидактика"] == "Regional"  # an external course
    assert levels["Посещение уроков коллег"] == "Personal"  # a task row
    assert levels[EVENT_TITLE] == "Regional"


@pytest.mark.parametrize(
    "step",
    [
        {"type": "self_education", "value": {"activity": "Чтение"}},
        {"type": "external_course", "value": {"place": "Вуз", "programme": "Курс"}},
        {"type": "mentoring", "value": {"mentor": "Наставник", "format": "speed"}},
        {
            "type": "task_row",
            "value": {"deficit": "Дефицит", "educational_task": "Задача", "actions": "Действия"},
        },
    ],
    ids=lambda step: step["type"],
)
def test_a_step_without_an_event_needs_a_level(step):
    from django.core.exceptions import ValidationError

    from wagtail_iom.routes.blocks import StepsBlock

    block = StepsBlock()
    value = block.to_python([{**step, "id": "step", "value": {**step["value"], "level": ""}}])

    with pytest.raises(ValidationError) as error:
        block.clean(value)

    assert "level" in error.value.as_json_data()["blockErrors"][0]["blockErrors"]
    # With a level, the same step is accepted.
    block.clean(
        block.to_python([{**step, "id": "step", "value": {**step["value"], "level": "school"}}])
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_html_and_docx_print_the_forms_columns(route, layout):
    document = route_document(route, layout)
    _key, columns = FORM_TABLES[layout]
    expected = [normalise(cell) for cell in columns]

    assert any(table[0] == expected for table in html_rows(render_html(document)))
    assert any(table[0] == expected for table in docx_rows(render_docx(document)))


def pdf_pages(pdf, tmp_path):
    path = tmp_path / "route.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-raw", str(path), "-"], check=True, capture_output=True
    ).stdout.decode()
    # Narrow columns are hyphenated (U+2010 at the end of a line): join the words again.
    text = text.replace("\u2010\n", "")
    return [normalise(page) for page in text.split("\f") if page.strip()]


@pytest.mark.requires_tool("pango", "pdftotext")
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_pdf_prints_the_forms_columns_and_rows(route, layout, tmp_path):
    document = route_document(route, layout)
    text = " ".join(pdf_pages(render_pdf(document), tmp_path))

    _key, columns = FORM_TABLES[layout]
    for column in columns:
        assert normalise(column) in text
    for row in form_table(document).rows:
        for cell in row.cells[:2]:
            for line in cell.splitlines()[:1]:
                assert normalise(line) in text
    if layout in (RouteLayout.FULL, RouteLayout.PROFILES):
        # The five levels under each of the four stages, the empty ones too.
        for level in MAP_LEVELS:
            assert text.count(level) >= 4, level


@pytest.mark.requires_tool("pango", "pdftotext")
def test_the_compact_pdf_never_ends_with_only_the_signatures(resource_map, tmp_path):
    """Whatever the length of the table, its last row goes to the page of the signatures."""
    events = make_events(resource_map)
    for rows in range(6, 11):
        route = make_route(make_rich_teacher(f"t{rows}"), events, task_rows=rows)
        document = route_document(route, RouteLayout.COMPACT)
        cells = {
            normalise(cell.splitlines()[0])
            for row in form_table(document).rows
            for cell in row.cells
            if cell.strip()
        }

        last = pdf_pages(render_pdf(document), tmp_path)[-1]

        assert "Date of developing the route" in last
        assert any(cell in last for cell in cells), (rows, last)


#: The English messages of the forms' words and the Russian words they must translate to.
FORM_WORDS = [
    *zip(
        MAP_COLUMNS,
        [
            "Этап",
            "Уровень",
            "Образовательные мероприятия и события",
            "Формы и форматы",
            "Сроки",
            "Планируемые результаты и формы их предъявления",
            "Профессиональные компетенции, на формирование или развитие которых нацелено "
            "мероприятие",
            "Отметка о выполнении",
        ],
        strict=True,
    ),
    *zip(
        COMPACT_COLUMNS,
        [
            "Профессиональные дефициты / Задачи на предстоящий период",
            "Образовательные задачи",
            "Действия, мероприятия по реализации образовательных задач",
            "Примерное время, разбитое по этапам (дд.мм.гг)",
            "Форма предъявления результата",
        ],
        strict=True,
    ),
    *zip(
        PROGRAMME_COLUMNS,
        [
            "№",
            "Компетенции",
            "Ведущие задачи по развитию профессиональной компетентности",
            "ТФ*",
            "Необходимые знания и умения",
            "Что предполагается для этого сделать",
            "Ожидаемый результат",
            "Срок реализации задач",
        ],
        strict=True,
    ),
    ("Teaching employee", "Педагогический работник"),
    ("Head of the school", "Руководитель ОО"),
    ("Responsible in the municipality", "Ответственный в МО"),
    ("Tutor of the centre", "Тьютор ЦНППМ"),
    ("Date of developing the route", "Дата разработки ИОМ"),
    (
        "Programme of the teacher's professional development in the period between courses",
        "Программа профессионального развития педагога в межкурсовой период",
    ),
]


@pytest.mark.parametrize(("english", "russian"), FORM_WORDS, ids=[e for e, _r in FORM_WORDS])
def test_the_russian_translation_prints_the_forms_words(english, russian):
    """Once translated, a form's header is the regulation's own words. Skipped while the
    message has no Russian translation yet."""
    from django.utils import translation

    with translation.override("ru"):
        translated = translation.pgettext("route form", english)
    if translated == english:
        pytest.skip("not translated yet")
    assert translated == russian


def test_the_levels_under_a_stage_keep_to_its_page(route):
    """The rows under a merged stage cell are marked to stay with the row above (no level left
    alone on a page under the repeated header); the rows that start a stage are not."""
    html = render_html(route_document(route, RouteLayout.FULL))
    # Four stages, each over its five levels at least: four rows or more continue each stage.
    assert html.count("doc-continued") >= 4 * 4
    assert ".doc-table tr.doc-continued { break-before: avoid; }" in html
