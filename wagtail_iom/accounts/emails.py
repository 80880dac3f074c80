"""E-mails about a teacher's account, built on :mod:`wagtail_iom.core.mail`: the link that
confirms the e-mail address, the invitation of an account staff created, and the password
reset link."""

import logging

from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from wagtail_iom.accounts.models import Invitation
from wagtail_iom.accounts.services import invitation_token
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import mail, sites

logger = logging.getLogger(__name__)


def email_confirmation_requested(user, confirm_url, language=None, site_name=""):
    """E-mail ``user`` the link that confirms the address, once the transaction commits."""
    mail.enqueue_on_commit("send_email_confirmation", user.pk, confirm_url, language, site_name)


def send_email_confirmation(user_id, confirm_url, language=None, site_name=""):
    """The link that confirms a teacher's e-mail address (the task ``send_email_confirmation``)."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.email:
        return
    context = {
        "user": user,
        "confirm_url": confirm_url,
        "site_name": site_name,
        "valid_days": iom_settings.EMAIL_CONFIRMATION_DAYS,
    }
    mail.render("confirm_email", context, to=user.email, language=language).send()


def invitations_confirmed(user_ids, language=None):
    """Staff confirmed: e-mail each invited account its link, once the transaction commits."""
    for user_id in user_ids:
        mail.enqueue_on_commit("send_invitation", user_id, language)


def send_invitation(user_id, language=None) -> bool:
    """The invitation to set a password and activate an account staff created (the task
    ``send_invitation``); sent once per account, however often it is asked for."""
    invitation = (
        Invitation.objects.select_related("user")
        .filter(user_id=user_id, accepted_at__isnull=True, user__is_active=False)
        .first()
    )
    if invitation is None or not invitation.user.email:
        return False
    user = invitation.user

    def build():
        context = {
            "user": user,
            "invitation_url": mail.absolute_url(
                sites.base_url(), "wagtail_iom:accept_invitation", invitation_token(user)
            ),
            "site_name": sites.site_name(),
            "valid_days": iom_settings.INVITATION_DAYS,
        }
        return mail.render("invitation", context, to=user.email, language=language)

    sent = mail.send_once(f"invitation:{user.pk}", "invitation", user, build)
    if sent:
        Invitation.objects.filter(user=user).update(sent_at=timezone.now())
    return sent


def send_password_reset(context, to_email):
    """The password reset link (Django's reset view builds ``context``), in the language of the
    request that asked for it. A mail server that fails is logged, as Django does: the page
    must not tell whether the address has an account."""
    message = mail.render(
        "password_reset", context, to=to_email, language=translation.get_language()
    )
    try:
        message.send()
    except Exception:
        logger.exception("Failed to send the password reset e-mail to the user's address")
