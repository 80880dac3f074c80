"""The package's settings: one ``WAGTAIL_IOM`` dict in the project's settings, read here.

Every key has a default in :data:`DEFAULTS`; a project sets only what it changes::

    WAGTAIL_IOM = {
        "BASE_TEMPLATE": "base.html",
    }

Read values through :data:`iom_settings` (``iom_settings.BASE_TEMPLATE``). The values are
re-read when the ``WAGTAIL_IOM`` setting changes (``override_settings`` in tests).
An unknown key is reported by ``manage.py check`` (``wagtail_iom.E001``).
"""

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import pgettext_lazy

SETTING_NAME = "WAGTAIL_IOM"

DEFAULTS = {
    # The template the package's front-end pages extend. It must define the blocks
    # ``title``, ``extra_css``, ``content`` and ``extra_js`` (see docs/settings.md).
    "BASE_TEMPLATE": "wagtail_iom/layout.html",
    # Whether front-end pages link the package's own stylesheet.
    "INCLUDE_STYLESHEET": True,
    # Directory imports (municipalities and schools): the largest file accepted, in bytes,
    # and the most data rows read from one file.
    "IMPORT_MAX_UPLOAD_SIZE": 5 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 20_000,
    # Previews of directory imports that were never applied are deleted after this many days.
    "IMPORT_PREVIEW_RETENTION_DAYS": 7,
    # Events: the timezone new events are in (None: the project's TIME_ZONE), and extra kinds
    # of event as (code, label, track) triples added to the defaults of events/kinds.py.
    "EVENT_DEFAULT_TIMEZONE": None,
    "EVENT_KINDS_EXTRA": [],
    # The resource map: events per page of the list.
    "RESOURCE_MAP_PAGE_SIZE": 20,
    # Calendar feeds: cancelled events stay in feeds (STATUS:CANCELLED) for this many days
    # after their cancellation; feeds are cached for at most this many seconds (and dropped at
    # once when an event is published, unpublished or changed).
    "FEED_CANCELLED_RETENTION_DAYS": 30,
    "FEED_CACHE_TIMEOUT": 6 * 60 * 60,
    # The longest query string the resource map and feeds accept, in characters.
    "MAX_QUERY_STRING_LENGTH": 2048,
    # Accounts. A teacher's e-mail confirmation link works for this many days.
    "EMAIL_CONFIRMATION_DAYS": 3,
    # Sign-up, password reset and resending the confirmation link: each action is refused for
    # the rest of a window of ACCOUNT_RATE_LIMIT_WINDOW_SECONDS once it has been asked for more
    # than ACCOUNT_RATE_LIMIT_PER_IP times from one IP address, or more than
    # ACCOUNT_RATE_LIMIT_PER_ADDRESS times for one e-mail address (counted in the database).
    "ACCOUNT_RATE_LIMIT_PER_IP": 30,
    "ACCOUNT_RATE_LIMIT_PER_ADDRESS": 3,
    "ACCOUNT_RATE_LIMIT_WINDOW_SECONDS": 60 * 60,
    # Deprecated, without effect: failed sign-ins are counted by django-axes, configured with
    # AXES_FAILURE_LIMIT and AXES_COOLOFF_TIME (see docs/accounts.md). Setting them is reported
    # by manage.py check (wagtail_iom.W001).
    "LOGIN_MAX_FAILURES": None,
    "LOGIN_LOCKOUT_SECONDS": None,
    # The version of the consent to personal-data processing (152-FZ) teachers give now; it is
    # stored with each consent. Change it whenever the text in
    # wagtail_iom/accounts/consent_text.html changes.
    "CONSENT_VERSION": "2026-11",
    # Diagnostics: scores are percentages of the maximum. A competency scored below
    # DIAGNOSTICS_DEFICIT_BELOW is a deficit; one scored at DIAGNOSTICS_PROFICIT_FROM or above
    # is a proficit.
    "DIAGNOSTICS_DEFICIT_BELOW": 50,
    "DIAGNOSTICS_PROFICIT_FROM": 85,
    # Imports of diagnostics results: rows written per background task (one transaction each),
    # the largest file accepted, in bytes, and the most data rows read from one file (a
    # regional diagnostic covers every teacher of the region: 51,000 rows of 18 scores each
    # make a CSV of about 7 MB).
    "DIAGNOSTICS_IMPORT_CHUNK_SIZE": 500,
    "DIAGNOSTICS_IMPORT_MAX_UPLOAD_SIZE": 32 * 1024 * 1024,
    "DIAGNOSTICS_IMPORT_MAX_ROWS": 100_000,
    # The secret of the keyed hash under which personal ids (SNILS) are stored; None derives
    # one from SECRET_KEY. Set it (and never change it) when SECRET_KEY may be rotated.
    "PERSONAL_ID_HASH_KEY": None,
    # Teachers invited by an import: their link to set a password works for this many days.
    "INVITATION_DAYS": 14,
    # How long the link to a teacher's "My data" file works; the file is deleted afterwards.
    "PERSONAL_DATA_EXPORT_DAYS": 7,
    # How long the link to a municipality's monthly export of routes works (e-mailed to its
    # methodists on the 1st); the file is deleted afterwards.
    "MUNICIPAL_EXPORT_DAYS": 31,
    # After a teacher withdraws the consent, their data are depersonalised after this many
    # days (152-FZ, art. 21 §5 allows at most 30); the teacher may cancel until then.
    "CONSENT_WITHDRAWAL_DAYS": 30,
    # Retention (privacy/retention.py, run by the daily depersonalisation task): the sign-ups
    # and attendance marks of events whose last session is older than this many years are
    # deleted; accounts whose e-mail was never confirmed, or whose invitation was never
    # accepted, are deleted this many days after the link was sent.
    "SIGNUP_RETENTION_YEARS": 5,
    "UNCONFIRMED_ACCOUNT_DAYS": 30,
    # Attendance uploads (lists of attendees' e-mails): the largest file accepted, in bytes.
    "ATTENDANCE_UPLOAD_MAX_SIZE": 1024 * 1024,
    # Evidence a teacher attaches to a route step (a scan, a photo, a certificate): the largest
    # file accepted, in bytes.
    "ROUTE_EVIDENCE_MAX_SIZE": 10 * 1024 * 1024,
    # Routes: the shortest and longest period a route may cover, in months (at most three
    # years; some regions plan half a year to a year), and the printed layout used by default:
    # "full" (the four sections), "compact" (the task table), "competency_groups" or "profiles"
    # (the seven parts of the Moscow region's form).
    "ROUTE_MIN_MONTHS": 1,
    "ROUTE_MAX_MONTHS": 36,
    # The bounds of a route's length by its kind, in months (min, max): a regular route half a
    # year to a year (003 §1.5), a route of a teacher with low results 6 months, a mentoring
    # programme 1 to 3 years (002). A kind left out keeps its default. Every route also stays
    # within ROUTE_MIN_MONTHS..ROUTE_MAX_MONTHS, the overall bounds (000 §5.12: at most three
    # years); no kind's maximum may exceed ROUTE_MAX_MONTHS.
    "ROUTE_LENGTH_MONTHS": {
        "regular": (6, 12),
        "low_level": (6, 6),
        "mentoring": (12, 36),
    },
    # Automatic route drafts (routes/drafts.py): their length in months. A draft for a teacher
    # whose diagnostics put them at the low level is a route for a teacher with low results
    # and lasts ROUTE_DRAFT_LOW_LEVEL_MONTHS (002: 6 months); any other draft is a regular
    # route and lasts ROUTE_DRAFT_MONTHS. Each stays within its kind's ROUTE_LENGTH_MONTHS.
    "ROUTE_DRAFT_MONTHS": 12,
    "ROUTE_DRAFT_LOW_LEVEL_MONTHS": 6,
    "ROUTE_DEFAULT_LAYOUT": "full",
    # The printed route's diagnostic history lists the teacher's diagnostics results from this
    # many whole months before the route's start up to its end (the route is built from the
    # diagnostics before it): 0 to 120.
    "ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS": 12,
    # The programme by competency groups (layout "competency_groups", seed 004) has four
    # groups: "subject", "methodical", "psychological", "communicative". This maps the codes
    # of the framework's groups onto them; a framework group left out prints after the four,
    # under its own name.
    "ROUTE_PROGRAMME_GROUPS": {
        "subject": "subject",
        "meta-subject": "methodical",
        "methodical": "methodical",
        "digital": "methodical",
        "psychological-pedagogical": "psychological",
        "inclusive": "psychological",
        "upbringing": "psychological",
        "communicative": "communicative",
    },
    # Reports: the columns of the "routes by status" report, in order. Each key names a
    # column, with its heading and the route statuses it counts (routes/models.py,
    # RouteStatus). A status belongs to at most one column; a status in none is not counted.
    "REPORT_STATUS_GROUPS": {
        "development": {
            "label": pgettext_lazy("report column", "In development"),
            "statuses": ["development", "sent_for_approval", "returned"],
        },
        "implementation": {
            "label": pgettext_lazy("report column", "In implementation"),
            "statuses": ["approved", "implementation"],
        },
        "completed": {
            "label": pgettext_lazy("report column", "Completed"),
            "statuses": ["completed", "audited"],
        },
    },
}


class IOMSettings:
    """Attribute access to ``settings.WAGTAIL_IOM`` merged over :data:`DEFAULTS`."""

    def __init__(self, defaults):
        self.defaults = defaults
        self._cache = None

    @property
    def user_settings(self):
        return getattr(settings, SETTING_NAME, None) or {}

    def _merged(self):
        if self._cache is None:
            user = self.user_settings
            merged = dict(self.defaults)
            if isinstance(user, dict):
                merged.update({k: v for k, v in user.items() if k in self.defaults})
            self._cache = merged
        return self._cache

    def __getattr__(self, name):
        if name.startswith("_") or name not in self.defaults:
            raise AttributeError(f"{SETTING_NAME} has no setting {name!r}")
        return self._merged()[name]

    def unknown_keys(self):
        user = self.user_settings
        if not isinstance(user, dict):
            return []
        return sorted(key for key in user if key not in self.defaults)

    def reload(self):
        self._cache = None


iom_settings = IOMSettings(DEFAULTS)


@receiver(setting_changed)
def _reload_iom_settings(*, setting, **kwargs):
    if setting == SETTING_NAME:
        iom_settings.reload()
