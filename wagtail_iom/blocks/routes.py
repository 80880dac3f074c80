"""Deprecated: the import path of wagtail_iom.blocks.routes before the package was organised by domain.

Kept for one release so that code, and migrations of projects that subclass the package's
pages, written against it keep loading. Import from :mod:`wagtail_iom.routes.blocks` instead.
"""

import warnings

from wagtail_iom.routes.blocks import (
    MENTORING_FORMATS,
    ChooseOneStepBlock,
    CompetenciesBlock,
    EventStepBlock,
    ExternalCourseStepBlock,
    MentoringStepBlock,
    RoadmapBlock,
    RouteStage,
    SelfEducationStepBlock,
    StageBlock,
    StepsBlock,
    TaskRowBlock,
    competency_choices,
)

__all__ = [
    "MENTORING_FORMATS",
    "ChooseOneStepBlock",
    "CompetenciesBlock",
    "EventStepBlock",
    "ExternalCourseStepBlock",
    "MentoringStepBlock",
    "RoadmapBlock",
    "RouteStage",
    "SelfEducationStepBlock",
    "StageBlock",
    "StepsBlock",
    "TaskRowBlock",
    "competency_choices",
]

warnings.warn(
    "wagtail_iom.blocks.routes is deprecated: import from wagtail_iom.routes.blocks",
    DeprecationWarning,
    stacklevel=2,
)
