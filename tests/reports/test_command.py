"""``manage.py iom_report routes-by-status``: CSV on standard output, XLSX to a file, errors
as messages."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import MunicipalityFactory, SchoolFactory
from tests.reports.helpers import at, make_route, teacher_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

ARGS = [
    "routes-by-status",
    "--group-by",
    "municipality",
    "--as-of",
    "2021-12-15",
    "--created-from",
    "2021-05-01",
    "--created-to",
    "2021-12-31",
]


@pytest.fixture
def data():
    first = MunicipalityFactory(name="Балашиха")
    second = MunicipalityFactory(name="=HYPERLINK(1)")
    MunicipalityFactory(name="Власиха")
    teacher = teacher_in(first)
    make_route(teacher, at(datetime.date(2021, 6, 1)))
    make_route(
        teacher, at(datetime.date(2021, 6, 1)), [(at(datetime.date(2021, 7, 1)), "approved")]
    )
    make_route(
        teacher_in(second),
        at(datetime.date(2021, 6, 1)),
        [(at(datetime.date(2021, 7, 1)), "completed")],
    )
    make_route(teacher, at(datetime.date(2021, 4, 1)))  # created before the period
    return first


def run(*args):
    out = io.StringIO()
    call_command("iom_report", *args, stdout=out)
    return out.getvalue()


def test_csv_on_standard_output(data):
    rows = list(csv.reader(io.StringIO(run(*ARGS, "--format", "csv"))))
    assert rows == [
        ["Municipality", "In development", "In implementation", "Completed"],
        ["'=HYPERLINK(1)", "0", "0", "1"],
        ["Балашиха", "1", "1", "0"],
        ["Власиха", "0", "0", "0"],
        ["Total", "1", "1", "1"],
    ]


def test_csv_is_the_default_format(data):
    assert run(*ARGS) == run(*ARGS, "--format", "csv")


def test_group_by_school(data):
    SchoolFactory(municipality=data, short_name="СОШ № 1")
    rows = list(csv.reader(io.StringIO(run(*ARGS[:2], "school", *ARGS[3:]))))
    assert rows[0][0] == "School"
    assert rows[1:] == [
        ["СОШ № 1", "0", "0", "0"],
        ["Not specified", "1", "1", "1"],
        ["Total", "1", "1", "1"],
    ]


def test_xlsx_to_a_file(data, tmp_path):
    target = tmp_path / "report.xlsx"
    assert run(*ARGS, "--format", "xlsx", "--output", str(target)) == ""
    sheet = openpyxl.load_workbook(target).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Municipality", "In development", "In implementation", "Completed"]
    assert values[1] == ["=HYPERLINK(1)", 0, 0, 1]
    assert sheet.cell(row=2, column=1).data_type == "s"  # text, not a formula
    assert values[-1] == ["Total", 1, 1, 1]


def test_csv_to_a_file(data, tmp_path):
    target = tmp_path / "report.csv"
    run(*ARGS, "--output", str(target))
    assert target.read_text(encoding="utf-8").splitlines()[-1] == "Total,1,1,1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2021-13-01"], "--as-of: Enter a valid date."),
        (["--created-from", "2021-12-31", "--created-to", "2021-05-01"], "--created-to: The end"),
        (["--group-by", "teacher"], "--group-by: Select a valid choice."),
        (["--format", "xlsx"], "needs --output"),
    ],
)
def test_bad_input_is_a_message(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("routes-by-status", *args)


def test_an_unknown_report_is_a_message(db):
    with pytest.raises(CommandError):
        run("nothing-like-it")
