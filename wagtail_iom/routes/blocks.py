"""The route builder: the roadmap's stages and their steps (section 3 of the route document,
the development map).

A route's ``roadmap`` is a stream of :class:`StageBlock` (the four stages of the cycle), each
holding steps. Completion marks are not stored in the blocks: an event step's mark comes from
attendance, a self-education step's from the teacher's :class:`~wagtail_iom.models.StepCompletion`
(see :mod:`wagtail_iom.routes.services`). Steps are addressed by their stream ids, which stay
the same across revisions.

Deadlines outside the route's period are checked by the route's ``clean()`` (a block does not
know the route it is in); the blocks check what they can alone.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.events.models import EventLevel


def competency_choices():
    """The framework's competencies, read when a form is built (the framework is data)."""
    from wagtail_iom.directory.models import Competency

    return [
        (str(c.pk), f"{c.code} {c.name}")
        for c in Competency.objects.order_by("group__sort_order", "sort_order", "name")
    ]


class RouteStage:
    DIAGNOSTIC_MOTIVATIONAL = "diagnostic_motivational"
    DESIGN = "design"
    IMPLEMENTATION = "implementation"
    REFLEXIVE = "reflexive"

    CHOICES = [
        (DIAGNOSTIC_MOTIVATIONAL, _("Diagnostic-motivational stage")),
        (DESIGN, _("Design stage")),
        (IMPLEMENTATION, _("Implementation stage")),
        (REFLEXIVE, _("Reflexive stage")),
    ]
    ORDER = [code for code, _label in CHOICES]


MENTORING_FORMATS = [
    ("goal_oriented", _("Short-term, goal-oriented")),
    ("speed", _("Speed mentoring")),
    ("flash", _("Flash mentoring")),
    ("virtual", _("Virtual mentoring")),
]


#: The level a step of each kind starts with in the editor (000's form pre-prints the five
#: levels under every stage). Stored steps without a level print at this level.
DEFAULT_STEP_LEVELS = {
    "self_education": EventLevel.PERSONAL,
    "mentoring": EventLevel.SCHOOL,
    "external_course": EventLevel.REGIONAL,
    "task_row": EventLevel.PERSONAL,
}


def _level_block(step_type):
    """The level of a step that has no event: required, as the development map files every
    step under one of the five levels."""
    return blocks.ChoiceBlock(
        choices=EventLevel.choices,
        label=_("Level"),
        default=DEFAULT_STEP_LEVELS[step_type],
        help_text=_("The level of the development map this step is printed under."),
    )


#: The track a step without an event starts with (000 §2.5: formal, non-formal and informal
#: education). An external course is a further-education programme with hours and a
#: certificate: formal, as the resource map's courses are. Mentoring and self-education are
#: informal, as the resource map's mentoring sessions and self-education are; a row of the
#: compact table is the teacher's own work. Stored steps without a track count at this track.
DEFAULT_STEP_TRACKS = {
    "self_education": EventTrack.INFORMAL,
    "mentoring": EventTrack.INFORMAL,
    "external_course": EventTrack.FORMAL,
    "task_row": EventTrack.INFORMAL,
}


def _track_block(step_type):
    """The track of a step that has no event (an event step takes its event's track)."""
    return blocks.ChoiceBlock(
        choices=EventTrack.choices,
        label=_("Track"),
        default=DEFAULT_STEP_TRACKS[step_type],
        help_text=_("Formal, non-formal or informal education: counted in the route's shares."),
    )


def _task_block():
    """The educational task a step serves: the compact table's «Образовательные задачи» and
    the programme's «Ведущие задачи» (the planned result stays the expected result)."""
    return blocks.TextBlock(
        label=_("Educational task"),
        required=False,
        help_text=_("The task this step serves, e.g. “Master the design of a lesson”."),
    )


def _event_page_chooser(**kwargs):
    return blocks.PageChooserBlock(page_type="wagtail_iom.EventPage", **kwargs)


