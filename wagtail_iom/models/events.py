"""Deprecated: the import path of wagtail_iom.models.events before the package was organised by domain.

Kept for one release so that code, and migrations of projects that subclass the package's
pages, written against it keep loading. Import from :mod:`wagtail_iom.events.models` instead.
"""

import warnings

from wagtail_iom.events.models import (
    default_event_timezone,
    validate_timezone,
)

__all__ = [
    "default_event_timezone",
    "validate_timezone",
]

warnings.warn(
    "wagtail_iom.models.events is deprecated: import from wagtail_iom.events.models",
    DeprecationWarning,
    stacklevel=2,
)
