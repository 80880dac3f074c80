"""Write a report as CSV (to standard output or a file) or as an XLSX workbook.

    manage.py iom_report routes-by-status --as-of 2021-12-15 --format csv

Each report is a sub-command registered in wagtail_iom/reports/commands.py.
"""

from django.core.management.base import BaseCommand

from wagtail_iom.reports import commands


class Command(BaseCommand):
    help = "Write one of the centre's reports as CSV or XLSX."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="report", required=True, metavar="REPORT")
        for name, report in commands.registry.items():
            report.add_arguments(subparsers.add_parser(name, help=report.help))

    def handle(self, *args, report, **options):
        commands.run(report, options, stdout=self.stdout)
