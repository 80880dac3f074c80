"""The directory in the admin: municipalities, schools, competency groups and competencies
(Wagtail ModelViewSets in one "Directories" group, registered in wagtail_hooks.py), and the
views of the directory import: upload, preview, apply, report.
"""

from django.contrib import messages
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.auth import user_passes_test
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from wagtail_iom.core import access
from wagtail_iom.core.exports import csv_writer
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.directory import importing as service
from wagtail_iom.directory.filters import (
    CompetencyFilterSet,
    MunicipalityFilterSet,
    SchoolFilterSet,
)
from wagtail_iom.directory.forms import DirectoryImportUploadForm
from wagtail_iom.directory.models import (
    Competency,
    CompetencyGroup,
    DirectoryImport,
    DirectoryImportStatus,
    Municipality,
    School,
)


class MunicipalityIndexView(ListingMixin, IndexView):
    def get_base_queryset(self):
        from django.db.models import Count

        return super().get_base_queryset().annotate(school_count=Count("schools"))


class MunicipalityViewSet(ModelViewSet):
    pk_path_converter = "iom_id"
    model = Municipality
    name = "wagtail_iom_municipality"
    url_prefix = "iom/municipalities"
    icon = "site"
    menu_order = 100
    index_view_class = MunicipalityIndexView
    list_display = [
        "name",
        "kind",
        "oktmo",
        Column("school_count", label=gettext_lazy("Schools"), sort_key="school_count"),
    ]
    filterset_class = MunicipalityFilterSet
    list_export = ["name", "get_kind_display", "oktmo"]
    export_headings = {"get_kind_display": gettext_lazy("Kind")}
    export_filename = "municipalities"
    panels = [FieldPanel("name"), FieldPanel("kind"), FieldPanel("oktmo")]
    copy_view_enabled = False
    inspect_view_enabled = True


class SchoolIndexView(ListingMixin, IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("municipality")


class SchoolViewSet(ModelViewSet):
    pk_path_converter = "iom_id"
    model = School
    name = "wagtail_iom_school"
    url_prefix = "iom/schools"
    icon = "home"
    menu_order = 200
    index_view_class = SchoolIndexView
    list_display = ["name", "municipality", "kind", "inn"]
    filterset_class = SchoolFilterSet
    list_export = [
        "name",
        "short_name",
        "municipality.name",
        "get_kind_display",
        "inn",
        "address",
        "teacher_count",
    ]
    export_headings = {
        "municipality.name": gettext_lazy("Municipality"),
        "get_kind_display": gettext_lazy("Kind"),
    }
    export_filename = "schools"
    panels = [
        FieldPanel("municipality"),
        FieldPanel("name"),
        FieldPanel("short_name"),
        FieldPanel("kind"),
        FieldPanel("inn"),
        FieldPanel("address"),
        FieldPanel("teacher_count"),
    ]
    copy_view_enabled = False
    inspect_view_enabled = True


class CompetencyGroupIndexView(ListingMixin, IndexView):
    pass


class CompetencyGroupViewSet(ModelViewSet):
    pk_path_converter = "iom_id"
    model = CompetencyGroup
    index_view_class = CompetencyGroupIndexView
    name = "wagtail_iom_competency_group"
    url_prefix = "iom/competency-groups"
    icon = "folder-open-inverse"
    menu_order = 300
    list_display = ["name", "code"]
    list_export = ["code", "name", "description"]
    export_filename = "competency-groups"
    panels = [FieldPanel("name"), FieldPanel("code"), FieldPanel("description")]
    copy_view_enabled = False


class CompetencyIndexView(ListingMixin, IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("group")


class CompetencyViewSet(ModelViewSet):
    pk_path_converter = "iom_id"
    model = Competency
    name = "wagtail_iom_competency"
    url_prefix = "iom/competencies"
    icon = "tick-inverse"
    menu_order = 400
    index_view_class = CompetencyIndexView
    list_display = ["name", "code", "group"]
    filterset_class = CompetencyFilterSet
    list_export = [
        "code",
        "name",
        "group.name",
        "description",
        "labour_functions",
        "knowledge_and_skills",
        "route_goal_template",
        "route_task_template",
        "self_education_recommendation",
    ]
    export_headings = {"group.name": gettext_lazy("Group")}
    export_filename = "competencies"
    ordering = ["group__sort_order", "sort_order"]
    panels = [
        FieldPanel("group"),
        FieldPanel("name"),
        FieldPanel("code"),
        FieldPanel("description"),
        FieldPanel("labour_functions"),
        FieldPanel("knowledge_and_skills"),
        MultiFieldPanel(
            [
                FieldPanel("route_goal_template"),
                FieldPanel("route_task_template"),
                FieldPanel("self_education_recommendation"),
            ],
            heading=gettext_lazy("Route drafts from diagnostics"),
        ),
    ]
    copy_view_enabled = False


class DirectoryImportViewSet(ViewSet):
    """Upload → preview → apply for municipalities and schools."""

    name = "wagtail_iom_directory_import"
    url_prefix = "iom/directory-import"
    icon = "upload"
    menu_label = gettext_lazy("Import municipalities and schools")
    menu_order = 500

    def get_urlpatterns(self):
        return [
            path("", upload, name="upload"),
            path("template.csv", template_csv, name="template"),
            path("<iom_id:pk>/", detail, name="detail"),
            path("<iom_id:pk>/apply/", apply, name="apply"),
            path("<iom_id:pk>/rejected.csv", rejected_csv, name="rejected_csv"),
        ]

    @cached_property
    def menu_url(self):
        return reverse(self.get_url_name("upload"))

    @cached_property
    def menu_item_class(self):
        class DirectoryImportMenuItem(MenuItem):
            def is_shown(self, request):
                return access.can_import_directory(request.user)

        return DirectoryImportMenuItem


class DirectoryViewSetGroup(ViewSetGroup):
    """The reference data every other part of the package uses."""

    menu_label = gettext_lazy("Directories")
    menu_icon = "list-ul"
    menu_order = 900
    items = (
        MunicipalityViewSet,
        SchoolViewSet,
        CompetencyGroupViewSet,
        CompetencyViewSet,
        DirectoryImportViewSet,
    )


URL_NAMESPACE = "wagtail_iom_directory_import"


class _ImportViewMixin(WagtailAdminTemplateMixin):
    header_icon = "upload"
    page_title = gettext_lazy("Import municipalities and schools")

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(f"{URL_NAMESPACE}:upload"), "label": self.page_title},
        ]


