"""Upgrading a database from the released migration history keeps its data.

The package was reorganised from a layer-first layout into domain packages under the same app
label and the same migration history; only the import paths inside the migrations changed.
``0009_route_labels`` is the head of the history as released before the move. These tests prove
that:

* a database at the released head, holding a row in each of the main tables, migrates forward
  to the current head (whatever the latest migration is) and every row reads back through
  today's models with its values and relations;
* every migration module imports, the released head is an ancestor of the one current head, and
  the models have no changes that lack a migration.

The upgrade test migrates the app back with Django's ``MigrationExecutor`` (as Django's own
migration tests and django-test-migrations do), so every migration added after the released
head must stay reversible, or this test must start from a database built another way.
"""

import hashlib
import importlib
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.models import F

from wagtail_iom.models import (
    Competency,
    CompetencyGroup,
    CompetencyScore,
    CuratorAssignment,
    DiagnosticResult,
    EventPage,
    EventSession,
    Municipality,
    PersonalDataConsent,
    Registration,
    Route,
    School,
    StaffMembership,
    StepCompletion,
    TeacherProfile,
)

APP = "wagtail_iom"
RELEASED_HEAD = (APP, "0009_route_labels")

#: Wagtail's page tree (treebeard's materialised path): four base-36 digits a level.
PATH_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PATH_STEP = 4

CONSENT_TEXT = "Я даю согласие на обработку моих персональных данных."
EVENT_STEP_ID = "6f1c2b1e-0d6a-4a53-9d0c-4c1f6f1a0001"
SELF_EDUCATION_STEP_ID = "6f1c2b1e-0d6a-4a53-9d0c-4c1f6f1a0002"
STAGE_ID = "6f1c2b1e-0d6a-4a53-9d0c-4c1f6f1a0003"


@pytest.fixture
def executor():
    """A migration executor; afterwards every app is migrated to its latest migration again, so
    the tests that follow find the full schema whatever state this test stopped in."""
    executor = MigrationExecutor(connection)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _child_path(Page, parent):
    """The path of a new last child of ``parent``, as treebeard's ``add_child`` makes it."""
    last = (
        Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
        .order_by("-path")
        .values_list("path", flat=True)
        .first()
    )
    number = int(last[-PATH_STEP:], 36) + 1 if last else 1
    step = ""
    for _ in range(PATH_STEP):
        number, digit = divmod(number, len(PATH_ALPHABET))
        step = PATH_ALPHABET[digit] + step
    return parent.path + step


