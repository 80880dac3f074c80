"""E-mails about a teacher's account, built on :mod:`wagtail_iom.core.mail`: the link that
confirms the e-mail address, and the password reset link."""

import logging

from django.contrib.auth import get_user_model
from django.utils import translation

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import mail

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
