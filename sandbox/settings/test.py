"""Settings for the test suite: fast hashing, in-memory e-mail, tasks run in the test."""

from sandbox.settings.base import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests run tasks in-process so that their effects can be asserted; the broker named by
# CELERY_BROKER_URL (Redis in CI) is still checked for reachability by tests/test_celery.py.
CELERY_TASK_ALWAYS_EAGER = True