def _populate(apps):
    """Rows in the main tables, written with the historical models of the released head.

    Historical models have no custom ``save()``, so what it computes is set here by hand
    (``name_key``, the page tree's path, a session's ``starts_at``). Returns the primary keys.
    """
    Municipality = apps.get_model(APP, "Municipality")
    School = apps.get_model(APP, "School")
    CompetencyGroup = apps.get_model(APP, "CompetencyGroup")
    Competency = apps.get_model(APP, "Competency")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    PersonalDataConsent = apps.get_model(APP, "PersonalDataConsent")
    TeacherProfile = apps.get_model(APP, "TeacherProfile")
    DiagnosticResult = apps.get_model(APP, "DiagnosticResult")
    CompetencyScore = apps.get_model(APP, "CompetencyScore")
    StaffMembership = apps.get_model(APP, "StaffMembership")
    CuratorAssignment = apps.get_model(APP, "CuratorAssignment")
    Route = apps.get_model(APP, "Route")
    StepCompletion = apps.get_model(APP, "StepCompletion")
    Page = apps.get_model("wagtailcore", "Page")
    ContentType = apps.get_model("contenttypes", "ContentType")
    EventPage = apps.get_model(APP, "EventPage")
    EventSession = apps.get_model(APP, "EventSession")
    Registration = apps.get_model(APP, "Registration")

    municipality = Municipality.objects.create(
        name="Городской  округ Ёлкино",
        name_key="городской округ елкино",
        kind="urban_okrug",
        oktmo="65701000",
    )
    school = School.objects.create(
        municipality=municipality,
        name="Муниципальное автономное общеобразовательное учреждение «Гимназия № 5»",
        name_key="муниципальное автономное общеобразовательное учреждение «гимназия № 5»",
        short_name="Гимназия № 5",
        kind="gymnasium",
        inn="6612345678",
        address="ул. Ленина, 1",
    )
    group = CompetencyGroup.objects.create(
        code="migration-test", name="Проверочные компетенции", sort_order=99
    )
    competency = Competency.objects.create(
        group=group, code="MIGR-1", name="Переход на новую схему", sort_order=1
    )

    teacher_user = User.objects.create(
        username="migration-teacher", email="teacher@example.org", password="!"
    )
    curator_user = User.objects.create(
        username="migration-curator", email="curator@example.org", password="!", is_staff=True
    )
    consent = PersonalDataConsent.objects.create(
        user=teacher_user,
        consent_version="2025-01",
        consent_text=CONSENT_TEXT,
        text_sha256=hashlib.sha256(CONSENT_TEXT.encode()).hexdigest(),
        ip_address="192.0.2.10",
        user_agent="Firefox",
    )
    profile = TeacherProfile.objects.create(
        user=teacher_user,
        consent=consent,
        last_name="Иванова",
        first_name="Мария",
        patronymic="Петровна",
        municipality=municipality,
        school=school,
        position="учитель математики",
        subjects="математика, информатика",
        education_level="higher_pedagogical",
        qualification_category="first",
        teaching_experience_years=12,
        attestation_date=date(2023, 5, 17),
    )
    result = DiagnosticResult.objects.create(
        teacher=profile,
        date=date(2025, 2, 3),
        procedure="regional",
        procedure_name="Региональная диагностика 2025",
        total_score=Decimal("72.5"),
        level="elevated",
        comment="Хороший результат.",
        entered_by=curator_user,
    )
    score = CompetencyScore.objects.create(
        result=result, competency=competency, score=Decimal("64.0")
    )
    staff = StaffMembership.objects.create(user=curator_user, role="curator")
    head = StaffMembership.objects.create(user=curator_user, role="school_head", school=school)
    assignment = CuratorAssignment.objects.create(
        teacher=profile,
        curator=curator_user,
        assigned_by=curator_user,
        assigned_at=datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
    )

    # An event page under the root page (created by wagtailcore's migrations; the serialized
    # rollback restores it if an earlier test flushed the database). Historical models have no
    # treebeard methods, so the path, depth and numchild are written as add_child would.
    root = Page.objects.get(depth=1)
    content_type, _ = ContentType.objects.get_or_create(app_label=APP, model="eventpage")
    event = EventPage.objects.create(
        title="Курс «Функциональная грамотность»",
        draft_title="Курс «Функциональная грамотность»",
        slug="migration-test-course",
        content_type=content_type,
        path=_child_path(Page, root),
        depth=root.depth + 1,
        numchild=0,
        url_path=f"{root.url_path}migration-test-course/",
        locale_id=root.locale_id,
        translation_key=uuid.uuid4(),
        live=True,
        summary="Курс повышения квалификации.",
        track="formal",
        kind="course",
        level="regional",
        organiser="ЦНППМ",
        timezone="Asia/Yekaterinburg",
        capacity=25,
        municipality=municipality,
    )
    Page.objects.filter(pk=root.pk).update(numchild=F("numchild") + 1)
    EventPage.competencies.through.objects.create(eventpage=event, competency=competency)
    session = EventSession.objects.create(
        page=event,
        sort_order=0,
        date=date(2025, 4, 10),
        start_time=time(10, 0),
        end_time=time(13, 0),
        starts_at=datetime(2025, 4, 10, 5, 0, tzinfo=UTC),
        ends_at=datetime(2025, 4, 10, 8, 0, tzinfo=UTC),
        academic_hours=Decimal("4.0"),
    )
    registration = Registration.objects.create(event=event, user=teacher_user, status="confirmed")

    route = Route.objects.create(
        teacher=profile,
        curator=curator_user,
        created_by=curator_user,
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        status="implementation",
        goal="Освоить формирующее оценивание.",
        tasks="Пройти курс\nПровести открытый урок",
        roadmap=_roadmap(event.pk, competency.pk),
    )
    completion = StepCompletion.objects.create(
        route=route, step_id=SELF_EDUCATION_STEP_ID, evidence_text="Конспект статьи."
    )

    return {
        "municipality": municipality.pk,
        "school": school.pk,
        "group": group.pk,
        "competency": competency.pk,
        "teacher_user": teacher_user.pk,
        "curator_user": curator_user.pk,
        "consent": consent.pk,
        "profile": profile.pk,
        "result": result.pk,
        "score": score.pk,
        "staff": staff.pk,
        "head": head.pk,
        "assignment": assignment.pk,
        "root": root.pk,
        "event": event.pk,
        "session": session.pk,
        "registration": registration.pk,
        "route": route.pk,
        "completion": completion.pk,
    }


