"""Routes for the tests of the printed route and its e-mails (tests/routes/test_documents.py,
tests/routes/test_print.py, tests/routes/test_emails.py): built directly with the models,
the roadmap given as raw stream data."""

import datetime
import uuid

from django.utils import timezone

from tests.factories import SchoolFactory, make_event, make_teacher
from wagtail_iom.models import (
    Achievement,
    CommunityMembership,
    Competency,
    CompetencyScore,
    DiagnosticResult,
    FurtherEducation,
    ProfessionalRequest,
    Route,
    StepCompletion,
)
from wagtail_iom.routes.blocks import RouteStage

TODAY = timezone.localdate()
START = TODAY - datetime.timedelta(days=30)
END = TODAY + datetime.timedelta(days=300)

EVENT_TITLE = "Семинар «Смысловое чтение»"
ACTIVITY = "Изучение методики формирующего оценивания"


def step_id():
    return str(uuid.uuid4())


def competency(code):
    return Competency.objects.get(code=code)


def fill_profile(teacher):
    """Section 1 and 2 data: courses, achievements, a community, diagnostics, the request."""
    FurtherEducation.objects.create(
        profile=teacher,
        kind="regional",
        place="ЦНППМ, г. Калининград",
        programme="Функциональная грамотность",
        hours=36,
        completed_on=TODAY - datetime.timedelta(days=200),
        certificate_number="39-0001",
    )
    FurtherEducation.objects.create(
        profile=teacher,
        kind="federal_registry",
        place="Академия Минпросвещения, г. Москва",
        programme="Школа современного учителя",
        hours=100,
        completed_on=TODAY - datetime.timedelta(days=400),
    )
    Achievement.objects.create(
        profile=teacher, direction="methodical", description="Рабочая программа", year=TODAY.year
    )
    CommunityMembership.objects.create(
        profile=teacher, name="РМО учителей математики", status="head"
    )
    result = DiagnosticResult.objects.create(
        teacher=teacher,
        date=TODAY - datetime.timedelta(days=40),
        procedure="regional",
        procedure_name="Региональная диагностика",
        total_score=61,
        level="basic",
    )
    for code, score in (("METH-1", 30), ("SUBJ-1", 90), ("PSY-1", 60), ("COMM-1", 45)):
        CompetencyScore.objects.create(result=result, competency=competency(code), score=score)
    ProfessionalRequest.objects.create(
        profile=teacher,
        interest_areas="Формирующее оценивание",
        needs="Научиться проектировать уроки",
        goal="Устранить методические дефициты",
    )


def make_rich_teacher(username="teacher", school=None, **fields):
    school = school or SchoolFactory()
    teacher = make_teacher(
        username=username,
        school=school,
        municipality=school.municipality,
        position="учитель",
        subjects="математика",
        education_level="higher_pedagogical",
        education_institution="БФУ им. И. Канта, 2008",
        qualification="учитель математики",
        teaching_experience_years=12,
        qualification_category="first",
        **fields,
    )
    fill_profile(teacher)
    return teacher


def event_step(event, **value):
    return {
        "type": "event",
        "id": step_id(),
        "value": {
            "event": event.pk,
            "level": value.pop("level", "regional"),
            "form": value.pop("form", "семинар, очно"),
            "task": value.pop("task", "Освоить смысловое чтение"),
            "planned_result": value.pop("planned_result", "Технологическая карта урока"),
            "result_presentation": value.pop("result_presentation", "Открытый урок"),
            "competencies": value.pop("competencies", [str(competency("METH-1").pk)]),
            "deadline": value.pop("deadline", None),
        },
    }


def self_education_step(activity=ACTIVITY, **value):
    return {
        "type": "self_education",
        "id": value.pop("id", step_id()),
        "value": {
            "activity": activity,
            "form": "чтение литературы",
            "planned_result": "Конспект",
            "competencies": [str(competency("PSY-1").pk)],
            "deadline": (TODAY + datetime.timedelta(days=60)).isoformat(),
        },
    }


