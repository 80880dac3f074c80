"""The methodical audit in a real browser: the methodist opens *Record the audit* on a completed
route of the municipality, meets the form's errors, records the audit, sees it on the route's
page, and finds it in *Reports → Methodical audits* with the level groups' counts."""

import pytest
from django.contrib.auth import get_user_model

from tests.browser.test_route_pages import admin_login, admin_screenshot
from wagtail_iom.core import access
from wagtail_iom.models import Route, RouteAudit, RouteStatus
from wagtail_iom.routes import audit as route_audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def completed_route_of(user):
    """A completed demo route the user may audit; a route in implementation of the user's
    municipality is completed for the test when the demo has none."""
    for route in Route.objects.filter(status=RouteStatus.COMPLETED).select_related("teacher"):
        if access.can_audit_route(user, route):
            return route
    for route in Route.objects.filter(status=RouteStatus.IMPLEMENTATION).select_related("teacher"):
        if access.can_audit_route(user, route):
            Route.objects.filter(pk=route.pk).update(status=RouteStatus.COMPLETED)
            route.refresh_from_db()
            return route
    raise AssertionError("the demo data have no route the methodist may audit")


def test_the_methodist_records_the_audit(page, demo_site, screenshot, axe_violations):
    base = demo_site.url
    methodist = get_user_model().objects.get(username="methodist")
    route = completed_route_of(methodist)
    rows = len(route_audit.audit_rows(route))
    assert rows > 0

    admin_login(page, base, "methodist")
    page.goto(f"{base}/admin/iom/routes/inspect/{route.pk}/")
    page.locator("#iom-route-transitions [data-iom-transition='audited']").click()
    page.wait_for_url(f"**/admin/iom/routes/audit/{route.pk}/")
    form = page.locator("#iom-audit-form")
    assert form.is_visible()
    # The level group is proposed from the teacher's latest diagnostics.
    level, _result = route_audit.initial_level(route)
    if level:
        assert page.locator(f"input[name=level_group][value={level}]").is_checked()
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "audit-form")

    # Sent empty: the errors are on their fields, nothing is recorded.
    page.fill("textarea[name=conclusion]", "")
    page.locator("#iom-audit-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#iom-audit-form .error-message").count() >= rows
    assert not RouteAudit.objects.filter(route=route).exists()
    admin_screenshot(screenshot, page, "audit-form-errors")
    assert axe_violations(page) == []

    for number in range(rows):
        value = "partly" if number == rows - 1 else "achieved"
        page.check(f"input[name=result_{number}][value={value}]")
    page.fill("textarea[name=comment_0]", "Цель достигнута: результаты класса выросли.")
    page.fill(
        "textarea[name=transfer_to_practice]",
        "Приёмы формирующего оценивания применяются на уроках математики в 7-х классах.",
    )
    page.check("input[name=level_group][value=elevated]")
    page.fill(
        "textarea[name=conclusion]",
        "Маршрут выполнен; рекомендовано представить опыт на муниципальном семинаре.",
    )
    page.locator("#iom-audit-form button[type=submit]").click()
    page.wait_for_url(f"**/admin/iom/routes/inspect/{route.pk}/")
    audit = RouteAudit.objects.get(route=route)
    assert audit.level_group == "elevated" and audit.auditor == methodist
    assert Route.objects.get(pk=route.pk).status == RouteStatus.AUDITED
    assert page.locator("#iom-route-audit").is_visible()
    assert (
        page.locator("#iom-route-audit-pdf")
        .get_attribute("href")
        .endswith(f"/audit/{route.pk}/pdf/")
    )
    admin_screenshot(screenshot, page, "audit-on-the-route")
    assert axe_violations(page) == []

    page.goto(f"{base}/admin/iom/route-audits/")
    assert page.locator("#iom-audit-groups").is_visible()
    count = page.locator("#iom-audit-groups [data-iom-level-group='elevated'] [data-iom-count]")
    assert int(count.inner_text()) >= 1
    assert page.locator("table.listing tbody tr").count() >= 1
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "audit-list")

    page.locator("#iom-audit-groups [data-iom-level-group='elevated']").click()
    page.wait_for_url("**level_group=elevated**")
    assert page.locator("#iom-audit-groups [aria-current='true']").count() == 1
    admin_screenshot(screenshot, page, "audit-list-elevated")
    # Wagtail's own filters button in the header shows the number of active filters, which its
    # accessible name does not hold: Wagtail's markup, left to Wagtail (as in
    # test_sandbox_pages.py).
    assert [
        violation
        for violation in axe_violations(page)
        if not (
            violation.startswith("label-content-name-mismatch")
            and "w-slim-header-action-button" in violation
        )
    ] == []