def _roadmap(event_pk, competency_pk):
    """A route's roadmap as stored: one stage with an event step and a self-education step."""
    return [
        {
            "type": "stage",
            "id": STAGE_ID,
            "value": {
                "stage": "implementation",
                "steps": [
                    {
                        "type": "event",
                        "id": EVENT_STEP_ID,
                        "value": {
                            "event": event_pk,
                            "level": "regional",
                            "form": "Курс, очно",
                            "planned_result": "Умение строить уроки",
                            "result_presentation": "Открытый урок",
                            "competencies": [str(competency_pk)],
                            "deadline": "2025-04-30",
                        },
                    },
                    {
                        "type": "self_education",
                        "id": SELF_EDUCATION_STEP_ID,
                        "value": {
                            "activity": "Изучить статью о формирующем оценивании",
                            "form": "Самостоятельно",
                            "planned_result": "Конспект",
                            "competencies": [],
                            "deadline": "2025-03-01",
                        },
                    },
                ],
            },
        }
    ]


def _counts(apps):
    """How many rows each table touched here holds."""
    names = [
        "Municipality",
        "School",
        "CompetencyGroup",
        "Competency",
        "PersonalDataConsent",
        "TeacherProfile",
        "DiagnosticResult",
        "CompetencyScore",
        "StaffMembership",
        "CuratorAssignment",
        "EventPage",
        "EventSession",
        "Registration",
        "Route",
        "StepCompletion",
    ]
    return {name: apps.get_model(APP, name).objects.count() for name in names}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_released_database_migrates_to_current_head_without_losing_data(executor):
    # 1. The released head, and its historical models. migrate() returns the state of every
    # applied migration, other apps included; project_state(RELEASED_HEAD) would hold other apps
    # only as far as 0009 depends on them (a newer wagtailcore Page column would be missing).
    old_apps = executor.migrate([RELEASED_HEAD]).apps

    # 2. A row in each of the main tables, beside the framework that 0002 loaded (restored by
    # the serialized rollback if an earlier test flushed it).
    pk = _populate(old_apps)
    counts = _counts(old_apps)
    framework = set(
        old_apps.get_model(APP, "Competency").objects.values_list("code", "name", "group__code")
    )
    assert len(framework) > 1, "the default framework is missing"

    # 3. Forward to today's head, read back with today's models.
    executor.loader.build_graph()  # see what is applied now
    leaves = executor.loader.graph.leaf_nodes(APP)
    new_apps = executor.migrate(leaves).apps
    assert _counts(new_apps) == counts
    assert set(Competency.objects.values_list("code", "name", "group__code")) == framework

    municipality = Municipality.objects.get(pk=pk["municipality"])
    assert municipality.name == "Городской  округ Ёлкино"
    assert municipality.name_key == "городской округ елкино"
    assert (municipality.kind, municipality.oktmo) == ("urban_okrug", "65701000")

    school = School.objects.get(pk=pk["school"])
    assert school.municipality == municipality
    assert school.short_name == "Гимназия № 5"
    assert (school.kind, school.inn, school.address) == ("gymnasium", "6612345678", "ул. Ленина, 1")
    assert list(municipality.schools.all()) == [school]

    competency = Competency.objects.get(pk=pk["competency"])
    assert (competency.code, competency.name) == ("MIGR-1", "Переход на новую схему")
    assert competency.group == CompetencyGroup.objects.get(code="migration-test")
    assert competency.group.name == "Проверочные компетенции"

    User = get_user_model()
    teacher_user = User.objects.get(pk=pk["teacher_user"])
    curator_user = User.objects.get(pk=pk["curator_user"])
    assert teacher_user.username == "migration-teacher"
    assert not teacher_user.has_usable_password()

    consent = PersonalDataConsent.objects.get(pk=pk["consent"])
    assert consent.user == teacher_user
    assert consent.consent_version == "2025-01"
    assert consent.consent_text == CONSENT_TEXT
    assert consent.text_sha256 == hashlib.sha256(CONSENT_TEXT.encode()).hexdigest()
    assert consent.ip_address == "192.0.2.10"

    profile = TeacherProfile.objects.get(pk=pk["profile"])
    assert teacher_user.iom_teacher_profile == profile
    assert (profile.last_name, profile.first_name, profile.patronymic) == (
        "Иванова",
        "Мария",
        "Петровна",
    )
    assert profile.consent == consent
    assert (profile.municipality, profile.school) == (municipality, school)
    assert profile.position == "учитель математики"
    assert profile.education_level == "higher_pedagogical"
    assert profile.qualification_category == "first"
    assert profile.teaching_experience_years == 12
    assert profile.attestation_date == date(2023, 5, 17)

    result = DiagnosticResult.objects.get(pk=pk["result"])
    assert result.teacher == profile
    assert result.date == date(2025, 2, 3)
    assert (result.procedure, result.level) == ("regional", "elevated")
    assert result.total_score == Decimal("72.5")
    assert result.entered_by == curator_user
    score = CompetencyScore.objects.get(pk=pk["score"])
    assert list(result.scores.all()) == [score]
    assert (score.competency, score.score) == (competency, Decimal("64.0"))

    assert set(
        StaffMembership.objects.filter(user=curator_user).values_list("pk", "role", "school")
    ) == {(pk["staff"], "curator", None), (pk["head"], "school_head", school.pk)}

    assignment = CuratorAssignment.objects.get(pk=pk["assignment"])
    assert (assignment.teacher, assignment.curator) == (profile, curator_user)
    assert assignment.assigned_at == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
    assert assignment.ended_at is None

    event = EventPage.objects.get(pk=pk["event"])
    assert event.title == "Курс «Функциональная грамотность»"
    assert event.content_type.model_class() is EventPage
    assert event.get_parent().pk == pk["root"]
    assert event.url_path.endswith("/migration-test-course/")
    assert (event.track, event.kind, event.level) == ("formal", "course", "regional")
    assert (event.timezone, event.capacity) == ("Asia/Yekaterinburg", 25)
    assert event.municipality == municipality
    assert list(event.competencies.all()) == [competency]
    assert not any(type(event).find_problems()), "the page tree is inconsistent"
    session = EventSession.objects.get(pk=pk["session"])
    assert list(event.sessions.all()) == [session]
    assert (session.date, session.start_time, session.end_time) == (
        date(2025, 4, 10),
        time(10, 0),
        time(13, 0),
    )
    assert session.starts_at == datetime(2025, 4, 10, 5, 0, tzinfo=UTC)
    assert session.academic_hours == Decimal("4.0")
    registration = Registration.objects.get(pk=pk["registration"])
    assert (registration.event, registration.user) == (event, teacher_user)
    assert registration.status == "confirmed"

    route = Route.objects.get(pk=pk["route"])
    assert (route.teacher, route.curator, route.created_by) == (
        profile,
        curator_user,
        curator_user,
    )
    assert (route.starts_on, route.ends_on) == (date(2025, 1, 1), date(2025, 12, 31))
    assert route.status == "implementation"
    assert route.kind == "regular"  # routes made before the kinds are regular routes
    assert route.goal == "Освоить формирующее оценивание."
    assert list(route.roadmap.raw_data) == _roadmap(event.pk, competency.pk)
    (stage,) = route.roadmap
    assert (stage.block_type, stage.id, stage.value["stage"]) == (
        "stage",
        STAGE_ID,
        "implementation",
    )
    event_step, self_education_step = stage.value["steps"]
    assert (event_step.block_type, event_step.id) == ("event", EVENT_STEP_ID)
    assert event_step.value["event"].pk == event.pk
    assert event_step.value["competencies"] == [str(competency.pk)]
    assert event_step.value["deadline"] == date(2025, 4, 30)
    assert self_education_step.id == SELF_EDUCATION_STEP_ID
    completion = StepCompletion.objects.get(pk=pk["completion"])
    assert (completion.route, completion.step_id) == (route, SELF_EDUCATION_STEP_ID)


