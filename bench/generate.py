"""Deterministic data sets for the benchmarks.

Everything here is generated from a seed, so two runs with the same arguments build the same
rows. Django must be set up before the ``generate_*`` functions are called (``bench/run.py``
does it); :func:`make_directory_csv` touches no database.

The data set is built in layers, one function each, in dependency order:

* :func:`generate_directory` — municipalities and schools;
* :func:`generate_events` — a resource map (``/bench-map/``) with its events, their sessions
  over the next twelve months, competencies and calendar states;
* (later) teachers, routes — each layer gets its own ``generate_*`` function and its own keys
  in :data:`SIZES`, and :func:`generate` calls it after the layers it depends on.
"""

import csv
import datetime
import hashlib
import io
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass

from django.db import transaction

from wagtail_iom.core.validators import inn_check_digit


@dataclass(frozen=True)
class Size:
    """How many rows of each kind a preset builds. Later layers add their fields here."""

    municipalities: int
    schools: int
    events: int = 0
    # Routes, one per teacher (the teachers are made with them); the region's teachers number
    # about 51,000, of whom a fifth follow a route at any time.
    routes: int = 0


SIZES = {
    "small": Size(municipalities=5, schools=100, events=200, routes=200),
    # The target scale: one region of the Russian Federation.
    "region": Size(municipalities=62, schools=2_000, events=20_000, routes=10_000),
}

BATCH_SIZE = 500

# Region codes used in the generated identifiers (fictional data, real formats).
INN_REGION = "57"
OKTMO_REGION = "57"
# INN tax-office codes: the generated directory uses 01–89, import files 90–99, so that the rows
# of an import file are always new to the database.
_DIRECTORY_INN_OFFICE = 1
_IMPORT_INN_OFFICE = 90

# Towns whose adjective names the municipality: "Александровск" → "Александровский".
TOWNS = [
    "Александровск",
    "Белозерск",
    "Богородск",
    "Вознесенск",
    "Волжск",
    "Воскресенск",
    "Высокогорск",
    "Дивногорск",
    "Дмитриевск",
    "Еланск",
    "Железногорск",
    "Заозёрск",
    "Знаменск",
    "Ивановск",
    "Каменск",
    "Кировск",
    "Краснознаменск",
    "Красноармейск",
    "Лесогорск",
    "Луговск",
    "Михайловск",
    "Никольск",
    "Новоалександровск",
    "Новосёловск",
    "Озёрск",
    "Октябрьск",
    "Ольгинск",
    "Петровск",
    "Покровск",
    "Приозёрск",
    "Пригорск",
    "Раздольск",
    "Речинск",
    "Рождественск",
    "Светлогорск",
    "Северск",
    "Сергиевск",
    "Сосновск",
    "Спасск",
    "Среднегорск",
    "Сретенск",
    "Троицк",
    "Угорск",
    "Успенск",
    "Черноречинск",
    "Шатурск",
    "Юрьевск",
    "Яснополянск",
    "Берёзовск",
    "Борисовск",
    "Верхнеуральск",
    "Георгиевск",
    "Гремячинск",
    "Донск",
    "Зареченск",
    "Зеленодольск",
    "Кедровск",
    "Кремёнск",
    "Малоархангельск",
    "Николаевск",
    "Новопавловск",
    "Подгорск",
    "Полесск",
    "Пятиреченск",
    "Сокольск",
    "Солнечногорск",
    "Тополинск",
    "Хвойнинск",
]

VILLAGES = [
    "с. Никольское",
    "с. Покровское",
    "с. Знаменка",
    "п. Сосновка",
    "п. Первомайский",
    "д. Ивановка",
    "с. Михайловка",
    "п. Заречный",
    "с. Богородское",
    "с. Спасское",
    "п. Лесной",
    "с. Троицкое",
    "д. Берёзовка",
    "с. Успенское",
    "п. Октябрьский",
    "с. Александровка",
]

STREETS = [
    "ул. Ленина",
    "ул. Школьная",
    "ул. Советская",
    "ул. Мира",
    "ул. Молодёжная",
    "ул. Центральная",
    "ул. Садовая",
    "пр-т Победы",
    "ул. Гагарина",
    "ул. Пушкина",
    "ул. Комсомольская",
    "ул. Лесная",
]

_GENERAL_FORMS = [
    ("Муниципальное бюджетное общеобразовательное учреждение", "МБОУ"),
    ("Муниципальное автономное общеобразовательное учреждение", "МАОУ"),
    ("Муниципальное казённое общеобразовательное учреждение", "МКОУ"),
]
_PRESCHOOL_FORMS = [
    ("Муниципальное бюджетное дошкольное образовательное учреждение", "МБДОУ"),
    ("Муниципальное автономное дошкольное образовательное учреждение", "МАДОУ"),
]
_SUPPLEMENTARY_FORMS = [
    ("Муниципальное бюджетное учреждение дополнительного образования", "МБУ ДО"),
    ("Муниципальное автономное учреждение дополнительного образования", "МАУ ДО"),
]

