"""Deprecated: the import path of wagtail_iom.event_kinds before the package was organised by domain.

Kept for one release so that code, and migrations of projects that subclass the package's
pages, written against it keep loading. Import from :mod:`wagtail_iom.events.kinds` instead.
"""

import warnings

from wagtail_iom.events.kinds import (
    DEFAULT_EVENT_KINDS,
    EventTrack,
    event_kind_choices,
    event_kinds,
    track_of_kind,
)

__all__ = [
    "DEFAULT_EVENT_KINDS",
    "EventTrack",
    "event_kind_choices",
    "event_kinds",
    "track_of_kind",
]

warnings.warn(
    "wagtail_iom.event_kinds is deprecated: import from wagtail_iom.events.kinds",
    DeprecationWarning,
    stacklevel=2,
)
