"""System checks for the ``WAGTAIL_IOM`` setting."""

import difflib

from django.conf import settings
from django.core.checks import Error, Tags, register

from .conf import DEFAULTS, SETTING_NAME, iom_settings


@register(Tags.compatibility)
def check_iom_settings(app_configs, **kwargs):
    errors = []
    user = getattr(settings, SETTING_NAME, None)
    if user is None:
        return errors
    if not isinstance(user, dict):
        errors.append(
            Error(
                f"{SETTING_NAME} must be a dict, not {type(user).__name__}.",
                id="wagtail_iom.E002",
            )
        )
        return errors
    for key in iom_settings.unknown_keys():
        close = difflib.get_close_matches(str(key), DEFAULTS.keys(), n=1)
        hint = (
            f"Did you mean {close[0]!r}?"
            if close
            else ("Known keys: " + ", ".join(sorted(DEFAULTS)) + ".")
        )
        errors.append(
            Error(
                f"{SETTING_NAME} has an unknown key {key!r}.",
                hint=hint,
                id="wagtail_iom.E001",
            )
        )
    for key in ("IMPORT_MAX_UPLOAD_SIZE", "IMPORT_MAX_ROWS", "IMPORT_PREVIEW_RETENTION_DAYS"):
        value = user.get(key, DEFAULTS[key])
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            errors.append(
                Error(
                    f"{SETTING_NAME}[{key!r}] must be a positive whole number, not {value!r}.",
                    id="wagtail_iom.E003",
                )
            )
    return errors
