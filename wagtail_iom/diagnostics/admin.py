"""Diagnostics in the admin: curators enter results, with a score per competency.

:class:`DiagnosticResultViewSet`, registered in wagtail_hooks.py: the listing (filter by procedure, level, date; search by
the teacher's name; CSV/XLSX export) and the create / edit forms with the scores inline. The
teacher is picked with the teacher chooser of :mod:`wagtail_iom.people.admin`.

Every queryset goes through :mod:`wagtail_iom.core.access`: a result of a teacher the user
may not see is not found (404), and only users who may enter diagnostics create results.
"""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from modelcluster.forms import BaseChildFormSet
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.model import ModelViewSet

from wagtail_iom.core import access
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.core.text import name_search
from wagtail_iom.diagnostics.models import DiagnosticLevel, DiagnosticProcedure, DiagnosticResult
from wagtail_iom.people import access_log
from wagtail_iom.people.widgets import AdminTeacherChooser

# The teacher chooser ---------------------------------------------------------------------


# Diagnostics results ---------------------------------------------------------------------


class DiagnosticResultFilterSet(WagtailFilterSet):
    procedure = django_filters.ChoiceFilter(
        label=_("Procedure"), choices=DiagnosticProcedure.choices
    )
    level = django_filters.ChoiceFilter(label=_("Level"), choices=DiagnosticLevel.choices)
    date = django_filters.DateFromToRangeFilter(label=_("Date"), widget=DateRangePickerWidget)

    class Meta:
        model = DiagnosticResult
        fields = ["procedure", "level", "date"]


class DiagnosticResultForm(WagtailAdminModelForm):
    """Only teachers the user may see can be chosen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "teacher" in self.fields:
            self.fields["teacher"].queryset = access.teacher_profiles_visible_to(self.for_user)


class CompetencyScoreFormSet(BaseChildFormSet):
    """A competency is scored once per result: a repeated one is an error on its row, said in
    plain words, before the database's unique constraint could refuse the save."""

    def clean(self):
        seen = set()
        for form in self.forms:
            if not form.is_valid() or (self.can_delete and self._should_delete_form(form)):
                continue
            competency = form.cleaned_data.get("competency")
            if competency is None:
                continue
            if competency.pk in seen:
                form.add_error(
                    "competency",
                    forms.ValidationError(
                        _("This competency is already scored above: give each competency once."),
                        code="duplicate_competency",
                    ),
                )
            seen.add(competency.pk)
        super().clean()


class ScoresPanel(InlinePanel):
    """The scores of a result, inline, validated by :class:`CompetencyScoreFormSet`."""

    def get_form_options(self):
        options = super().get_form_options()
        options["formsets"][self.relation_name]["formset"] = CompetencyScoreFormSet
        return options


def visible_results(user):
    """The diagnostics results of the teachers ``user`` may see."""
    return DiagnosticResult.objects.filter(teacher__in=access.teacher_profiles_visible_to(user))


class VisibleResultMixin:
    """Edit and delete: a result of a teacher the user may not see is not found."""

    def get_queryset(self):
        return visible_results(self.request.user)


class VisibleBaseObjectMixin:
    """History and usage (listings about one object): the same rule for their object."""

    def get_base_object_queryset(self):
        return visible_results(self.request.user)


class DiagnosticResultIndexView(ListingMixin, access_log.ExportLoggedMixin, generic.IndexView):
    export_access_action = access_log.Action.EXPORT_DIAGNOSTICS

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .filter(teacher__in=access.teacher_profiles_visible_to(self.request.user))
            .select_related("teacher")
        )

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return queryset.filter(name_search(self.search_query, self.search_fields))


class DiagnosticResultCreateView(generic.CreateView):
    def dispatch(self, request, *args, **kwargs):
        if not access.can_enter_diagnostics(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def save_instance(self):
        self.form.instance.entered_by = self.request.user
        return super().save_instance()


class DiagnosticResultEditView(access_log.AccessLoggedMixin, VisibleResultMixin, generic.EditView):
    access_action = access_log.Action.VIEW_DIAGNOSTIC


class DiagnosticResultDeleteView(VisibleResultMixin, generic.DeleteView):
    pass


class DiagnosticResultHistoryView(VisibleBaseObjectMixin, HistoryView):
    pass


class DiagnosticResultUsageView(VisibleBaseObjectMixin, UsageView):
    pass


class DiagnosticResultViewSet(ModelViewSet):
    pk_path_converter = "iom_id"
    model = DiagnosticResult
    name = "wagtail_iom_diagnostics"
    url_prefix = "iom/diagnostics"
    icon = "tasks"
    menu_label = _("Diagnostics")
    menu_order = 260
    add_to_admin_menu = True
    index_view_class = DiagnosticResultIndexView
    add_view_class = DiagnosticResultCreateView
    edit_view_class = DiagnosticResultEditView
    delete_view_class = DiagnosticResultDeleteView
    history_view_class = DiagnosticResultHistoryView
    usage_view_class = DiagnosticResultUsageView
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["teacher", "date", "procedure", "total_score", "level"]
    filterset_class = DiagnosticResultFilterSet
    search_fields = ["teacher__last_name", "teacher__first_name", "teacher__patronymic"]
    search_backend_name = None
    list_export = [
        "teacher",
        "date",
        "get_procedure_display",
        "procedure_name",
        "total_score",
        "get_level_display",
    ]
    export_headings = {
        "teacher": _("Teacher"),
        "get_procedure_display": _("Procedure"),
        "get_level_display": _("Level"),
    }
    export_filename = "diagnostics"
    edit_handler = ObjectList(
        [
            FieldPanel("teacher", widget=AdminTeacherChooser),
            FieldRowPanel([FieldPanel("date"), FieldPanel("procedure")]),
            FieldPanel("procedure_name"),
            FieldRowPanel([FieldPanel("total_score"), FieldPanel("level")]),
            ScoresPanel(
                "scores",
                panels=[FieldRowPanel([FieldPanel("competency"), FieldPanel("score")])],
                heading=_("Scores per competency"),
                label=_("Score"),
            ),
            FieldPanel("comment"),
        ],
        base_form_class=DiagnosticResultForm,
    )
