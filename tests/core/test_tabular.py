import io

import pytest
from openpyxl import Workbook

from wagtail_iom.core.tabular import TableReadError, read_table

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = pytest.mark.usefixtures("english_messages")

HEADER = "Муниципалитет;Образовательная организация;ИНН\r\n"
ROW = "Гусевский городской округ;Гимназия № 1 г. Гусева;3900100010\r\n"


def test_utf8_with_semicolons():
    table = read_table((HEADER + ROW).encode("utf-8"), "a.csv", max_rows=10)
    assert table.headers == ["Муниципалитет", "Образовательная организация", "ИНН"]
    assert table.rows == [
        (2, ["Гусевский городской округ", "Гимназия № 1 г. Гусева", "3900100010"])
    ]
    assert table.encoding == "utf-8"


def test_utf8_with_bom_and_commas():
    text = 'municipality,school\nГусевский городской округ,"Школа № 2, корпус 1"\n'
    table = read_table(b"\xef\xbb\xbf" + text.encode("utf-8"), "a.csv", max_rows=10)
    assert table.headers == ["municipality", "school"]
    assert table.rows[0][1] == ["Гусевский городской округ", "Школа № 2, корпус 1"]


def test_cp1251_as_excel_saves_it():
    table = read_table((HEADER + ROW).encode("cp1251"), "a.csv", max_rows=10)
    assert table.encoding == "cp1251"
    assert table.rows[0][1][1] == "Гимназия № 1 г. Гусева"


def test_blank_lines_are_skipped_and_line_numbers_are_the_files():
    content = (HEADER + "\r\n;;\r\n" + ROW).encode("utf-8")
    table = read_table(content, "a.csv", max_rows=10)
    assert [line for line, _cells in table.rows] == [4]


def test_xlsx_numbers_become_text_without_dot_zero():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Муниципалитет", "ИНН", "ОКТМО"])
    sheet.append(["Гусевский городской округ", 3900100010, 27710000.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "schools.xlsx", max_rows=10)
    assert table.rows == [(2, ["Гусевский городской округ", "3900100010", "27710000"])]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "a.csv", "empty"),
        (b"PK\x03\x04broken", "a.xlsx", "Excel"),
        (b"\x00\x01\x02", "a.csv", "binary"),
        (b"a;b\n", "a.pdf", ".csv"),
    ],
)
def test_unreadable_files_raise_a_clear_error(content, name, message):
    with pytest.raises(TableReadError, match=message):
        read_table(content, name, max_rows=10)


def test_too_many_rows():
    content = (HEADER + ROW * 3).encode("utf-8")
    with pytest.raises(TableReadError, match="more than 2 rows"):
        read_table(content, "a.csv", max_rows=2)


def _workbook_bytes():
    workbook = Workbook()
    workbook.active.append(["Муниципалитет", "ИНН"])
    workbook.active.append(["Гусевский городской округ", "3900100010"])
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _with_part(content, part, data):
    """The workbook ``content`` with its zip member ``part`` replaced by ``data``."""
    import zipfile

    source, target = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for item in source.infolist():
            archive.writestr(item, data if item.filename == part else source.read(item))
    return target.getvalue()


def damaged_workbook(part, data):
    """A small valid workbook with its zip member ``part`` replaced by ``data``."""
    return _with_part(_workbook_bytes(), part, data)


def zip_of(name, data):
    import zipfile

    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(name, data)
    return target.getvalue()


@pytest.mark.parametrize(
    ("damage", "name"),
    [
        (lambda c: _with_part(c, "xl/workbook.xml", b"<workbook><not-closed>"), "a.xlsx"),
        (
            lambda c: _with_part(c, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row"),
            "a.xlsx",
        ),
        (lambda c: _with_part(c, "xl/styles.xml", b"\x00\x01 not xml"), "a.xlsx"),
        (lambda c: _with_part(c, "[Content_Types].xml", b"<Types/>"), "a.xlsx"),
        (lambda c: zip_of("readme.txt", b"not a workbook"), "list.csv"),
        (lambda c: c[: len(c) // 2], "a.xlsx"),
    ],
    ids=[
        "bad-workbook-xml",
        "bad-sheet",
        "bad-styles",
        "no-content-types",
        "zip-renamed-csv",
        "truncated",
    ],
)
def test_damaged_workbooks_are_a_clear_error(damage, name):
    with pytest.raises(TableReadError, match="damaged or is not a workbook"):
        read_table(damage(_workbook_bytes()), name, max_rows=10)


def test_a_workbook_that_unpacks_to_too_much_is_refused(monkeypatch):
    from wagtail_iom.core import tabular

    monkeypatch.setattr(tabular, "XLSX_MAX_UNPACKED_SIZE", 100)
    with pytest.raises(TableReadError, match="unpacks to more than"):
        read_table(_workbook_bytes(), "a.xlsx", max_rows=10)


def test_per_line_decoding_reads_mixed_files_and_reports_lines_it_cannot():
    from wagtail_iom.core.tabular import read_table

    content = (
        "имя;город\n".encode("cp1251")
        + "Мария;Калининград\n".encode()
        + "РњР°СЂРёСЏ;x\n".encode()
        + b"\x98;y\n"
        + "Анна;Омск\n".encode("cp1251")
    )
    table = read_table(content, "mixed.csv", max_rows=100, per_line=True)
    assert table.encoding == "mixed"
    assert table.headers == ["имя", "город"]
    assert table.rows == [(2, ["Мария", "Калининград"]), (5, ["Анна", "Омск"])]
    assert set(table.bad_lines) == {3, 4}


def test_a_cell_over_the_csv_field_limit_is_a_clear_error():
    from wagtail_iom.core.tabular import TableReadError, read_table

    content = b"email;date\n" + b'"' + b"x" * 200_000 + b'";1\n'
    with pytest.raises(TableReadError, match="could not be read as a CSV table near line"):
        read_table(content, "big.csv", max_rows=10)