# kind value → (weight, legal forms, [(name in the quotes, short name)]), "{n}" is the number.
SCHOOL_TYPES = {
    "secondary_school": (
        50,
        _GENERAL_FORMS,
        [
            ("Средняя общеобразовательная школа № {n}", "СОШ № {n}"),
            (
                "Средняя общеобразовательная школа № {n} с углублённым изучением отдельных предметов",
                "СОШ № {n} с УИОП",
            ),
        ],
    ),
    "basic_school": (
        12,
        _GENERAL_FORMS,
        [("Основная общеобразовательная школа № {n}", "ООШ № {n}")],
    ),
    "primary_school": (
        4,
        _GENERAL_FORMS,
        [("Начальная общеобразовательная школа № {n}", "НОШ № {n}")],
    ),
    "gymnasium": (7, _GENERAL_FORMS[:2], [("Гимназия № {n}", "гимназия № {n}")]),
    "lyceum": (5, _GENERAL_FORMS[:2], [("Лицей № {n}", "лицей № {n}")]),
    "education_centre": (3, _GENERAL_FORMS, [("Центр образования № {n}", "ЦО № {n}")]),
    "boarding_school": (2, _GENERAL_FORMS, [("Школа-интернат № {n}", "школа-интернат № {n}")]),
    "special_school": (
        3,
        _GENERAL_FORMS[2:],
        [("Специальная (коррекционная) общеобразовательная школа № {n}", "С(К)ОШ № {n}")],
    ),
    "kindergarten": (8, _PRESCHOOL_FORMS, [("Детский сад № {n}", "детский сад № {n}")]),
    "supplementary_education": (
        6,
        _SUPPLEMENTARY_FORMS,
        [
            ("Дом детского творчества № {n}", "ДДТ № {n}"),
            ("Детско-юношеская спортивная школа № {n}", "ДЮСШ № {n}"),
            ("Центр дополнительного образования № {n}", "ЦДО № {n}"),
        ],
    ),
}
_KINDS = list(SCHOOL_TYPES)
_KIND_WEIGHTS = [SCHOOL_TYPES[kind][0] for kind in _KINDS]


# --- identifiers -------------------------------------------------------------------------------


def organisation_inn(index: int, office: int = _DIRECTORY_INN_OFFICE) -> str:
    """A valid ten-digit organisation INN, unique for each (office, index)."""
    office += index // 100_000
    first_nine = f"{INN_REGION}{office:02d}{index % 100_000:05d}"
    return first_nine + str(inn_check_digit(first_nine))


def municipality_oktmo(index: int) -> str:
    """An OKTMO code: 8 digits for the first 400 municipalities, 11 digits after."""
    if index < 400:
        return f"{OKTMO_REGION}{600 + index:03d}000"
    return f"{OKTMO_REGION}{index:06d}001"


# --- rows as plain data (no database) ----------------------------------------------------------


def municipality_rows(count: int, seed: int = 1) -> list[dict]:
    """The municipalities of a data set: name, kind, OKTMO and the town schools are in."""
    rng = random.Random(f"municipalities-{seed}")
    towns = TOWNS[:]
    rng.shuffle(towns)
    rows = []
    for index in range(count):
        town = towns[index % len(towns)]
        round_ = index // len(towns)
        suffix = f" № {round_ + 1}" if round_ else ""
        if index % 8 == 0:
            name = f"Городской округ «Город {town}»{suffix}"
            kind = "urban_okrug"
        elif rng.random() < 0.5:
            name = f"{town}ий муниципальный район{suffix}"
            kind = "municipal_district"
        else:
            name = f"{town}ий муниципальный округ{suffix}"
            kind = "municipal_okrug"
        rows.append({"name": name, "kind": kind, "oktmo": municipality_oktmo(index), "town": town})
    return rows


def _spread(total: int, buckets: int) -> list[int]:
    """``total`` split into ``buckets`` parts that differ by at most one."""
    base, extra = divmod(total, buckets)
    return [base + (1 if i < extra else 0) for i in range(buckets)]


def _school_row(rng, kind, number, town, urban) -> dict:
    _weight, forms, names = SCHOOL_TYPES[kind]
    form_full, form_short = rng.choice(forms)
    full, short = rng.choice(names)
    place = f"г. {town}" if urban or rng.random() < 0.6 else rng.choice(VILLAGES)
    postcode = 300_000 + rng.randrange(99_999)
    return {
        "name": f"{form_full} «{full.format(n=number)}»",
        "short_name": f"{form_short} {short.format(n=number)}",
        "kind": kind,
        "address": f"{postcode}, {place}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}",
    }


def school_rows(municipalities: list[dict], count: int, seed: int = 1) -> list[tuple[int, dict]]:
    """(index of the municipality, the school's fields) for ``count`` schools, spread evenly.

    Names are unique within a municipality: each kind has its own sequence of numbers there.
    """
    rng = random.Random(f"schools-{seed}")
    rows = []
    for m_index, per_municipality in enumerate(_spread(count, len(municipalities))):
        municipality = municipalities[m_index]
        urban = municipality["kind"] == "urban_okrug"
        numbers = dict.fromkeys(_KINDS, 0)
        for _ in range(per_municipality):
            kind = rng.choices(_KINDS, weights=_KIND_WEIGHTS)[0]
            numbers[kind] += 1
            row = _school_row(rng, kind, numbers[kind], municipality["town"], urban)
            row["inn"] = organisation_inn(len(rows))
            rows.append((m_index, row))
    return rows


# --- the database ------------------------------------------------------------------------------


def _index(model, objects):
    """Add bulk-created objects to the search index (bulk_create sends no signals)."""
    from wagtail.search.backends import get_search_backends

    for backend in get_search_backends(with_auto_update=True):
        for start in range(0, len(objects), BATCH_SIZE):
            backend.add_bulk(model, objects[start : start + BATCH_SIZE])


def _fill_derived_fields(objects):
    """Set what ``save()`` would derive: bulk_create calls no ``save()``."""
    if not objects:
        return
    if any(f.name == "name_key" for f in objects[0]._meta.concrete_fields):
        from wagtail_iom.core.text import name_key

        for obj in objects:
            obj.name_key = name_key(obj.name)


def _delete_directory():
    from wagtail_iom.models import Municipality, School

    # Later layers (teachers, routes…) refer to schools: delete theirs first, here. Events keep
    # their rows (the municipality is SET_NULL): generate() rebuilds them after a new directory.
    School.objects.all().delete()
    Municipality.objects.all().delete()


