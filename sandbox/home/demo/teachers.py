"""Demo teachers: profiles (route section 1), requests, diagnostics, sign-ups, waiting lists and
attendance of a few past events. Safe to run again: rows are keyed and rewritten, not added.

Sign-ups go through ``wagtail_iom.events.signup`` as the cabinet's do, so seats, waiting
lists and approvals follow the real rules. Nothing here sends e-mail.
"""

import datetime
import hashlib
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from sandbox.home.demo.events import (
    CNPPM,
    CNPPM_ADDRESS,
    IN_PERSON,
    KOIRO,
    MUNICIPAL,
    MUNICIPALITY_OKTMO,
    ONLINE,
    REGIONAL,
    event,
    sessions,
)
from wagtail_iom.events import signup
from wagtail_iom.models import (
    Achievement,
    AttendanceMark,
    CommunityMembership,
    Competency,
    CompetencyScore,
    DiagnosticResult,
    EventPage,
    FurtherEducation,
    Municipality,
    PersonalDataConsent,
    ProfessionalRequest,
    RegionalProject,
    Registration,
    RegistrationStatus,
    School,
    TeacherProfile,
)

TEACHER_EMAIL = "teacher@demo.example"
TEACHER_PASSWORD = "iom-teacher-2026"  # noqa: S105 - a published demo login, printed on the console

# username (e-mail), last, first, patronymic, municipality key, position, subjects, category,
# experience.
TEACHERS = [
    (TEACHER_EMAIL, "Смирнова", "Анна", "Викторовна", "kgd", "учитель", "математика", "first", 9),
    (
        "kuznetsov@demo.example",
        "Кузнецов",
        "Дмитрий",
        "Олегович",
        "kgd",
        "учитель",
        "физика, информатика",
        "highest",
        17,
    ),
    (
        "orlova@demo.example",
        "Орлова",
        "Елена",
        "Сергеевна",
        "gus",
        "учитель",
        "русский язык, литература",
        "matches_position",
        4,
    ),
    (
        "belov@demo.example",
        "Белов",
        "Игорь",
        "Николаевич",
        "sov",
        "учитель",
        "история",
        "first",
        12,
    ),
    (
        "fedorova@demo.example",
        "Фёдорова",
        "Ольга",
        "Ивановна",
        "chern",
        "учитель начальных классов",
        "начальные классы",
        "highest",
        23,
    ),
    (
        "volkova@demo.example",
        "Волкова",
        "Марина",
        "Андреевна",
        "balt",
        "педагог-психолог",
        "",
        "none",
        2,
    ),
    (
        "egorov@demo.example",
        "Егоров",
        "Павел",
        "Сергеевич",
        "svetly",
        "учитель",
        "химия, биология",
        "first",
        7,
    ),
    (
        "nikitina@demo.example",
        "Никитина",
        "Светлана",
        "Юрьевна",
        "zel",
        "учитель",
        "английский язык",
        "matches_position",
        5,
    ),
]

CONSENT_TEXT = "Согласие на обработку персональных данных (демонстрационные данные)."

# Three events that are already over: the demo teachers attended them.
PAST_EVENTS = [
    event(
        "proshlo-seminar-formiruyushchee-ocenivanie",
        "Формирующее оценивание на уроке: приёмы и инструменты",
        "seminar",
        REGIONAL,
        IN_PERSON,
        -45,
        sessions("14:00", "17:00", 4, count=2, every=5, titles=["Часть 1", "Часть 2"]),
        "Семинар о том, как давать обратную связь по ходу урока и планировать следующий шаг.",
        CNPPM,
        mun="kgd",
        address=CNPPM_ADDRESS,
        comp="METH-2 METH-3",
        capacity=40,
    ),
    event(
        "proshlo-vebinar-cifrovye-instrumenty",
        "Вебинар «Цифровые инструменты учителя: проверка работ онлайн»",
        "webinar",
        REGIONAL,
        ONLINE,
        -25,
        sessions("16:00", "17:30", 2),
        "Обзор сервисов для проверки письменных работ и работы с электронным журналом.",
        KOIRO,
        comp="DIG-1 DIG-2",
    ),
    event(
        "proshlo-mo-matematikov",
        "Заседание муниципального методического объединения учителей математики",
        "community_meeting",
        MUNICIPAL,
        IN_PERSON,
        -12,
        sessions("15:00", "17:00", 2),
        "Разбор трудных заданий ОГЭ и обмен опытом подготовки.",
        "Методический совет г. Калининграда",
        mun="kgd",
        address="г. Калининград, ул. Чайковского, д. 22",
        comp="SUBJ-1 METH-1",
    ),
]


