"""factory-boy factories for the package's models."""

import factory
from django.contrib.auth import get_user_model

from wagtail_iom.models import Competency, CompetencyGroup, Municipality, School, SchoolKind
from wagtail_iom.validators import inn_check_digit


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
