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

With the reflection the curator marks whether the teacher presented the route's results to the
professional community, at which level and when (seed 004's indicator «доля педагогов,
представивших результаты … педагогическому сообществу на разных уровнях»), which the reports
count (*Teacher coverage*).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access
from wagtail_iom.routes.models import PresentationLevel, Route, RouteStatus
from wagtail_iom.routes.services import RouteError

#: The statuses in which the curator writes the reflection: while the route is carried out and
#: once it is completed, until the audit (as the teacher's reflection ends at the audit).
CURATOR_REFLECTION_STATUSES = (RouteStatus.IMPLEMENTATION, RouteStatus.COMPLETED)
CURATOR_REFLECTION_MAX_LENGTH = 10000

FIELDS = ("curator_reflection", "curator_reflection_by", "curator_reflection_at")
PRESENTATION_FIELDS = ("results_presented_level", "results_presented_on")

#: "Leave the presentation mark as it is" (the reflection is saved alone).
UNCHANGED = object()


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


def check_presentation(route, level, on) -> None:
    """Refuse a presentation mark that cannot be: a level without a date or the other way
    round, an unknown level, a date in the future or before the route started."""
    if bool(level) != bool(on):
        raise RouteError(
            "presentation_incomplete",
            _("Give both the level and the date of the presentation, or neither."),
        )
    if level and level not in PresentationLevel.values:
        raise RouteError("presentation_level", _("Choose the level of the presentation."))
    if on and on > timezone.localdate():
        raise RouteError(
            "presentation_future", _("The date of the presentation cannot be in the future.")
        )
    if on and route.starts_on and on < route.starts_on:
        raise RouteError(
            "presentation_early",
            _("The results are presented after the route starts (%(date)s).")
            % {"date": f"{route.starts_on:%d.%m.%Y}"},
        )


def save_curator_reflection(
    route, text, user, *, presented_level=UNCHANGED, presented_on: datetime.date | None = None
) -> Route:
    """Save the curator's reflection on ``route`` as ``user``; an empty text clears it. With
    ``presented_level`` ("" clears it, with ``presented_on``), also the mark that the teacher
    presented the route's results to the professional community.

    Refused with :class:`~wagtail_iom.routes.services.RouteError` (``too_long``,
    ``presentation_*``, ``frozen``, ``forbidden``, ``status``), and then nothing changes. The
    route's row is locked, so that a status change made meanwhile (the audit) is seen.
    """
    text = (text or "").strip()
    if len(text) > CURATOR_REFLECTION_MAX_LENGTH:
        raise RouteError(
            "too_long",
            _("Write the reflection in at most %(count)d characters.")
            % {"count": CURATOR_REFLECTION_MAX_LENGTH},
        )
    fields = list(FIELDS)
    with transaction.atomic():
        current = Route.objects.select_for_update().get(pk=route.pk)
        refusal = _refusal(current, user)
        if refusal is not None:
            raise refusal
        if presented_level is not UNCHANGED:
            presented_level = presented_level or ""
            check_presentation(current, presented_level, presented_on)
            current.results_presented_level = presented_level
            current.results_presented_on = presented_on if presented_level else None
            fields += PRESENTATION_FIELDS
        current.curator_reflection = text
        current.curator_reflection_by = user if text else None
        current.curator_reflection_at = timezone.now() if text else None
        current.save(update_fields=[*fields, "updated_at"])
    for name in fields:
        setattr(route, name, getattr(current, name))
    return route
