"""The teacher's cabinet in a real browser: from a new account to a waiting list and back."""

import re

import pytest
from django.core import mail

from sandbox.home.demo import teachers
from wagtail_iom.events import signup
from wagtail_iom.models import EventPage, Registration, RegistrationStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "sidorova@example.org"
PASSWORD = "уроки-2026-Калининград"


def register_confirm_and_consent(page, base):
    page.goto(base + "/iom/accounts/signup/")
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Фамилия").fill("Сидорова")
    page.get_by_label("Имя").fill("Вера")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_role("button", name="Регистрация").click()
    page.wait_for_url("**/signup/done/")
    link = re.search(r"https?://\S+/iom/accounts/confirm/\S+/", mail.outbox[-1].body).group(0)
    page.goto(base + link[link.index("/iom/") :])
    page.get_by_role("button", name="Подтвердить мой адрес").click()
    page.wait_for_load_state()
    page.goto(base + "/iom/accounts/login/?next=/iom/cabinet/")
    page.get_by_label("Электронная почта").fill(EMAIL)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Вход").click()
    page.wait_for_url("**/accounts/consent/**")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Даю согласие").click()
    page.wait_for_url("**/iom/cabinet/")


def events_in_state(state):
    """Live events where a new teacher would find the sign-up box in ``state``."""
    return [
        event
        for event in EventPage.objects.live().order_by("pk")
        if signup.signup_state(event).state == state
    ]


def test_register_consent_sign_up_wait_and_cancel(page, demo_site, screenshot, axe_violations):
    base = demo_site.url
    register_confirm_and_consent(page, base)
    assert axe_violations(page) == []
    screenshot(page, "cabinet-new-teacher")

    open_event = [e for e in events_in_state(signup.SignupState.OPEN) if not e.needs_approval][0]
    page.goto(base + open_event.url)
    page.get_by_role("button", name="Записаться").click()
    page.wait_for_load_state()
    signup_box = page.locator(".iom-signup")
    assert "Вы записаны на мероприятие." in signup_box.inner_text()
    assert "Подтверждена" in signup_box.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "event-signed-up")

    full_event = events_in_state(signup.SignupState.WAITING_LIST)[0]
    page.goto(base + full_event.url)
    page.get_by_role("button", name="Встать в лист ожидания").click()
    page.wait_for_load_state()
    registration = Registration.objects.get(event=full_event, user__email=EMAIL)
    assert registration.status == RegistrationStatus.WAITLISTED
    position = signup.waiting_position(registration)
    assert f"номером {position}" in page.locator(".iom-signup").inner_text()
    screenshot(page, "event-waiting-list")

    page.goto(base + "/iom/cabinet/registrations/")
    assert axe_violations(page) == []
    screenshot(page, "cabinet-registrations")
    row = page.locator(f"#registration-{registration.pk}")
    row.get_by_role("button", name=re.compile("Отменить запись")).click()
    page.wait_for_load_state()
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CANCELLED
    assert page.locator(f"#registration-{registration.pk}").count() == 1  # now under "earlier"
    assert axe_violations(page) == []


CABINET_PAGES = [
    ("", "cabinet-overview"),
    ("profile/", "cabinet-profile"),
    ("request/", "cabinet-request"),
    ("competencies/", "cabinet-competencies"),
    ("registrations/", "cabinet-demo-registrations"),
    ("attended/", "cabinet-attended"),
    ("calendar/", "cabinet-calendar"),
    ("my-data/", "cabinet-my-data"),
    ("my-data/withdraw/", "cabinet-withdraw-consent"),
]


def test_every_cabinet_page_of_the_demo_teacher(page, demo_site, screenshot, axe_violations):
    base = demo_site.url
    page.goto(base + "/iom/accounts/login/?next=/iom/cabinet/")
    page.get_by_label("Электронная почта").fill(teachers.TEACHER_EMAIL)
    page.get_by_label("Пароль").fill(teachers.TEACHER_PASSWORD)
    page.get_by_role("button", name="Вход").click()
    page.wait_for_url("**/iom/cabinet/")
    for path, name in CABINET_PAGES:
        response = page.goto(base + "/iom/cabinet/" + path)
        assert response.status == 200, path
        assert axe_violations(page) == [], path
        screenshot(page, name)
    page.goto(base + "/iom/cabinet/competencies/")
    assert page.locator("svg[role=img]").count() == 1
    # My data: ask, then (the task ran at once: no broker in the tests) download the file.
    page.goto(base + "/iom/cabinet/my-data/")
    page.get_by_role("button", name="Подготовить мои данные").click()
    page.wait_for_url("**/iom/cabinet/my-data/")
    page.reload()
    link = page.get_by_role("link", name="Скачать мои данные (ZIP)")
    assert link.is_visible()
    assert axe_violations(page) == []
    screenshot(page, "cabinet-my-data-ready")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("my-data-")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(base + "/iom/cabinet/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "cabinet-overview-phone")