def generate_directory(municipalities: int, schools: int, seed: int = 1) -> dict:
    """Create ``municipalities`` municipalities and ``schools`` schools, indexed for search.

    Idempotent: when the database already holds exactly this data set (same counts, and the
    last school's INN is the one this seed gives), nothing is written. Otherwise every school
    and municipality is deleted and the set is rebuilt, in one transaction.
    """
    from wagtail_iom.models import Municipality, School

    if municipalities < 1:
        raise ValueError("A data set needs at least one municipality.")
    started = time.perf_counter()
    m_rows = municipality_rows(municipalities, seed)
    s_rows = school_rows(m_rows, schools, seed)
    last_inn = s_rows[-1][1]["inn"] if s_rows else None
    result = {"municipalities": municipalities, "schools": schools, "seed": seed}
    if (
        Municipality.objects.count() == municipalities
        and School.objects.count() == schools
        and Municipality.objects.filter(oktmo=m_rows[-1]["oktmo"]).exists()
        and (last_inn is None or School.objects.filter(inn=last_inn).exists())
    ):
        return {**result, "created": False, "seconds": round(time.perf_counter() - started, 2)}

    with transaction.atomic():
        _delete_directory()
        municipality_objects = [
            Municipality(name=row["name"], kind=row["kind"], oktmo=row["oktmo"]) for row in m_rows
        ]
        _fill_derived_fields(municipality_objects)
        Municipality.objects.bulk_create(municipality_objects, batch_size=BATCH_SIZE)
        school_objects = [
            School(municipality=municipality_objects[m_index], **row) for m_index, row in s_rows
        ]
        _fill_derived_fields(school_objects)
        School.objects.bulk_create(school_objects, batch_size=BATCH_SIZE)
        _index(Municipality, municipality_objects)
        _index(School, school_objects)
    return {**result, "created": True, "seconds": round(time.perf_counter() - started, 2)}


# --- events ------------------------------------------------------------------------------------

RESOURCE_MAP_SLUG = "bench-map"
RESOURCE_MAP_TITLE = "Ресурсная карта (бенчмарк)"
EVENT_SLUG_PREFIX = "bench-event-"

# Every fourth event is formal, so the formal track's feed (``feed/?track=formal``) holds
# exactly a quarter of the events: 5,000 at region scale. Nothing else makes an event leave
# the feed (all are live and public, their sessions are still to come, and the cancelled
# ones were cancelled "yesterday", well within FEED_CANCELLED_RETENTION_DAYS).
TRACK_CYCLE = ["formal", "non_formal", "non_formal", "informal"]
FEED_QUERY = "track=formal"
# A word in the titles of about one event in ten (three topics), for ``?q=``.
SEARCH_WORD = "грамотности"
SEARCH_TITLE_FRAGMENT = "грамотности обучающихся"  # in every title found, not in the query

# kind → (weight within its track, the title's first words)
EVENT_KINDS = {
    "formal": {
        "course": (70, "Курс повышения квалификации"),
        "retraining": (15, "Программа профессиональной переподготовки"),
        "internship": (15, "Стажировка"),
    },
    "non_formal": {
        "seminar": (25, "Семинар"),
        "webinar": (25, "Вебинар"),
        "master_class": (12, "Мастер-класс"),
        "conference": (6, "Конференция"),
        "forum": (2, "Форум"),
        "round_table": (8, "Круглый стол"),
        "competition": (3, "Конкурс профессионального мастерства"),
        "community_meeting": (8, "Заседание профессионального сообщества"),
        "centre_project": (3, "Проект центра"),
        "immersion": (3, "Образовательная сессия"),
        "consultation": (5, "Консультация"),
    },
    "informal": {
        "self_education": (25, "Самообразование"),
        "mentoring": (35, "Наставническая встреча"),
        "peer_visit": (20, "Взаимопосещение уроков"),
        "reading": (10, "Чтение и онлайн-ресурс"),
        "personal_project": (10, "Личный проект"),
    },
}
EVENT_LEVELS = {
    "formal": {"regional": 70, "federal": 30},
    "non_formal": {"school": 10, "municipal": 30, "regional": 45, "federal": 15},
    "informal": {"personal": 40, "school": 45, "municipal": 15},
}
EVENT_FORMATS = {"in_person": 60, "online": 30, "blended": 10}

TOPICS = [
    "Формирование функциональной грамотности обучающихся",
    "Развитие математической грамотности обучающихся",
    "Естественно-научная грамотность: задания для оценки грамотности обучающихся",
    "Обновлённые ФГОС НОО и ООО: рабочие программы",
    "Цифровая образовательная среда школы",
    "Подготовка обучающихся к ОГЭ по математике",
    "Подготовка к ЕГЭ по русскому языку",
    "Олимпиадная математика в 5–9 классах",
    "Проектная деятельность в основной школе",
    "Инклюзивное образование детей с ОВЗ",
    "Профилактика школьной неуспешности",
    "Наставничество в образовательной организации",
    "Классное руководство и воспитательная работа",
    "Оценивание образовательных результатов",
    "Цифровые лаборатории на уроках физики",
    "Методика преподавания информатики",
    "Школьная служба медиации",
    "Профориентация обучающихся",
    "Современный урок иностранного языка",
    "Психолого-педагогическое сопровождение обучающихся",
    "Работа с одарёнными детьми",
    "Взаимодействие школы и семьи",
    "Дошкольное образование по ФОП ДО",
    "Дополнительные общеразвивающие программы",
    "Русский язык как неродной",
    "Экологическое образование школьников",
    "Управление образовательной организацией",
    "Смысловое чтение на уроках истории",
    "Исследовательская деятельность в старшей школе",
    "Современные образовательные технологии в начальной школе",
]
POSITIONS = [
    "учителя начальных классов",
    "учителя математики",
    "учителя русского языка и литературы",
    "заместители директоров по учебной работе",
    "педагоги-психологи",
    "классные руководители",
    "воспитатели дошкольных организаций",
    "педагоги дополнительного образования",
    "молодые педагоги",
]
SUBJECTS = [
    "",
    "математика",
    "русский язык и литература",
    "физика",
    "информатика",
    "история и обществознание",
    "иностранный язык",
    "биология и химия",
]
ORGANISERS = [
    "ЦНППМ",
    "Институт развития образования",
    "Региональный центр наставничества",
    "ФГАОУ ДПО «Академия Минпросвещения России»",
]
CENTRE_ADDRESS = "г. Калининград, Московский пр-т, д. 40, ЦНППМ, ауд. 214"
CANCEL_REASONS = [
    "Лектор заболел; новые даты сообщим дополнительно.",
    "Площадка закрыта на ремонт.",
]

