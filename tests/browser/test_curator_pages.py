"""The curator's recommendation letter in a real browser: the centre head's template, the
curator's teachers, the preview of one teacher's letter, the send and its message."""

import pytest
from django.core import mail

from tests.browser.test_route_pages import admin_login, admin_screenshot
from wagtail_iom.models import RecommendationSent, TeacherProfile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_curator_sends_the_recommendation_letter(page, demo_site, screenshot, axe_violations):
    base = demo_site.url
    admin_login(page, base, "centre")
    page.goto(base + "/admin/iom/my-teachers/letter/")
    assert page.locator("#iom-placeholders").is_visible()
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "curators-recommendation-letter")
    page.context.clear_cookies()

    admin_login(page, base, "curator")
    page.goto(base + "/admin/iom/my-teachers/")
    rows = page.locator("#iom-recommendation-teachers tbody tr")
    assert rows.count() > 0
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "curators-my-teachers")

    row = rows.first
    teacher = TeacherProfile.objects.get(pk=int(row.get_attribute("id").rsplit("-", 1)[1]))
    row.locator("a.button").click()
    page.wait_for_url(f"**/admin/iom/my-teachers/{teacher.pk}/send/")
    assert page.locator("#iom-letter-to").inner_text().strip() == teacher.user.email
    assert teacher.first_name in page.locator("#iom-letter-text").inner_text()
    assert axe_violations(page) == []
    admin_screenshot(screenshot, page, "curators-recommendation-preview")

    mail.outbox.clear()
    page.click("#iom-confirm-send")
    page.wait_for_url(base + "/admin/iom/my-teachers/")
    assert page.locator(".messages .success").count() == 1
    assert page.locator(f"#iom-recommendation-{teacher.pk} [data-sent-at]").count() == 1
    assert [m.to for m in mail.outbox] == [[teacher.user.email]]
    assert RecommendationSent.objects.filter(teacher=teacher).count() == 1
    # The screenshot first: it finishes the message's fade-in, which axe would measure midway.
    admin_screenshot(screenshot, page, "curators-recommendation-sent")
    assert axe_violations(page) == []
