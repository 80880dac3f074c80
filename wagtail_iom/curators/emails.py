"""E-mails of the curators domain, built on :mod:`wagtail_iom.core.mail`: the municipal
methodists hear of each teacher's request for a route and each school head's recommendation
that lands in their municipality's proposals; a teacher gets the curator's recommendation
letter (:mod:`wagtail_iom.curators.recommendations`)."""

from django.conf import settings
from django.utils import translation

from wagtail_iom.core import access, mail, sites
from wagtail_iom.core.access import StaffRole
from wagtail_iom.curators import assignments, recommendations
from wagtail_iom.curators.models import (
    RecommendationSent,
    StaffMembership,
    TeacherProposal,
    TeacherProposalOrigin,
    TeacherProposalStatus,
)

KIND = "route_request"


def proposals_created(proposals, language=None):
    """E-mail the methodists about each new request or recommendation, once the transaction
    commits (the task ``wagtail_iom.notify_route_request``, one per proposal)."""
    for proposal in proposals:
        if proposal.origin != TeacherProposalOrigin.METHODIST:
            mail.enqueue_on_commit("notify_route_request", proposal.pk, language)


def recipients(teacher):
    """The active methodists of the teacher's municipality with an e-mail address, each once."""
    return methodists_of(teacher.municipality_id)


def methodists_of(municipality_id):
    """The active methodists of a municipality with an e-mail address, each once."""
    if municipality_id is None:
        return []
    memberships = (
        StaffMembership.objects.filter(
            role=StaffRole.MUNICIPAL_METHODIST,
            municipality_id=municipality_id,
            user__is_active=True,
        )
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id", "pk")
    )
    people = {}
    for membership in memberships:
        people.setdefault(membership.user_id, membership.user)
    return list(people.values())


def send_route_request(proposal_pk, language=None) -> int:
    """E-mail one request or recommendation to each methodist not told yet; returns how many
    e-mails were sent now. Nothing once the centre has decided the proposal."""
    proposal = (
        TeacherProposal.objects.select_related(
            "teacher", "teacher__school", "teacher__municipality", "proposed_by"
        )
        .filter(pk=proposal_pk, status=TeacherProposalStatus.PROPOSED)
        .exclude(origin=TeacherProposalOrigin.METHODIST)
        .first()
    )
    if proposal is None:
        return 0
    language = language or settings.LANGUAGE_CODE
    admin_url = mail.absolute_url(sites.admin_base_url(), "wagtail_iom_propose:index")
    sent = 0
    for user in recipients(proposal.teacher):

        def build(user=user):
            with translation.override(language):
                context = {
                    "name": user.get_full_name() or user.get_username(),
                    "proposal": proposal,
                    "teacher": proposal.teacher,
                    "by_teacher": proposal.origin == TeacherProposalOrigin.TEACHER,
                    "proposer": proposal.proposed_by.get_full_name()
                    if proposal.proposed_by
                    else "",
                    "admin_url": admin_url,
                    "site_name": sites.site_name(),
                }
            return mail.render(KIND, context, to=user.email, language=language)

        if mail.send_once(f"{KIND}:{proposal.pk}:{user.pk}", KIND, user, build):
            sent += 1
    return sent


def send_recommendation(sent_pk, language=None) -> bool:
    """E-mail the recommendation letter recorded as ``sent_pk`` (once); True when sent now.

    The letter is filled in from the template as it stands when the task runs. Nothing is sent
    to a teacher who has withdrawn the consent in the meantime, or has no address any more.
    """
    row = (
        RecommendationSent.objects.select_related("teacher", "teacher__user", "sent_by")
        .filter(pk=sent_pk)
        .first()
    )
    if row is None:
        return False
    teacher = row.teacher
    user = teacher.user
    if not user.email or access.processing_stopped(user):
        return False
    language = language or settings.LANGUAGE_CODE

    def build():
        with translation.override(language):
            curator = assignments.current_curator(teacher) or row.sent_by
            subject, text = recommendations.rendered(teacher, curator)
            context = {
                "letter_subject": subject,
                "letter_text": text,
                "site_name": sites.site_name(),
            }
        message = mail.render(recommendations.KIND, context, to=user.email, language=language)
        if curator is not None and curator.email:
            message.reply_to = [curator.email]
        return message

    return mail.send_once(f"{recommendations.KIND}:{row.pk}", recommendations.KIND, user, build)
