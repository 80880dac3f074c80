"""E-mails about a route's approval: the route's PDF to the school head and the municipal methodists.

When a route is sent for approval and when it is approved (000 §5.11: the route goes
electronically to the municipal service and the school), the workflow calls
:func:`route_status_changed`. Once the transaction commits, the Celery task
``wagtail_iom.notify_route_status`` (primary keys only) e-mails the route, as a PDF in the
default layout (``WAGTAIL_IOM["ROUTE_DEFAULT_LAYOUT"]``), to

* the school heads of the teacher's school, and
* the municipal methodists of the teacher's municipality

(their :class:`~wagtail_iom.models.StaffMembership`), each in an e-mail of their own, as plain
text with an HTML alternative, in the language given (else ``settings.LANGUAGE_CODE``).

Each e-mail is sent once: its key ``route-<status>:<route pk>:<transition pk>:<user pk>`` goes
into :class:`~wagtail_iom.models.SentNotification` in the same transaction as the sending (see
:func:`wagtail_iom.notifications._send_once`), so a repeated or retried task sends nothing twice.
A route sent for approval that was already decided when the task runs is not announced.
"""

import functools

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from .notifications import _send_once

TEMPLATES = "wagtail_iom/emails/"


def _statuses():
    from .models import RouteStatus

    return {
        RouteStatus.SENT_FOR_APPROVAL: "route_sent_for_approval",
        RouteStatus.APPROVED: "route_approved",
    }


def notified_statuses():
    """The statuses whose transitions are e-mailed."""
    return tuple(_statuses())


def route_key(status, route_pk, transition_pk, user_pk) -> str:
    return f"route-{status}:{route_pk}:{transition_pk}:{user_pk}"


def _delay(route_pk, transition_pk, language):
    from . import tasks

    tasks.notify_route_status.delay(route_pk, transition_pk, language)


def route_status_changed(route, to_status, transition=None, language=None) -> bool:
    """The route moved to ``to_status`` (by ``transition``, a RouteTransition; the route's latest
    transition to that status when None): e-mail it once the transaction commits.

    Only "sent for approval" and "approved" are e-mailed; True when an e-mail task was queued.
    """
    from .models import RouteTransition

    if to_status not in _statuses():
        return False
    if transition is None:
        transition = (
            RouteTransition.objects.filter(route_id=route.pk, to_status=to_status)
            .order_by("-at", "-pk")
            .first()
        )
        if transition is None:
            return False
    # robust: the route has moved already; a broker that is down must not undo that (the
    # failure is logged).
    transaction.on_commit(functools.partial(_delay, route.pk, transition.pk, language), robust=True)
    return True


def recipients(route):
    """The active users with an e-mail address who head the teacher's school or are methodists
    of the teacher's municipality, each once, in a stable order."""
    from .models import StaffMembership, StaffRole

    teacher = route.teacher
    scope = Q(pk__in=[])
    if teacher.school_id:
        scope |= Q(role=StaffRole.SCHOOL_HEAD, school_id=teacher.school_id)
    if teacher.municipality_id:
        scope |= Q(role=StaffRole.MUNICIPAL_METHODIST, municipality_id=teacher.municipality_id)
    people = {}
    memberships = (
        StaffMembership.objects.filter(scope, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id", "pk")
    )
    for membership in memberships:
        people.setdefault(membership.user_id, membership.user)
    return list(people.values())


def _admin_url(route, layout):
    base = (getattr(settings, "WAGTAILADMIN_BASE_URL", "") or "").rstrip("/")
    try:
        path = reverse("wagtail_iom_route_print:print", args=(route.pk, layout, "html"))
    except NoReverseMatch:  # the project has not included Wagtail's admin URLs
        return ""
    return base + path if base else ""


def _message(kind, context, to, attachment):
    subject = " ".join(render_to_string(f"{TEMPLATES}{kind}_subject.txt", context).split())
    context = {**context, "subject": subject}
    body = render_to_string(f"{TEMPLATES}route_status.txt", context).strip() + "\n"
    html = render_to_string(f"{TEMPLATES}route_status.html", context)
    message = EmailMultiAlternatives(
        subject, body, to=[to], headers={"Auto-Submitted": "auto-generated"}
    )
    message.attach_alternative(html, "text/html")
    message.attach(*attachment)
    return message


def send_route_status(route_pk, transition_pk, language=None) -> int:
    """E-mail the route's PDF about one transition to each recipient not e-mailed yet; returns
    how many e-mails were sent now."""
    from .models import Route, RouteStatus, RouteTransition
    from .services import route_documents

    route = (
        Route.objects.select_related("teacher__school", "teacher__municipality", "curator")
        .filter(pk=route_pk)
        .first()
    )
    move = (
        RouteTransition.objects.select_related("by")
        .filter(pk=transition_pk, route_id=route_pk)
        .first()
    )
    if route is None or move is None or move.to_status not in _statuses():
        return 0
    if move.to_status == RouteStatus.SENT_FOR_APPROVAL and route.status != move.to_status:
        # Approved or returned before the e-mail went out: there is nothing left to approve.
        return 0
    people = recipients(route)
    if not people:
        return 0
    kind = _statuses()[move.to_status]
    language = language or settings.LANGUAGE_CODE
    layout = route_documents.default_layout()

    @functools.cache
    def attachment():
        with translation.override(language):
            document = route_documents.route_document(route, layout)
            content = route_documents.render_pdf(document)
        return (document.filename("pdf"), content, "application/pdf")

    sent = 0
    for user in people:

        def build(user=user):
            with translation.override(language):
                context = {
                    "kind": kind,
                    "route": route,
                    "teacher": route.teacher,
                    "transition": move,
                    "by_name": (move.by.get_full_name() or move.by.get_username())
                    if move.by
                    else "",
                    "name": user.get_full_name(),
                    "route_url": _admin_url(route, layout),
                    "site_name": getattr(settings, "WAGTAIL_SITE_NAME", ""),
                }
                return _message(kind, context, user.email, attachment())

        key = route_key(move.to_status, route.pk, move.pk, user.pk)
        if _send_once(key, kind, user, build):
            sent += 1
    return sent
