import datetime

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from wagtail_iom.checks import check_axes, check_iom_settings, check_programme_group_codes
from wagtail_iom.conf import DEFAULTS, iom_settings


def test_defaults_apply_when_the_setting_is_absent():
    with override_settings(WAGTAIL_IOM=None):
        assert iom_settings.BASE_TEMPLATE == DEFAULTS["BASE_TEMPLATE"]
        assert iom_settings.IMPORT_MAX_ROWS == DEFAULTS["IMPORT_MAX_ROWS"]


def test_project_values_override_defaults_and_reload_on_change():
    with override_settings(WAGTAIL_IOM={"IMPORT_MAX_ROWS": 7}):
        assert iom_settings.IMPORT_MAX_ROWS == 7
        with override_settings(WAGTAIL_IOM={"IMPORT_MAX_ROWS": 9}):
            assert iom_settings.IMPORT_MAX_ROWS == 9
        assert iom_settings.IMPORT_MAX_ROWS == 7
    assert iom_settings.IMPORT_MAX_ROWS == DEFAULTS["IMPORT_MAX_ROWS"]


def test_unknown_attribute_is_an_error():
    with pytest.raises(AttributeError, match="NO_SUCH_SETTING"):
        iom_settings.NO_SUCH_SETTING  # noqa: B018


def test_unknown_key_fails_the_system_check_and_names_the_key():
    with override_settings(WAGTAIL_IOM={"BASE_TEMPLATES": "base.html"}):
        errors = check_iom_settings(None)
        assert [e.id for e in errors] == ["wagtail_iom.E001"]
        assert "BASE_TEMPLATES" in errors[0].msg
        assert "BASE_TEMPLATE" in errors[0].hint
        with pytest.raises(SystemCheckError, match="BASE_TEMPLATES"):
            call_command("check")


def test_settings_that_are_not_a_dict_or_have_bad_values_fail_the_check():
    with override_settings(WAGTAIL_IOM=["BASE_TEMPLATE"]):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E002"]
    with override_settings(WAGTAIL_IOM={"IMPORT_MAX_ROWS": 0}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E003"]


def test_the_sandbox_settings_pass_the_check():
    assert check_iom_settings(None) == []
    call_command("check")


def test_account_settings_are_checked():
    with override_settings(WAGTAIL_IOM={"ACCOUNT_RATE_LIMIT_PER_IP": -1}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E003"]
    with override_settings(WAGTAIL_IOM={"ACCOUNT_RATE_LIMIT_WINDOW_SECONDS": 0}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E003"]
    with override_settings(WAGTAIL_IOM={"CONSENT_VERSION": ""}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E006"]
    with override_settings(WAGTAIL_IOM={"EVENT_DEFAULT_TIMEZONE": "Mars/Olympus"}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E004"]
    with override_settings(WAGTAIL_IOM={"EVENT_KINDS_EXTRA": [("x", "X", "space")]}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E005"]


def test_a_programme_group_mapping_onto_an_unknown_group_fails_the_check():
    mapping = {**DEFAULTS["ROUTE_PROGRAMME_GROUPS"], "digital": "technological"}
    with override_settings(WAGTAIL_IOM={"ROUTE_PROGRAMME_GROUPS": mapping}):
        (error,) = check_iom_settings(None)
        assert error.id == "wagtail_iom.E012"
        assert "'digital'" in error.msg and "'technological'" in error.msg
        assert "subject, methodical, psychological, communicative" in error.hint
        with pytest.raises(SystemCheckError, match="technological"):
            call_command("check")
    with override_settings(WAGTAIL_IOM={"ROUTE_PROGRAMME_GROUPS": ["subject"]}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E012"]


@pytest.mark.django_db
def test_a_programme_group_mapping_of_a_group_not_in_the_framework_fails_the_database_check():
    assert check_programme_group_codes(None, databases=["default"]) == []
    mapping = {"subject": "subject", "robotics": "methodical"}
    with override_settings(WAGTAIL_IOM={"ROUTE_PROGRAMME_GROUPS": mapping}):
        (error,) = check_programme_group_codes(None, databases=["default"])
        assert error.id == "wagtail_iom.E013" and "'robotics'" in error.msg
        assert "methodical" in error.hint
        # Without the database (a plain manage.py check) the framework is not read.
        assert check_programme_group_codes(None, databases=None) == []


def test_the_deprecated_login_keys_are_reported_with_what_replaces_them():
    with override_settings(WAGTAIL_IOM={"LOGIN_MAX_FAILURES": 7, "LOGIN_LOCKOUT_SECONDS": 600}):
        warnings = check_iom_settings(None)
    assert [w.id for w in warnings] == ["wagtail_iom.W001", "wagtail_iom.W001"]
    assert "AXES_FAILURE_LIMIT = 7" in warnings[0].hint
    assert "AXES_COOLOFF_TIME = datetime.timedelta(seconds=600)" in warnings[1].hint


# django-axes -----------------------------------------------------------------------------


def axes_check_ids():
    return [e.id for e in check_axes(None)]


def test_the_sandbox_configures_axes():
    assert check_axes(None) == []


def test_axes_missing_from_installed_apps_is_an_error(monkeypatch):
    installed = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "axes" and installed(name))
    errors = check_axes(None)
    assert {e.id for e in errors} == {"wagtail_iom.E010"}
    assert any("INSTALLED_APPS" in e.msg for e in errors)


@pytest.mark.parametrize(
    "backends",
    [
        ["django.contrib.auth.backends.ModelBackend"],
        ["django.contrib.auth.backends.ModelBackend", "axes.backends.AxesStandaloneBackend"],
        [],
    ],
    ids=["absent", "not-first", "none"],
)
def test_axes_backend_not_first_is_an_error(backends):
    with override_settings(AUTHENTICATION_BACKENDS=backends):
        errors = check_axes(None)
    assert [e.id for e in errors] == ["wagtail_iom.E010"]
    assert "AUTHENTICATION_BACKENDS" in errors[0].msg


def test_axes_own_model_backend_counts_as_axes():
    with override_settings(AUTHENTICATION_BACKENDS=["axes.backends.AxesBackend"]):
        assert axes_check_ids() == []


def test_axes_middleware_missing_is_an_error():
    middleware = [m for m in settings.MIDDLEWARE if "axes" not in m]
    with override_settings(MIDDLEWARE=middleware):
        errors = check_axes(None)
    assert [e.id for e in errors] == ["wagtail_iom.E010"]
    assert "MIDDLEWARE" in errors[0].msg


@pytest.mark.parametrize(
    "overrides",
    [
        {"AXES_HANDLER": "axes.handlers.dummy.AxesDummyHandler"},
        {
            "AXES_HANDLER": "axes.handlers.cache.AxesCacheHandler",
            "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        },
    ],
    ids=["dummy", "cache-in-process-memory"],
)
def test_counts_kept_in_one_process_are_an_error(overrides):
    with override_settings(**overrides):
        assert axes_check_ids() == ["wagtail_iom.E011"]


def test_the_cache_handler_with_a_shared_cache_is_accepted():
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    with override_settings(AXES_HANDLER="axes.handlers.cache.AxesCacheHandler", CACHES=caches):
        assert axes_check_ids() == []


def test_a_lockout_that_never_ends_is_a_warning():
    with override_settings(AXES_COOLOFF_TIME=None):
        assert axes_check_ids() == ["wagtail_iom.W002"]
    with override_settings(AXES_COOLOFF_TIME=datetime.timedelta(minutes=1)):
        assert axes_check_ids() == []
