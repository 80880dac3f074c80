"""The monthly export of routes in a real browser: *Reports → Monthly export of routes* as the
methodist of a municipality and as the head of the centre ("Export now" builds the file, Celery
runs eagerly in the tests, the list shows it with its link), the download of the XLSX, and the
pages the link shows when it has expired (410) or has been tampered with (404)."""

import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.browser.test_route_pages import admin_login, admin_screenshot
from wagtail_iom.conf import iom_settings
from wagtail_iom.models import Municipality, MunicipalRouteExport, StaffMembership
from wagtail_iom.reports import municipal_export

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = reverse("wagtail_iom_reports:municipal_export")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def site(demo_site, settings, tmp_path):
    """The demo site; the exports' files in a folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path)
    return demo_site


def methodists_municipality():
    methodist = get_user_model().objects.get(username="methodist")
    return StaffMembership.objects.get(user=methodist).municipality


def export_row(page, export):
    return page.locator(f"#iom-municipal-exports tr[data-export='{export.pk}']")


def export_now(page, base):
    page.goto(base + SCREEN)
    page.locator("#iom-municipal-export-form button[type=submit]").click()
    page.wait_for_url(base + SCREEN)


def assert_workbook(body, municipality):
    rows = list(load_workbook(io.BytesIO(body), read_only=True).active.values)
    assert rows[0][0] == "Педагог"  # the headings in the requester's language
    routes = MunicipalRouteExport.objects.get(municipality=municipality).routes
    assert len(rows) == 1 + routes


def test_the_methodist_exports_the_municipality_and_downloads_it(
    page, site, screenshot, axe_violations
):
    base = site.url
    municipality = methodists_municipality()
    admin_login(page, base, "methodist")

    # Reached from the menu: Reports → Monthly export of routes.
    page.get_by_role("button", name=re.compile("Отч[её]ты")).click()
    page.get_by_role("link", name="Ежемесячная выгрузка маршрутов").click()
    page.wait_for_url(base + SCREEN)
    assert page.locator("h1").inner_text().strip() == "Ежемесячная выгрузка маршрутов"
    assert page.locator("#iom-municipal-exports-empty").inner_text() == "Выгрузок пока нет."
    # The methodist's select holds the own municipality only.
    options = page.locator("#id_municipality option")
    assert options.all_inner_texts() == [municipality.name]
    assert page.locator("label[for=id_municipality]").is_visible()
    days = str(iom_settings.MUNICIPAL_EXPORT_DAYS)
    assert days in page.locator(".nice-padding > p").first.inner_text()
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "municipal-export-methodist-empty")

    export_now(page, base)
    export = MunicipalRouteExport.objects.get(municipality=municipality)
    assert export.status == "ready" and export.requested_by.username == "methodist"
    assert export.month == municipal_export.current_month()
    message = page.locator(".messages .success")
    assert "Выгрузка готова" in message.inner_text() and municipality.name in message.inner_text()
    row = export_row(page, export)
    assert municipality.name in row.inner_text()
    assert "Готова" in row.inner_text()
    # Each row's link names its municipality and month for screen readers.
    month = export.month.strftime("%m.%Y")
    download = row.get_by_role("link", name=f"Скачать {municipality.name}, {month}", exact=True)
    # The links' column is named for screen readers only.
    header = page.get_by_role("columnheader", name="Файл")
    assert header.locator(".w-sr-only").bounding_box()["width"] <= 1
    assert download.is_visible()
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "municipal-export-methodist-ready")

    # The link downloads the XLSX file as an attachment.
    with page.expect_download() as event:
        download.click()
    file = event.value
    assert file.suggested_filename == municipal_export.filename(export)
    assert file.suggested_filename.endswith(".xlsx")
    with open(file.path(), "rb") as handle:
        assert_workbook(handle.read(), municipality)
    # The same link with the browser's cookies: a 200 with the XLSX type, as an attachment.
    response = page.request.get(base + download.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith("attachment")


def test_the_methodists_form_refuses_another_municipality(page, site, screenshot, axe_violations):
    """The select offers only the own municipality, so another one is no choice in the UI: the
    option's value is changed in the page (as a crafted request would), the form says what to
    correct, nothing is exported."""
    base = site.url
    own = methodists_municipality()
    other = Municipality.objects.exclude(pk=own.pk).order_by("pk").first()
    admin_login(page, base, "methodist")
    page.goto(base + SCREEN)
    page.eval_on_selector(
        "#id_municipality option", "(option, value) => option.value = value", str(other.pk)
    )
    page.locator("#iom-municipal-export-form button[type=submit]").click()
    page.wait_for_load_state()
    error = page.locator("#iom-municipal-export-form .error-message")
    assert (
        error.inner_text().strip() == "Выберите муниципалитет из списка: выгружать можно только их."
    )
    assert not MunicipalRouteExport.objects.exists()
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "municipal-export-form-error")


def test_the_centre_head_exports_any_municipality(page, site, screenshot, axe_violations):
    base = site.url
    own = methodists_municipality()
    other = Municipality.objects.exclude(pk=own.pk).order_by("name").first()
    # The methodist's export of the month is already there: the centre sees it too.
    methodist = get_user_model().objects.get(username="methodist")
    mine = municipal_export.build(own.pk, municipal_export.current_month(), methodist.pk)

    admin_login(page, base, "centre")
    page.goto(base + SCREEN)
    assert page.locator("#id_municipality option").count() == Municipality.objects.count()
    page.select_option("#id_municipality", str(other.pk))
    page.locator("#iom-municipal-export-form button[type=submit]").click()
    page.wait_for_url(base + SCREEN)
    export = MunicipalRouteExport.objects.get(municipality=other)
    assert export.status == "ready" and export.requested_by.username == "centre"
    assert export_row(page, export).is_visible() and export_row(page, mine).is_visible()
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "municipal-export-centre")

    # The centre head downloads the methodist's municipality's file too.
    with page.expect_download() as event:
        export_row(page, mine).get_by_role("link", name="Скачать").click()
    with open(event.value.path(), "rb") as handle:
        assert_workbook(handle.read(), own)


def test_an_expired_and_a_tampered_link_show_a_clear_page(page, site, screenshot, axe_violations):
    base = site.url
    municipality = methodists_municipality()
    export = municipal_export.build(municipality.pk, municipal_export.current_month())
    url = reverse(
        "wagtail_iom_reports:municipal_export_download",
        args=[municipal_export.download_token(export)],
    )
    admin_login(page, base, "methodist")

    # Tampered: one character of the signature changed.
    token = municipal_export.download_token(export)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = page.goto(
        base + reverse("wagtail_iom_reports:municipal_export_download", args=[forged])
    )
    assert response.status == 404
    assert page.locator("h1").inner_text().strip() == "Ссылка не открывается"
    assert page.locator("#iom-link-refused").inner_text() == (
        "Ссылка недействительна. Откройте ссылку из письма без изменений."
    )
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "municipal-export-link-tampered")

    # Expired.
    MunicipalRouteExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = page.goto(base + url)
    assert response.status == 410
    assert page.locator("h1").inner_text().strip() == "Ссылка не открывается"
    assert page.locator("#iom-link-refused").inner_text().startswith("Срок действия ссылки истёк")
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "municipal-export-link-expired")

    # The button leads back to the screen, where the expired export has no link.
    page.get_by_role("link", name="Ежемесячная выгрузка маршрутов").last.click()
    page.wait_for_url(base + SCREEN)
    assert export_row(page, export).get_by_role("link", name="Скачать").count() == 0