class CompetenciesBlock(blocks.MultipleChoiceBlock):
    """Competency ids. Reading a stored value needs no query: Wagtail's own ``to_python``
    builds the field (and so reads the framework) for every value, once per step."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", competency_choices)
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Targeted competencies"))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value is None:
            return []
        return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


class EventStepBlock(blocks.StructBlock):
    """An event of the resource map; its completion mark comes from attendance."""

    event = _event_page_chooser(label=_("Event"))
    level = blocks.ChoiceBlock(choices=EventLevel.choices, label=_("Level"), required=False)
    form = blocks.CharBlock(
        label=_("Form and format"), max_length=255, required=False,
        help_text=_("E.g. a course, in person."),
    )  # fmt: skip
    task = _task_block()
    planned_result = blocks.TextBlock(label=_("Planned result"), required=False)
    result_presentation = blocks.CharBlock(
        label=_("How the result is presented"), max_length=255, required=False
    )
    competencies = CompetenciesBlock()
    deadline = blocks.DateBlock(label=_("Deadline"), required=False)

    class Meta:
        icon = "date"
        label = _("Event")


class ChooseOneStepBlock(blocks.StructBlock):
    """Two to five events offered; the teacher picks one, which becomes an event step."""

    options = blocks.ListBlock(
        _event_page_chooser(label=_("Event")),
        min_num=2,
        max_num=5,
        label=_("Events to choose from"),
    )
    task = _task_block()
    planned_result = blocks.TextBlock(label=_("Planned result"), required=False)
    competencies = CompetenciesBlock()
    deadline = blocks.DateBlock(label=_("Choose by"), required=False)

    class Meta:
        icon = "list-ul"
        label = _("Choice of one event")

    def clean(self, value):
        value = super().clean(value)
        ids = [page.pk for page in value["options"] if page is not None]
        if len(set(ids)) != len(ids):
            raise StructBlockValidationError(
                block_errors={
                    "options": ValidationError(_("Offer each event once."), code="duplicate")
                }
            )
        return value


class SelfEducationStepBlock(blocks.StructBlock):
    """Self-education: the teacher marks it done with evidence."""

    activity = blocks.CharBlock(label=_("Activity"), max_length=500)
    level = _level_block("self_education")
    track = _track_block("self_education")
    form = blocks.CharBlock(label=pgettext_lazy("of an activity", "Form"), max_length=255,
                            required=False)  # fmt: skip
    task = _task_block()
    planned_result = blocks.TextBlock(label=_("Planned result"), required=False)
    competencies = CompetenciesBlock()
    deadline = blocks.DateBlock(label=_("Deadline"), required=False)

    class Meta:
        icon = "doc-full"
        label = _("Self-education")


class ExternalCourseStepBlock(blocks.StructBlock):
    """A course taken outside the resource map."""

    place = blocks.CharBlock(label=_("Where"), max_length=500)
    level = _level_block("external_course")
    track = _track_block("external_course")
    programme = blocks.CharBlock(label=_("Programme"), max_length=500)
    hours = blocks.IntegerBlock(label=_("Hours"), min_value=1, max_value=3000, required=False)
    task = _task_block()
    certificate = blocks.CharBlock(label=_("Certificate"), max_length=255, required=False)
    competencies = CompetenciesBlock()
    deadline = blocks.DateBlock(label=_("Deadline"), required=False)

    class Meta:
        icon = "site"
        label = _("External course")


class MentoringStepBlock(blocks.StructBlock):
    mentor = blocks.CharBlock(label=_("Mentor"), max_length=255)
    level = _level_block("mentoring")
    track = _track_block("mentoring")
    format = blocks.ChoiceBlock(choices=MENTORING_FORMATS, label=_("Format of mentoring"))
    meetings = blocks.TextBlock(
        label=_("Meetings"), required=False, help_text=_("Topics and dates of the meetings.")
    )
    task = _task_block()
    planned_result = blocks.TextBlock(label=_("Planned result"), required=False)
    competencies = CompetenciesBlock()
    deadline = blocks.DateBlock(label=_("Deadline"), required=False)

    class Meta:
        icon = "group"
        label = _("Mentoring")


class TaskRowBlock(blocks.StructBlock):
    """One row of the compact task table: deficit → task → actions → dates → result."""

    deficit = blocks.CharBlock(label=_("Deficit or task"), max_length=500)
    level = _level_block("task_row")
    track = _track_block("task_row")
    educational_task = blocks.TextBlock(label=_("Educational task"))
    actions = blocks.TextBlock(label=_("Actions and events"))
    starts_on = blocks.DateBlock(label=_("From"), required=False)
    deadline = blocks.DateBlock(label=_("Until"), required=False)
    result_form = blocks.CharBlock(
        label=_("Form of presenting the result"), max_length=500, required=False
    )

    class Meta:
        icon = "table"
        label = _("Task row")

    def clean(self, value):
        value = super().clean(value)
        if value["starts_on"] and value["deadline"] and value["deadline"] < value["starts_on"]:
            raise StructBlockValidationError(
                block_errors={
                    "deadline": ValidationError(
                        _("The end cannot be before the start."), code="dates"
                    )
                }
            )
        return value


class StepsBlock(blocks.StreamBlock):
    event = EventStepBlock()
    choose_one = ChooseOneStepBlock()
    self_education = SelfEducationStepBlock()
    external_course = ExternalCourseStepBlock()
    mentoring = MentoringStepBlock()
    task_row = TaskRowBlock()

    class Meta:
        required = False


class StageBlock(blocks.StructBlock):
    stage = blocks.ChoiceBlock(choices=RouteStage.CHOICES, label=_("Stage"))
    steps = StepsBlock(label=_("Steps"))

    class Meta:
        icon = "list-ol"
        label = _("Stage")
        form_classname = "iom-route-stage"


class RoadmapBlock(blocks.StreamBlock):
    """The development map: the four stages, each at most once."""

    stage = StageBlock()

    class Meta:
        max_num = len(RouteStage.CHOICES)

    def clean(self, value):
        value = super().clean(value)
        seen = [child.value["stage"] for child in value]
        if len(set(seen)) != len(seen):
            raise blocks.StreamBlockValidationError(
                non_block_errors=ValidationError(
                    _("Each stage can appear once."), code="duplicate_stage"
                )
            )
        return value