class UploadView(_ImportViewMixin, FormView):
    template_name = "wagtail_iom/admin/directory_import/upload.html"
    form_class = DirectoryImportUploadForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["recent_imports"] = DirectoryImport.objects.select_related("uploaded_by")[:10]
        context["column_aliases"] = service.COLUMN_ALIASES
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            plan = service.plan_directory_import(content, upload.name)
        except service.DirectoryImportError as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        record = DirectoryImport.objects.create(
            uploaded_by=self.request.user,
            file_name=upload.name[:255],
            content=content,
            report=plan.as_report(),
        )
        return redirect(f"{URL_NAMESPACE}:detail", pk=record.pk)


class DetailView(_ImportViewMixin, TemplateView):
    """The preview of a new import, or the report of an applied or failed one."""

    template_name = "wagtail_iom/admin/directory_import/detail.html"

    def get_page_subtitle(self):
        return self.record.file_name

    def dispatch(self, request, pk):
        self.record = get_object_or_404(DirectoryImport, pk=pk)
        return super().dispatch(request, pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["record"] = self.record
        context["report"] = self.record.report
        if self.record.status == DirectoryImportStatus.PREVIEWED:
            try:
                plan = service.plan_directory_import(
                    bytes(self.record.content), self.record.file_name
                )
            except service.DirectoryImportError as exc:
                context["file_error"] = str(exc)
            else:
                context["plan"] = plan
                context["report"] = plan.as_report()
        return context


class ApplyView(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        record = get_object_or_404(DirectoryImport, pk=pk)
        if record.status != DirectoryImportStatus.PREVIEWED:
            messages.error(request, _("This import has already been applied or has failed."))
            return redirect(f"{URL_NAMESPACE}:detail", pk=pk)
        try:
            plan = service.apply_directory_import(bytes(record.content), record.file_name)
        except (service.DirectoryImportError, DatabaseError) as exc:
            record.status = DirectoryImportStatus.FAILED
            record.report = {**record.report, "error": str(exc)}
            record.save(update_fields=["status", "report"])
            messages.error(
                request,
                _("The import failed and nothing was saved: %(error)s") % {"error": exc},
            )
            return redirect(f"{URL_NAMESPACE}:detail", pk=pk)
        record.status = DirectoryImportStatus.APPLIED
        record.applied_at = timezone.now()
        record.report = plan.as_report()
        record.save(update_fields=["status", "applied_at", "report"])
        counts = plan.counts
        messages.success(
            request,
            _(
                "Import applied: %(municipalities)d municipalities and %(schools)d schools "
                "created, %(updated)d updated, %(rejected)d rows rejected."
            )
            % {
                "municipalities": counts["municipalities_created"],
                "schools": counts["schools_created"],
                "updated": counts["municipalities_updated"] + counts["schools_updated"],
                "rejected": counts["rejected"],
            },
        )
        return redirect(f"{URL_NAMESPACE}:detail", pk=pk)


def rejected_rows_csv(request, pk):
    """The rejected rows with their reasons, to fix and upload again."""
    record = get_object_or_404(DirectoryImport, pk=pk)
    rejected = record.report.get("rejected", [])
    if not rejected:
        raise Http404
    columns = [c for c in service.CSV_TEMPLATE_HEADERS if any(c in r["values"] for r in rejected)]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{record.pk}.csv"'
    response.write("\ufeff")  # so that Excel opens UTF-8 with Cyrillic correctly
    writer = csv_writer(response, delimiter=";")
    writer.writerow([_("line"), _("reason"), *columns])
    for row in rejected:
        writer.writerow([row["line"], row["reason"], *(row["values"].get(c, "") for c in columns)])
    return response


def csv_template(request):
    """An empty CSV with the recognised headers and one example row."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="schools-template.csv"'
    response.write("\ufeff")
    writer = csv_writer(response, delimiter=";")
    writer.writerow(service.CSV_TEMPLATE_HEADERS)
    writer.writerow(
        [
            _("Example municipal district"),
            "",
            _("Secondary school No. 1"),
            _("School No. 1"),
            "secondary_school",
            "",
            "",
            "25",
        ]
    )
    return response


_allowed = user_passes_test(access.can_import_directory)
upload = _allowed(UploadView.as_view())
detail = _allowed(DetailView.as_view())
apply = _allowed(ApplyView.as_view())
rejected_csv = _allowed(rejected_rows_csv)
template_csv = _allowed(csv_template)
