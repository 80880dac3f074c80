"""A teacher signs up, confirms the e-mail, signs in and gives consent, in a real browser."""

import re

import pytest
from django.core import mail

from wagtail_iom.models import PersonalDataConsent, TeacherProfile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_confirm_sign_in_and_consent(page, demo_site, screenshot, axe_violations):
    base = demo_site.url
    page.goto(base + "/iom/accounts/signup/")
    assert axe_violations(page) == []
    page.get_by_label("Электронная почта").fill("Petrova@Example.org")
    page.get_by_label("Фамилия").fill("Петрова")
    page.get_by_label("Имя").fill("Анна")
    page.get_by_label("Отчество").fill("Сергеевна")
    page.get_by_label("Пароль", exact=True).fill("уроки-2026-Калининград")
    page.get_by_label("Пароль ещё раз").fill("уроки-2026-Калининград")
    screenshot(page, "accounts-signup")
    page.get_by_role("button", name="Регистрация").click()
    page.wait_for_url("**/signup/done/")
    assert axe_violations(page) == []

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/iom/accounts/confirm/\S+/", message.body).group(0)
    page.goto(base + link[link.index("/iom/") :])
    page.get_by_role("button", name="Подтвердить мой адрес").click()
    page.wait_for_load_state()

    page.goto(base + "/iom/accounts/login/")
    assert axe_violations(page) == []
    page.get_by_label("Электронная почта").fill("petrova@example.org")
    page.get_by_label("Пароль").fill("уроки-2026-Калининград")
    screenshot(page, "accounts-login")
    page.get_by_role("button", name="Вход").click()
    page.wait_for_url("**/accounts/consent/**")
    assert axe_violations(page) == []
    screenshot(page, "accounts-consent")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Даю согласие").click()
    page.wait_for_load_state()

    consent = PersonalDataConsent.objects.get(user__email="petrova@example.org")
    assert consent.ip_address == "127.0.0.1"
    assert TeacherProfile.objects.get(user=consent.user).last_name == "Петрова"
