"""The report's filters: one django-filter set for the admin view and the command line, so
that both refuse the same input with the same messages."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets import AdminDateInput

from wagtail_iom.core.forms import IdModelChoiceFilter
from wagtail_iom.directory.models import Municipality
from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.events.models import Registration
from wagtail_iom.reports.services import (
    GROUP_BY_CHOICES,
    GROUP_BY_MUNICIPALITY,
    GROUP_BY_SCHOOL,
)
from wagtail_iom.routes.models import Route


class RoutesByStatusForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error(
                "created_to",
                _("The end of the period (%(end)s) is before its start (%(start)s).")
                % {"end": f"{end:%d.%m.%Y}", "start": f"{start:%d.%m.%Y}"},
            )
        return cleaned


def keep(queryset, name, value):
    """The filters choose what the report counts; the report computes it (services.py)."""
    return queryset


class RoutesByStatusFilterSet(WagtailFilterSet):
    as_of = django_filters.DateFilter(
        label=_("Status as of"),
        method=keep,
        widget=AdminDateInput,
        help_text=_("Each route is counted in the status it had at the end of this day."),
    )
    created_from = django_filters.DateFilter(
        label=_("Created from"), method=keep, widget=AdminDateInput
    )
    created_to = django_filters.DateFilter(
        label=_("Created to"), method=keep, widget=AdminDateInput
    )
    group_by = django_filters.ChoiceFilter(
        label=_("Rows"), choices=GROUP_BY_CHOICES, empty_label=None, method=keep
    )
    municipality = IdModelChoiceFilter(
        label=_("Municipality"), queryset=Municipality.objects.order_by("name"), method=keep
    )

    class Meta:
        model = Route
        fields = []
        form = RoutesByStatusForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, scope=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.scope = scope
        if scope is not None and not scope.region:
            # Only the region's readers choose a municipality; the others' rows are theirs.
            del self.filters["municipality"]
            if not scope.by_municipality:
                del self.filters["group_by"]

    def report_options(self):
        """The cleaned values as keyword arguments of services.routes_by_status (call after
        is_valid())."""
        data = self.form.cleaned_data
        group_by = data.get("group_by") or GROUP_BY_MUNICIPALITY
        if self.scope is not None and not self.scope.by_municipality:
            group_by = GROUP_BY_SCHOOL
        return {
            "as_of": data.get("as_of"),
            "created_from": data.get("created_from"),
            "created_to": data.get("created_to"),
            "group_by": group_by,
            "municipality": data.get("municipality"),
        }


class AttendanceByEventForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("sessions_from"), cleaned.get("sessions_to")
        if start and end and start > end:
            self.add_error(
                "sessions_to",
                _("The end of the period (%(end)s) is before its start (%(start)s).")
                % {"end": f"{end:%d.%m.%Y}", "start": f"{start:%d.%m.%Y}"},
            )
        return cleaned


class AttendanceByEventFilterSet(WagtailFilterSet):
    sessions_from = django_filters.DateFilter(
        label=_("Sessions from"), method=keep, widget=AdminDateInput
    )
    sessions_to = django_filters.DateFilter(
        label=_("Sessions to"), method=keep, widget=AdminDateInput
    )
    track = django_filters.ChoiceFilter(
        label=_("Track"), choices=EventTrack.choices, empty_label=_("All"), method=keep
    )
    municipality = IdModelChoiceFilter(
        label=_("Municipality of the event"),
        queryset=Municipality.objects.order_by("name"),
        method=keep,
    )

    class Meta:
        model = Registration
        fields = []
        form = AttendanceByEventForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, scope=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.scope = scope
        if scope is not None and not scope.region:
            # The events of a methodist's municipalities, or of the school's sign-ups.
            del self.filters["municipality"]

    def report_options(self):
        """The cleaned values as keyword arguments of services.attendance_by_event."""
        data = self.form.cleaned_data
        return {
            "sessions_from": data.get("sessions_from"),
            "sessions_to": data.get("sessions_to"),
            "track": data.get("track") or "",
            "municipality": data.get("municipality"),
        }


class TeacherCoverageFilterSet(RoutesByStatusFilterSet):
    """The options of *Routes by status*; the date says which routes exist and which are
    completed."""

    as_of = django_filters.DateFilter(
        label=_("As of"),
        method=keep,
        widget=AdminDateInput,
        help_text=_("Routes created by the end of this day are counted, completed as of that day."),
    )


class DeficitCoverageFilterSet(WagtailFilterSet):
    """The teachers' municipality (the centre head only) and the events' track."""

    municipality = IdModelChoiceFilter(
        label=_("Municipality of the teachers"),
        queryset=Municipality.objects.order_by("name"),
        method=keep,
    )
    track = django_filters.ChoiceFilter(
        label=_("Track of the events"),
        choices=EventTrack.choices,
        empty_label=_("All"),
        method=keep,
    )

    class Meta:
        model = Registration
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, scope=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.scope = scope
        if scope is not None and not scope.region:
            # A methodist's or a school head's teachers are already their scope.
            del self.filters["municipality"]

    def report_options(self):
        """The cleaned values as keyword arguments of services.deficit_coverage."""
        data = self.form.cleaned_data
        return {"municipality": data.get("municipality"), "track": data.get("track") or ""}


class LowResultsFewRoutesFilterSet(WagtailFilterSet):
    """The two thresholds, and whether to list the flagged municipalities alone."""

    score_below = django_filters.NumberFilter(
        label=_("Mean score below, %"),
        method=keep,
        min_value=0,
        max_value=100,
        help_text=_("Leave empty for the deficit threshold of the settings."),
    )
    routes_per_teacher_below = django_filters.NumberFilter(
        label=_("Routes per teacher below"),
        method=keep,
        min_value=0,
        max_value=100,
        help_text=_("0.2 when left empty: one route per five teachers."),
    )
    flagged_only = django_filters.ChoiceFilter(
        label=_("Municipalities"),
        choices=[("1", _("Flagged municipalities only"))],
        empty_label=_("All"),
        method=keep,
    )

    class Meta:
        model = Registration
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, scope=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.scope = scope

    def report_options(self):
        """The cleaned values as keyword arguments of services.low_results_few_routes."""
        data = self.form.cleaned_data
        return {
            "score_below": data.get("score_below"),
            "routes_per_teacher_below": data.get("routes_per_teacher_below"),
            "flagged_only": data.get("flagged_only") == "1",
        }


class RoutesBySourceFilterSet(RoutesByStatusFilterSet):
    """The options of *Routes by status* but the date: a route's source does not change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.filters["as_of"]

    def report_options(self):
        options = super().report_options()
        del options["as_of"]
        return options
