"""Spreadsheets the package gives out (CSV and XLSX exports, import reports): one place that
keeps a cell from running as a formula.

A value that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is what
spreadsheet programs read as a formula (``=HYPERLINK(…)`` in a teacher's name would become a
live link in a methodist's Excel). Following OWASP's advice on CSV injection, such a cell is
written with a leading apostrophe, which the programs show as text and do not evaluate. XLSX
exports store every cell as a string already (Wagtail's export mixin), so only CSV needs it.
"""

import csv

from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a spreadsheet shows it but never evaluates: text that starts like a
    formula gets a leading apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeCSVExportMixin:
    """For Wagtail's listings with ``list_export``: every CSV cell goes through
    :func:`safe_cell`. Put it first among the bases of the index view."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV:
            return safe_cell(value)
        return value


class SafeCSVWriter:
    """``csv.writer`` whose rows go through :func:`safe_cell`."""

    def __init__(self, stream, **options):
        self.writer = csv.writer(stream, **options)

    def writerow(self, row):
        return self.writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **options):
    """A CSV writer for any file the package gives out."""
    return SafeCSVWriter(stream, **options)


def file_is_downloadable(export, now=None) -> bool:
    """Whether a built export's file can be downloaded now: ready, with its file, and its
    link not expired (the personal-data and the municipal route exports)."""
    now = now or timezone.now()
    return bool(
        export is not None
        and export.status == "ready"
        and export.file
        and export.expires_at
        and export.expires_at > now
    )
