"""Deterministic data sets for the benchmarks.

Everything here is generated from a seed, so two runs with the same arguments build the same
rows. Django must be set up before the ``generate_*`` functions are called (``bench/run.py``
does it); :func:`make_directory_csv` touches no database.

The data set is built in layers, one function each, in dependency order:

* :func:`generate_directory` — municipalities and schools;
* (later) teachers, events, routes — each layer gets its own ``generate_*`` function and its
  own keys in :data:`SIZES`, and :func:`generate` calls it after the layers it depends on.
"""

import csv
import io
import random
import time
from dataclasses import asdict, dataclass

from django.db import transaction

from wagtail_iom.validators import inn_check_digit


@dataclass(frozen=True)
class Size:
    """How many rows of each kind a preset builds. Later layers add their fields here."""

    municipalities: int
    schools: int
    # teachers: int = 0  (later: 51,000 at region scale)


SIZES = {
    "small": Size(municipalities=5, schools=100),
    # The target scale: one region of the Russian Federation.
    "region": Size(municipalities=62, schools=2_000),
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
        from wagtail_iom.text import name_key

        for obj in objects:
            obj.name_key = name_key(obj.name)


def _delete_directory():
    from wagtail_iom.models import Municipality, School

    # Later layers (teachers, routes…) refer to schools: delete theirs first, here.
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


def generate(size: str | Size, seed: int = 1) -> dict:
    """Build every layer of a preset (a name from :data:`SIZES` or a :class:`Size`)."""
    size = SIZES[size] if isinstance(size, str) else size
    return {
        "size": asdict(size),
        "directory": generate_directory(size.municipalities, size.schools, seed=seed),
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
