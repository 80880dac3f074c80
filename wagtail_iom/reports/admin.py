"""The reports in the Wagtail admin, under *Reports*: Wagtail's ReportView with the report's
filters, CSV and XLSX exports, and a chart beside an accessible table; and the monthly export
of a municipality's routes (its screen and its signed download link)."""

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.reports import ReportView

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access
from wagtail_iom.core.exports import SafeCSVExportMixin
from wagtail_iom.core.http import forbidden
from wagtail_iom.reports import chart, municipal_export, services
from wagtail_iom.reports.filters import (
    AttendanceByEventFilterSet,
    DeficitCoverageFilterSet,
    LowResultsFewRoutesFilterSet,
    RoutesBySourceFilterSet,
    RoutesByStatusFilterSet,
    TeacherCoverageFilterSet,
)
from wagtail_iom.reports.forms import MunicipalExportForm

URL_NAMESPACE = "wagtail_iom_reports"


class IomReportView(SafeCSVExportMixin, ReportView):
    """The common part of the centre's reports: who may read them, their scope, the report
    built from valid filters (else None: the form shows what to correct), its rows and
    totals as the listing."""

    header_icon = "table"
    paginate_by = None

    def dispatch(self, request, *args, **kwargs):
        if not access.can_read_reports(request.user):
            return forbidden(request, _("Only the centre's and the schools' heads and "
                                        "municipal methodists read the reports."))  # fmt: skip
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def scope(self):
        return access.report_scope(self.request.user)

    def get_filterset_kwargs(self):
        return {**super().get_filterset_kwargs(), "scope": self.scope}

    def build_report(self, options):
        raise NotImplementedError

    @cached_property
    def report(self):
        if self.filters is not None and not self.filters.is_valid():
            return None
        return self.build_report(self.filters.report_options())

    def get_queryset(self):
        if self.report is None:
            return []
        return [*self.report.rows, self.report.totals]

    def filter_queryset(self, queryset):
        return queryset  # the filters are the report's options (see report)

    # Exports: the report's headings, translated while the request's language is active (the
    # export streams after it), and each row's cells (``cells()``) in ``list_export``'s order.
    @cached_property
    def export_headings(self):
        if self.report is None:
            return {}
        return dict(zip(self.list_export, self.report.headings, strict=True))

    def to_row_dict(self, item):
        return dict(zip(self.list_export, item.cells(), strict=True))

    def chart_data(self):
        """What the chart draws: the report's ``chart_data()``."""
        return self.report.chart_data()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["report"] = self.report
        context["chart"] = chart.stacked_bars(self.chart_data()) if self.report else None
        return context


class AttendanceByEventView(IomReportView):
    """Per event: confirmed sign-ups, teachers who attended, the share."""

    page_title = _("Attendance by event")
    template_name = "wagtail_iom/admin/reports/attendance_by_event.html"
    results_template_name = "wagtail_iom/admin/reports/attendance_by_event_results.html"
    filterset_class = AttendanceByEventFilterSet
    index_url_name = f"{URL_NAMESPACE}:attendance_by_event"
    index_results_url_name = f"{URL_NAMESPACE}:attendance_by_event_results"
    export_filename = "attendance-by-event"
    list_export = ["name", "first_session", "confirmed", "attended", "share"]

    def build_report(self, options):
        return services.attendance_by_event(self.scope, **options)


class TeacherCoverageView(IomReportView):
    """Per municipality (or school): the share of teachers with a route and the share of
    routes completed (seed 002)."""

    page_title = _("Teacher coverage")
    template_name = "wagtail_iom/admin/reports/teacher_coverage.html"
    results_template_name = "wagtail_iom/admin/reports/teacher_coverage_results.html"
    filterset_class = TeacherCoverageFilterSet
    index_url_name = f"{URL_NAMESPACE}:teacher_coverage"
    index_results_url_name = f"{URL_NAMESPACE}:teacher_coverage_results"
    export_filename = "teacher-coverage"
    list_export = [
        "name",
        "teachers",
        "profiles",
        "with_route",
        "coverage",
        "routes",
        "completed",
        "completion",
    ]

    def build_report(self, options):
        return services.teacher_coverage(self.scope, **options)


class DeficitCoverageView(IomReportView):
    """Per competency: teachers with the deficit against upcoming events with free seats that
    target it; the gaps where the centre must plan events."""

    page_title = _("Coverage of deficits")
    template_name = "wagtail_iom/admin/reports/deficit_coverage.html"
    results_template_name = "wagtail_iom/admin/reports/deficit_coverage_results.html"
    filterset_class = DeficitCoverageFilterSet
    index_url_name = f"{URL_NAMESPACE}:deficit_coverage"
    index_results_url_name = f"{URL_NAMESPACE}:deficit_coverage_results"
    export_filename = "deficit-coverage"
    list_export = ["name", "teachers", "events", "seats", "shortfall"]

    def build_report(self, options):
        return services.deficit_coverage(self.scope, **options)


