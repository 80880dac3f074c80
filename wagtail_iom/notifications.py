"""E-mails the package sends to people, as plain text with an HTML alternative.

Each function renders in the language it is given (the language of the request that caused
it), so that a teacher who signed up in Russian gets a Russian e-mail.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .conf import iom_settings


def send_email_confirmation(user_id, confirm_url, language=None, site_name=""):
    """The link that confirms a teacher's e-mail address. Meant for ``transaction.on_commit``."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.email:
        return
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "confirm_url": confirm_url,
            "site_name": site_name,
            "valid_days": iom_settings.EMAIL_CONFIRMATION_DAYS,
        }
        subject = render_to_string("wagtail_iom/accounts/email/confirm_email_subject.txt", context)
        body = render_to_string("wagtail_iom/accounts/email/confirm_email.txt", context)
        html = render_to_string("wagtail_iom/accounts/email/confirm_email.html", context)
    message = EmailMultiAlternatives(" ".join(subject.split()), body, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()


# E-mails about sign-ups. The views and admin actions call :func:`registration_changed` after a
# change made through services/signup.py; it enqueues the Celery task on commit.


class NotificationKind:
    REGISTERED = "registered"  # confirmed seat
    PENDING = "pending"  # awaiting approval
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"  # moved up from the waiting list
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # the teacher cancelled their own sign-up
    EVENT_CANCELLED = "event_cancelled"
    EVENT_MOVED = "event_moved"
    REMINDER = "reminder"


def registration_changed(registration, kind, language=None):
    """Tell the teacher about their sign-up once the transaction commits (a Celery task)."""
    # Implemented with the notification tasks.
