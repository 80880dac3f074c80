"""A report's table written as CSV or as an XLSX workbook (the command line's output; the
admin view exports through Wagtail's ReportView with the same rows)."""

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from wagtail_iom.core.exports import csv_writer


def write_csv(report, stream):
    """Heading, one line per row, the totals last; no cell can run as a formula."""
    csv_writer(stream).writerows(report.table())


def write_xlsx(report, output, title="Report"):
    """The same table as one worksheet; every text cell is stored as text, never a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for values in report.table():
        sheet.append(safe_cells(sheet, values))
    workbook.save(output)


def safe_cells(sheet, values):
    """A row of a write-only ``sheet``: a text that starts with "=" stays text, never a
    formula."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value)
        if cell.data_type == "f":
            cell.data_type = "s"
        cells.append(cell)
    return cells
