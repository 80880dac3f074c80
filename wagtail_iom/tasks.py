"""Celery tasks: thin wrappers over services that take primary keys and are safe to repeat.

The e-mail tasks retry when the mail server fails; each e-mail is sent once whatever the
number of runs (see :mod:`wagtail_iom.notifications`).
"""

from smtplib import SMTPException

from celery import shared_task

from . import notifications
from .services.directory_import import delete_stale_import_previews

# A mail server that is down or refuses for a while: try again later, up to about an hour.
MAIL_RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 60,
    "retry_backoff_max": 30 * 60,
    "max_retries": 6,
}


@shared_task(name="wagtail_iom.clear_import_previews")
def clear_import_previews():
    """Periodic (daily): drop unapplied import previews past their retention period."""
    return delete_stale_import_previews()


@shared_task(name="wagtail_iom.send_email_confirmation", **MAIL_RETRY)
def send_email_confirmation(user_id, confirm_url, language=None, site_name=""):
    """The link that confirms a new teacher's e-mail address."""
    notifications.send_email_confirmation(
        user_id, confirm_url, language=language, site_name=site_name
    )


@shared_task(name="wagtail_iom.notify_registration", **MAIL_RETRY)
def notify_registration(registration_id, kind, occasion, language=None):
    """One e-mail about a sign-up's change (``kind``: a NotificationKind)."""
    return notifications.send_registration_notification(
        registration_id, kind, occasion, language=language
    )


@shared_task(name="wagtail_iom.notify_event_changed", **MAIL_RETRY)
def notify_event_changed(event_id, language=None):
    """The event is cancelled, or its time or place changed: e-mail its active registrants."""
    return notifications.send_event_change_notifications(event_id, language=language)


@shared_task(name="wagtail_iom.send_reminder", **MAIL_RETRY)
def send_reminder(registration_id, date, language=None):
    """The day-before reminder of one confirmed sign-up (``date``: ISO, the sessions' day)."""
    return notifications.send_reminder(registration_id, date, language=language)


@shared_task(name="wagtail_iom.send_day_before_reminders")
def send_day_before_reminders():
    """Periodic (hourly): a ``send_reminder`` task for every sign-up with a session tomorrow."""
    return notifications.send_day_before_reminders()


@shared_task(name="wagtail_iom.notify_route_correction", **MAIL_RETRY)
def notify_route_correction(comment_id, language=None):
    """A teacher's request for a correction of the route: e-mail the curator (once)."""
    from .services.route_cabinet import send_correction_request

    return send_correction_request(comment_id, language=language)


@shared_task(name="wagtail_iom.notify_route_status", **MAIL_RETRY)
def notify_route_status(route_id, transition_id, language=None):
    """A route was sent for approval or approved: e-mail its PDF to the school heads of the
    teacher's school and the methodists of the teacher's municipality (each once)."""
    from .route_notifications import send_route_status

    return send_route_status(route_id, transition_id, language=language)
