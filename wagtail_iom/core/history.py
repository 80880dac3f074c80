"""Which of Wagtail's log entries are about a teacher, and which teacher.

Wagtail writes a log entry for every change made in the admin (``wagtail.log_actions``) and
shows them in the site history report and in each object's history. For the models registered
here, the entries go to :class:`~wagtail_iom.core.models.TeacherLogEntry`, which records the
teacher each entry is about, so that a curator, a methodist or a school head reads only the
entries about the teachers they reach, as on every other screen.

The root ``wagtail_hooks.py`` registers the models in Wagtail's ``register_log_actions`` hook::

    history.register(actions, Route, teacher_of=lambda route: route.teacher_id)
"""

_teacher_of = {}


def register(actions, model, teacher_of):
    """Log changes to ``model`` as entries about the teacher that ``teacher_of(instance)`` names
    (a teacher profile's id, or None)."""
    from wagtail_iom.core.models import TeacherLogEntry

    _teacher_of[model] = teacher_of
    actions.register_model(model, TeacherLogEntry)


def teacher_id_of(instance):
    """The id of the teacher profile ``instance`` is about, or None when its model is not
    registered or it names no teacher."""
    for cls in type(instance).__mro__:
        teacher_of = _teacher_of.get(cls)
        if teacher_of is not None:
            return teacher_of(instance)
    return None


def registered_models():
    """The models whose log entries name their teacher."""
    return tuple(_teacher_of)
