"""The texts a route draft is written from: per competency, admin-editable templates of the
route's goal and tasks (:class:`~wagtail_iom.models.Competency`), with placeholders.

A placeholder is a name in braces, e.g. ``{competency}``; :data:`PLACEHOLDERS` lists them.
:func:`render` replaces the known ones and leaves anything else as it is
(:mod:`wagtail_iom.core.placeholders`). The competency's form refuses a template that names
an unknown placeholder (:func:`template_errors`).
"""

from django.utils.translation import gettext

from wagtail_iom.core import placeholders

#: The placeholders a template may use: the competency's name and code, the teacher's latest
#: score in it (%), the score below which it is a deficit (%), the teacher's level in the
#: diagnostics, the teacher's full name.
PLACEHOLDERS = ("competency", "code", "score", "threshold", "level", "teacher")


def render(template: str, values: dict) -> str:
    """``template`` with each known placeholder replaced by its value in ``values``."""
    return placeholders.fill(template, values, known=PLACEHOLDERS)


def unknown_placeholders(template: str) -> list[str]:
    """The names in braces in ``template`` that are not placeholders, each once."""
    return placeholders.unknown(PLACEHOLDERS, template)


def template_errors(template: str) -> str:
    """A message saying what is wrong with ``template``, or "" when it is fine."""
    unknown = unknown_placeholders(template)
    if not unknown:
        return ""
    return gettext("Unknown placeholders: %(unknown)s. Use %(known)s.") % {
        "unknown": ", ".join(f"{{{name}}}" for name in unknown),
        "known": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
    }


def default_goal_template() -> str:
    """The goal of a deficit whose competency has no template, in the active language."""
    return gettext("Overcome the professional deficit in “{competency}” (score {score}%).")


def default_task_template() -> str:
    """The task of a deficit whose competency has no template, in the active language."""
    return gettext("Master “{competency}”: raise the score from {score}% to {threshold}% or more.")
