"""The StreamField blocks of the package: the public import path of the block classes."""

from wagtail_iom.events.blocks import EventBodyBlock
from wagtail_iom.routes.blocks import (
    ChooseOneStepBlock,
    EventStepBlock,
    ExternalCourseStepBlock,
    MentoringStepBlock,
    RoadmapBlock,
    SelfEducationStepBlock,
    StageBlock,
    TaskRowBlock,
)

__all__ = [
    "ChooseOneStepBlock",
    "EventBodyBlock",
    "EventStepBlock",
    "ExternalCourseStepBlock",
    "MentoringStepBlock",
    "RoadmapBlock",
    "SelfEducationStepBlock",
    "StageBlock",
    "TaskRowBlock",
]
