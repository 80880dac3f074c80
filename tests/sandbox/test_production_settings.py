"""The demo's production settings pass ``manage.py check --deploy``; HTTPS comes from the
environment (docs/production.md)."""

import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
ONE_YEAR = 365 * 24 * 60 * 60


def production_environ(**extra):
    """The process's environment without its DJANGO_* variables (pytest-django's settings
    module among them), plus what production needs."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environ.update(
        DJANGO_SETTINGS_MODULE="sandbox.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="iom.example.org",
        **extra,
    )
    return environ


def check_deploy(**extra):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environ(**extra),
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_check_deploy_is_clean():
    result = check_deploy()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.slow
def test_check_deploy_reports_what_the_environment_turns_off():
    result = check_deploy(DJANGO_SECURE_HSTS_SECONDS="0", DJANGO_SECURE_SSL_REDIRECT="0")

    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


@pytest.fixture
def production(monkeypatch):
    """Load sandbox.settings.production afresh under the environment the test sets."""
    for key in list(os.environ):
        if key.startswith("DJANGO_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "iom.example.org")

    def load(**variables):
        for key, value in variables.items():
            monkeypatch.setenv(key, value)
        module = importlib.import_module("sandbox.settings.production")
        return importlib.reload(module)

    return load


def test_https_defaults_suit_a_site_behind_a_proxy(production):
    settings = production()

    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SECURE_HSTS_SECONDS == ONE_YEAR
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
    assert settings.SECURE_HSTS_PRELOAD is True
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True


def test_each_https_setting_comes_from_the_environment(production):
    settings = production(
        DJANGO_SECURE_PROXY_SSL_HEADER="",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="3600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        DJANGO_SECURE_HSTS_PRELOAD="no",
        DJANGO_SESSION_COOKIE_SECURE="off",
        DJANGO_CSRF_COOKIE_SECURE="0",
    )

    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.SECURE_HSTS_SECONDS == 3600
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS is False
    assert settings.SECURE_HSTS_PRELOAD is False
    assert settings.SESSION_COOKIE_SECURE is False
    assert settings.CSRF_COOKIE_SECURE is False

    settings = production(DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme")
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_SCHEME", "https")


@pytest.mark.parametrize("value, expected", [("", False), ("1", True), ("TRUE", True)])
def test_email_tls_reads_yes_and_no_like_the_others(production, value, expected):
    assert production(EMAIL_USE_TLS=value).EMAIL_USE_TLS is expected


@pytest.mark.parametrize(
    "variable, value",
    [("DJANGO_SECURE_SSL_REDIRECT", "flase"), ("DJANGO_SECURE_HSTS_SECONDS", "one year")],
)
def test_a_value_that_cannot_be_read_is_refused(production, variable, value):
    with pytest.raises(ImproperlyConfigured, match=variable):
        production(**{variable: value})
