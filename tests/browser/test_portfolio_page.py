"""The teacher's portfolio in a real browser: a demo teacher with a completed route (and the
curator's reflection on it) opens the portfolio; axe-core finds no violations."""

import pytest
from django.utils import timezone

from wagtail_iom.models import Route, RouteStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "портфолио-2026-Калининград"  # noqa: S105


def test_the_portfolio_page(page, demo_site, screenshot, axe_violations):
    base = demo_site.url
    route = Route.objects.filter(status=RouteStatus.COMPLETED).select_related("teacher").first()
    Route.objects.filter(pk=route.pk).update(
        reflection="Научилась строить уроки с формирующим оцениванием.",
        curator_reflection="Педагог освоил приёмы формирующего оценивания; рекомендована "
        "подготовка к аттестации на первую категорию.",
        curator_reflection_by=route.curator,
        curator_reflection_at=timezone.now(),
    )
    user = route.teacher.user
    user.set_password(PASSWORD)
    user.save()

    page.goto(base + "/iom/accounts/login/?next=/iom/cabinet/portfolio/")
    page.get_by_label("Электронная почта").fill(user.email)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Вход").click()
    page.wait_for_url("**/iom/cabinet/portfolio/")

    assert page.locator(f"#portfolio-route-{route.pk}").is_visible()
    assert "подготовка к аттестации" in page.locator(f"#portfolio-route-{route.pk}").inner_text()
    assert (
        page.locator("nav.iom-cabinet__nav a[aria-current=page]")
        .get_attribute("href")
        .endswith("/cabinet/portfolio/")
    )
    assert (
        page.locator("#iom-portfolio-pdf").get_attribute("href").endswith("/cabinet/portfolio/pdf/")
    )
    # Headings in order: one h1, then h2 sections, then h3 per route.
    levels = page.eval_on_selector_all(
        ".iom-cabinet__content h1, .iom-cabinet__content h2, .iom-cabinet__content h3, "
        ".iom-cabinet__content h4",
        "(nodes) => nodes.map((node) => Number(node.tagName[1]))",
    )
    assert levels[0] == 1
    assert all(after - before <= 1 for before, after in zip(levels, levels[1:], strict=False))
    assert axe_violations(page) == []
    screenshot(page, "cabinet-portfolio")
