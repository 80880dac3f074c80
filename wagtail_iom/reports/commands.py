"""The reports on the command line: ``manage.py iom_report <report> …``.

Each report is a :class:`ReportCommand` registered under its sub-command's name with
:func:`register`; the management command (wagtail_iom/management/commands/iom_report.py) builds
one sub-parser per registered report and hands the options to its ``run``.
"""

import sys

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from wagtail_iom.core.access import ReportScope
from wagtail_iom.reports import exports, services
from wagtail_iom.reports.filters import (
    AttendanceByEventFilterSet,
    DeficitCoverageFilterSet,
    LowResultsFewRoutesFilterSet,
    RoutesBySourceFilterSet,
    RoutesByStatusFilterSet,
    TeacherCoverageFilterSet,
)

FORMATS = ("csv", "xlsx")

registry = {}


def register(name):
    """Class decorator: make a :class:`ReportCommand` the sub-command ``name``."""

    def decorator(cls):
        registry[name] = cls()
        return cls

    return decorator


class ReportCommand:
    help = ""

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument(
            "--output", help="The file to write (standard output when omitted; needed for xlsx)."
        )

    def build(self, options):
        """The :class:`~wagtail_iom.reports.services.Report` for the options."""
        raise NotImplementedError

    def run(self, options, stdout):
        report = self.build(options)
        output = options.get("output")
        if options["format"] == "xlsx":
            if not output:
                raise CommandError("An XLSX workbook needs --output FILE.")
            with open(output, "wb") as stream:
                exports.write_xlsx(report, stream)
            return
        if output:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                exports.write_csv(report, stream)
        else:
            exports.write_csv(report, stdout)


def errors_text(form):
    return "; ".join(
        f"--{name.replace('_', '-')}: {' '.join(messages)}"
        for name, messages in form.errors.items()
    )


@register("routes-by-status")
class RoutesByStatus(ReportCommand):
    help = "Routes per municipality (or school) and status group, as of a date."
    filterset_class = RoutesByStatusFilterSet
    service = staticmethod(services.routes_by_status)

    def add_arguments(self, parser):
        parser.add_argument(
            "--group-by", default=services.GROUP_BY_MUNICIPALITY, help="municipality or school"
        )
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--created-from", help="YYYY-MM-DD")
        parser.add_argument("--created-to", help="YYYY-MM-DD")
        super().add_arguments(parser)

    def build(self, options):
        data = {
            name: options.get(name) or ""
            for name in ("as_of", "created_from", "created_to", "group_by")
        }
        scope = ReportScope(region=True)
        filters = self.filterset_class(data, scope=scope)
        if not filters.is_valid():
            raise CommandError(errors_text(filters.form))
        return self.service(scope, **filters.report_options())


def run(name, options, stdout=None):
    """Run the registered report ``name``."""
    if name not in registry:
        raise CommandError(_("Unknown report: %(name)s.") % {"name": name})
    registry[name].run(options, stdout or sys.stdout)


@register("teacher-coverage")
class TeacherCoverage(RoutesByStatus):
    help = (
        "Per municipality (or school): teachers, teachers with a route and their share, "
        "routes and the share completed."
    )
    filterset_class = TeacherCoverageFilterSet
    service = staticmethod(services.teacher_coverage)


@register("attendance-by-event")
class AttendanceByEvent(ReportCommand):
    help = "Per event: confirmed sign-ups, teachers who attended, the share attended."

    def add_arguments(self, parser):
        parser.add_argument("--sessions-from", help="YYYY-MM-DD")
        parser.add_argument("--sessions-to", help="YYYY-MM-DD")
        parser.add_argument("--track", help="formal, non_formal or informal")
        parser.add_argument("--municipality", help="the id of the event's municipality")
        super().add_arguments(parser)

    def build(self, options):
        data = {
            name: options.get(name) or ""
            for name in ("sessions_from", "sessions_to", "track", "municipality")
        }
        scope = ReportScope(region=True)
        filters = AttendanceByEventFilterSet(data, scope=scope)
        if not filters.is_valid():
            raise CommandError(errors_text(filters.form))
        return services.attendance_by_event(scope, **filters.report_options())


@register("deficit-coverage")
class DeficitCoverage(ReportCommand):
    help = (
        "Per competency: teachers with the deficit, upcoming events with free seats that "
        "target it, their free seats, and the teachers left without one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--municipality", help="the id of the teachers' municipality")
        parser.add_argument("--track", help="formal, non_formal or informal")
        super().add_arguments(parser)

    def build(self, options):
        data = {name: options.get(name) or "" for name in ("municipality", "track")}
        scope = ReportScope(region=True)
        filters = DeficitCoverageFilterSet(data, scope=scope)
        if not filters.is_valid():
            raise CommandError(errors_text(filters.form))
        return services.deficit_coverage(scope, **filters.report_options())


@register("low-results-few-routes")
class LowResultsFewRoutes(ReportCommand):
    help = (
        "Per municipality: the mean of the teachers' latest diagnostic scores against the "
        "routes per teacher; the municipalities low on both are flagged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--score-below", help="a percentage (default: the deficit threshold)")
        parser.add_argument("--routes-per-teacher-below", help="e.g. 0.2 (the default)")
        parser.add_argument(
            "--flagged-only", action="store_true", help="list the flagged municipalities alone"
        )
        super().add_arguments(parser)

    def build(self, options):
        data = {
            name: options.get(name) or "" for name in ("score_below", "routes_per_teacher_below")
        }
        if options.get("flagged_only"):
            data["flagged_only"] = "1"
        scope = ReportScope(region=True)
        filters = LowResultsFewRoutesFilterSet(data, scope=scope)
        if not filters.is_valid():
            raise CommandError(errors_text(filters.form))
        return services.low_results_few_routes(scope, **filters.report_options())


@register("routes-by-source")
class RoutesBySource(RoutesByStatus):
    help = (
        "Routes per municipality (or school) and source: created by staff or drafted from "
        "diagnostics."
    )
    filterset_class = RoutesBySourceFilterSet
    service = staticmethod(services.routes_by_source)

    def add_arguments(self, parser):
        parser.add_argument(
            "--group-by", default=services.GROUP_BY_MUNICIPALITY, help="municipality or school"
        )
        parser.add_argument("--created-from", help="YYYY-MM-DD")
        parser.add_argument("--created-to", help="YYYY-MM-DD")
        ReportCommand.add_arguments(self, parser)


@register("indicators")
class Indicators(TeacherCoverage):
    help = (
        "Seed 004's indicators per municipality (or school) and for the region: teachers with "
        "a route, routes carried out, teachers who presented the results, in per cent."
    )
    service = staticmethod(services.indicators)
