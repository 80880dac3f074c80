"""Demo routes: one per demo teacher, in every status, with every kind of step. Safe to run
again: a teacher's demo route is created once and then left as it is (its history too)."""

import datetime

from django.utils import timezone

from sandbox.home.demo.teachers import PAST_EVENTS
from wagtail_iom.diagnostics import competency_profile
from wagtail_iom.models import EventPage, Route, RouteStatus
from wagtail_iom.routes import audit as route_audit
from wagtail_iom.routes import services as routes
from wagtail_iom.routes import workflow

#: The statuses the demo routes reach, one per teacher in order, and how they get there.
PATHS = {
    RouteStatus.DEVELOPMENT: [],
    RouteStatus.SENT_FOR_APPROVAL: ["sent_for_approval"],
    RouteStatus.RETURNED: ["sent_for_approval", "returned"],
    RouteStatus.APPROVED: ["sent_for_approval", "approved"],
    RouteStatus.IMPLEMENTATION: ["sent_for_approval", "approved", "implementation"],
    RouteStatus.COMPLETED: ["sent_for_approval", "approved", "implementation", "completed"],
    RouteStatus.AUDITED: [
        "sent_for_approval",
        "approved",
        "implementation",
        "completed",
        "audited",
    ],  # fmt: skip
}
ORDER = [
    RouteStatus.IMPLEMENTATION,  # the demo teacher's own route: the richest to look at
    RouteStatus.DEVELOPMENT,
    RouteStatus.SENT_FOR_APPROVAL,
    RouteStatus.RETURNED,
    RouteStatus.APPROVED,
    RouteStatus.COMPLETED,
    RouteStatus.AUDITED,
    RouteStatus.IMPLEMENTATION,
]
COMMENTS = {
    "returned": "Добавьте в маршрут мероприятие неформального трека по дефициту.",
    "approved": "Согласовано. Руководитель ОО.",
    "audited": "Маршрут выполнен, результаты подтверждены на заседании ММС.",
}

AUDIT = {
    "transfer": "Приёмы формирующего оценивания применяются на уроках математики в 7-х "
    "классах; комплект заданий в формате PISA используется коллегами школы.",
}
AUDIT_COMMENTS = {
    0: "Цель достигнута: результаты класса выросли.",
    2: "Комплект заданий готов, апробирован в двух классах из четырёх.",
}

REFLECTIONS = {
    "teacher": "Освоила приёмы формирующего оценивания и применяю их на уроках в 7-х классах; "
    "комплект заданий в формате PISA представлен на заседании методического объединения.",
    "curator": "Цель маршрута достигнута: педагог уверенно применяет формирующее оценивание, "
    "предметные результаты класса выросли. Рекомендовано участие в конкурсе «Педагог года» и "
    "подготовка к аттестации на высшую категорию.",
}


def _stage(code, *steps):
    return {"type": "stage", "value": {"stage": code, "steps": list(steps)}}


def _roadmap(profile, upcoming, past, start, end):
    deficits = [str(row.competency.pk) for row in competency_profile.deficits(profile)[:3]]
    first_deficit = deficits[0] if deficits else None

    def when(days):
        return (start + datetime.timedelta(days=days)).isoformat()

    def event(page, days, result):
        return {
            "type": "event",
            "value": {
                "event": page.pk,
                "level": page.level,
                "form": page.get_kind_display() if hasattr(page, "get_kind_display") else "",
                "task": "Освоить приёмы формирующего оценивания",
                "planned_result": result,
                "result_presentation": "Отчёт на заседании методического объединения",
                "competencies": [str(c.pk) for c in page.competencies.all()][:3],
                "deadline": when(days),
            },
        }

    return [
        _stage(
            "diagnostic_motivational",
            {
                "type": "self_education",
                "value": {
                    "activity": "Самоанализ урока по карте наблюдения",
                    "level": "personal",
                    "form": "Самообразование",
                    "task": "Выявить свои профессиональные затруднения",
                    "planned_result": "Перечень профессиональных затруднений",
                    "competencies": deficits[:1],
                    "deadline": when(20),
                },
            },
            {
                "type": "task_row",
                "value": {
                    "deficit": "Низкий результат по компетенции"
                    + (f" {first_deficit}" if first_deficit else ""),
                    "level": "school",
                    "educational_task": "Освоить приёмы формирующего оценивания",
                    "actions": "Семинар, взаимопосещение уроков, самообразование",
                    "starts_on": when(0),
                    "deadline": when(90),
                    "result_form": "Методическая разработка урока",
                },
            },
        ),
        _stage(
            "design",
            {
                "type": "choose_one",
                "value": {
                    "options": [page.pk for page in upcoming[:3]],
                    "planned_result": "Выбранный курс включён в маршрут",
                    "competencies": deficits[:2],
                    "deadline": when(30),
                },
            },
        ),
        _stage(
            "implementation",
            *[event(page, 60, "Применение приёмов на уроках") for page in past[:2]],
            event(upcoming[3], 120, "Комплект заданий для своего класса"),
            {
                "type": "external_course",
                "value": {
                    "place": "ФГАОУ ДПО «Академия Минпросвещения России»",
                    "programme": "Школа современного учителя математики",
                    "level": "federal",
                    "task": "Освоить современные подходы к обучению математике",
                    "hours": 36,
                    "certificate": "",
                    "competencies": deficits[:1],
                    "deadline": when(150),
                },
            },
            {
                "type": "mentoring",
                "value": {
                    "mentor": "Иванова Татьяна Павловна",
                    "level": "school",
                    "task": "Научиться анализировать свой урок",
                    "format": "goal_oriented",
                    "meetings": "Раз в месяц: разбор посещённых уроков.",
                    "planned_result": "План самообразования на следующий год",
                    "competencies": deficits[1:2],
                    "deadline": when(200),
                },
            },
        ),
        _stage(
            "reflexive",
            {
                "type": "self_education",
                "value": {
                    "activity": "Рефлексивное эссе о результатах маршрута",
                    "level": "personal",
                    "form": "Портфолио",
                    "planned_result": "Эссе и портфолио в личном кабинете",
                    "deadline": end.isoformat(),
                },
            },
        ),
    ]


