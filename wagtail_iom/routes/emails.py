"""E-mails about routes, built on :mod:`wagtail_iom.core.mail`.

A teacher's request for a correction
    :func:`correction_requested` enqueues ``wagtail_iom.notify_route_correction`` on commit;
    :func:`send_correction_request` e-mails the request to the teacher's curator, once.

The route's PDF to the school head and the municipal methodists

When a route is sent for approval and when it is approved (a route goes electronically to the
municipal methodical service and to the school), the workflow calls
:func:`route_status_changed`. Once the transaction commits, the Celery task
``wagtail_iom.notify_route_status`` (primary keys only) e-mails the route, as a PDF in the
default layout (``WAGTAIL_IOM["ROUTE_DEFAULT_LAYOUT"]``), to

* the school heads of the teacher's school, and
* the municipal methodists of the teacher's municipality

(their :class:`~wagtail_iom.models.StaffMembership`), each in an e-mail of their own, as plain
text with an HTML alternative, in the language given (else ``settings.LANGUAGE_CODE``).

The methodical audit to the centre
    :func:`route_audited` enqueues ``wagtail_iom.notify_route_audit`` on commit;
    :func:`send_route_audit` e-mails the audit's one-page PDF to the heads of the centre, once
    each (nobody to write to: a warning in the log).

Each e-mail is sent once: its key ``route-<status>:<route pk>:<transition pk>:<user pk>`` goes
into :class:`~wagtail_iom.models.SentNotification` in the same transaction as the sending (see
:func:`wagtail_iom.core.mail.send_once`), so a repeated or retried task sends nothing twice.
A route sent for approval that was already decided when the task runs is not announced.
"""

import functools
import logging

from django.conf import settings
from django.urls import NoReverseMatch
from django.utils import translation
from wagtail.admin.admin_url_finder import AdminURLFinder

from wagtail_iom.core import mail, sites
from wagtail_iom.curators.assignments import approvers_and_methodists, current_curators
from wagtail_iom.curators.models import CuratorAssignment

CORRECTION_KIND = "route_correction"

logger = logging.getLogger(__name__)


def _statuses():
    from wagtail_iom.routes.models import RouteStatus

    return {
        RouteStatus.SENT_FOR_APPROVAL: "route_sent_for_approval",
        RouteStatus.APPROVED: "route_approved",
    }


def notified_statuses():
    """The statuses whose transitions are e-mailed."""
    return tuple(_statuses())


def route_key(status, route_pk, transition_pk, user_pk) -> str:
    return f"route-{status}:{route_pk}:{transition_pk}:{user_pk}"


def route_status_changed(route, to_status, transition=None, language=None) -> bool:
    """The route moved to ``to_status`` (by ``transition``, a RouteTransition; the route's latest
    transition to that status when None): e-mail it once the transaction commits.

    Only "sent for approval" and "approved" are e-mailed; True when an e-mail task was queued.
    """
    from wagtail_iom.routes.models import RouteTransition

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
    mail.enqueue_on_commit("notify_route_status", route.pk, transition.pk, language)
    return True


def recipients(route):
    """The active users with an e-mail address who head the teacher's school or are methodists
    of the teacher's municipality, each once, in a stable order."""
    people = {}
    memberships = (
        approvers_and_methodists(route.teacher).exclude(user__email="").order_by("user_id", "pk")
    )
    for membership in memberships:
        people.setdefault(membership.user_id, membership.user)
    return list(people.values())


def _print_url(route, layout):
    return mail.absolute_url(
        sites.admin_base_url(), "wagtail_iom_route_print:print", route.pk, layout, "html"
    )


def send_route_status(route_pk, transition_pk, language=None) -> int:
    """E-mail the route's PDF about one transition to each recipient not e-mailed yet; returns
    how many e-mails were sent now."""
    from wagtail_iom.routes import documents as route_documents
    from wagtail_iom.routes.models import Route, RouteStatus, RouteTransition

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
                    "route_url": _print_url(route, layout),
                    "site_name": sites.site_name(),
                }
            return mail.render(
                kind,
                context,
                to=user.email,
                language=language,
                attachments=[attachment()],
                body="route_status",
            )

        key = route_key(move.to_status, route.pk, move.pk, user.pk)
        if mail.send_once(key, kind, user, build):
            sent += 1
    return sent


