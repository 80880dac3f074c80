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
