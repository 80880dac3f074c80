"""A believable region: municipalities and schools with valid INNs."""

from wagtail_iom.core.validators import inn_check_digit
from wagtail_iom.models import Municipality, MunicipalityKind, School, SchoolKind

# (name, kind, OKTMO)
MUNICIPALITIES = [
    ("Городской округ «Город Калининград»", MunicipalityKind.URBAN_OKRUG, "27701000"),
    ("Багратионовский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27703000"),
    ("Балтийский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27705000"),
    ("Гвардейский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27707000"),
    ("Гурьевский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27709000"),
    ("Гусевский городской округ", MunicipalityKind.URBAN_OKRUG, "27710000"),
    ("Зеленоградский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27712000"),
    ("Краснознаменский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27714000"),
    ("Неманский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27716000"),
    ("Нестеровский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27718000"),
    ("Полесский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27720000"),
    ("Правдинский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27722000"),
    ("Светловский городской округ", MunicipalityKind.URBAN_OKRUG, "27730000"),
    ("Светлогорский городской округ", MunicipalityKind.URBAN_OKRUG, "27732000"),
    ("Советский городской округ", MunicipalityKind.URBAN_OKRUG, "27740000"),
    ("Черняховский муниципальный округ", MunicipalityKind.MUNICIPAL_OKRUG, "27739000"),
]

# Schools of each municipality: (full name, short name, kind).
SCHOOL_PATTERNS = [
    (
        "Муниципальное автономное общеобразовательное учреждение «Средняя общеобразовательная школа № {n}» {town}",
        "МАОУ СОШ № {n}",
        SchoolKind.SECONDARY_SCHOOL,
    ),
    (
        "Муниципальное автономное общеобразовательное учреждение «Гимназия № {n}» {town}",
        "МАОУ гимназия № {n}",
        SchoolKind.GYMNASIUM,
    ),
    (
        "Муниципальное бюджетное общеобразовательное учреждение «Лицей № {n}» {town}",
        "МБОУ лицей № {n}",
        SchoolKind.LYCEUM,
    ),
    (
        "Муниципальное бюджетное общеобразовательное учреждение «Основная общеобразовательная школа посёлка {village}»",
        "МБОУ ООШ п. {village}",
        SchoolKind.BASIC_SCHOOL,
    ),
    (
        "Муниципальное бюджетное учреждение дополнительного образования «Дом детского творчества» {town}",
        "МБУ ДО ДДТ",
        SchoolKind.SUPPLEMENTARY_EDUCATION,
    ),
]

# OKTMO: (the town in the genitive, as in school names; the town; a village)
TOWNS = {
    "27701000": ("г. Калининграда", "Калининград", "Прибрежный"),
    "27703000": ("г. Багратионовска", "Багратионовск", "Пограничный"),
    "27705000": ("г. Балтийска", "Балтийск", "Дивное"),
    "27707000": ("г. Гвардейска", "Гвардейск", "Знаменск"),
    "27709000": ("г. Гурьевска", "Гурьевск", "Васильково"),
    "27710000": ("г. Гусева", "Гусев", "Михайлово"),
    "27712000": ("г. Зеленоградска", "Зеленоградск", "Романово"),
    "27714000": ("г. Краснознаменска", "Краснознаменск", "Добровольск"),
    "27716000": ("г. Немана", "Неман", "Жилино"),
    "27718000": ("г. Нестерова", "Нестеров", "Чернышевское"),
    "27720000": ("г. Полесска", "Полесск", "Головкино"),
    "27722000": ("г. Правдинска", "Правдинск", "Железнодорожный"),
    "27730000": ("г. Светлого", "Светлый", "Взморье"),
    "27732000": ("г. Светлогорска", "Светлогорск", "Донское"),
    "27740000": ("г. Советска", "Советск", "Малое Луговое"),
    "27739000": ("г. Черняховска", "Черняховск", "Свобода"),
}


def demo_inn(municipality_index: int, school_index: int) -> str:
    """A valid, made-up INN of the Kaliningrad region (39…) for a demo school."""
    first_nine = f"39{municipality_index:03d}{school_index:04d}"
    return first_nine + str(inn_check_digit(first_nine))


def build_directory(schools_per_municipality: int = 5) -> dict:
    """Create or update the demo municipalities and schools; return their counts."""
    for m_index, (name, kind, oktmo) in enumerate(MUNICIPALITIES):
        municipality, _created = Municipality.objects.update_or_create(
            oktmo=oktmo, defaults={"name": name, "kind": kind}
        )
        town, town_name, village = TOWNS[oktmo]
        for s_index in range(schools_per_municipality):
            full, short, school_kind = SCHOOL_PATTERNS[s_index % len(SCHOOL_PATTERNS)]
            number = 1 + s_index * 3 + m_index % 3
            School.objects.update_or_create(
                inn=demo_inn(m_index, s_index),
                defaults={
                    "municipality": municipality,
                    "name": full.format(n=number, town=town, village=village),
                    "short_name": short.format(n=number, village=village),
                    "kind": school_kind,
                    "address": f"г. {town_name}, ул. Школьная, д. {number}",
                    # The reports' shares of teachers with a route need the staff numbers.
                    "teacher_count": 24 + (m_index * 7 + s_index * 13) % 57,
                },
            )
    return {
        "municipalities": Municipality.objects.count(),
        "schools": School.objects.count(),
    }
