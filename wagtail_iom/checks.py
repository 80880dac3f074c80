"""System checks for the ``WAGTAIL_IOM`` setting and what the package needs of the project."""

import difflib
import zoneinfo

from django.conf import settings
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from wagtail_iom.conf import DEFAULTS, SETTING_NAME, iom_settings
from wagtail_iom.events.kinds import EventTrack

POSITIVE_INTEGER_KEYS = (
    "IMPORT_MAX_UPLOAD_SIZE",
    "IMPORT_MAX_ROWS",
    "IMPORT_PREVIEW_RETENTION_DAYS",
    "RESOURCE_MAP_PAGE_SIZE",
    "FEED_CANCELLED_RETENTION_DAYS",
    "FEED_CACHE_TIMEOUT",
    "MAX_QUERY_STRING_LENGTH",
    "EMAIL_CONFIRMATION_DAYS",
    "LOGIN_MAX_FAILURES",
    "LOGIN_LOCKOUT_SECONDS",
    "ATTENDANCE_UPLOAD_MAX_SIZE",
    "ROUTE_EVIDENCE_MAX_SIZE",
    "ROUTE_MIN_MONTHS",
    "ROUTE_MAX_MONTHS",
)


@register(Tags.compatibility)
def check_iom_settings(app_configs, **kwargs):
    user = getattr(settings, SETTING_NAME, None)
    if user is None:
        return []
    if not isinstance(user, dict):
        return [
            Error(
                f"{SETTING_NAME} must be a dict, not {type(user).__name__}.", id="wagtail_iom.E002"
            )
        ]
    errors = []
    for key in iom_settings.unknown_keys():
        close = difflib.get_close_matches(str(key), DEFAULTS.keys(), n=1)
        hint = (
            f"Did you mean {close[0]!r}?"
            if close
            else "Known keys: " + ", ".join(sorted(DEFAULTS)) + "."
        )
        errors.append(
            Error(f"{SETTING_NAME} has an unknown key {key!r}.", hint=hint, id="wagtail_iom.E001")
        )
    for key in POSITIVE_INTEGER_KEYS:
        value = user.get(key, DEFAULTS[key])
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            errors.append(
                Error(
                    f"{SETTING_NAME}[{key!r}] must be a positive whole number, not {value!r}.",
                    id="wagtail_iom.E003",
                )
            )
    consent_version = user.get("CONSENT_VERSION", DEFAULTS["CONSENT_VERSION"])
    if not isinstance(consent_version, str) or not consent_version.strip():
        errors.append(
            Error(
                f"{SETTING_NAME}['CONSENT_VERSION'] must be a non-empty string.",
                hint="Change it whenever the consent text changes, e.g. '2027-01'.",
                id="wagtail_iom.E006",
            )
        )
    errors.extend(_check_diagnostics_thresholds(user))
    errors.extend(_check_routes(user))
    timezone_name = user.get("EVENT_DEFAULT_TIMEZONE")
    if timezone_name is not None:
        try:
            zoneinfo.ZoneInfo(timezone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            errors.append(
                Error(
                    f"{SETTING_NAME}['EVENT_DEFAULT_TIMEZONE'] is not a known timezone: "
                    f"{timezone_name!r}.",
                    hint="Use an IANA name such as 'Europe/Kaliningrad'.",
                    id="wagtail_iom.E004",
                )
            )
    for kind in user.get("EVENT_KINDS_EXTRA", []):
        if not (
            isinstance(kind, (list, tuple)) and len(kind) == 3 and kind[2] in EventTrack.values
        ):
            errors.append(
                Error(
                    f"{SETTING_NAME}['EVENT_KINDS_EXTRA'] has an entry that is not "
                    f"(code, label, track): {kind!r}.",
                    hint="The track is one of: " + ", ".join(EventTrack.values) + ".",
                    id="wagtail_iom.E005",
                )
            )
    return errors


def _check_diagnostics_thresholds(user):
    deficit = user.get("DIAGNOSTICS_DEFICIT_BELOW", DEFAULTS["DIAGNOSTICS_DEFICIT_BELOW"])
    proficit = user.get("DIAGNOSTICS_PROFICIT_FROM", DEFAULTS["DIAGNOSTICS_PROFICIT_FROM"])
    for key, value in (
        ("DIAGNOSTICS_DEFICIT_BELOW", deficit),
        ("DIAGNOSTICS_PROFICIT_FROM", proficit),
    ):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 100:
            return [
                Error(
                    f"{SETTING_NAME}[{key!r}] must be a percentage between 0 and 100, "
                    f"not {value!r}.",
                    id="wagtail_iom.E007",
                )
            ]
    if deficit > proficit:
        return [
            Error(
                f"{SETTING_NAME}['DIAGNOSTICS_DEFICIT_BELOW'] ({deficit}) is above "
                f"'DIAGNOSTICS_PROFICIT_FROM' ({proficit}).",
                hint="A deficit is a score below the first; a proficit one at the second or above.",
                id="wagtail_iom.E007",
            )
        ]
    return []


def _check_routes(user):
    from wagtail_iom.routes.models import RouteLayout

    errors = []
    shortest = user.get("ROUTE_MIN_MONTHS", DEFAULTS["ROUTE_MIN_MONTHS"])
    longest = user.get("ROUTE_MAX_MONTHS", DEFAULTS["ROUTE_MAX_MONTHS"])
    if isinstance(shortest, int) and isinstance(longest, int) and shortest > longest:
        errors.append(
            Error(
                f"{SETTING_NAME}['ROUTE_MIN_MONTHS'] ({shortest}) is above "
                f"'ROUTE_MAX_MONTHS' ({longest}).",
                id="wagtail_iom.E008",
            )
        )
    layout = user.get("ROUTE_DEFAULT_LAYOUT", DEFAULTS["ROUTE_DEFAULT_LAYOUT"])
    if layout not in RouteLayout.values:
        errors.append(
            Error(
                f"{SETTING_NAME}['ROUTE_DEFAULT_LAYOUT'] is not a layout: {layout!r}.",
                hint="One of: " + ", ".join(RouteLayout.values) + ".",
                id="wagtail_iom.E009",
            )
        )
    return errors


# Cache backends whose entries no other process sees, and what that does to the sign-in
# throttle, which counts failed sign-ins in the default cache (accounts/services.py).
PROCESS_LOCAL_CACHES = (
    (
        LocMemCache,
        "keeps its entries in each process's memory: each process counts failed sign-ins on "
        "its own, so LOGIN_MAX_FAILURES applies per process",
    ),
    (DummyCache, "keeps nothing: failed sign-ins are never counted and nobody is locked out"),
)


@register(Tags.caches)
def check_shared_cache(app_configs, **kwargs):
    """Warn when, outside DEBUG, the default cache is not shared between processes.

    Calendar feeds do not need a shared cache (their versions live in the database); the
    sign-in throttle does, as long as it counts in the cache.
    """
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    try:
        backend_class = import_string(backend)
    except ImportError:
        return []  # Django's own cache checks report it
    for local_class, consequence in PROCESS_LOCAL_CACHES:
        if isinstance(backend_class, type) and issubclass(backend_class, local_class):
            return [
                Warning(
                    f"CACHES['default'] uses {backend}, which {consequence}.",
                    hint=(
                        "Use a cache that every process of the site shares: Redis "
                        "(django.core.cache.backends.redis.RedisCache), Memcached or "
                        "DatabaseCache."
                    ),
                    id="wagtail_iom.W010",
                )
            ]
    return []
