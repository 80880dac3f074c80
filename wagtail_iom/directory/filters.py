"""django-filter FilterSets of the directory's admin listings."""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from wagtail_iom.core.forms import IdModelChoiceFilter
from wagtail_iom.directory.models import (
    Competency,
    CompetencyGroup,
    Municipality,
    MunicipalityKind,
    School,
    SchoolKind,
)


class MunicipalityFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=MunicipalityKind.choices)

    class Meta:
        model = Municipality
        fields = ["kind"]


class SchoolFilterSet(WagtailFilterSet):
    municipality = IdModelChoiceFilter(label=_("Municipality"), queryset=Municipality.objects.all())
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=SchoolKind.choices)
    has_inn = django_filters.BooleanFilter(label=_("Has an INN"), method="filter_has_inn")

    class Meta:
        model = School
        fields = ["municipality", "kind"]

    def filter_has_inn(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(inn="") if value else queryset.filter(inn="")


class CompetencyFilterSet(WagtailFilterSet):
    group = IdModelChoiceFilter(label=_("Group"), queryset=CompetencyGroup.objects.all())

    class Meta:
        model = Competency
        fields = ["group"]
