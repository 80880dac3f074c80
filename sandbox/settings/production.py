"""Production settings: everything secret or host-specific comes from the environment.

The HTTPS settings default to a site served over HTTPS only, behind a reverse proxy that sets
``X-Forwarded-Proto``; ``manage.py check --deploy`` has nothing to say about them.
docs/production.md lists every variable.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from sandbox.settings.base import *  # noqa: F403


def env_bool(name, default):
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (any case); anything else
    is refused rather than read as false."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r}: use 1 or 0")


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: use a whole number") from None


def proxy_ssl_header(name):
    """``X-Forwarded-Proto`` → ``("HTTP_X_FORWARDED_PROTO", "https")``; empty → None."""
    name = name.strip()
    if not name:
        return None
    return ("HTTP_" + name.upper().replace("-", "_"), "https")


DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]

# HTTPS. The proxy must set this header on every request (and drop a client's own): Django
# then knows a request came over HTTPS. Empty when no proxy stands in front of gunicorn.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(
    os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")
)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Browsers keep to HTTPS for this long after a visit (one year; preload lists ask for it).
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
if os.environ.get("REDIS_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_CACHE_URL"],
        }
    }

# Behind the reverse proxy, the client's address (for sign-in lockouts and the accounts' rate
# limits) is the one the proxy writes into X-Forwarded-For, replacing whatever the client sent
# (nginx: proxy_set_header X-Forwarded-For $remote_addr;). See docs/production.md.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
AXES_IPWARE_PROXY_COUNT = 0