def build_routes(profiles, people):
    """One route per demo teacher; returns the routes."""
    today = timezone.localdate()
    upcoming = list(
        EventPage.objects.live()
        .filter(sessions__date__gt=today + datetime.timedelta(days=7), capacity__gt=10)
        .exclude(status="cancelled")
        .distinct()
        .order_by("pk")[:8]
    )
    past = list(EventPage.objects.filter(slug__in=[spec["slug"] for spec in PAST_EVENTS]))
    actors = {
        "sent_for_approval": people["curator"],
        "returned": people["centre"],
        "approved": people["centre"],
        "implementation": people["curator"],
        "completed": people["curator"],
        "audited": people["centre"],
    }
    built = []
    for index, profile in enumerate(profiles):
        start = today - datetime.timedelta(days=90)
        route = Route.objects.filter(teacher=profile).first()
        if route is None:
            end = routes.add_months(start, 12)
            route = Route.objects.create(
                teacher=profile,
                curator=people["curator"] if index % 4 != 3 else people["curator2"],
                starts_on=start,
                ends_on=end,
                goal="Выстроить систему формирующего оценивания на уроках и повысить "
                "предметные результаты обучающихся.",
                tasks="Освоить приёмы формирующего оценивания.\n"
                "Разработать комплект заданий в формате PISA.\n"
                "Представить опыт на заседании методического объединения.",
                self_education_topic="Формирующее оценивание на уроках математики",
                roadmap=_roadmap(profile, upcoming, past, start, end),
                further_support="Участие в муниципальном конкурсе «Педагог года», "
                "работа в профессиональном сообществе учителей математики.",
                self_and_non_formal_education="Вебинары ЦНППМ по функциональной грамотности.",
                sources="Пособие «Формирующее оценивание в школе» (2023); открытый банк заданий "
                "ФИПИ.",
                created_by=people["curator"],
            )
            _take_snapshot(route)
            route.save_revision(user=people["curator"])
            for step in PATHS[ORDER[index % len(ORDER)]]:
                actor = route.curator if actors[step] == people["curator"] else actors[step]
                if step == RouteStatus.AUDITED:
                    # The reflexive stage comes before the audit, and a route becomes
                    # audited only with its audit.
                    _reflections(route)
                    _audit(route, actor)
                    continue
                workflow.transition(
                    route, step, actor, comment=COMMENTS.get(step, ""), notify=False
                )
            if route.status == RouteStatus.COMPLETED:
                _reflections(route)
        built.append(route)
    return built


def _reflections(route):
    """The reflexive stage of a completed route: the teacher's reflection and the curator's
    (000 §4.5), as both would have written them before the audit."""
    Route.objects.filter(pk=route.pk).update(
        reflection=REFLECTIONS["teacher"],
        curator_reflection=REFLECTIONS["curator"],
        curator_reflection_by=route.curator,
        curator_reflection_at=timezone.now(),
    )
    route.refresh_from_db()


def _audit(route, auditor):
    """The methodical audit of a completed route (routes/audit.py): every goal and task
    judged, the level group as in the teacher's latest diagnostics."""
    level, _result = route_audit.initial_level(route)
    rows = route_audit.audit_rows(route)
    results = [
        {
            "result": "achieved" if number != 2 else "partly",
            "comment": AUDIT_COMMENTS.get(number, ""),
        }
        for number in range(len(rows))
    ]
    route_audit.record_audit(
        route,
        auditor,
        {
            "results": results,
            "transfer_to_practice": AUDIT["transfer"],
            "level_group": level or "basic",
            "further_support": route.further_support,
            "conclusion": COMMENTS["audited"],
        },
        notify=False,
    )


def _take_snapshot(route):
    """Sections 1 and 2 from the profile, when the route builder is installed."""
    try:
        from wagtail_iom.routes.builder import take_snapshot
    except ImportError:  # pragma: no cover - the builder lands with the route admin
        return
    take_snapshot(route)
    route.save()
