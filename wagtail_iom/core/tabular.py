"""Reading uploaded tables (CSV in UTF-8 or cp1251, XLSX) into rows of text.

Russian offices save CSV from Excel in cp1251 with ``;`` between columns; others send UTF-8
with commas or tabs. Both are read here, so imports need not care where a file came from.
"""

import csv
import io
import zipfile
from dataclasses import dataclass

from django.utils.translation import gettext as _


class TableReadError(ValueError):
    """The file cannot be read as a table; the message says why, in the user's language."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    # (line number as the user sees it in the file, the row's cells as text)
    rows: list[tuple[int, list[str]]]
    encoding: str = ""


CSV_EXTENSIONS = (".csv", ".txt")
XLSX_EXTENSIONS = (".xlsx",)


def decode_csv_bytes(content: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM) first, then cp1251."""
    try:
        return content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1251"), "cp1251"
    except UnicodeDecodeError as exc:  # cp1251 leaves only 0x98 undefined
        raise TableReadError(
            _(
                "The file is neither UTF-8 nor Windows-1251 text. Save it as CSV (UTF-8) and try again."
            )
        ) from exc


def _sniff_dialect(text: str):
    sample = text[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:

        class Semicolon(csv.excel):
            delimiter = ";" if sample.count(";") >= sample.count(",") else ","

        return Semicolon


def read_csv(content: bytes, max_rows: int) -> Table:
    text, encoding = decode_csv_bytes(content)
    if "\x00" in text:
        raise TableReadError(_("The file contains binary data: it is not a CSV table."))
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_sniff_dialect(text))
    return _collect(((reader.line_num, row) for row in reader), max_rows, encoding)


#: The most an uploaded workbook may unpack to: an .xlsx is a zip, and a small zip can hold
#: gigabytes of XML.
XLSX_MAX_UNPACKED_SIZE = 200 * 1024 * 1024


def _damaged_workbook():
    return TableReadError(
        _(
            "The file could not be read as an Excel workbook (.xlsx): it is damaged or is not "
            "a workbook. Open it in Excel, save it again as .xlsx (or as CSV) and upload that."
        )
    )


def read_xlsx(content: bytes, max_rows: int) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _damaged_workbook() from exc
    if unpacked > XLSX_MAX_UNPACKED_SIZE:
        raise TableReadError(
            _("The workbook unpacks to more than %(size)d MB. Split it into smaller files.")
            % {"size": XLSX_MAX_UNPACKED_SIZE // (1024 * 1024)}
        )
    # A damaged workbook fails in openpyxl or the XML parser with almost any exception (a
    # ParseError in the workbook, the styles or a sheet, a KeyError for a missing part, an
    # IndexError for a workbook without sheets...), while opening or while reading rows: any
    # of them means the same thing to the user.
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise _damaged_workbook() from exc
    try:
        sheet = workbook.worksheets[0]
        rows = (
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _collect(rows, max_rows, "xlsx")
    except TableReadError:
        raise
    except Exception as exc:
        raise _damaged_workbook() from exc
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores codes such as INN or OKTMO typed as numbers as floats.
        return str(int(value))
    return str(value)


def _collect(numbered_rows, max_rows: int, encoding: str) -> Table:
    headers = None
    rows = []
    for line, cells in numbered_rows:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
            continue
        if len(rows) >= max_rows:
            raise TableReadError(
                _("The file has more than %(max)d rows. Split it into smaller files.")
                % {"max": max_rows}
            )
        rows.append((line, cells))
    if headers is None:
        raise TableReadError(
            _("The file is empty: it needs a header row and at least one data row.")
        )
    return Table(headers=headers, rows=rows, encoding=encoding)


def read_table(content: bytes, file_name: str, max_rows: int) -> Table:
    """Read an uploaded CSV or XLSX file; raise :class:`TableReadError` with a clear message."""
    name = file_name.lower()
    if name.endswith(XLSX_EXTENSIONS) or content[:2] == b"PK":
        return read_xlsx(content, max_rows)
    if name.endswith(CSV_EXTENSIONS):
        return read_csv(content, max_rows)
    raise TableReadError(
        _("Upload a .csv or .xlsx file; “%(name)s” is neither.") % {"name": file_name}
    )