class LowResultsFewRoutesView(IomReportView):
    """Per municipality: the mean of the latest diagnostic scores against the routes per
    teacher, the municipalities low on both flagged (seed 002)."""

    page_title = _("Low results and few routes")
    template_name = "wagtail_iom/admin/reports/low_results_few_routes.html"
    results_template_name = "wagtail_iom/admin/reports/low_results_few_routes_results.html"
    filterset_class = LowResultsFewRoutesFilterSet
    index_url_name = f"{URL_NAMESPACE}:low_results_few_routes"
    index_results_url_name = f"{URL_NAMESPACE}:low_results_few_routes_results"
    export_filename = "low-results-few-routes"
    list_export = [
        "name",
        "teachers",
        "diagnosed",
        "mean_score",
        "routes",
        "routes_per_teacher",
        "flagged",
    ]

    def build_report(self, options):
        return services.low_results_few_routes(self.scope, **options)


class RoutesByStatusView(IomReportView):
    """Routes by municipality (or school) × status group, as of a date (seed 002's table)."""

    page_title = _("Routes by status")
    template_name = "wagtail_iom/admin/reports/routes_by_status.html"
    results_template_name = "wagtail_iom/admin/reports/routes_by_status_results.html"
    filterset_class = RoutesByStatusFilterSet
    index_url_name = f"{URL_NAMESPACE}:routes_by_status"
    index_results_url_name = f"{URL_NAMESPACE}:routes_by_status_results"
    export_filename = "routes-by-status"

    def build_report(self, options):
        return services.routes_by_status(self.scope, **options)

    # Exports: the name, one column per status group in the setting's order, the totals last.
    @cached_property
    def list_export(self):
        groups = self.report.groups if self.report else services.status_groups()
        return ["name", *(f"group:{group.key}" for group in groups)]

    def to_row_dict(self, item):
        return dict(zip(self.list_export, [item.name, *item.counts], strict=True))

    def chart_data(self):
        return self.report  # one segment per status group: the report itself


class RoutesBySourceView(RoutesByStatusView):
    """Routes by municipality (or school) × source: created by staff or drafted from
    diagnostics."""

    page_title = _("Routes by source")
    template_name = "wagtail_iom/admin/reports/routes_by_source.html"
    results_template_name = "wagtail_iom/admin/reports/routes_by_source_results.html"
    filterset_class = RoutesBySourceFilterSet
    index_url_name = f"{URL_NAMESPACE}:routes_by_source"
    index_results_url_name = f"{URL_NAMESPACE}:routes_by_source_results"
    export_filename = "routes-by-source"

    def build_report(self, options):
        return services.routes_by_source(self.scope, **options)

    @cached_property
    def list_export(self):
        return ["name", *(f"group:{group.key}" for group in services.source_groups())]


class IndicatorsView(TeacherCoverageView):
    """Seed 004's indicators per municipality (or school) and for the region."""

    page_title = _("Indicators (004)")
    template_name = "wagtail_iom/admin/reports/indicators.html"
    results_template_name = "wagtail_iom/admin/reports/indicators_results.html"
    index_url_name = f"{URL_NAMESPACE}:indicators"
    index_results_url_name = f"{URL_NAMESPACE}:indicators_results"
    export_filename = "indicators-004"
    list_export = ["name", "teachers", "coverage", "completion", "presented", "presented_share"]

    def build_report(self, options):
        return services.indicators(self.scope, **options)


def urlpatterns():
    return [
        path("routes-by-status/", RoutesByStatusView.as_view(), name="routes_by_status"),
        path(
            "routes-by-status/results/",
            RoutesByStatusView.as_view(results_only=True),
            name="routes_by_status_results",
        ),
        path("routes-by-source/", RoutesBySourceView.as_view(), name="routes_by_source"),
        path(
            "routes-by-source/results/",
            RoutesBySourceView.as_view(results_only=True),
            name="routes_by_source_results",
        ),
        path("indicators/", IndicatorsView.as_view(), name="indicators"),
        path(
            "indicators/results/",
            IndicatorsView.as_view(results_only=True),
            name="indicators_results",
        ),
        path("teacher-coverage/", TeacherCoverageView.as_view(), name="teacher_coverage"),
        path(
            "teacher-coverage/results/",
            TeacherCoverageView.as_view(results_only=True),
            name="teacher_coverage_results",
        ),
        path("deficit-coverage/", DeficitCoverageView.as_view(), name="deficit_coverage"),
        path(
            "deficit-coverage/results/",
            DeficitCoverageView.as_view(results_only=True),
            name="deficit_coverage_results",
        ),
        path(
            "low-results-few-routes/",
            LowResultsFewRoutesView.as_view(),
            name="low_results_few_routes",
        ),
        path(
            "low-results-few-routes/results/",
            LowResultsFewRoutesView.as_view(results_only=True),
            name="low_results_few_routes_results",
        ),
        path("municipal-export/", municipal_export_index, name="municipal_export"),
        path(
            "municipal-export/download/<str:token>/",
            municipal_export_download,
            name="municipal_export_download",
        ),
        path("attendance-by-event/", AttendanceByEventView.as_view(), name="attendance_by_event"),
        path(
            "attendance-by-event/results/",
            AttendanceByEventView.as_view(results_only=True),
            name="attendance_by_event_results",
        ),
    ]


