"""Diagnostics in the admin: curators enter results, with a score per competency, and centre
staff import them from files (upload → preview → apply in chunks with a progress bar →
confirm the invitations of teachers who are not registered).

:class:`DiagnosticResultViewSet`, registered in wagtail_hooks.py: the listing (filter by procedure, level, date; search by
the teacher's name; CSV/XLSX export) and the create / edit forms with the scores inline. The
teacher is picked with the teacher chooser of :mod:`wagtail_iom.people.admin`.

Every queryset goes through :mod:`wagtail_iom.core.access`: a result of a teacher the user
may not see is not found (404), and only users who may enter diagnostics create results.
"""

import logging

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView, View
from modelcluster.forms import BaseChildFormSet
from wagtail.admin.auth import user_passes_test
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from wagtail_iom.core import access
from wagtail_iom.core.exports import csv_writer
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.core.text import name_search
from wagtail_iom.diagnostics import importing
from wagtail_iom.diagnostics.forms import DiagnosticImportUploadForm
from wagtail_iom.diagnostics.models import (
    DiagnosticImport,
    DiagnosticImportStatus,
    DiagnosticLevel,
    DiagnosticProcedure,
    DiagnosticResult,
)
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

    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        if access.can_import_diagnostics(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Import from a file"),
                    url=reverse(f"{IMPORT_NAMESPACE}:upload"),
                    icon_name="upload",
                )
            )
        return buttons

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


# Import from a file ------------------------------------------------------------------------

IMPORT_NAMESPACE = "wagtail_iom_diagnostics_import"

logger = logging.getLogger(__name__)


class DiagnosticImportViewSet(ViewSet):
    """Upload → preview → apply (chunks in the background, with progress) → invitations."""

    name = IMPORT_NAMESPACE
    url_prefix = "iom/diagnostics-import"
    icon = "upload"

    def get_urlpatterns(self):
        return [
            path("", import_upload, name="upload"),
            path("template.csv", import_template, name="template"),
            path("<iom_id:pk>/", import_detail, name="detail"),
            path("<iom_id:pk>/apply/", import_apply, name="apply"),
            path("<iom_id:pk>/progress/", import_progress, name="progress"),
            path("<iom_id:pk>/invitations/", import_invitations, name="invitations"),
            path("<iom_id:pk>/rejected.csv", import_rejected_csv, name="rejected_csv"),
        ]


class _ImportViewMixin(WagtailAdminTemplateMixin):
    header_icon = "upload"
    page_title = _("Import diagnostics results")

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_iom_diagnostics:index"), "label": _("Diagnostics")},
            {"url": reverse(f"{IMPORT_NAMESPACE}:upload"), "label": self.page_title},
        ]


class ImportUploadView(_ImportViewMixin, FormView):
    template_name = "wagtail_iom/admin/diagnostics_import/upload.html"
    form_class = DiagnosticImportUploadForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["recent_imports"] = DiagnosticImport.objects.select_related("uploaded_by").defer(
            "table", "report"
        )[:10]
        context["column_aliases"] = importing.COLUMN_ALIASES
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            record = importing.create_preview(upload.read(), upload.name, self.request.user)
        except importing.DiagnosticImportError as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        return redirect(f"{IMPORT_NAMESPACE}:detail", pk=record.pk)


