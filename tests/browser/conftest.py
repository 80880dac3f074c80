"""Browser tests: Playwright drives Debian's chromium (never a downloaded browser)."""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is needed at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        locale="ru-RU", viewport={"width": 1280, "height": 900}, timezone_id="Europe/Moscow"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo_site(live_server):
    call_command("load_demo_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return live_server


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name, full_page=True):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def finish_animations(page):
    """Bring the page's animations to their end (Wagtail's messages fade in), so that axe
    measures the contrast and a screenshot shows the page as a person reads it."""
    page.evaluate(
        """() => document.getAnimations().forEach((animation) => {
            try { animation.finish(); } catch (error) { /* an endless one: leave it */ }
        })"""
    )


@pytest.fixture
def axe_violations():
    """Run axe-core in the page (its animations finished first); return the serious and
    critical WCAG 2.1 A/AA violations."""

    def run(page):
        if not AXE.exists():
            pytest.fail("axe-core is missing: run `npm install` (make test-browser does)")
        finish_animations(page)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
            })"""
        )
        found = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        # axe leaves text in the colour of its own background "to review" (a 1:1 contrast
        # ratio) rather than failing it: it is invisible text, so fail it here.
        for check in result["incomplete"]:
            if check["id"] != "color-contrast":
                continue
            same = [
                node["target"]
                for node in check["nodes"]
                if any((a.get("data") or {}).get("messageKey") == "equalRatio" for a in node["any"])
            ]
            if same:
                found.append(f"color-contrast: text in its background's colour — {same[:3]}")
        return found

    return run
