"""The status workflow of a route (ИОМ).

The status moves only through :func:`transition`, which checks that the move is allowed from
the current status and that the user may make it (:mod:`~wagtail_iom.core.access`), then
records a :class:`~wagtail_iom.models.RouteTransition`::

    in development → sent for approval → approved by the school → in implementation
        → completed → audited
    sent for approval / approved / in implementation → returned for revision → sent again

A route sent for approval and an approved route are e-mailed, as a PDF, to the school head and
the municipal methodists (:mod:`wagtail_iom.routes.emails`).
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access
from wagtail_iom.routes.emails import route_status_changed
from wagtail_iom.routes.models import Route, RouteStatus, RouteTransition
from wagtail_iom.routes.services import RouteError

S = RouteStatus

#: Allowed moves: from a status, to the statuses, and who may make the move.
TRANSITIONS = {
    (S.DEVELOPMENT, S.SENT_FOR_APPROVAL): "edit",
    (S.RETURNED, S.SENT_FOR_APPROVAL): "edit",
    (S.SENT_FOR_APPROVAL, S.APPROVED): "approve",
    (S.SENT_FOR_APPROVAL, S.RETURNED): "approve",
    (S.APPROVED, S.IMPLEMENTATION): "edit",
    (S.APPROVED, S.RETURNED): "edit",
    (S.IMPLEMENTATION, S.RETURNED): "edit",
    (S.IMPLEMENTATION, S.COMPLETED): "edit",
    (S.COMPLETED, S.AUDITED): "audit",
}

_CHECKS = {
    "edit": access.can_edit_route,
    "approve": access.can_approve_route,
    "audit": access.can_audit_route,
}


def allowed_transitions(route, user) -> list[str]:
    """The statuses ``user`` may move ``route`` to now (to "audited" through the audit form)."""
    return [
        to
        for (frm, to), who in TRANSITIONS.items()
        if frm == route.status and _CHECKS[who](user, route)
    ]


def transition(route, to_status, user, comment="", notify=True, *, audit=False) -> RouteTransition:
    """Move ``route`` to ``to_status`` as ``user``; refused with :class:`RouteError`.

    A route becomes audited only with its audit: :func:`wagtail_iom.routes.audit.record_audit`
    passes ``audit=True``; any other move to "audited" is refused (``audit_required``).

    With ``notify`` (the default) the school head and the methodists are e-mailed the printed
    route when it is sent for approval and when it is approved; demo data passes False.

    The route's row is locked, so that two people approving and returning at once are served
    one after the other and the second sees the first one's status.
    """
    with transaction.atomic():
        current = Route.objects.select_for_update().get(pk=route.pk)
        who = TRANSITIONS.get((current.status, to_status))
        if who is None:
            raise RouteError(
                "not_allowed",
                _("A route %(status)s cannot be moved to “%(to)s”.")
                % {
                    "status": f"«{current.get_status_display()}»",
                    "to": RouteStatus(to_status).label if to_status in S.values else to_status,
                },
            )
        if to_status == S.AUDITED and not audit:
            raise RouteError(
                "audit_required",
                _("A route becomes audited when its audit is recorded: fill in the audit form."),
            )
        if not _CHECKS[who](user, current):
            raise RouteError("forbidden", _("You may not make this change to this route."))
        if to_status == S.RETURNED and not comment.strip():
            raise RouteError("comment_required", _("Say what needs revising."))
        record = RouteTransition.objects.create(
            route=current,
            from_status=current.status,
            to_status=to_status,
            by=user,
            comment=comment.strip(),
        )
        current.status = to_status
        current.save(update_fields=["status", "updated_at"])
        # The school head and the methodists get the printed route once this commits.
        if notify:
            route_status_changed(current, to_status, transition=record)
    route.status = to_status
    return record