@pytest.mark.django_db  # makemigrations checks the applied history against the database
def test_migrations_import_and_match_the_models():
    loader = MigrationLoader(None)
    package, _explicit = loader.migrations_module(APP)
    names = sorted(name for app, name in loader.disk_migrations if app == APP)
    assert RELEASED_HEAD[1] in names
    for name in names:
        module = importlib.import_module(f"{package}.{name}")
        assert issubclass(module.Migration, Migration), name

    # One head, descending from the released one: no branch to merge, no history rewritten.
    leaves = loader.graph.leaf_nodes(APP)
    assert len(leaves) == 1, leaves
    assert RELEASED_HEAD in loader.graph.forwards_plan(leaves[0])

    out = StringIO()
    try:
        call_command("makemigrations", APP, "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:  # --check exits with 1 when a migration is missing
        pytest.fail(f"makemigrations --check exited with {exit_.code}:\n{out.getvalue()}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_log_entries_about_teachers_move_to_the_scoped_log_and_back(executor):
    """0012 moves Wagtail's log entries about profiles, routes, diagnostics and sign-ups into
    TeacherLogEntry with the teacher they are about; other entries stay; reversing moves them
    back."""
    before = (APP, "0011_account_rate_limits")
    after = (APP, "0012_teacher_log_entries")
    old_apps = executor.migrate([RELEASED_HEAD]).apps
    pks = _populate(old_apps)
    executor.loader.build_graph()
    old_apps = executor.migrate([before]).apps
    ContentType = old_apps.get_model("contenttypes", "ContentType")
    ModelLogEntry = old_apps.get_model("wagtailcore", "ModelLogEntry")
    about = {
        "teacherprofile": pks["profile"],
        "route": pks["route"],
        "diagnosticresult": pks["result"],
        "registration": pks["registration"],
        "school": pks["school"],
    }
    for model_name, pk in about.items():
        content_type, _ = ContentType.objects.get_or_create(app_label=APP, model=model_name)
        ModelLogEntry.objects.create(
            content_type=content_type,
            object_id=str(pk),
            label=f"{model_name} {pk}",
            action="wagtail.edit",
            timestamp=datetime(2026, 1, 1, tzinfo=UTC),
            user_id=pks["curator_user"],
            data={"note": model_name},
        )

    executor.loader.build_graph()
    new_apps = executor.migrate([after]).apps
    TeacherLogEntry = new_apps.get_model(APP, "TeacherLogEntry")
    ModelLogEntry = new_apps.get_model("wagtailcore", "ModelLogEntry")
    moved = {entry.content_type.model: entry for entry in TeacherLogEntry.objects.all()}
    assert set(moved) == {"teacherprofile", "route", "diagnosticresult", "registration"}
    for model_name, entry in moved.items():
        assert entry.teacher_id == pks["profile"]
        assert entry.object_id == str(about[model_name])
        assert entry.label == f"{model_name} {about[model_name]}"
        assert entry.data == {"note": model_name}
        assert entry.user_id == pks["curator_user"]
    assert list(
        ModelLogEntry.objects.filter(content_type__app_label=APP).values_list(
            "content_type__model", flat=True
        )
    ) == ["school"]

    executor.loader.build_graph()
    old_apps = executor.migrate([before]).apps
    ModelLogEntry = old_apps.get_model("wagtailcore", "ModelLogEntry")
    assert sorted(
        ModelLogEntry.objects.filter(content_type__app_label=APP).values_list(
            "content_type__model", flat=True
        )
    ) == sorted(about)
