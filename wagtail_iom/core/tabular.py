"""Reading uploaded tables (CSV in UTF-8 or cp1251, XLSX) into rows of text.

Russian offices save CSV from Excel in cp1251 with ``;`` between columns; others send UTF-8
with commas or tabs. Both are read here, so imports need not care where a file came from.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _


class TableReadError(ValueError):
    """The file cannot be read as a table; the message says why, in the user's language."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    # (line number as the user sees it in the file, the row's cells as text)
    rows: list[tuple[int, list[str]]]
    encoding: str = ""
    # {line: reason} of lines that could not be decoded (read with ``per_line=True`` only)
    bad_lines: dict = field(default_factory=dict)


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


# UTF-8 Cyrillic read as Windows-1251 and saved again ("РњР°СЂРёСЏ" for "Мария"): "Р" or "С"
# followed by a character that Windows-1251 puts at 0x80–0xBF, a pair that Russian text never
# has.
_MOJIBAKE = re.compile(
    "[РС][\u0402\u0403\u201a\u0453\u201e\u2026\u2020\u2021\u20ac\u2030\u0409\u2039"
    "\u040a\u040c\u040b\u040f\u0452\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u2122"
    "\u0459\u203a\u045a\u045c\u045b\u045f\u00a0\u040e\u045e\u0408\u00a4\u0490\u00a6"
    "\u00a7\u0401\u00a9\u0404\u00ab\u00ac\u00ad\u00ae\u0407\u00b0\u00b1\u0406\u0456"
    "\u0491\u00b5\u00b6\u00b7\u0451\u2116\u0454\u00bb\u0458\u0405\u0455\u0457]"
)


def looks_garbled(text: str) -> bool:
    """Whether a line of text was read in a wrong encoding somewhere on its way: it holds
    replacement characters, or UTF-8 Cyrillic seen as Windows-1251 ("РњР°СЂРёСЏ")."""
    return "\ufffd" in text or len(_MOJIBAKE.findall(text)) >= 2


def decode_csv_lines(content: bytes) -> tuple[str, str, dict]:
    """Decode CSV bytes line by line, for files put together from several sources.

    The whole file as UTF-8 first; else each line as UTF-8, then as Windows-1251. Returns the
    text, the encoding ("utf-8", "cp1251" or "mixed") and ``{line: reason}`` for the lines
    that neither decodes or that look garbled; those lines are left empty in the text (their
    numbers stay as in the file).
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    bad = {}
    wrong = _(
        "This line is neither UTF-8 nor Windows-1251 text: it was saved in another encoding. "
        "Save the file as CSV (UTF-8) and upload it again."
    )
    garbled = _(
        "This line was converted to a wrong encoding before it reached the file (it reads "
        "like “РњР°СЂРёСЏ”). Retype it or take it from the original and upload the file again."
    )
    if text is not None:
        lines = text.split("\n")
        for number, line in enumerate(lines, start=1):
            if looks_garbled(line):
                bad[number] = garbled
                lines[number - 1] = ""
        return "\n".join(lines), "utf-8", bad
    decoded = []
    encodings = set()
    for number, raw in enumerate(content.split(b"\n"), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        for encoding in ("utf-8", "cp1251"):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            if any(byte >= 0x80 for byte in raw):
                encodings.add(encoding)
            break
        else:
            bad[number] = wrong
            decoded.append("")
            continue
        if looks_garbled(line):
            bad[number] = garbled
            line = ""
        decoded.append(line)
    encoding = "mixed" if len(encodings) > 1 else (encodings.pop() if encodings else "utf-8")
    return "\n".join(decoded), encoding, bad


def _sniff_dialect(text: str):
    sample = text[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:

        class Semicolon(csv.excel):
            delimiter = ";" if sample.count(";") >= sample.count(",") else ","

        return Semicolon


def read_csv(content: bytes, max_rows: int, per_line: bool = False) -> Table:
    """``per_line``: decode line by line (:func:`decode_csv_lines`) and report the lines that
    cannot be read in ``Table.bad_lines`` instead of refusing the file."""
    bad_lines = {}
    if per_line:
        text, encoding, bad_lines = decode_csv_lines(content)
    else:
        text, encoding = decode_csv_bytes(content)
    if "\x00" in text:
        raise TableReadError(_("The file contains binary data: it is not a CSV table."))
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_sniff_dialect(text))
    try:
        table = _collect(((reader.line_num, row) for row in reader), max_rows, encoding)
    except csv.Error as exc:  # a cell over the csv module's field limit, a stray quote...
        raise TableReadError(
            _(
                "The file could not be read as a CSV table near line %(line)d: a cell is too "
                "long or a quote is not closed. Check the file in a spreadsheet and save it "
                "again as CSV."
            )
            % {"line": reader.line_num}
        ) from exc
    if bad_lines:
        table = Table(table.headers, table.rows, table.encoding, bad_lines)
    return table


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


def read_table(content: bytes, file_name: str, max_rows: int, per_line: bool = False) -> Table:
    """Read an uploaded CSV or XLSX file; raise :class:`TableReadError` with a clear message.

    ``per_line``: CSV lines in a wrong encoding are reported in ``Table.bad_lines`` rather
    than refusing the whole file (see :func:`read_csv`).
    """
    name = file_name.lower()
    if name.endswith(XLSX_EXTENSIONS) or content[:2] == b"PK":
        return read_xlsx(content, max_rows)
    if name.endswith(CSV_EXTENSIONS):
        return read_csv(content, max_rows, per_line=per_line)
    raise TableReadError(
        _("Upload a .csv or .xlsx file; “%(name)s” is neither.") % {"name": file_name}
    )
