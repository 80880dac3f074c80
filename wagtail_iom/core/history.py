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


def _site_history_queryset(view):
    """Wagtail's site history report, its rows from every log model united in one flat
    ``UNION ALL``.

    Wagtail unites the log models one after another, which nests a union in a union as soon as
    a third log model (``TeacherLogEntry``) is registered. From Django 6.1 on, the nested union
    takes the default ordering of its first model, Wagtail's ``ModelLogEntry``, and the report
    answers 500: SQLite refuses an ORDER BY inside a compound statement, PostgreSQL two of them.
    A flat union keeps Wagtail's own filters and order and gives the same rows on every Django.
    """
    from django.db.models import IntegerField, Value
    from wagtail.log_actions import registry as log_action_registry

    view.log_models = list(log_action_registry.get_log_entry_models())
    parts = []
    for log_model_index, log_model in enumerate(view.log_models):
        part = (
            log_model.objects.viewable_by_user(view.request.user)
            .values("pk", "timestamp")
            .annotate(log_model_index=Value(log_model_index, output_field=IntegerField()))
        )
        parts.append(view.filter_queryset(part).order_by())
    # The log_model_index makes rows unique across the parts: UNION ALL, as Wagtail does.
    return parts[0].union(*parts[1:], all=True).order_by("-timestamp")


def install_site_history_union():
    """Makes Wagtail's site history report unite its log models in one flat union
    (:func:`_site_history_queryset`); called once from the app's ``ready()``."""
    from wagtail.admin.views.reports.audit_logging import LogEntriesView

    LogEntriesView.get_filtered_queryset = _site_history_queryset
