"""The curator's reflection on a route (stage 4, the reflexive stage).

The regulation has the effectiveness of a route analysed by both sides (000 §4.5: «рефлексивный
анализ эффективности реализации ИОМ непосредственно педагогом и закрепленным за ним тьютором /
куратором»): the teacher writes the own reflection in the cabinet
(:func:`wagtail_iom.routes.teacher.save_reflection`), the curator (tutor) writes theirs in the
admin, on the route's page, with :func:`save_curator_reflection`. Who may is decided by
:func:`wagtail_iom.core.access.can_write_curator_reflection`; the route must be in
implementation or completed (the reflection is on what was done, and the audit closes it, as it
closes the teacher's). Who wrote it and when are kept with the text; the teacher reads it on the
route's page, and the full printed document has it beside the teacher's.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access
from wagtail_iom.routes.models import Route, RouteStatus
from wagtail_iom.routes.services import RouteError

#: The statuses in which the curator writes the reflection: while the route is carried out and
#: once it is completed, until the audit (as the teacher's reflection ends at the audit).
CURATOR_REFLECTION_STATUSES = (RouteStatus.IMPLEMENTATION, RouteStatus.COMPLETED)
CURATOR_REFLECTION_MAX_LENGTH = 10000

FIELDS = ("curator_reflection", "curator_reflection_by", "curator_reflection_at")


def status_allows(route) -> bool:
    return route.status in CURATOR_REFLECTION_STATUSES


def can_write(user, route) -> bool:
    """Whether ``user`` may write the curator's reflection on ``route`` now."""
    return status_allows(route) and access.can_write_curator_reflection(user, route)


def _refusal(route, user):
    if access.route_frozen(route):
        return RouteError(
            "frozen",
            _(
                "The teacher has withdrawn the consent to the processing of personal data: the "
                "route is frozen and cannot be changed."
            ),
        )
    if not access.can_write_curator_reflection(user, route):
        return RouteError(
            "forbidden",
            _("The reflection on a route is written by the teacher's curator (tutor)."),
        )
    if not status_allows(route):
        return RouteError(
            "status",
            _(
                "The curator's reflection is written while the route is in implementation or "
                "completed; now it is “%(status)s”."
            )
            % {"status": route.get_status_display()},
        )
    return None


def save_curator_reflection(route, text, user) -> Route:
    """Save the curator's reflection on ``route`` as ``user``; an empty text clears it.

    Refused with :class:`~wagtail_iom.routes.services.RouteError` (``too_long``, ``frozen``,
    ``forbidden``, ``status``), and then nothing changes. The route's row is locked, so that a
    status change made meanwhile (the audit) is seen.
    """
    text = (text or "").strip()
    if len(text) > CURATOR_REFLECTION_MAX_LENGTH:
        raise RouteError(
            "too_long",
            _("Write the reflection in at most %(count)d characters.")
            % {"count": CURATOR_REFLECTION_MAX_LENGTH},
        )
    with transaction.atomic():
        current = Route.objects.select_for_update().get(pk=route.pk)
        refusal = _refusal(current, user)
        if refusal is not None:
            raise refusal
        current.curator_reflection = text
        current.curator_reflection_by = user if text else None
        current.curator_reflection_at = timezone.now() if text else None
        current.save(update_fields=[*FIELDS, "updated_at"])
    for name in FIELDS:
        setattr(route, name, getattr(current, name))
    return route