class ImportDetailView(_ImportViewMixin, TemplateView):
    """The preview of a new import, the progress of one being applied, or its report."""

    template_name = "wagtail_iom/admin/diagnostics_import/detail.html"

    def get_page_subtitle(self):
        return self.record.file_name

    def dispatch(self, request, pk):
        self.record = get_object_or_404(DiagnosticImport.objects.defer("table"), pk=pk)
        return super().dispatch(request, pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record = self.record
        context["record"] = record
        context["preview"] = record.report
        context["progress"] = importing.progress(record)
        # The progress line, for the script to fill in as the import goes on.
        context["progress_template"] = gettext(
            "%(percent)s %%: %(processed)s of %(total)s rows processed, %(failed)s in failed parts."
        ) % {
            "percent": "{percent}",
            "processed": "{processed}",
            "total": "{total}",
            "failed": "{failed}",
        }
        context["progress_text"] = context["progress_template"].format(**context["progress"])
        if record.status != DiagnosticImportStatus.PREVIEWED:
            context["applied"] = importing.apply_report(record)
            context["pending_invitations"] = list(importing.pending_invitations(record))
        return context


class ImportApplyView(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        record = get_object_or_404(DiagnosticImport.objects.defer("table"), pk=pk)
        try:
            importing.start_apply(record, language=get_language())
        except importing.DiagnosticImportError as exc:
            messages.error(request, str(exc))
        except DatabaseError:
            logger.exception("Diagnostics import %s could not start", pk)
            messages.error(
                request,
                gettext(
                    "The import could not start because the database refused a write; nothing "
                    "was saved. Try again in a moment."
                ),
            )
        else:
            messages.success(
                request,
                gettext("The import has started: the rows are written in the background."),
            )
        return redirect(f"{IMPORT_NAMESPACE}:detail", pk=pk)


@never_cache
def progress_json(request, pk):
    """The import's progress, polled by the detail page."""
    record = get_object_or_404(DiagnosticImport.objects.defer("table", "report"), pk=pk)
    return JsonResponse(importing.progress(record))


class ImportInvitationsView(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        record = get_object_or_404(DiagnosticImport.objects.defer("table"), pk=pk)
        sent = importing.confirm_invitations(record, language=get_language())
        if sent:
            messages.success(
                request,
                ngettext(
                    "%(count)d invitation will be e-mailed.",
                    "%(count)d invitations will be e-mailed.",
                    sent,
                )
                % {"count": sent},
            )
        else:
            messages.warning(request, gettext("There are no invitations to send."))
        return redirect(f"{IMPORT_NAMESPACE}:detail", pk=pk)


def rejected_rows_csv(request, pk):
    """The rejected rows with their reasons, to fix and upload again."""
    record = get_object_or_404(DiagnosticImport.objects.defer("table"), pk=pk)
    if record.status == DiagnosticImportStatus.PREVIEWED:
        rejected = record.report.get("rejected", [])
    else:
        rejected = importing.apply_report(record)["rejected"]
    if not rejected:
        raise Http404
    columns = []
    for row in rejected:
        for column in row["values"]:
            if column not in columns:
                columns.append(column)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{record.pk}.csv"'
    response.write("\ufeff")  # so that Excel opens UTF-8 with Cyrillic correctly
    writer = csv_writer(response, delimiter=";")
    writer.writerow([gettext("line"), gettext("reason"), *columns])
    for row in rejected:
        writer.writerow([row["line"], row["reason"], *(row["values"].get(c, "") for c in columns)])
    return response


def csv_template(request):
    """An empty CSV with the recognised headers and one example row."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="diagnostics-template.csv"'
    response.write("\ufeff")
    writer = csv_writer(response, delimiter=";")
    writer.writerow(importing.CSV_TEMPLATE_HEADERS)
    writer.writerow(
        [
            "teacher@example.org",
            "",
            gettext("Ivanova"),
            gettext("Maria"),
            "",
            "",
            "regional",
            "",
            "25.11.2026",
            "62,5",
            "basic",
            "",
        ]
    )
    return response


_may_import = user_passes_test(access.can_import_diagnostics)
import_upload = _may_import(ImportUploadView.as_view())
import_detail = _may_import(ImportDetailView.as_view())
import_apply = _may_import(ImportApplyView.as_view())
import_progress = _may_import(progress_json)
import_invitations = _may_import(ImportInvitationsView.as_view())
import_rejected_csv = _may_import(rejected_rows_csv)
import_template = _may_import(csv_template)