# A teacher's request for a correction --------------------------------------------------------


def correction_key(comment_pk) -> str:
    return f"correction:{comment_pk}"


def correction_requested(comment, language=None):
    """E-mail the teacher's request ``comment`` to the curator once the transaction commits."""
    mail.enqueue_on_commit("notify_route_correction", comment.pk, language)


def correction_recipient(route):
    """Who gets the teacher's request: the route's curator, else the teacher's current curator
    (:class:`~wagtail_iom.models.CuratorAssignment`); None when the teacher has neither."""
    curator = route.curator if route.curator_id else None
    if curator is not None and curator.is_active and curator.email:
        return curator
    assignment = (
        CuratorAssignment.objects.filter(teacher_id=route.teacher_id, ended_at__isnull=True)
        .select_related("curator")
        .first()
    )
    if assignment is not None and assignment.curator.is_active and assignment.curator.email:
        return assignment.curator
    return curator


def _route_admin_url(route):
    try:
        path = AdminURLFinder().get_edit_url(route)
    except NoReverseMatch:  # a project that does not include the admin's URLs: no link
        path = None
    return sites.admin_base_url() + path if path else ""


def send_correction_request(comment_pk, language=None) -> bool:
    """The e-mail of one request for a correction to the curator; True when sent, False when
    not (again). The task ``wagtail_iom.notify_route_correction`` calls it."""
    from wagtail_iom.routes.models import RouteComment

    comment = (
        RouteComment.objects.select_related("route", "route__teacher", "route__curator")
        .filter(pk=comment_pk, kind=RouteComment.Kind.CORRECTION_REQUEST)
        .first()
    )
    if comment is None:
        return False
    route = comment.route
    recipient = correction_recipient(route)
    if recipient is None or not recipient.email:
        return False

    def build():
        context = {
            "name": recipient.get_full_name() or recipient.get_username(),
            "route": route,
            "teacher": route.teacher,
            "comment": comment,
            "admin_url": _route_admin_url(route),
            "site_name": sites.site_name(),
        }
        return mail.render(CORRECTION_KIND, context, to=recipient.email, language=language)

    return mail.send_once(correction_key(comment.pk), CORRECTION_KIND, recipient, build)


# A route drafted from diagnostics ------------------------------------------------------------

DRAFT_KIND = "route_draft"


def draft_key(route_pk, result_pk, user_pk) -> str:
    return f"route-draft:{route_pk}:{result_pk}:{user_pk}"


def route_drafts_built(drafts, language=None):
    """Drafts were written, ``(route, result)`` pairs: one task tells all their teachers and
    curators once this commits (each once per draft and result)."""
    pairs = [[route.pk, result.pk] for route, result in drafts]
    if pairs:
        mail.enqueue_on_commit("notify_route_drafts", pairs, language)


def draft_recipients(route, curator):
    """(user, is the teacher) for the teacher and ``curator`` (the teacher's current curator,
    or None) who are active and have an e-mail address."""
    people = []
    teacher_user = route.teacher.user
    if teacher_user.is_active and teacher_user.email:
        people.append((teacher_user, True))
    if curator is not None and curator.is_active and curator.email and curator != teacher_user:
        people.append((curator, False))
    return people


def send_route_draft(route_pk, result_pk, language=None) -> int:
    """E-mail the teacher and the curator that the route was drafted from the diagnostics
    ``result_pk``; returns how many e-mails were sent now. A route that is no longer a draft
    of that result is not announced."""
    return send_route_drafts([(route_pk, result_pk)], language=language)


