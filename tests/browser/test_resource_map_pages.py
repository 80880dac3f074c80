"""The resource map in a real browser: filter by track, switch to the calendar, open an event."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_switch_to_calendar_and_open_an_event(page, demo_site, screenshot, axe_violations):
    page.goto(demo_site.url + "/resource-map/")
    assert page.locator("h1").inner_text() == "Ресурсная карта"
    screenshot(page, "map-list")
    assert axe_violations(page) == []

    page.select_option("#id_track", "formal")
    page.get_by_role("button", name="Показать мероприятия").click()
    page.wait_for_url("**/resource-map/?*track=formal*")
    cards = page.locator(".iom-event-card")
    assert cards.count() > 0
    for text in cards.all_inner_texts():
        assert "Формальное образование" in text
    screenshot(page, "map-list-formal")

    feed = page.locator('link[rel="alternate"][type="text/calendar"]').get_attribute("href")
    assert "track=formal" in feed

    page.get_by_role("link", name="Календарь").click()
    page.wait_for_url("**/resource-map/calendar/?*track=formal*")
    assert page.locator("table.iom-calendar").is_visible()
    screenshot(page, "map-calendar")
    assert axe_violations(page) == []

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "map-calendar-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(demo_site.url + "/resource-map/?track=formal")
    first = page.locator(".iom-event-card__title a").first
    title = first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title
    assert page.get_by_role("link", name="Добавить в мой календарь (.ics)").is_visible()
    screenshot(page, "event-page")
    assert axe_violations(page) == []


def test_cancelled_event_says_why(page, demo_site, screenshot):
    page.goto(demo_site.url + "/resource-map/?kind=round_table")
    cancelled = page.locator(".iom-event-card--cancelled").first
    assert cancelled.is_visible()
    assert "Отменено" in cancelled.inner_text()
    cancelled.locator(".iom-event-card__title a").click()
    page.wait_for_load_state()
    assert page.locator(".iom-status--cancelled").is_visible()
    screenshot(page, "event-page-cancelled")
