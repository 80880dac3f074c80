import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from wagtail_iom.checks import check_iom_settings, check_shared_cache
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
    with override_settings(WAGTAIL_IOM={"LOGIN_MAX_FAILURES": -1}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E003"]
    with override_settings(WAGTAIL_IOM={"CONSENT_VERSION": ""}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E006"]
    with override_settings(WAGTAIL_IOM={"EVENT_DEFAULT_TIMEZONE": "Mars/Olympus"}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E004"]
    with override_settings(WAGTAIL_IOM={"EVENT_KINDS_EXTRA": [("x", "X", "space")]}):
        assert [e.id for e in check_iom_settings(None)] == ["wagtail_iom.E005"]


LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    ("backend", "warned"),
    [
        (LOCMEM, True),
        ("django.core.cache.backends.dummy.DummyCache", True),
        ("django.core.cache.backends.redis.RedisCache", False),
        ("django.core.cache.backends.db.DatabaseCache", False),
        ("django.core.cache.backends.filebased.FileBasedCache", False),
    ],
)
def test_a_cache_private_to_each_process_is_a_warning_in_production(backend, warned):
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": "x"}}, DEBUG=False):
        warnings = check_shared_cache(None)
    assert [w.id for w in warnings] == (["wagtail_iom.W010"] if warned else [])
    if warned:
        assert backend in warnings[0].msg and "RedisCache" in warnings[0].hint


def test_a_private_cache_is_fine_while_debugging():
    with override_settings(CACHES={"default": {"BACKEND": LOCMEM}}, DEBUG=True):
        assert check_shared_cache(None) == []