def _number(*parts, low=0, high=100):
    """A stable pseudo-random whole number for the same ``parts``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def _user(username, last, first):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": username, "first_name": first, "last_name": last, "is_active": True},
    )
    if created or username == TEACHER_EMAIL:
        user.set_password(TEACHER_PASSWORD)
        user.is_active = True
        user.save()
    return user


def _profile(user, spec, municipalities, schools_by_municipality):
    username, last, first, patronymic, mun, position, subjects, category, experience = spec
    consent = PersonalDataConsent.objects.filter(user=user).first()
    if consent is None:
        consent = PersonalDataConsent.objects.create(
            user=user,
            consent_version="demo",
            consent_text=CONSENT_TEXT,
            text_sha256=hashlib.sha256(CONSENT_TEXT.encode()).hexdigest(),
            ip_address="127.0.0.1",
        )
    municipality = municipalities.get(MUNICIPALITY_OKTMO[mun])
    schools = schools_by_municipality.get(municipality.pk if municipality else None, [])
    today = timezone.localdate()
    profile, _ = TeacherProfile.objects.update_or_create(
        user=user,
        defaults={
            "consent": consent,
            "last_name": last,
            "first_name": first,
            "patronymic": patronymic,
            "municipality": municipality,
            "school": schools[_number(username, "school", high=len(schools) - 1)]
            if schools
            else None,
            "position": position,
            "subjects": subjects,
            "education_level": "higher_pedagogical",
            "education_institution": "Балтийский федеральный университет им. И. Канта, "
            f"{today.year - experience - 1}",
            "qualification": f"Учитель ({subjects or 'психология'})",
            "teaching_experience_years": experience,
            "qualification_category": category,
            "attestation_date": today - datetime.timedelta(days=300 + _number(username, high=600)),
            "expert_area": "член предметной комиссии ГИА" if experience > 10 else "",
            "mentoring_role": "mentor" if experience > 15 else ("mentee" if experience < 5 else ""),
            "mentoring_partner": "Иванова Татьяна Павловна" if experience < 5 else "",
        },
    )
    profile.further_education.all().delete()
    FurtherEducation.objects.bulk_create(
        [
            FurtherEducation(
                profile=profile,
                kind="regional",
                place=KOIRO,
                programme="Методика подготовки обучающихся к ГИА",
                hours=36,
                completed_on=today
                - datetime.timedelta(days=200 + _number(username, "fe1", high=300)),
                certificate_number=f"392400{_number(username, 'cert1', low=100000, high=999999)}",
            ),
            FurtherEducation(
                profile=profile,
                kind="federal_registry",
                place="ФГАОУ ДПО «Академия Минпросвещения России»",
                programme="Школа современного учителя",
                hours=100,
                completed_on=today
                - datetime.timedelta(days=500 + _number(username, "fe2", high=400)),
                certificate_number=f"150000{_number(username, 'cert2', low=100000, high=999999)}",
            ),
        ]
    )
    profile.achievements.all().delete()
    Achievement.objects.bulk_create(
        [
            Achievement(
                profile=profile,
                direction="methodical",
                description="Публикация методической разработки в региональном сборнике",
                year=today.year - 1,
            ),
            Achievement(
                profile=profile,
                direction="general_professional",
                description="Участник муниципального этапа конкурса «Учитель года»",
                year=today.year - 2,
            ),
        ]
    )
    profile.communities.all().delete()
    CommunityMembership.objects.create(
        profile=profile,
        name="Муниципальное методическое объединение учителей",
        status="head" if experience > 15 else "member",
    )
    profile.regional_projects.all().delete()
    RegionalProject.objects.create(
        profile=profile, name="«Школа Минпросвещения России»", role="участник рабочей группы"
    )
    ProfessionalRequest.objects.update_or_create(
        profile=profile,
        defaults={
            "interest_areas": "Функциональная грамотность, формирующее оценивание.",
            "needs": "Научиться составлять задания в формате PISA и работать с данными "
            "диагностики класса.",
            "goal": "За год выстроить систему формирующего оценивания в своих классах.",
        },
    )
    return profile


def _diagnostics(profile, competencies, entered_by):
    today = timezone.localdate()
    username = profile.user.username
    for step, (days_ago, procedure, name) in enumerate(
        [
            (240, "regional", "Региональная диагностика профессиональных дефицитов"),
            (45, "self", "Самодиагностика по профессиональному стандарту"),
        ]
    ):
        scores = {
            c.pk: Decimal(
                _number(username, c.code, low=25, high=80) + step * _number(c.code, high=15)
            )
            for c in competencies
        }
        if not scores:
            return
        total = sum(scores.values()) / len(scores)
        level = (
            "low" if total < 50 else "basic" if total < 65 else "elevated" if total < 85 else "high"
        )
        result, _ = DiagnosticResult.objects.update_or_create(
            teacher=profile,
            procedure=procedure,
            date=today - datetime.timedelta(days=days_ago),
            defaults={
                "procedure_name": name,
                "total_score": total.quantize(Decimal("0.1")),
                "level": level,
                "entered_by": entered_by,
            },
        )
        result.scores.all().delete()
        CompetencyScore.objects.bulk_create(
            CompetencyScore(result=result, competency_id=pk, score=score)
            for pk, score in scores.items()
        )


def _sign_ups(profiles, events, admin):
    """Upcoming events: a few sign-ups each, full events with waiting lists, approvals."""
    live = [e for e in events if not e.is_cancelled and e.capacity]
    for index, profile in enumerate(profiles):
        for number in range(3):
            page = live[(index * 3 + number * 7) % len(live)]
            try:
                signup.register(page, profile.user)
            except signup.SignupError:
                pass
    # The smallest events fill up: everyone tries, the rest wait in line.
    for page in sorted(live, key=lambda e: e.capacity)[:2]:
        for profile in profiles:
            try:
                result = signup.register(page, profile.user)
            except signup.SignupError:
                continue
            if result.registration.status == RegistrationStatus.PENDING and profile.pk % 2:
                signup.approve(result.registration, admin)


def _attendance(profiles, past_events, admin):
    for page in past_events:
        sessions = list(page.sessions.order_by("date", "start_time"))
        for index, profile in enumerate(profiles):
            if _number(profile.user.username, page.slug, high=3) == 0:
                continue  # did not come
            registration, _ = Registration.objects.get_or_create(
                event=page, user=profile.user, defaults={"status": RegistrationStatus.CONFIRMED}
            )
            for number, session in enumerate(sessions):
                if number and index % 3 == 2:
                    continue  # missed the second part
                AttendanceMark.objects.get_or_create(
                    registration=registration, session=session, defaults={"marked_by": admin}
                )


def build_teachers(resource_map, events, admin):
    """Create or refresh the demo teachers and everything they did; returns the profiles."""
    from sandbox.home.demo.events import build_events

    municipalities = {m.oktmo: m for m in Municipality.objects.all()}
    schools_by_municipality = {}
    for school in School.objects.order_by("name"):
        schools_by_municipality.setdefault(school.municipality_id, []).append(school)
    competencies = list(Competency.objects.order_by("group__sort_order", "sort_order"))
    profiles = []
    for spec in TEACHERS:
        user = _user(spec[0], spec[1], spec[2])
        profile = _profile(user, spec, municipalities, schools_by_municipality)
        _diagnostics(profile, competencies, admin)
        profiles.append(profile)
    past_events = build_events(resource_map, specs=PAST_EVENTS)
    _sign_ups(profiles, [e for e in events if isinstance(e, EventPage)], admin)
    _attendance(profiles, past_events, admin)
    return profiles