LOCAL_TIMEZONE = "Europe/Kaliningrad"
FEDERAL_TIMEZONE = "Europe/Moscow"

# How busy each month is (school holidays are quiet): sessions are drawn by these weights.
MONTH_WEIGHTS = {1: 6, 2: 9, 3: 10, 4: 10, 5: 7, 6: 4, 7: 2, 8: 3, 9: 10, 10: 11, 11: 11, 12: 8}
EVENT_DAYS = 365
SESSION_STARTS = [(9, 0), (10, 0), (11, 0), (14, 0), (15, 0), (15, 30), (16, 0)]


def _weighted(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def default_events_start(today=None) -> datetime.date:
    """Events start tomorrow: all of them are upcoming, and in every feed."""
    if today is None:
        from django.utils import timezone

        today = timezone.localdate()
    return today + datetime.timedelta(days=1)


def _event_days(start):
    """The days events may fall on, with their cumulative weights (no Sundays)."""
    days, cumulative, total = [], [], 0
    for offset in range(EVENT_DAYS):
        day = start + datetime.timedelta(days=offset)
        weight = MONTH_WEIGHTS[day.month] * (
            0 if day.weekday() == 6 else 2 if day.weekday() < 5 else 1
        )
        if weight:
            total += weight
            days.append(day)
            cumulative.append(total)
    return days, cumulative


def _sessions(rng, days, cumulative, last_day):
    """1–3 sessions: the first on a weighted day, the next ones a day to two weeks later."""
    count = rng.choices([1, 2, 3], weights=[40, 35, 25])[0]
    date = rng.choices(days, cum_weights=cumulative)[0]
    hours = rng.choice([2, 2, 4, 4, 6])
    hour, minute = rng.choice(SESSION_STARTS)
    sessions = []
    for number in range(count):
        if date > last_day:
            break
        starts = datetime.datetime(2000, 1, 1, hour, minute)
        ends = starts + datetime.timedelta(minutes=hours * 45 + 15 * (hours // 2))
        title = f"Модуль {number + 1}" if count > 1 and rng.random() < 0.5 else ""
        sessions.append((date, starts.time(), ends.time(), hours, title))
        date += datetime.timedelta(days=rng.choice([1, 2, 7, 7, 14]))
        if date.weekday() == 6:
            date += datetime.timedelta(days=1)
    return sessions


def event_rows(
    count: int, municipalities: list[dict], competencies: list[str], start, seed: int = 1
) -> list[dict]:
    """The events of a data set as plain data: EventPage fields, municipality (OKTMO),
    competency codes and sessions ``(date, start, end, academic hours, topic)``."""
    rng = random.Random(f"events-{seed}")
    days, cumulative = _event_days(start)
    last_day = start + datetime.timedelta(days=EVENT_DAYS - 1)
    rows = []
    for index in range(count):
        track = TRACK_CYCLE[index % len(TRACK_CYCLE)]
        kinds = EVENT_KINDS[track]
        kind = _weighted(rng, {code: weight for code, (weight, _title) in kinds.items()})
        level = _weighted(rng, EVENT_LEVELS[track])
        event_format = _weighted(rng, EVENT_FORMATS)
        topic = rng.choice(TOPICS)
        slug = f"{EVENT_SLUG_PREFIX}{index + 1:05d}"
        positions = rng.choice(POSITIONS)
        municipality = None
        if level in ("school", "municipal") or rng.random() < 0.4:
            municipality = municipalities[rng.randrange(len(municipalities))]
        if event_format == "online":
            venue = ""
        elif municipality is not None:
            venue = f"г. {municipality['town']}, {rng.choice(STREETS)}, д. {rng.randint(1, 120)}"
        else:
            venue = CENTRE_ADDRESS
        organiser = rng.choice(ORGANISERS)
        if municipality is not None and rng.random() < 0.5:
            organiser = f"Методический центр г. {municipality['town']}"
        roll = rng.random()
        status = "cancelled" if roll < 0.02 else "postponed" if roll < 0.04 else "scheduled"
        row = {
            "title": f"{kinds[kind][1]} «{topic}»",
            "slug": slug,
            "summary": f"{kinds[kind][1]} для педагогов ({positions}): {topic[0].lower()}{topic[1:]}.",
            "track": track,
            "kind": kind,
            "level": level,
            "format": event_format,
            "organiser": organiser,
            "venue_address": venue,
            "online_url": ""
            if event_format == "in_person"
            else f"https://events.example.org/{slug}/",
            "timezone": FEDERAL_TIMEZONE if level == "federal" else LOCAL_TIMEZONE,
            "audience_positions": positions,
            "audience_subjects": rng.choice(SUBJECTS),
            "in_federal_registry": track == "formal"
            and kind != "internship"
            and rng.random() < 0.3,
            "document_issued": {
                "course": "further_education_certificate",
                "retraining": "retraining_diploma",
            }.get(kind, "participation_certificate" if track == "non_formal" else ""),
            "capacity": rng.choice([20, 25, 30, 50, 100]) if rng.random() < 0.5 else None,
            "needs_approval": rng.random() < 0.3,
            "status": status,
            "status_reason": rng.choice(CANCEL_REASONS) if status != "scheduled" else "",
            "municipality_oktmo": municipality["oktmo"] if municipality else None,
            "competencies": (
                sorted(rng.sample(competencies, k=min(len(competencies), rng.randint(1, 3))))
                if competencies and rng.random() < 0.5
                else []
            ),
            "sessions": _sessions(rng, days, cumulative, last_day),
        }
        rows.append(row)
    return rows


def events_summary(rows: list[dict]) -> dict:
    """What the bench needs to know of a set of event rows: counts, the feed, the busiest month."""
    months = Counter(f"{date:%Y-%m}" for row in rows for date, *_rest in row["sessions"])
    busiest, busiest_count = months.most_common(1)[0] if months else ("", 0)
    feed = [row for row in rows if row["track"] == "formal"]
    digest = hashlib.sha256(json.dumps(rows, default=str, ensure_ascii=False).encode()).hexdigest()
    return {
        "events": len(rows),
        "sessions": sum(len(row["sessions"]) for row in rows),
        "with_municipality": sum(1 for row in rows if row["municipality_oktmo"]),
        "competency_links": sum(len(row["competencies"]) for row in rows),
        "feed_query": FEED_QUERY,
        "feed_events": len(feed),
        "feed_sessions": sum(len(row["sessions"]) for row in feed),
        "busiest_month": busiest,
        "busiest_month_sessions": busiest_count,
        "search_word": SEARCH_WORD,
        "digest": digest[:16],
    }


def _insert_rows(model, fields, objects):
    """INSERT ``fields`` of ``objects`` into ``model``'s own table: no ``save()``, no signals.

    The values are prepared as Django's own insert does (``pre_save`` then
    ``get_db_prep_save``), so JSON, dates and times are stored as the ORM would store them.
    This is how one table of a multi-table model (``Page`` + ``EventPage``) is filled in bulk,
    which ``bulk_create`` refuses to do.
    """
    from django.db import connection

    quote = connection.ops.quote_name
    # Table and column names come from the models, quoted; the values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objects), BATCH_SIZE):
            cursor.executemany(
                sql,
                [
                    [
                        field.get_db_prep_save(field.pre_save(obj, True), connection)
                        for field in fields
                    ]
                    for obj in objects[start : start + BATCH_SIZE]
                ],
            )


def _raw_delete(queryset):
    """One DELETE statement, without Django's collector.

    ``QuerySet.delete()`` cannot take its fast path in this project: the package's
    ``post_delete`` receiver has no sender, so Django loads every row and sends a signal for each.
    ``_raw_delete`` is Django's private API (modelsearch deletes index entries with it too).
    """
    from django.db import router

    return queryset._raw_delete(using=router.db_for_write(queryset.model))


def _resource_map(home):
    """The bench's resource map below ``home``, created (and published) when missing."""
    from wagtail_iom.models import ResourceMapPage

    resource_map = ResourceMapPage.objects.child_of(home).filter(slug=RESOURCE_MAP_SLUG).first()
    if resource_map is None:
        resource_map = home.add_child(
            instance=ResourceMapPage(title=RESOURCE_MAP_TITLE, slug=RESOURCE_MAP_SLUG)
        )
        resource_map.save_revision().publish()
    return resource_map


def _delete_events(resource_map):
    """Delete every page below the map, their sessions, states, links and index entries."""
    from wagtail.models import Page
    from wagtail.search.backends import get_search_backends

    from wagtail_iom.models import (
        EventPage,
        EventSession,
        EventSessionCalendarState,
        Registration,
    )

    pages = Page.objects.filter(path__startswith=resource_map.path, depth__gt=resource_map.depth)
    page_ids = pages.values("pk")
    # Later layers that refer to events (sign-ups, routes…) delete theirs first, here.
    Registration.objects.filter(event__in=page_ids).delete()
    _raw_delete(EventSessionCalendarState.objects.filter(session__page__in=page_ids))
    _raw_delete(EventSession.objects.filter(page__in=page_ids))
    _raw_delete(EventPage.competencies.through.objects.filter(eventpage__in=page_ids))
    _raw_delete(EventPage.objects.filter(pk__in=page_ids))
    _raw_delete(pages)
    Page.objects.filter(pk=resource_map.pk).update(numchild=0)
    for backend in get_search_backends(with_auto_update=True):
        index = backend.get_index_for_model(Page)
        if hasattr(index, "delete_stale_model_entries"):  # the database backends
            index.delete_stale_model_entries(Page)


def _event_objects(rows, resource_map, published, seed):
    """Unsaved EventPages with their tree paths, and their sessions, links and states."""
    from django.contrib.contenttypes.models import ContentType

    from wagtail_iom.models import EventPage

    content_type = ContentType.objects.get_for_model(EventPage)
    depth = resource_map.depth + 1
    pages = []
    for number, row in enumerate(rows, start=1):
        fields = {
            key: value
            for key, value in row.items()
            if key not in ("municipality_oktmo", "competencies", "sessions")
        }
        pages.append(
            EventPage(
                **fields,
                draft_title=row["title"],
                # Treebeard's materialised path: the map's path, then the child's number.
                path=EventPage._get_path(resource_map.path, depth, number),
                depth=depth,
                numchild=0,
                url_path=f"{resource_map.url_path}{row['slug']}/",
                content_type=content_type,
                locale_id=resource_map.locale_id,
                translation_key=uuid.uuid5(uuid.NAMESPACE_URL, f"bench-{seed}-{row['slug']}"),
                live=True,
                has_unpublished_changes=False,
                first_published_at=published,
                last_published_at=published,
            )
        )
    return pages


def generate_events(
    events: int, municipalities: int, seed: int = 1, start=None, rebuild: bool = False
) -> dict:
    """A resource map ``/bench-map/`` below the site's root page with ``events`` live events.

    The events are those of :func:`event_rows`: 1–3 sessions each over the 365 days from
    ``start`` (tomorrow by default), a municipality for about 60% of them (those of
    :func:`generate_directory` for the same ``municipalities`` and ``seed``, matched by OKTMO),
    1–3 competencies for half of them, a calendar state for every third session and for the
    sessions of cancelled events. No revisions: pages and their sessions are inserted in bulk.

    Idempotent: the map keeps a fingerprint of its data set in ``search_description``; when it
    and the row counts match, nothing is written (``rebuild`` forces a rebuild, e.g. after the
    directory was rebuilt and the events lost their municipalities). Since dates follow
    ``start``, the first run of a day rebuilds.
    """
    from django.db import transaction
    from wagtail.models import Page, Site

    from wagtail_iom.events.calendar import bump_feed_version, session_fingerprint
    from wagtail_iom.models import (
        Competency,
        EventPage,
        EventSession,
        EventSessionCalendarState,
        Municipality,
    )

    started = time.perf_counter()
    start = start or default_events_start()
    m_rows = municipality_rows(municipalities, seed)
    competency_codes = list(Competency.objects.order_by("code").values_list("code", flat=True))
    rows = event_rows(events, m_rows, competency_codes, start, seed)
    summary = events_summary(rows)
    marker = (
        f"bench: {events} events, seed {seed}, from {start.isoformat()}, "
        f"{summary['sessions']} sessions, {summary['digest']}"
    )
    site = Site.objects.get(is_default_site=True)
    home = site.root_page
    result = {**summary, "seed": seed, "start": start.isoformat()}

    resource_map = _resource_map(home)
    result["map_url"] = resource_map.get_url()
    children = EventPage.objects.child_of(resource_map)
    if (
        not rebuild
        and resource_map.search_description == marker
        and children.count() == events
        and EventSession.objects.filter(page__in=children.values("pk")).count()
        == summary["sessions"]
        and children.filter(municipality__isnull=False).count() == summary["with_municipality"]
        and EventPage.competencies.through.objects.filter(
            eventpage__in=children.values("pk")
        ).count()
        == summary["competency_links"]
    ):
        return {**result, "created": False, "seconds": round(time.perf_counter() - started, 2)}

    phases = {}

    def phase(name, since):
        now = time.perf_counter()
        phases[name] = round(now - since, 2)
        return now

    from django.utils import timezone

    published = datetime.datetime.combine(
        start - datetime.timedelta(days=2), datetime.time(9), tzinfo=timezone.get_current_timezone()
    )
    with transaction.atomic():
        mark = time.perf_counter()
        _delete_events(resource_map)
        mark = phase("delete old events", mark)

        municipality_ids = dict(Municipality.objects.values_list("oktmo", "pk"))
        missing = {r["municipality_oktmo"] for r in rows} - set(municipality_ids) - {None}
        if missing:
            raise RuntimeError(f"events refer to municipalities not in the directory: {missing}")
        competency_ids = dict(Competency.objects.values_list("code", "pk"))
        pages = _event_objects(rows, resource_map, published, seed)
        for page, row in zip(pages, rows, strict=True):
            page.municipality_id = municipality_ids.get(row["municipality_oktmo"])

        # Page rows, then their ids read back by path, then the EventPage rows.
        page_fields = [f for f in Page._meta.local_concrete_fields if not f.primary_key]
        _insert_rows(Page, page_fields, pages)
        ids = dict(
            Page.objects.filter(
                path__startswith=resource_map.path, depth=resource_map.depth + 1
            ).values_list("path", "pk")
        )
        for page in pages:
            page.id = page.page_ptr_id = ids[page.path]
        _insert_rows(EventPage, EventPage._meta.local_concrete_fields, pages)
        Page.objects.filter(pk=resource_map.pk).update(numchild=len(pages))
        mark = phase("pages", mark)

        sessions = []
        for page, row in zip(pages, rows, strict=True):
            tzinfo = page.tzinfo
            for number, (date, starts, ends, hours, title) in enumerate(row["sessions"]):
                session = EventSession(
                    page_id=page.pk,
                    sort_order=number,
                    title=title,
                    date=date,
                    start_time=starts,
                    end_time=ends,
                    academic_hours=hours,
                )
                session.starts_at, session.ends_at = session.compute_moments(tzinfo)
                sessions.append(session)
        EventSession.objects.bulk_create(sessions, batch_size=BATCH_SIZE)
        pages_by_id = {page.pk: page for page in pages}
        # A state for every third session (as if edited once after publication) and for the
        # sessions of cancelled events (when they were cancelled); the rest have none, which
        # feeds read as SEQUENCE 0.
        states = []
        for index, session in enumerate(sessions):
            event = pages_by_id[session.page_id]
            if index % 3 == 0 or event.status == "cancelled":
                states.append(
                    EventSessionCalendarState(
                        session=session,
                        sequence=1,
                        fingerprint=session_fingerprint(session, event),
                        changed_at=published,
                        cancelled_at=published if event.status == "cancelled" else None,
                    )
                )
        EventSessionCalendarState.objects.bulk_create(states, batch_size=BATCH_SIZE)
        through = EventPage.competencies.through
        links = [
            through(eventpage_id=page.pk, competency_id=competency_ids[code])
            for page, row in zip(pages, rows, strict=True)
            for code in row["competencies"]
        ]
        through.objects.bulk_create(links, batch_size=BATCH_SIZE)
        mark = phase("sessions, states, competencies", mark)

        _index(EventPage, pages)
        mark = phase("search index", mark)
        Page.objects.filter(pk=resource_map.pk).update(search_description=marker)
    bump_feed_version()
    result["phases"] = phases
    result["calendar_states"] = len(states)
    return {**result, "created": True, "seconds": round(time.perf_counter() - started, 2)}


def analyze() -> float:
    """Refresh the planner's statistics (``ANALYZE``); the seconds it took.

    Bulk inserts leave PostgreSQL without statistics until autovacuum gets to them (never, when
    it is off): the planner then expects a handful of rows where there are 20,000 and picks
    plans no production database would use. SQLite's planner uses them too.
    """
    from django.db import connection

    started = time.perf_counter()
    if connection.vendor in ("postgresql", "sqlite"):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return round(time.perf_counter() - started, 2)


def generate(size: str | Size, seed: int = 1) -> dict:
    """Build every layer of a preset (a name from :data:`SIZES` or a :class:`Size`)."""
    size = SIZES[size] if isinstance(size, str) else size
    directory = generate_directory(size.municipalities, size.schools, seed=seed)
    result = {"size": asdict(size), "directory": directory}
    if size.events:
        # A rebuilt directory has new municipality ids: the events lost theirs (SET_NULL).
        result["events"] = generate_events(
            size.events, size.municipalities, seed=seed, rebuild=directory["created"]
        )
    if size.routes:
        result["routes"] = generate_routes(size.routes, seed=seed)
    result["analyze_seconds"] = analyze()
    return result


# --- routes ------------------------------------------------------------------------------------

ROUTE_USER_PREFIX = "bench-teacher-"
#: The steps of the one big route the route view, PDF and Word scenarios open.
BIG_ROUTE_STEPS = 60
ROUTE_STATUS_CYCLE = [
    "development", "sent_for_approval", "approved", "implementation", "implementation",
    "implementation", "completed", "audited", "returned", "implementation",
]  # fmt: skip


def _route_roadmap(steps: int, events: list[int], competencies: list[str], rng) -> list[dict]:
    """A roadmap of ``steps`` steps spread over the four stages, of every kind."""
    kinds = ["event", "event", "self_education", "event", "external_course", "mentoring",
             "task_row", "choose_one"]  # fmt: skip
    stages = {code: [] for code in ("diagnostic_motivational", "design", "implementation",
                                    "reflexive")}  # fmt: skip
    codes = list(stages)
    for number in range(steps):
        kind = kinds[number % len(kinds)]
        comp = rng.sample(competencies, k=min(2, len(competencies)))
        if kind == "event":
            value = {"event": events[number % len(events)], "planned_result": "Разработка урока",
                     "competencies": comp}  # fmt: skip
        elif kind == "choose_one":
            value = {"options": [events[(number + k) % len(events)] for k in range(3)],
                     "competencies": comp}  # fmt: skip
        elif kind == "self_education":
            value = {"activity": f"Изучение методической литературы, тема {number}",
                     "competencies": comp}  # fmt: skip
        elif kind == "external_course":
            value = {"place": "Академия Минпросвещения России", "programme": "Школа учителя",
                     "hours": 36, "competencies": comp}  # fmt: skip
        elif kind == "mentoring":
            value = {"mentor": "Иванова Т. П.", "format": "flash", "competencies": comp}
        else:
            value = {"deficit": "Оценивание", "educational_task": "Освоить приёмы",
                     "actions": "Семинар и самообразование"}  # fmt: skip
        stages[codes[min(3, number * 4 // max(steps, 1))]].append(
            {"type": kind, "value": value, "id": f"s{number}"}
        )
    return [
        {"type": "stage", "value": {"stage": code, "steps": items}, "id": f"stage-{code}"}
        for code, items in stages.items()
    ]


def generate_routes(
    count: int,
    seed: int = 1,
    prefix: str = ROUTE_USER_PREFIX,
    largest_share: float = 0.0,
    steps: int = 4,
    deficits: int = 0,
) -> dict:
    """``count`` teachers (users, consents, profiles) with one route each, in bulk.

    Every route has a short roadmap (``steps`` steps) but one, the first, which has
    :data:`BIG_ROUTE_STEPS` steps of every kind. Idempotent: kept when ``count`` routes of the
    bench teachers (user names starting with ``prefix``) exist.

    Teachers are spread evenly over the schools, except ``largest_share`` of them, who work at
    the schools of the first municipality (a region's capital: the monthly export's largest
    file). ``deficits``: that many deficits in each route's section 2, as a route built from
    diagnostics has them.
    """
    import datetime

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from wagtail_iom.models import (
        Competency,
        EventPage,
        PersonalDataConsent,
        Route,
        School,
        TeacherProfile,
    )

    started = time.perf_counter()
    User = get_user_model()
    existing = Route.objects.filter(teacher__user__username__startswith=prefix)
    big = existing.order_by("pk").first()
    if existing.count() == count and big is not None:
        return {"routes": count, "created": False, "seconds": 0.0, "big_route": big.pk}
    with transaction.atomic():
        # A profile protects its consent, a consent its user (the consent is a record kept as
        # long as its person): the profiles (and their routes) first, then the consents.
        TeacherProfile.objects.filter(user__username__startswith=prefix).delete()
        PersonalDataConsent.objects.filter(user__username__startswith=prefix).delete()
        User.objects.filter(username__startswith=prefix).delete()
        rng = random.Random(f"routes-{seed}")
        schools = list(School.objects.values_list("pk", "municipality_id")[:2000])
        event_ids = list(EventPage.objects.live().values_list("pk", flat=True)[:500])
        framework = list(Competency.objects.values_list("pk", "code", "name"))
        competencies = [str(pk) for pk, _code, _name in framework]
        capital = schools[0][1] if schools else None
        capital_schools = [row for row in schools if row[1] == capital]
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{prefix}{n:06d}",
                    email=f"t{n}@bench.example",
                    password=make_password(None),  # unusable: nobody signs in as them
                    is_active=True,
                )  # fmt: skip
                for n in range(count)
            ],
            batch_size=BATCH_SIZE,
        )
        consents = PersonalDataConsent.objects.bulk_create(
            [
                PersonalDataConsent(
                    user=u, consent_version="bench", consent_text="bench", text_sha256="0" * 64
                )  # fmt: skip
                for u in users
            ],
            batch_size=BATCH_SIZE,
        )
        names = [("Иванова", "Мария"), ("Петров", "Иван"), ("Смирнова", "Анна"),
                 ("Кузнецов", "Дмитрий"), ("Соколова", "Елена")]  # fmt: skip
        profiles = []
        for n, (user, consent) in enumerate(zip(users, consents, strict=True)):
            school, municipality = schools[n % len(schools)] if schools else (None, None)
            if capital_schools and n % 1000 < largest_share * 1000:
                school, municipality = capital_schools[n % len(capital_schools)]
            last, first = names[n % len(names)]
            profiles.append(
                TeacherProfile(
                    user=user,
                    consent=consent,
                    last_name=f"{last}-{n}",
                    first_name=first,
                    school_id=school,
                    municipality_id=municipality,
                )  # fmt: skip
            )
        profiles = TeacherProfile.objects.bulk_create(profiles, batch_size=BATCH_SIZE)
        start = datetime.date.today() - datetime.timedelta(days=60)
        routes = []
        for n, profile in enumerate(profiles):
            chosen = rng.sample(framework, k=min(deficits, len(framework))) if deficits else []
            route = Route(
                teacher=profile,
                starts_on=start,
                ends_on=start + datetime.timedelta(days=365),
                status=ROUTE_STATUS_CYCLE[n % len(ROUTE_STATUS_CYCLE)],
                goal="Повысить уровень предметных и методических компетенций.",
                roadmap=_route_roadmap(
                    BIG_ROUTE_STEPS if n == 0 else steps, event_ids or [0], competencies, rng
                ),
                diagnostics_snapshot={
                    "deficits": [
                        {"competency_id": pk, "code": code, "name": name, "score": 35.0}
                        for pk, code, name in chosen
                    ]
                }
                if chosen
                else {},
            )
            routes.append(route)
        routes = Route.objects.bulk_create(routes, batch_size=BATCH_SIZE)
    return {
        "routes": count,
        "created": True,
        "seconds": round(time.perf_counter() - started, 1),
        "big_route": routes[0].pk,
    }


# --- import files ------------------------------------------------------------------------------

CSV_HEADER = ["municipality", "oktmo", "school", "short_name", "kind", "inn", "address"]


def make_directory_csv(rows: int, municipalities: int, seed: int = 1) -> bytes:
    """A directory import file (CSV, ``;``, UTF-8) of ``rows`` schools new to the data set.

    The schools belong to the municipalities :func:`generate_directory` creates for the same
    ``municipalities`` and ``seed`` (matched by OKTMO); their names (numbers from 1000) and INNs
    (tax offices 90–99) never occur in the generated directory.
    """
    m_rows = municipality_rows(municipalities, seed)
    rng = random.Random(f"import-{seed}-{rows}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for index in range(rows):
        municipality = m_rows[index % municipalities]
        kind = rng.choices(_KINDS, weights=_KIND_WEIGHTS)[0]
        number = 1000 + index
        urban = municipality["kind"] == "urban_okrug"
        school = _school_row(rng, kind, number, municipality["town"], urban)
        writer.writerow(
            [
                municipality["name"],
                municipality["oktmo"],
                school["name"],
                school["short_name"],
                school["kind"],
                organisation_inn(index, office=_IMPORT_INN_OFFICE),
                school["address"],
            ]
        )
    return out.getvalue().encode("utf-8")


# --- teachers for the diagnostics import ------------------------------------------------------

DIAGNOSTICS_USER_PREFIX = "bench-diag-"


def diagnostics_teacher_email(n: int) -> str:
    return f"diag{n}@bench.example"


def generate_teachers(count: int, seed: int = 1) -> dict:
    """``count`` registered teachers (users, consents, profiles at the directory's schools),
    without routes, whom the diagnostics import bench finds by e-mail. Idempotent: kept when
    ``count`` of them exist."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from wagtail_iom.models import PersonalDataConsent, School, TeacherProfile

    started = time.perf_counter()
    User = get_user_model()
    profiles = TeacherProfile.objects.filter(user__username__startswith=DIAGNOSTICS_USER_PREFIX)
    if profiles.count() == count:
        return {"teachers": count, "created": False, "seconds": 0.0}
    with transaction.atomic():
        profiles.delete()
        PersonalDataConsent.objects.filter(
            user__username__startswith=DIAGNOSTICS_USER_PREFIX
        ).delete()
        User.objects.filter(username__startswith=DIAGNOSTICS_USER_PREFIX).delete()
        schools = list(School.objects.order_by("pk").values_list("pk", "municipality_id"))
        password = make_password(None)  # unusable: nobody signs in as them
        names = [("Иванова", "Мария"), ("Петров", "Иван"), ("Смирнова", "Анна"),
                 ("Кузнецов", "Дмитрий"), ("Соколова", "Елена")]  # fmt: skip
        for start in range(0, count, 5_000):
            numbers = range(start, min(count, start + 5_000))
            users = User.objects.bulk_create(
                [
                    User(
                        username=f"{DIAGNOSTICS_USER_PREFIX}{n:06d}",
                        email=diagnostics_teacher_email(n),
                        password=password,
                        is_active=True,
                    )
                    for n in numbers
                ],
                batch_size=BATCH_SIZE,
            )
            consents = PersonalDataConsent.objects.bulk_create(
                [
                    PersonalDataConsent(
                        user=u, consent_version="bench", consent_text="bench", text_sha256="0" * 64
                    )  # fmt: skip
                    for u in users
                ],
                batch_size=BATCH_SIZE,
            )
            rows = []
            for n, user, consent in zip(numbers, users, consents, strict=True):
                school, municipality = schools[n % len(schools)] if schools else (None, None)
                last, first = names[n % len(names)]
                rows.append(
                    TeacherProfile(
                        user=user,
                        consent=consent,
                        last_name=f"{last}-{n}",
                        first_name=first,
                        school_id=school,
                        municipality_id=municipality,
                    )  # fmt: skip
                )
            TeacherProfile.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return {
        "teachers": count,
        "created": True,
        "seconds": round(time.perf_counter() - started, 1),
    }


def make_diagnostics_csv(
    rows: int, codes: list[str], date: datetime.date, deficit_below: float, seed: int = 1
) -> tuple[bytes, int]:
    """A regional diagnostic of ``rows`` teachers (:func:`generate_teachers`' addresses), a
    score per competency of ``codes`` each; returns the CSV and how many of its teachers have a
    deficit (a score below ``deficit_below``)."""
    rng = random.Random(f"diagnostics-{seed}")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["Электронная почта", "Процедура", "Дата", "Общий балл", "Уровень", *codes])
    with_deficits = 0
    for n in range(rows):
        scores = [rng.choice((rng.randint(20, 100), rng.randint(45, 100), rng.randint(55, 100)))
                  for _code in codes]  # fmt: skip
        mean = sum(scores) / len(scores)
        level = (
            "low" if mean < 55 else "basic" if mean < 70 else "elevated" if mean < 85 else "high"
        )
        with_deficits += any(score < deficit_below for score in scores)
        writer.writerow(
            [
                diagnostics_teacher_email(n),
                "regional",
                date.strftime("%d.%m.%Y"),
                f"{mean:.1f}".replace(".", ","),
                level,
                *scores,
            ]  # fmt: skip
        )
    return out.getvalue().encode("utf-8"), with_deficits
