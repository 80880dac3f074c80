"""The filters of the resource map (front end) and of the events' admin listing."""

import django_filters
from django import forms
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget
from wagtail.admin.views.pages.listing import PageFilterSet

from wagtail_iom.core.forms import IdModelChoiceFilter
from wagtail_iom.directory.models import (
    Competency,
    CompetencyGroup,
    Municipality,
)
from wagtail_iom.events.kinds import EventTrack, event_kind_choices
from wagtail_iom.events.models import (
    SEAT_HOLDING_STATUSES,
    EventFormat,
    EventLevel,
    EventPage,
    EventSession,
    EventStatus,
)


class EventFilterSet(django_filters.FilterSet):
    """The resource map's filters; the same query parameters drive the page and its feeds."""

    WHEN_UPCOMING = "upcoming"
    WHEN_PAST = "past"
    # The most matches a text search passes on, the most relevant first.
    SEARCH_LIMIT = 2000

    q = django_filters.CharFilter(label=_("Search"), method="filter_search", max_length=200)
    track = django_filters.ChoiceFilter(
        label=_("Track"), choices=EventTrack.choices, empty_label=_("Any")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=event_kind_choices, empty_label=_("Any")
    )
    level = django_filters.ChoiceFilter(
        label=_("Level"), choices=EventLevel.choices, empty_label=_("Any")
    )
    format = django_filters.ChoiceFilter(
        label=_("Format"), choices=EventFormat.choices, empty_label=_("Any")
    )
    group = IdModelChoiceFilter(
        label=_("Competency group"),
        empty_label=_("Any"),
        queryset=CompetencyGroup.objects.all(),
        to_field_name="code",
        method="filter_group",
    )
    competency = IdModelChoiceFilter(
        label=_("Competency"),
        empty_label=_("Any"),
        queryset=Competency.objects.select_related("group"),
        to_field_name="code",
        method="filter_competency",
    )
    municipality = IdModelChoiceFilter(
        label=_("Municipality"), queryset=Municipality.objects.all(), empty_label=_("Any")
    )
    date_from = django_filters.DateFilter(
        label=_("From"), method="filter_date_from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        label=_("To"), method="filter_date_to", widget=forms.DateInput(attrs={"type": "date"})
    )
    when = django_filters.ChoiceFilter(
        label=_("Period"),
        choices=[(WHEN_UPCOMING, _("Upcoming")), (WHEN_PAST, _("Past"))],
        empty_label=None,
        method="filter_when",
    )
    free_seats = django_filters.BooleanFilter(
        label=_("Only with free seats"),
        method="filter_free_seats",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = EventPage
        fields = []

    def __init__(self, data=None, *args, now=None, upcoming_by_default=True, **kwargs):
        self.now = now or timezone.now()
        self.upcoming_by_default = upcoming_by_default
        super().__init__(data, *args, **kwargs)

    @property
    def qs(self):
        queryset = super().qs
        asked = self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("when")
        if self.upcoming_by_default and not asked:
            # Upcoming by default; past only on request.
            queryset = self.filter_when(queryset, "when", self.WHEN_UPCOMING)
        return queryset

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        from wagtail.search.backends import get_search_backend

        # The search backend returns pages; the rest of the filtering stays a queryset.
        results = get_search_backend().search(value, EventPage)
        return queryset.filter(pk__in=[page.pk for page in results[: self.SEARCH_LIMIT]])

    # Subqueries rather than joins: no duplicate rows, no DISTINCT.
    def filter_group(self, queryset, name, value):
        links = EventPage.competencies.through.objects.filter(competency__group=value)
        return queryset.filter(pk__in=links.values("eventpage"))

    def filter_competency(self, queryset, name, value):
        links = EventPage.competencies.through.objects.filter(competency=value)
        return queryset.filter(pk__in=links.values("eventpage"))

    def filter_date_from(self, queryset, name, value):
        return queryset  # applied with date_to in filter_queryset: one session within both

    filter_date_to = filter_date_from

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        date_from = self.form.cleaned_data.get("date_from")
        date_to = self.form.cleaned_data.get("date_to")
        if date_from or date_to:
            sessions = EventSession.objects.all()
            if date_from:
                sessions = sessions.filter(date__gte=date_from)
            if date_to:
                sessions = sessions.filter(date__lte=date_to)
            queryset = queryset.filter(pk__in=sessions.values("page"))
        return queryset

    def filter_when(self, queryset, name, value):
        if value == self.WHEN_PAST:
            return queryset.exclude(
                pk__in=EventSession.objects.filter(ends_at__gte=self.now).values("page")
            )
        return queryset.filter(
            pk__in=EventSession.objects.filter(ends_at__gte=self.now).values("page")
        )

    def filter_free_seats(self, queryset, name, value):
        if not value:
            return queryset
        taken = Count("registrations", filter=Q(registrations__status__in=SEAT_HOLDING_STATUSES))
        return (
            queryset.annotate(seats_taken=taken)
            .filter(Q(capacity__isnull=True) | Q(capacity__gt=F("seats_taken")))
            .exclude(status=EventStatus.CANCELLED)
        )


class EventAdminFilterSet(PageFilterSet):
    """The editors' events listing: by track, kind, level, status and session dates."""

    track = django_filters.ChoiceFilter(label=_("Track"), choices=EventTrack.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=event_kind_choices)
    level = django_filters.ChoiceFilter(label=_("Level"), choices=EventLevel.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=EventStatus.choices)
    session_date = django_filters.DateFromToRangeFilter(
        label=_("Session dates"), widget=DateRangePickerWidget, method="filter_session_date"
    )

    class Meta:
        model = EventPage
        fields = []

    def filter_session_date(self, queryset, name, value):
        sessions = EventSession.objects.all()
        if value.start:
            sessions = sessions.filter(date__gte=value.start)
        if value.stop:
            sessions = sessions.filter(date__lte=value.stop)
        return queryset.filter(pk__in=sessions.values("page"))
