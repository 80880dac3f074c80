"""Deprecated: the import path of wagtail_iom.blocks.event before the package was organised by domain.

Kept for one release so that code, and migrations of projects that subclass the package's
pages, written against it keep loading. Import from :mod:`wagtail_iom.events.blocks` instead.
"""

import warnings

from wagtail_iom.events.blocks import (
    EventBodyBlock,
    LinkBlock,
    ProgrammeItemBlock,
)

__all__ = [
    "EventBodyBlock",
    "LinkBlock",
    "ProgrammeItemBlock",
]

warnings.warn(
    "wagtail_iom.blocks.event is deprecated: import from wagtail_iom.events.blocks",
    DeprecationWarning,
    stacklevel=2,
)
