"""factory-boy factories for the package's models."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from wagtail_iom.core.validators import inn_check_digit
from wagtail_iom.models import Competency, CompetencyGroup, Municipality, School, SchoolKind


def valid_inn(n: int) -> str:
    first_nine = f"77{n:07d}"
    return first_nine + str(inn_check_digit(first_nine))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("password")


class SuperUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality

    name = factory.Sequence(lambda n: f"Муниципальный округ № {n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Средняя общеобразовательная школа № {n}")
    short_name = factory.Sequence(lambda n: f"СОШ № {n}")
    kind = SchoolKind.SECONDARY_SCHOOL
    inn = factory.Sequence(valid_inn)


class CompetencyGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompetencyGroup

    code = factory.Sequence(lambda n: f"group-{n}")
    name = factory.Sequence(lambda n: f"Группа {n}")


class CompetencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competency

    group = factory.SubFactory(CompetencyGroupFactory)
    code = factory.Sequence(lambda n: f"C-{n}")
    name = factory.Sequence(lambda n: f"Компетенция {n}")


# Pages --------------------------------------------------------------------------------------


def make_resource_map(parent=None, title="Ресурсная карта", slug="map"):
    """A published ResourceMapPage under ``parent`` (the site's root page by default)."""
    from wagtail.models import Page, Site

    from wagtail_iom.models import ResourceMapPage

    if parent is None:
        site = Site.objects.filter(is_default_site=True).first()
        parent = site.root_page if site else Page.get_first_root_node()
    page = parent.add_child(instance=ResourceMapPage(title=title, slug=slug))
    page.save_revision().publish()
    return page


def make_event(resource_map, sessions=None, publish=True, competencies=(), **fields):
    """An EventPage under ``resource_map``; ``sessions`` are (date, start_time, end_time[, hours]).

    Published through a revision, as the admin does, so that publish signals run.
    """
    import datetime

    from wagtail_iom.models import EventPage, EventSession

    defaults = {
        "title": "Семинар «Функциональная грамотность на уроке»",
        "summary": "Практический семинар для учителей основной школы.",
        "track": "non_formal",
        "kind": "seminar",
        "level": "regional",
        "format": "in_person",
        "organiser": "ЦНППМ",
        "venue_address": "г. Калининград, ул. Томская, 63",
    }
    defaults.update(fields)
    event = EventPage(**defaults)
    if sessions is None:
        day = timezone.localdate() + datetime.timedelta(days=7)
        sessions = [(day, datetime.time(10, 0), datetime.time(13, 0))]
    for number, spec in enumerate(sessions):
        date, start, end, *rest = spec
        event.sessions.add(
            EventSession(
                date=date,
                start_time=start,
                end_time=end,
                academic_hours=rest[0] if rest else 4,
                sort_order=number,
            )
        )
    resource_map.add_child(instance=event)
    if competencies:
        event.competencies.set(competencies)
        event.save()
    revision = event.save_revision()
    if publish:
        revision.publish()
    else:
        event.unpublish()
    event.refresh_from_db()
    return event


def bulk_events(resource_map, count, start=None, **fields):
    """``count`` live events with one session each, quickly (no revisions): for query counts."""
    import datetime
    import zoneinfo

    from wagtail_iom.models import EventPage, EventSession

    start = start or (timezone.localdate() + datetime.timedelta(days=1))
    tracks = [("formal", "course"), ("non_formal", "seminar"), ("informal", "mentoring")]
    sessions = []
    for number in range(count):
        track, kind = tracks[number % 3]
        values = {
            "title": f"Мероприятие № {number}",
            "slug": f"event-{number}-{resource_map.pk}",
            "summary": "Краткое описание мероприятия.",
            "track": track,
            "kind": kind,
            "level": "regional",
            "format": "in_person",
            "organiser": "ЦНППМ",
            "venue_address": "г. Калининград",
            "timezone": "Europe/Kaliningrad",
            **fields,
        }
        event = resource_map.add_child(instance=EventPage(**values))
        session = EventSession(
            page=event,
            date=start + datetime.timedelta(days=number % 28),
            start_time=datetime.time(10, 0),
            end_time=datetime.time(12, 0),
            academic_hours=2,
        )
        session.starts_at, session.ends_at = session.compute_moments(
            zoneinfo.ZoneInfo(values["timezone"])
        )
        sessions.append(session)
    EventSession.objects.bulk_create(sessions)


def make_teacher(
    username=None, last_name="Иванова", first_name="Мария", patronymic="Петровна", **profile_fields
):
    """A teacher who has given consent: a user with a TeacherProfile. Returns the profile."""
    from wagtail_iom.models import PersonalDataConsent, TeacherProfile

    user = UserFactory(**({"username": username} if username else {}))
    consent = PersonalDataConsent.objects.create(
        user=user,
        consent_version="test",
        consent_text="Согласие",
        text_sha256="0" * 64,
        ip_address="127.0.0.1",
    )
    return TeacherProfile.objects.create(
        user=user,
        consent=consent,
        last_name=last_name,
        first_name=first_name,
        patronymic=patronymic,
        **profile_fields,
    )