def other_steps(events):
    """One step of each other kind."""
    return [
        {
            "type": "choose_one",
            "id": step_id(),
            "value": {
                "options": [event.pk for event in events[:2]],
                "planned_result": "Выбор курса",
                "competencies": [],
                "deadline": (TODAY + datetime.timedelta(days=20)).isoformat(),
            },
        },
        {
            "type": "external_course",
            "id": step_id(),
            "value": {
                "place": "Университет, г. Москва",
                "programme": "Цифровая дидактика",
                "hours": 72,
                "certificate": "77-123",
                "competencies": [str(competency("DIG-1").pk)],
                "deadline": (TODAY + datetime.timedelta(days=120)).isoformat(),
            },
        },
        {
            "type": "mentoring",
            "id": step_id(),
            "value": {
                "mentor": "Сидорова Анна Ивановна",
                "format": "goal_oriented",
                "meetings": "Разбор уроков",
                "planned_result": "Анализ урока",
                "competencies": [str(competency("COMM-1").pk)],
                "deadline": (TODAY + datetime.timedelta(days=90)).isoformat(),
            },
        },
        {
            "type": "task_row",
            "id": step_id(),
            "value": {
                "deficit": "Проектирование урока",
                "educational_task": "Освоить конструктор урока",
                "actions": "Посещение уроков коллег",
                "starts_on": (TODAY + datetime.timedelta(days=10)).isoformat(),
                "deadline": (TODAY + datetime.timedelta(days=40)).isoformat(),
                "result_form": "Портфолио",
            },
        },
    ]


def make_events(resource_map, count=3):
    return [
        make_event(
            resource_map,
            title=EVENT_TITLE if number == 0 else f"Вебинар № {number}",
            slug=f"route-event-{number}",
            competencies=[competency("METH-1")] if number == 0 else [],
        )
        for number in range(count)
    ]


def task_row_step(number):
    return {
        "type": "task_row",
        "id": step_id(),
        "value": {
            "deficit": f"Дефицит № {number}: оценивание образовательных результатов",
            "level": "school",
            "educational_task": f"Задача № {number}: освоить критериальное оценивание",
            "actions": "Семинар в ОО\nПосещение уроков коллег\nРазработка оценочных листов",
            "starts_on": (TODAY + datetime.timedelta(days=10)).isoformat(),
            "deadline": (TODAY + datetime.timedelta(days=40)).isoformat(),
            "result_form": "Выступление на педсовете",
        },
    }


def make_route(teacher, events, extra_steps=0, task_rows=0, **fields):
    """A route of ``teacher`` with each kind of step, plus ``extra_steps`` more steps (events
    and self-education in turn) spread over the stages and ``task_rows`` more task rows."""
    stages = {code: [] for code in RouteStage.ORDER}
    stages[RouteStage.DESIGN] += [task_row_step(n) for n in range(1, task_rows + 1)]
    stages[RouteStage.DIAGNOSTIC_MOTIVATIONAL].append(self_education_step("Самодиагностика"))
    stages[RouteStage.DESIGN] += other_steps(events)
    stages[RouteStage.IMPLEMENTATION].append(event_step(events[0]))
    stages[RouteStage.REFLEXIVE].append(self_education_step())
    for number in range(extra_steps):
        stage = RouteStage.ORDER[number % len(RouteStage.ORDER)]
        if number % 2:
            stages[stage].append(event_step(events[number % len(events)], level="municipal"))
        else:
            stages[stage].append(self_education_step(f"Самообразование № {number}"))
    roadmap = [
        {"type": "stage", "id": step_id(), "value": {"stage": code, "steps": steps}}
        for code, steps in stages.items()
    ]
    defaults = {
        "starts_on": START,
        "ends_on": END,
        "goal": "Развить методические компетенции",
        "tasks": "Освоить проектирование уроков\nПровести открытый урок",
        "further_support": "Участие в конкурсе «Учитель года»",
        "sources": "Журнал «Математика в школе»",
    }
    defaults.update(fields)
    route = Route.objects.create(teacher=teacher, roadmap=roadmap, **defaults)
    return Route.objects.get(pk=route.pk)


def mark_done(route, activity=ACTIVITY):
    """The teacher's done mark on the self-education step named ``activity``."""
    for stage in route.roadmap:
        for child in stage.value["steps"]:
            if child.block_type == "self_education" and child.value["activity"] == activity:
                return StepCompletion.objects.create(
                    route=route, step_id=child.id, evidence_text="Конспект готов"
                )
    raise AssertionError(activity)
