"""Deprecated: the import path of wagtail_iom.timezones before the package was organised by domain.

Kept for one release so that code, and migrations of projects that subclass the package's
pages, written against it keep loading. Import from :mod:`wagtail_iom.core.timezones` instead.
"""

import warnings

from wagtail_iom.core.timezones import (
    RUSSIAN_TIMEZONES,
    timezone_choices,
    timezone_label,
)

__all__ = [
    "RUSSIAN_TIMEZONES",
    "timezone_choices",
    "timezone_label",
]

warnings.warn(
    "wagtail_iom.timezones is deprecated: import from wagtail_iom.core.timezones",
    DeprecationWarning,
    stacklevel=2,
)
