"""Settings shared by every flavour of the demo institute site."""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sandbox-insecure-key-change-me")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "sandbox.home",
    "wagtail_iom",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.api.v2",
    "rest_framework",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "axes",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last: it answers the sign-ins django-axes refused with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sandbox.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "wagtail_iom.context_processors.iom",
            ],
        },
    },
]

WSGI_APPLICATION = "sandbox.wsgi.application"

# SQLite unless DATABASE_URL names another database (PostgreSQL in production and CI).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'sandbox.sqlite3'}", conn_max_age=60
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Wagtail's PostgreSQL search index uses django.contrib.postgres fields (Django 6 checks it).
    INSTALLED_APPS.append("django.contrib.postgres")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "wagtail_iom:login"

# Every sign-in of the site (the package's login, Wagtail's admin, Django's admin) goes through
# django-axes first: failed sign-ins are counted in the database, per user name and IP address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5  # the fifth failure locks…
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)  # …for 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "wagtail_iom.accounts.views.lockout"
AXES_DISABLE_ACCESS_LOG = True

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = BASE_DIR / "var" / "media"
MEDIA_URL = "/media/"

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "Региональный центр непрерывного повышения профессионального мастерства"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
WAGTAIL_CONTENT_LANGUAGES = [("ru", "Русский")]
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

DEFAULT_FROM_EMAIL = "ЦНППМ <noreply@example.org>"
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Celery: tasks run eagerly in the web process unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

WAGTAIL_IOM = {
    # The demo institute's own layout: the package's pages sit inside it.
    "BASE_TEMPLATE": "base.html",
    # The demo region is Kaliningrad's: its events are in its own time, one hour behind Moscow.
    "EVENT_DEFAULT_TIMEZONE": "Europe/Kaliningrad",
}

CELERY_BEAT_SCHEDULE = {
    "wagtail-iom-clear-import-previews": {
        "task": "wagtail_iom.clear_import_previews",
        "schedule": 24 * 60 * 60,
    },
    "wagtail-iom-delete-expired-personal-data-exports": {
        "task": "wagtail_iom.delete_expired_personal_data_exports",
        "schedule": 24 * 60 * 60,
    },
    # Depersonalisation of the teachers whose withdrawal of consent is due (152-FZ, art. 21 §5).
    "wagtail-iom-anonymise-due-withdrawals": {
        "task": "wagtail_iom.anonymise_due_withdrawals",
        "schedule": 24 * 60 * 60,
    },
    # Reminders the day before an event: hourly, so that each timezone's morning is caught.
    "wagtail-iom-day-before-reminders": {
        "task": "wagtail_iom.send_day_before_reminders",
        "schedule": 60 * 60,
    },
    # The monthly export of each municipality's routes to its methodists (seed 002), on the 1st.
    "wagtail-iom-monthly-municipal-exports": {
        "task": "wagtail_iom.send_monthly_municipal_exports",
        "schedule": crontab(minute=0, hour=6, day_of_month=1),
    },
    "wagtail-iom-delete-expired-municipal-route-exports": {
        "task": "wagtail_iom.delete_expired_municipal_route_exports",
        "schedule": 24 * 60 * 60,
    },
}
