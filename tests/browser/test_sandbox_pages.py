"""The demo institute in a real browser: the public home page and the admin's directory."""

import re

import pytest
from django.utils import timezone

from sandbox.home.demo.site import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.browser.conftest import finish_animations
from wagtail_iom.models import School

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_reads_well_and_is_accessible(page, demo_site, screenshot, axe_violations):
    page.goto(demo_site.url + "/")
    assert page.locator("h1").inner_text() == "Индивидуальные образовательные маршруты педагогов"
    assert page.get_by_role("heading", name="Рамка профессиональных компетенций").is_visible()
    assert page.locator("html").get_attribute("lang") == "ru"
    screenshot(page, "home-desktop")
    assert axe_violations(page) == []

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(demo_site.url + "/")
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "home-phone")
    assert axe_violations(page) == []


def test_skip_link_reaches_the_content(page, demo_site):
    page.goto(demo_site.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Перейти к содержанию" in focused


def login(page, base_url):
    page.goto(base_url + "/admin/login/")
    page.fill("#id_username", ADMIN_USERNAME)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/admin/")


def test_admin_login_and_the_directory(page, demo_site, screenshot, tmp_path):
    page.goto(demo_site.url + "/admin/")
    screenshot(page, "admin-login")
    login(page, demo_site.url)
    assert page.get_by_role("button", name="Справочники").is_visible()
    screenshot(page, "admin-dashboard")

    page.goto(demo_site.url + "/admin/iom/schools/?q=гимназ")
    rows = page.locator("table.listing tbody tr")
    assert rows.count() > 0
    assert all("Гимназия" in text for text in rows.all_inner_texts())
    screenshot(page, "admin-schools-search")

    csv_file = tmp_path / "новые школы.csv"
    csv_file.write_bytes(
        (
            "Муниципалитет;Образовательная организация;Тип;ИНН\r\n"
            "Гусевский городской округ;МАОУ «Лицей № 9» г. Гусева;лицей;\r\n"
            ";Школа без муниципалитета;;\r\n"
        ).encode("cp1251")
    )
    page.goto(demo_site.url + "/admin/iom/directory-import/")
    screenshot(page, "admin-import-upload")
    page.set_input_files("input[type=file]", str(csv_file))
    page.get_by_role("button", name="Предпросмотр импорта").click()
    page.wait_for_url("**/directory-import/*/")
    assert page.get_by_text("Не указан муниципалитет.").is_visible()
    screenshot(page, "admin-import-preview")
    page.get_by_role("button", name="Применить импорт").click()
    page.wait_for_load_state()
    assert page.get_by_text("Импорт применён").is_visible()
    screenshot(page, "admin-import-applied")
    assert School.objects.filter(name="МАОУ «Лицей № 9» г. Гусева").exists()


def test_the_access_log_shows_who_read_a_teachers_data(page, demo_site, screenshot):
    from wagtail_iom.models import TeacherProfile

    teacher = TeacherProfile.objects.order_by("pk").first()
    login(page, demo_site.url)
    page.goto(f"{demo_site.url}/admin/iom/teachers/edit/{teacher.pk}/")
    page.wait_for_load_state()
    page.goto(demo_site.url + "/admin/")
    page.get_by_role("button", name=re.compile("Отч[её]ты")).click()
    page.get_by_role("link", name="Журнал доступа").click()
    page.wait_for_url("**/admin/iom/access-log/")
    rows = page.locator("table.listing tbody tr")
    assert rows.count() == 1
    assert teacher.last_name in rows.first.inner_text()
    assert "Открыт профиль" in rows.first.inner_text()
    screenshot(page, "admin-access-log")
    site_history = demo_site.url + "/admin/reports/site-history/"
    page.goto(site_history)
    assert page.locator("table.listing tbody tr").count() > 0
    screenshot(page, "admin-site-history")


def test_the_routes_by_status_report(page, demo_site, screenshot):
    login(page, demo_site.url)
    page.goto(demo_site.url + "/admin/")
    page.get_by_role("button", name=re.compile("Отч[её]ты")).click()
    page.get_by_role("link", name="Маршруты по статусам").click()
    page.wait_for_url("**/admin/iom/reports/routes-by-status/**")
    screenshot(page, "admin-report-routes-by-status")
    table = page.locator("table.iom-report-table")
    assert table.is_visible()
    assert "Итого" in table.inner_text()
    assert page.locator(".iom-report svg[role=img]").count() == 1
    for name, shot in (
        ("Охват педагогов", "admin-report-teacher-coverage"),
        ("Посещаемость мероприятий", "admin-report-attendance-by-event"),
        ("Покрытие дефицитов", "admin-report-deficit-coverage"),
        ("Низкие результаты и мало маршрутов", "admin-report-low-results-few-routes"),
        ("Маршруты по источникам", "admin-report-routes-by-source"),
        ("Показатели (004)", "admin-report-indicators"),
    ):
        page.goto(demo_site.url + "/admin/")
        page.get_by_role("button", name=re.compile("Отч[её]ты")).click()
        page.get_by_role("link", name=name).click()
        page.wait_for_load_state()
        assert page.locator(".iom-report svg[role=img]").count() == 1, name
        assert "Итого" in page.locator("table.iom-report-table").inner_text(), name
        screenshot(page, shot)


def test_a_diagnostics_import_drafts_a_route(page, demo_site, screenshot, axe_violations, tmp_path):
    """Upload → preview → apply (the progress bar) → the route drafted from the result in the
    routes' listing, filtered by its source (issue: regional diagnostics at scale)."""
    import datetime

    from tests.factories import make_teacher
    from wagtail_iom.models import Route

    # A registered teacher of a demo school, without a route yet.
    school = School.objects.order_by("pk").first()
    teacher = make_teacher(
        username="diagnosed",
        last_name="Диагностова",
        school=school,
        municipality=school.municipality,
    )
    teacher.user.email = "diagnosed@demo.example"
    teacher.user.save()
    day = (timezone.localdate() - datetime.timedelta(days=2)).strftime("%d.%m.%Y")
    csv_file = tmp_path / "diagnostics.csv"
    csv_file.write_bytes(
        (
            "Электронная почта;Процедура;Дата;Общий балл;Уровень;SUBJ-1;META-1;DIG-1\r\n"
            f"{teacher.user.email};regional;{day};31,5;low;20;35;80\r\n"
            f"nobody-here@example.org;regional;01.01.2999;40;low;;;\r\n"
        ).encode("cp1251")
    )
    login(page, demo_site.url)
    page.goto(demo_site.url + "/admin/iom/diagnostics-import/")
    page.set_input_files("input[type=file]", str(csv_file))
    page.get_by_role("button", name="Предпросмотр импорта").click()
    page.wait_for_url("**/diagnostics-import/*/")
    assert page.locator('[data-count="rejected"]').inner_text() == "1"
    screenshot(page, "admin-diagnostics-import-preview")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Применить импорт").click()
    page.wait_for_load_state()
    progress = page.locator("#iom-import-progress")
    progress.wait_for()
    page.wait_for_function(
        "document.getElementById('iom-import-progress').value === 100", timeout=20000
    )
    finish_animations(page)
    screenshot(page, "admin-diagnostics-import-applied")
    assert axe_violations(page) == []

    draft = Route.objects.get(teacher=teacher, source="diagnostics")
    assert draft.status == "development"
    page.goto(demo_site.url + "/admin/iom/routes/?source=diagnostics")
    rows = page.locator("table.listing tbody tr")
    assert rows.count() == 1
    assert teacher.last_name in rows.first.inner_text()
    finish_animations(page)
    screenshot(page, "admin-routes-drafted-from-diagnostics")
    # Wagtail's own filters button in the header shows the number of active filters, which its
    # accessible name ("filters") does not hold: Wagtail's markup, left to Wagtail.
    assert [
        violation
        for violation in axe_violations(page)
        if not (
            violation.startswith("label-content-name-mismatch")
            and "w-slim-header-action-button" in violation
        )
    ] == []