def send_route_drafts(pairs, language=None) -> int:
    """:func:`send_route_draft` for many ``(route, result)`` pairs: the routes, the curators,
    the site and the e-mails sent already are read once for all, and each e-mail is then sent
    once (:func:`wagtail_iom.core.mail.send_once`). Returns how many were sent now."""
    from wagtail_iom.routes.models import Route, RouteStatus

    wanted = {int(route_pk): int(result_pk) for route_pk, result_pk in pairs}
    routes = [
        route
        for route in Route.objects.select_related("teacher__user", "source_diagnostic", "curator")
        .filter(pk__in=list(wanted), status=RouteStatus.DEVELOPMENT)
        .order_by("pk")
        if route.source_diagnostic_id == wanted[route.pk]
    ]
    if not routes:
        return 0
    curators = current_curators({route.teacher_id for route in routes})
    letters = [
        (route, user, is_teacher)
        for route in routes
        for user, is_teacher in draft_recipients(
            route, curators.get(route.teacher_id, route.curator)
        )
    ]
    sent_before = mail.keys_sent(
        draft_key(route.pk, route.source_diagnostic_id, user.pk) for route, user, _t in letters
    )
    site = sites.default_site()
    base_url, site_name = sites.base_url(site), sites.site_name(site)
    sent = 0
    for route, user, is_teacher in letters:
        key = draft_key(route.pk, route.source_diagnostic_id, user.pk)
        if key in sent_before:
            continue

        def build(route=route, user=user, is_teacher=is_teacher):
            if is_teacher:
                url = mail.absolute_url(base_url, "wagtail_iom:cabinet_route", route.pk)
            else:
                url = _route_admin_url(route)
            context = {
                "name": user.get_full_name() or user.get_username(),
                "is_teacher": is_teacher,
                "route": route,
                "teacher": route.teacher,
                "result": route.source_diagnostic,
                "route_url": url,
                "site_name": site_name,
            }
            return mail.render(DRAFT_KIND, context, to=user.email, language=language)

        if mail.send_once(key, DRAFT_KIND, user, build, checked=True):
            sent += 1
    return sent


# The methodical audit to the centre ----------------------------------------------------------

AUDIT_KIND = "route_audit"


def audit_key(audit_pk, user_pk) -> str:
    return f"route-audit:{audit_pk}:{user_pk}"


def route_audited(audit, language=None):
    """The audit of a route was recorded: e-mail its one-page PDF to the centre once the
    transaction commits (000 §5.13: «Данные о результатах реализации ИОМ передаются в
    ЦНППМ»)."""
    mail.enqueue_on_commit("notify_route_audit", audit.pk, language)


def centre_recipients():
    """The active heads of the centre with an e-mail address, each once, in a stable order."""
    from wagtail_iom.core.access import StaffRole
    from wagtail_iom.curators.models import StaffMembership

    people = {}
    memberships = (
        StaffMembership.objects.filter(role=StaffRole.CENTRE_HEAD, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id", "pk")
    )
    for membership in memberships:
        people.setdefault(membership.user_id, membership.user)
    return list(people.values())


def _route_inspect_url(route):
    """The route's read-only page in the admin (an audited route is no longer edited); empty
    when the routes' admin is not installed. The name is the route viewset's (admin.py)."""
    return mail.absolute_url(sites.admin_base_url(), "wagtail_iom_routes:inspect", route.pk)


def send_route_audit(audit_pk, language=None) -> int:
    """E-mail the audit's PDF to each head of the centre not e-mailed yet; returns how many
    e-mails were sent now. With no head of the centre to write to, the audit is logged as not
    sent (it stays in the audits' list of the admin)."""
    from wagtail_iom.routes import audit as route_audit

    audit = route_audit.audited_route(audit_pk)
    if audit is None:
        return 0
    people = centre_recipients()
    if not people:
        logger.warning(
            "The audit %s of route %s was not e-mailed: no head of the centre has an e-mail "
            "address.",
            audit.pk,
            audit.route_id,
        )
        return 0
    language = language or settings.LANGUAGE_CODE
    route = audit.route

    @functools.cache
    def attachment():
        with translation.override(language):
            content = route_audit.audit_pdf(audit)
        return (route_audit.audit_filename(audit), content, "application/pdf")

    sent = 0
    for user in people:

        def build(user=user):
            with translation.override(language):
                context = {
                    "audit": audit,
                    "route": route,
                    "teacher": route.teacher,
                    "auditor_name": (audit.auditor.get_full_name() or audit.auditor.get_username())
                    if audit.auditor
                    else "",
                    "name": user.get_full_name(),
                    "route_url": _route_inspect_url(route),
                    "site_name": sites.site_name(),
                }
            return mail.render(
                AUDIT_KIND, context, to=user.email, language=language, attachments=[attachment()]
            )

        if mail.send_once(audit_key(audit.pk, user.pk), AUDIT_KIND, user, build):
            sent += 1
    return sent