class ReportsMenuItem(MenuItem):
    def is_shown(self, request):
        return access.can_read_reports(request.user)


#: The reports under *Reports*: the view's URL name, its menu label and order.
REPORT_MENU = {
    "routes_by_status": (_("Routes by status"), 910),
    "teacher_coverage": (_("Teacher coverage"), 911),
    "attendance_by_event": (_("Attendance by event"), 912),
    "deficit_coverage": (_("Coverage of deficits"), 913),
    "low_results_few_routes": (_("Low results and few routes"), 914),
    "routes_by_source": (_("Routes by source"), 915),
    "indicators": (_("Indicators (004)"), 916),
}


def report_menu_item(url_name):
    """*Reports → <the report>*, for those who may read reports."""
    label, order = REPORT_MENU[url_name]
    return ReportsMenuItem(
        label,
        reverse(f"{URL_NAMESPACE}:{url_name}"),
        name="iom-" + url_name.replace("_", "-"),
        icon_name="table",
        order=order,
    )


# The monthly export to municipalities (seed 002) ------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def municipal_export_index(request):
    """Reports → Monthly export of routes: the centre head picks a municipality, a methodist
    has their own; "Export now" builds this month's file (and e-mails the methodists their
    link if they have not had it yet). Below, the recent exports with their links."""
    if not access.can_export_municipal_routes(request.user):
        return forbidden(
            request,
            gettext("Only the head of the centre and municipal methodists export routes."),
        )
    form = MunicipalExportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        municipality = form.cleaned_data["municipality"]
        requested_at = timezone.now()
        with transaction.atomic():
            export = municipal_export.request_export(
                municipality, municipal_export.current_month(), request.user
            )
        # The build starts when the transaction commits: a worker may have finished it already
        # (and does, where Celery runs tasks in place).
        export.refresh_from_db()
        if export.finished_at and export.finished_at >= requested_at:
            text = gettext("The export of %(municipality)s is ready: download it below.")
        else:
            text = gettext(
                "The export of %(municipality)s is being prepared: reload this page in a few "
                "minutes to download it."
            )
        messages.success(request, text % {"municipality": municipality.name})
        return redirect(f"{URL_NAMESPACE}:municipal_export")
    exports = [
        (export, municipal_export.download_token(export))
        for export in municipal_export.recent_exports(request.user)
    ]
    return TemplateResponse(
        request,
        "wagtail_iom/admin/reports/municipal_export.html",
        {
            "form": form,
            "exports": [
                (export, token if municipal_export.is_downloadable(export) else "")
                for export, token in exports
            ],
            "days": iom_settings.MUNICIPAL_EXPORT_DAYS,
        },
    )


def _link_refused(request, status):
    if status == 410:
        reason = gettext(
            "This link has expired and its file has been deleted. The next monthly export "
            "comes on the 1st; the centre or your municipality's methodist can export now."
        )
    else:
        reason = gettext("This link is not valid. Open the link from the e-mail as it is.")
    return TemplateResponse(
        request,
        "wagtail_iom/admin/reports/municipal_export_refused.html",
        {"reason": reason},
        status=status,
    )


@require_http_methods(["GET", "HEAD"])
def municipal_export_download(request, token):
    """The signed link: not ours → 404, expired → 410, not the user's municipality → 403;
    otherwise the file. Signing in comes first (the admin's login)."""
    try:
        export = municipal_export.export_for_token(token)
    except municipal_export.LinkRefused as refused:
        return _link_refused(request, refused.status)
    if not access.can_download_municipal_export(request.user, export.municipality_id):
        return forbidden(
            request,
            gettext("This export is for the methodists of %(municipality)s and the centre only.")
            % {"municipality": export.municipality.name},
        )
    if not municipal_export.is_downloadable(export):
        return _link_refused(request, 410)
    try:
        handle = export.file.open("rb")
    except (FileNotFoundError, OSError):
        return _link_refused(request, 410)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=municipal_export.filename(export),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


class MunicipalExportMenuItem(MenuItem):
    def is_shown(self, request):
        return access.can_export_municipal_routes(request.user)


def municipal_export_menu_item():
    """*Reports → Monthly export of routes*, for the centre head and municipal methodists."""
    return MunicipalExportMenuItem(
        _("Monthly export of routes"),
        reverse(f"{URL_NAMESPACE}:municipal_export"),
        name="iom-municipal-export",
        icon_name="download",
        order=917,
    )
