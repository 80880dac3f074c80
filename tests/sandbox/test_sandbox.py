"""The demo site: demo data, the home page inside the configurable layout, Celery wiring."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from wagtail.models import Site

from sandbox.home.demo import site
from sandbox.home.models import HomePage
from wagtail_iom.core import sites
from wagtail_iom.models import Municipality, ResourceMapPage, School

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("load_demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_data_is_idempotent_and_prints_the_login(capsys):
    call_command("load_demo_data")
    first = (Municipality.objects.count(), School.objects.count(), HomePage.objects.count())
    call_command("load_demo_data")
    second = (Municipality.objects.count(), School.objects.count(), HomePage.objects.count())
    assert first == second
    assert first[0] >= 15 and first[1] >= 60 and first[2] == 1
    out = capsys.readouterr().out
    assert f"login: {site.ADMIN_USERNAME}" in out
    assert site.ADMIN_PASSWORD in out


def test_the_demo_site_is_at_the_address_the_demo_is_served_at(client):
    """`make demo` serves 127.0.0.1:8000 and passes its HOST and PORT to load_demo_data."""
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)

    default_site = Site.objects.get(is_default_site=True)
    assert (default_site.hostname, default_site.port) == ("127.0.0.1", 8000)
    assert sites.base_url() == "http://127.0.0.1:8000"  # e-mails, feeds made by Celery
    assert "Admin: http://127.0.0.1:8000/admin/" in out.getvalue()
    assert "Teacher: http://127.0.0.1:8000/iom/cabinet/" in out.getvalue()
    resource_map = ResourceMapPage.objects.get()
    content = client.get(resource_map.url, HTTP_HOST="127.0.0.1:8000").content.decode()
    assert f'href="webcal://127.0.0.1:8000{resource_map.url}feed/"' in content
    assert "localhost" not in content

    # `make demo HOST=0.0.0.0 PORT=8080` listens everywhere: links are for this machine.
    call_command("load_demo_data", "--host", "0.0.0.0", "--port", "8080", stdout=out)  # noqa: S104

    default_site = Site.objects.get()
    assert (default_site.hostname, default_site.port) == ("localhost", 8080)
    assert "Admin: http://localhost:8080/admin/" in out.getvalue()


def test_demo_schools_pass_model_validation(demo):
    for school in School.objects.all():
        school.full_clean()


def test_home_page_renders_in_the_institutes_layout_with_the_package_stylesheet(client, demo):
    response = client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="site-header"' in content  # the sandbox's own base.html
    assert "wagtail_iom/css/iom.css" in content
    assert "Методические компетенции" in content


@override_settings(WAGTAIL_IOM={"BASE_TEMPLATE": "wagtail_iom/layout.html"})
def test_base_template_is_a_setting(client, demo):
    content = client.get("/").content.decode()
    assert 'class="site-header"' not in content
    assert 'class="iom-skip-link"' in content  # the package's minimal layout
    assert "wagtail_iom/css/iom.css" in content


@override_settings(WAGTAIL_IOM={"BASE_TEMPLATE": "base.html", "INCLUDE_STYLESHEET": False})
def test_stylesheet_can_be_left_out(client, demo):
    assert "wagtail_iom/css/iom.css" not in client.get("/").content.decode()


def test_package_templates_can_be_overridden_by_the_project(client, demo, settings):
    """A project's template folder (or an app before wagtail_iom) replaces any package template."""
    from pathlib import Path

    override_dir = Path(__file__).parent / "override_templates"
    templates = [dict(engine) for engine in settings.TEMPLATES]
    templates[0]["DIRS"] = [override_dir, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    content = client.get("/").content.decode()
    assert "Overridden framework list" in content


def test_home_page_query_count_is_flat(client, demo, django_assert_max_num_queries):
    # Few queries, and the framework list costs two however many competencies there are.
    with django_assert_max_num_queries(12):
        client.get("/")


def test_celery_runs_tasks_eagerly_without_a_broker():
    from sandbox.celery import app

    assert app.conf.task_always_eager is True


def test_the_configured_broker_is_reachable(settings):
    """In CI the PostgreSQL run sets CELERY_BROKER_URL to Redis: the worker's broker must answer."""
    import os

    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        pytest.skip("no CELERY_BROKER_URL: tasks run eagerly in-process")
    from sandbox.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=2)
        assert connection.connected


def test_base_settings_choose_sqlite_and_eager_celery_by_default(monkeypatch):
    import importlib

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    import sandbox.settings.base as base

    reloaded = importlib.reload(base)
    try:
        assert reloaded.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        assert reloaded.CELERY_TASK_ALWAYS_EAGER is True
        assert reloaded.LANGUAGE_CODE == "ru"
        assert reloaded.TIME_ZONE == "Europe/Moscow"
        monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x")
        monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
        reloaded = importlib.reload(base)
        assert reloaded.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
        assert reloaded.CELERY_TASK_ALWAYS_EAGER is False
    finally:
        monkeypatch.undo()
        importlib.reload(base)
