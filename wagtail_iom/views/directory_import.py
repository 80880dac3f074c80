"""Admin views of the directory import: upload, preview, apply, report."""

import csv

from django.contrib import messages
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.auth import user_passes_test
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ..forms import DirectoryImportUploadForm
from ..models import DirectoryImport, DirectoryImportStatus
from ..services import access
from ..services import directory_import as service

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
    writer = csv.writer(response, delimiter=";")
    writer.writerow([_("line"), _("reason"), *columns])
    for row in rejected:
        writer.writerow([row["line"], row["reason"], *(row["values"].get(c, "") for c in columns)])
    return response


def csv_template(request):
    """An empty CSV with the recognised headers and one example row."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="schools-template.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
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
        ]
    )
    return response


_allowed = user_passes_test(access.can_import_directory)
upload = _allowed(UploadView.as_view())
detail = _allowed(DetailView.as_view())
apply = _allowed(ApplyView.as_view())
rejected_csv = _allowed(rejected_rows_csv)
template_csv = _allowed(csv_template)
