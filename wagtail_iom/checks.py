"""System checks for the ``WAGTAIL_IOM`` setting, and for django-axes, which throttles every
sign-in of the site."""

import difflib
import zoneinfo

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from wagtail_iom.conf import DEFAULTS, SETTING_NAME, iom_settings
from wagtail_iom.events.kinds import EventTrack

# Keys that no longer have any effect, and what replaces them.
DEPRECATED_KEYS = {
    "LOGIN_MAX_FAILURES": "AXES_FAILURE_LIMIT = {value!r}",
    "LOGIN_LOCKOUT_SECONDS": "AXES_COOLOFF_TIME = datetime.timedelta(seconds={value!r})",
}

POSITIVE_INTEGER_KEYS = (
    "IMPORT_MAX_UPLOAD_SIZE",
    "IMPORT_MAX_ROWS",
    "IMPORT_PREVIEW_RETENTION_DAYS",
    "RESOURCE_MAP_PAGE_SIZE",
    "FEED_CANCELLED_RETENTION_DAYS",
    "FEED_CACHE_TIMEOUT",
    "MAX_QUERY_STRING_LENGTH",
    "EMAIL_CONFIRMATION_DAYS",
    "ACCOUNT_RATE_LIMIT_PER_IP",
    "ACCOUNT_RATE_LIMIT_PER_ADDRESS",
    "ACCOUNT_RATE_LIMIT_WINDOW_SECONDS",
    "ATTENDANCE_UPLOAD_MAX_SIZE",
    "ROUTE_EVIDENCE_MAX_SIZE",
    "ROUTE_MIN_MONTHS",
    "ROUTE_MAX_MONTHS",
    "DIAGNOSTICS_IMPORT_CHUNK_SIZE",
    "DIAGNOSTICS_IMPORT_MAX_UPLOAD_SIZE",
    "DIAGNOSTICS_IMPORT_MAX_ROWS",
    "INVITATION_DAYS",
    "PERSONAL_DATA_EXPORT_DAYS",
    "MUNICIPAL_EXPORT_DAYS",
    "SIGNUP_RETENTION_YEARS",
    "UNCONFIRMED_ACCOUNT_DAYS",
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
    for key, replacement in DEPRECATED_KEYS.items():
        if key in user:
            errors.append(
                Warning(
                    f"{SETTING_NAME}[{key!r}] no longer has any effect: failed sign-ins are "
                    "counted by django-axes.",
                    hint=f"Remove the key and set {replacement.format(value=user[key])} in "
                    "your settings (see the package's docs/accounts.md).",
                    id="wagtail_iom.W001",
                )
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
    errors.extend(_check_consent_withdrawal_days(user))
    errors.extend(_check_diagnostics_thresholds(user))
    errors.extend(_check_routes(user))
    errors.extend(_check_report_status_groups(user))
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


def _check_consent_withdrawal_days(user):
    value = user.get("CONSENT_WITHDRAWAL_DAYS", DEFAULTS["CONSENT_WITHDRAWAL_DAYS"])
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 30:
        return []
    return [
        Error(
            f"{SETTING_NAME}['CONSENT_WITHDRAWAL_DAYS'] must be a whole number from 0 to 30, "
            f"not {value!r}.",
            hint="152-FZ (art. 21 §5) gives at most 30 days to stop processing and destroy "
            "or depersonalise the data after a withdrawal of consent.",
            id="wagtail_iom.E016",
        )
    ]


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
    errors.extend(_check_programme_groups(user))
    errors.extend(_check_route_lengths(user))
    errors.extend(_check_diagnostics_lookback(user))
    if not errors:
        errors.extend(_check_draft_lengths(user))
    return errors


def _check_draft_lengths(user):
    """``ROUTE_DRAFT_MONTHS`` and ``ROUTE_DRAFT_LOW_LEVEL_MONTHS``: whole months within the
    bounds of a regular route and of a route for a teacher with low results."""
    from wagtail_iom.routes.models import RouteKind
    from wagtail_iom.routes.services import length_bounds

    errors = []
    for key, kind in (
        ("ROUTE_DRAFT_MONTHS", RouteKind.REGULAR),
        ("ROUTE_DRAFT_LOW_LEVEL_MONTHS", RouteKind.LOW_LEVEL),
    ):
        value = user.get(key, DEFAULTS[key])
        shortest, longest = length_bounds(kind)
        if isinstance(value, int) and not isinstance(value, bool) and shortest <= value <= longest:
            continue
        errors.append(
            Error(
                f"{SETTING_NAME}[{key!r}] ({value!r}) is not within the length of a route of "
                f"the kind {kind.value!r}: {shortest} to {longest} months.",
                hint="Change it, or the kind's bounds in ROUTE_LENGTH_MONTHS.",
                id="wagtail_iom.E018",
            )
        )
    return errors


#: The longest lookback of a printed route's diagnostic history, in months (ten years).
MAX_DIAGNOSTICS_LOOKBACK_MONTHS = 120


def _check_diagnostics_lookback(user):
    """``ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS``: a whole number of months from 0 to 120."""
    months = user.get(
        "ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS", DEFAULTS["ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS"]
    )
    if (
        isinstance(months, bool)
        or not isinstance(months, int)
        or not 0 <= months <= MAX_DIAGNOSTICS_LOOKBACK_MONTHS
    ):
        return [
            Error(
                f"{SETTING_NAME}['ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS'] must be a whole number "
                f"of months from 0 to {MAX_DIAGNOSTICS_LOOKBACK_MONTHS}: {months!r}.",
                hint="The months before a route's start whose diagnostics its printed route lists.",
                id="wagtail_iom.E020",
            )
        ]
    return []


def _check_route_lengths(user):
    """``ROUTE_LENGTH_MONTHS``: known kinds to (min, max) whole months, min ≤ max, no maximum
    above ``ROUTE_MAX_MONTHS``, and for every kind some length left within the overall bounds
    (a lowered ROUTE_MAX_MONTHS or a raised ROUTE_MIN_MONTHS applies to the defaults too)."""
    from wagtail_iom.routes.models import RouteKind

    name = f"{SETTING_NAME}['ROUTE_LENGTH_MONTHS']"
    hint = (
        "A dict of route kinds to (min, max) months, e.g. {'regular': (6, 12)}; the kinds are: "
        + ", ".join(RouteKind.values)
        + "."
    )
    mapping = user.get("ROUTE_LENGTH_MONTHS", {})
    if not isinstance(mapping, dict):
        return [Error(f"{name} must be a dict.", hint=hint, id="wagtail_iom.E015")]
    overall_min = user.get("ROUTE_MIN_MONTHS", DEFAULTS["ROUTE_MIN_MONTHS"])
    overall_max = user.get("ROUTE_MAX_MONTHS", DEFAULTS["ROUTE_MAX_MONTHS"])
    if not (isinstance(overall_min, int) and isinstance(overall_max, int)):
        overall_min, overall_max = DEFAULTS["ROUTE_MIN_MONTHS"], DEFAULTS["ROUTE_MAX_MONTHS"]
    errors = []
    for kind, bounds in mapping.items():
        if kind not in RouteKind.values:
            errors.append(
                Error(f"{name} names an unknown kind: {kind!r}.", hint=hint, id="wagtail_iom.E015")
            )
            continue
        if not (
            isinstance(bounds, (list, tuple))
            and len(bounds) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in bounds)
        ):
            errors.append(
                Error(
                    f"{name}[{kind!r}] must be a pair of positive whole numbers of months, "
                    f"not {bounds!r}.",
                    hint=hint,
                    id="wagtail_iom.E015",
                )
            )
            continue
        shortest, longest = bounds
        if shortest > longest:
            errors.append(
                Error(
                    f"{name}[{kind!r}]: the minimum ({shortest}) is above the maximum ({longest}).",
                    id="wagtail_iom.E015",
                )
            )
        elif longest > overall_max:
            errors.append(
                Error(
                    f"{name}[{kind!r}]: the maximum ({longest}) is above "
                    f"'ROUTE_MAX_MONTHS' ({overall_max}).",
                    hint="No route lasts more than ROUTE_MAX_MONTHS (000 §5.12: three years).",
                    id="wagtail_iom.E015",
                )
            )
    if errors:
        return errors
    for kind in RouteKind.values:
        shortest, longest = mapping.get(kind, DEFAULTS["ROUTE_LENGTH_MONTHS"][kind])
        if max(shortest, overall_min) > min(longest, overall_max):
            errors.append(
                Error(
                    f"{name}[{kind!r}] ({shortest}, {longest}) leaves no length within "
                    f"'ROUTE_MIN_MONTHS'..'ROUTE_MAX_MONTHS' ({overall_min}..{overall_max}).",
                    hint=f"Set {name}[{kind!r}] within the overall bounds.",
                    id="wagtail_iom.E015",
                )
            )
    return errors


def _check_programme_groups(user):
    from wagtail_iom.routes.documents.structure import PROGRAMME_GROUPS

    mapping = user.get("ROUTE_PROGRAMME_GROUPS", DEFAULTS["ROUTE_PROGRAMME_GROUPS"])
    hint = "The programme's groups are: " + ", ".join(PROGRAMME_GROUPS) + "."
    if not isinstance(mapping, dict):
        return [
            Error(
                f"{SETTING_NAME}['ROUTE_PROGRAMME_GROUPS'] must be a dict of framework group "
                f"codes to programme groups, not {type(mapping).__name__}.",
                hint=hint,
                id="wagtail_iom.E012",
            )
        ]
    return [
        Error(
            f"{SETTING_NAME}['ROUTE_PROGRAMME_GROUPS'] maps {code!r} onto an unknown group "
            f"of the programme: {group!r}.",
            hint=hint,
            id="wagtail_iom.E012",
        )
        for code, group in mapping.items()
        if group not in PROGRAMME_GROUPS
    ]


@register(Tags.database)
def check_programme_group_codes(app_configs, databases=None, **kwargs):
    """The framework's groups are data: the codes the setting names are compared with them
    when the database is checked (``manage.py check --database default``, and ``migrate``)."""
    mapping = iom_settings.ROUTE_PROGRAMME_GROUPS
    if (
        not databases
        or not isinstance(mapping, dict)
        or mapping == DEFAULTS["ROUTE_PROGRAMME_GROUPS"]
    ):
        return []
    from django.db import DatabaseError

    group_model = apps.get_model("wagtail_iom", "CompetencyGroup")
    try:
        known = set(group_model.objects.values_list("code", flat=True))
    except DatabaseError:  # not migrated yet
        return []
    return [
        Error(
            f"{SETTING_NAME}['ROUTE_PROGRAMME_GROUPS'] names a group that is not in the "
            f"competency framework: {code!r}.",
            hint="Known group codes: " + ", ".join(sorted(known)) + ".",
            id="wagtail_iom.E013",
        )
        for code in mapping
        if code not in known
    ]


def _check_report_status_groups(user):
    """The report's columns: a mapping of keys to a label and a list of known statuses, no
    status in two columns."""
    from wagtail_iom.routes.models import RouteStatus

    if "REPORT_STATUS_GROUPS" not in user:
        return []
    groups = user["REPORT_STATUS_GROUPS"]
    name = f"{SETTING_NAME}['REPORT_STATUS_GROUPS']"
    hint = (
        "A dict of column keys to {'label': ..., 'statuses': [...]}; the statuses are: "
        + ", ".join(RouteStatus.values)
        + "."
    )
    if not isinstance(groups, dict) or not groups:
        return [Error(f"{name} must be a non-empty dict.", hint=hint, id="wagtail_iom.E014")]
    errors = []
    seen = {}
    for key, group in groups.items():
        if not (
            isinstance(group, dict)
            and group.get("label")
            and isinstance(group.get("statuses"), (list, tuple))
        ):
            errors.append(
                Error(
                    f"{name}[{key!r}] needs a 'label' and a list of 'statuses'.",
                    hint=hint,
                    id="wagtail_iom.E014",
                )
            )
            continue
        for status in group["statuses"]:
            if status not in RouteStatus.values:
                errors.append(
                    Error(
                        f"{name}[{key!r}] names an unknown route status: {status!r}.",
                        hint=hint,
                        id="wagtail_iom.E014",
                    )
                )
            elif status in seen:
                errors.append(
                    Error(
                        f"{name}: the status {status!r} is in two columns, {seen[status]!r} "
                        f"and {key!r}.",
                        hint="Count each status in one column only.",
                        id="wagtail_iom.E014",
                    )
                )
            else:
                seen[status] = key
    return errors


# django-axes ------------------------------------------------------------------------------

AXES_BACKEND = "axes.backends.AxesStandaloneBackend"
AXES_MIDDLEWARE = "axes.middleware.AxesMiddleware"
# Handlers whose counts do not outlive one process, or that count nothing.
AXES_MEMORY_HANDLERS = (
    "axes.handlers.dummy.AxesDummyHandler",
    "axes.handlers.test.AxesTestHandler",
)
AXES_CACHE_HANDLER = "axes.handlers.cache.AxesCacheHandler"
PROCESS_MEMORY_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _is_subclass_of(path, base_path):
    """Whether the class at dotted ``path`` is the one at ``base_path`` or a subclass of it;
    False when either cannot be imported."""
    if path == base_path:
        return True
    try:
        return issubclass(import_string(path), import_string(base_path))
    except (ImportError, TypeError, RuntimeError):
        return False


@register(Tags.security)
def check_axes(app_configs, **kwargs):
    """Every sign-in page is throttled only when django-axes is installed, sees every
    ``authenticate()`` first and answers refused requests; and its counts must be shared by every
    process that serves the site."""
    errors = []
    installed = apps.is_installed("axes")
    if not installed:
        errors.append(
            Error(
                "django-axes is not in INSTALLED_APPS: failed sign-ins are not counted, and "
                "passwords can be guessed without limit.",
                hint='Add "axes" to INSTALLED_APPS and run migrate.',
                id="wagtail_iom.E010",
            )
        )
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if not backends or not (installed and _is_subclass_of(backends[0], AXES_BACKEND)):
        errors.append(
            Error(
                "The first of AUTHENTICATION_BACKENDS is not django-axes' backend: sign-ins are "
                "not refused while a lockout holds.",
                hint=f'Put "{AXES_BACKEND}" first in AUTHENTICATION_BACKENDS, before '
                '"django.contrib.auth.backends.ModelBackend".',
                id="wagtail_iom.E010",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if not (installed and any(_is_subclass_of(path, AXES_MIDDLEWARE) for path in middleware)):
        errors.append(
            Error(
                "django-axes' middleware is not in MIDDLEWARE: a locked-out sign-in is not "
                "answered with the lockout page.",
                hint=f'Add "{AXES_MIDDLEWARE}" at the end of MIDDLEWARE.',
                id="wagtail_iom.E010",
            )
        )
    handler = getattr(settings, "AXES_HANDLER", "axes.handlers.database.AxesDatabaseHandler")
    cache_alias = getattr(settings, "AXES_CACHE", "default")
    cache_backend = settings.CACHES.get(cache_alias, {}).get("BACKEND", "")
    if handler in AXES_MEMORY_HANDLERS or (
        handler == AXES_CACHE_HANDLER and cache_backend in PROCESS_MEMORY_CACHES
    ):
        errors.append(
            Error(
                f"AXES_HANDLER {handler!r} keeps no count that every process of the site "
                "shares: each process would allow its own failures.",
                hint='Use "axes.handlers.database.AxesDatabaseHandler" (the default), or the '
                "cache handler with a shared cache (Redis, Memcached).",
                id="wagtail_iom.E011",
            )
        )
    if installed and getattr(settings, "AXES_COOLOFF_TIME", None) is None:
        errors.append(
            Warning(
                "AXES_COOLOFF_TIME is not set: a lockout never ends by itself, so whoever knows "
                "a user name can lock its owner out until staff reset it.",
                hint="Set AXES_COOLOFF_TIME = datetime.timedelta(minutes=15).",
                id="wagtail_iom.W002",
            )
        )
    return errors
