"""Celery tasks: the package's entry points for background work. Each takes primary keys, is
safe to repeat, and makes one call into its domain.

The e-mail tasks retry when the mail server fails; each e-mail is sent once whatever the
number of runs (see :mod:`wagtail_iom.core.mail`). Domains start them by name, on commit,
through :func:`wagtail_iom.core.mail.enqueue_on_commit`.
"""

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.utils import translation

from wagtail_iom.accounts import emails as account_emails
from wagtail_iom.core import mail
from wagtail_iom.curators import emails as curator_emails
from wagtail_iom.diagnostics import importing as diagnostics_import
from wagtail_iom.directory.importing import delete_stale_import_previews
from wagtail_iom.events import emails as event_emails
from wagtail_iom.privacy import anonymisation, retention
from wagtail_iom.privacy import exports as personal_data_exports
from wagtail_iom.reports import emails as report_emails
from wagtail_iom.reports import municipal_export
from wagtail_iom.routes import drafts as route_drafts
from wagtail_iom.routes import emails as route_emails

# A mail server that is down or refuses for a while: try again later, up to about an hour.
MAIL_RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 60,
    "retry_backoff_max": 30 * 60,
    "max_retries": 6,
}


@shared_task(name="wagtail_iom.clear_import_previews")
def clear_import_previews():
    """Periodic (daily): drop unapplied import previews past their retention period, and the
    diagnostics results kept for invitations that expired unused."""
    diagnostics_import.delete_expired_pending_results()
    return delete_stale_import_previews() + diagnostics_import.delete_stale_previews()


@shared_task(name="wagtail_iom.apply_diagnostic_import_chunk")
def apply_diagnostic_import_chunk(import_id, index, language=None):
    """One chunk of a diagnostics import, in one transaction; a chunk already done is skipped.
    Its report is written in ``language``, the language of whoever started the apply."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return diagnostics_import.apply_chunk(import_id, index)


@shared_task(name="wagtail_iom.send_invitation", **MAIL_RETRY)
def send_invitation(user_id, language=None):
    """The invitation of an account staff created to set its password (sent once)."""
    return account_emails.send_invitation(user_id, language=language)


@shared_task(name="wagtail_iom.send_email_confirmation", **MAIL_RETRY)
def send_email_confirmation(user_id, confirm_url, language=None, site_name=""):
    """The link that confirms a new teacher's e-mail address."""
    account_emails.send_email_confirmation(
        user_id, confirm_url, language=language, site_name=site_name
    )


@shared_task(name="wagtail_iom.notify_registration", **MAIL_RETRY)
def notify_registration(registration_id, kind, occasion, language=None):
    """One e-mail about a sign-up's change (``kind``: a NotificationKind)."""
    return event_emails.send_registration_notification(
        registration_id, kind, occasion, language=language
    )


@shared_task(name="wagtail_iom.notify_event_changed", **MAIL_RETRY)
def notify_event_changed(event_id, language=None):
    """The event is cancelled, or its time or place changed: e-mail its active registrants."""
    return event_emails.send_event_change_notifications(event_id, language=language)


@shared_task(name="wagtail_iom.send_reminder", **MAIL_RETRY)
def send_reminder(registration_id, date, language=None):
    """The day-before reminder of one confirmed sign-up (``date``: ISO, the sessions' day)."""
    return event_emails.send_reminder(registration_id, date, language=language)


@shared_task(name="wagtail_iom.send_day_before_reminders")
def send_day_before_reminders():
    """Periodic (hourly): a ``send_reminder`` task for every sign-up with a session tomorrow."""
    return event_emails.send_day_before_reminders()


@shared_task(name="wagtail_iom.notify_route_correction", **MAIL_RETRY)
def notify_route_correction(comment_id, language=None):
    """A teacher's request for a correction of the route: e-mail the curator (once)."""
    return route_emails.send_correction_request(comment_id, language=language)


@shared_task(name="wagtail_iom.notify_route_request", **MAIL_RETRY)
def notify_route_request(proposal_id, language=None):
    """A teacher's request for a route or a school head's recommendation: e-mail the
    methodists of the teacher's municipality (each once)."""
    return curator_emails.send_route_request(proposal_id, language=language)


@shared_task(name="wagtail_iom.send_recommendation", **MAIL_RETRY)
def send_recommendation(sent_id, language=None):
    """The curator's recommendation letter to a teacher (000 §5.5), once per recorded send."""
    return curator_emails.send_recommendation(sent_id, language=language)


@shared_task(name="wagtail_iom.notify_route_status", **MAIL_RETRY)
def notify_route_status(route_id, transition_id, language=None):
    """A route was sent for approval or approved: e-mail its PDF to the school heads of the
    teacher's school and the methodists of the teacher's municipality (each once)."""
    return route_emails.send_route_status(route_id, transition_id, language=language)


@shared_task(name="wagtail_iom.notify_route_audit", **MAIL_RETRY)
def notify_route_audit(audit_id, language=None):
    """A route was audited: e-mail the audit's one-page PDF to the heads of the centre (each
    once)."""
    return route_emails.send_route_audit(audit_id, language=language)


@shared_task(name="wagtail_iom.build_personal_data_export")
def build_personal_data_export(export_id):
    """A teacher's "My data" file; an export already built (or failed) is left as it is."""
    return personal_data_exports.build_export(export_id)


@shared_task(name="wagtail_iom.delete_expired_personal_data_exports")
def delete_expired_personal_data_exports():
    """Periodic (daily): delete the "My data" files whose link has expired."""
    return personal_data_exports.delete_expired_exports()


@shared_task(name="wagtail_iom.anonymise_due_withdrawals")
def anonymise_due_withdrawals():
    """Periodic (daily), and on staff's "run now": depersonalise the data of every withdrawal
    of consent that is due, each once, then remove what has outlived its retention period
    (privacy/retention.py); returns the number of withdrawals carried out."""
    carried_out = len(anonymisation.run_due().records)
    retention.run()
    return carried_out


@shared_task(name="wagtail_iom.anonymise_withdrawal")
def anonymise_withdrawal(withdrawal_id, by_id=None):
    """Staff's "run now": depersonalise the data of one due withdrawal, recorded as run by
    ``by_id``; a withdrawal no longer due (cancelled, carried out) is left as it is."""
    return anonymisation.run_one_by_ids(withdrawal_id, by_id) is not None


@shared_task(name="wagtail_iom.build_route_drafts")
def build_route_drafts(result_ids, language=None):
    """Route drafts for the teachers of these diagnostics results (an import finished): a new
    draft, an updated one, or nothing; safe to repeat."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return route_drafts.summary(route_drafts.build_drafts(result_ids, language=language))


@shared_task(name="wagtail_iom.build_route_drafts_for_teachers")
def build_route_drafts_for_teachers(teacher_ids, user_id=None, language=None):
    """Route drafts asked for in the admin for these teachers (from their latest diagnostics)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with translation.override(language or settings.LANGUAGE_CODE):
        outcomes = route_drafts.build_drafts_for_teachers(
            teacher_ids, by_user=user, language=language
        )
    return route_drafts.summary(outcomes)


@shared_task(name="wagtail_iom.notify_route_draft", **MAIL_RETRY)
def notify_route_draft(route_id, result_id, language=None):
    """A route was drafted from diagnostics: e-mail the teacher and the curator (each once).
    Draft runs now start :func:`notify_route_drafts`; this one serves the tasks queued by an
    earlier version."""
    return route_emails.send_route_draft(route_id, result_id, language=language)


@shared_task(name="wagtail_iom.notify_route_drafts", **MAIL_RETRY)
def notify_route_drafts(pairs, language=None):
    """Routes were drafted from diagnostics, ``[route id, result id]`` pairs (a batch of a
    draft run): e-mail their teachers and curators (each once)."""
    return route_emails.send_route_drafts(pairs, language=language)


@shared_task(name="wagtail_iom.send_monthly_municipal_exports")
def send_monthly_municipal_exports(language=None):
    """Periodic (the 1st of each month): one ``build_municipal_route_export`` per
    municipality, for the current month; returns how many were started."""
    month = municipal_export.current_month().isoformat()
    ids = municipal_export.municipality_ids()
    for municipality_id in ids:
        build_municipal_route_export.delay(municipality_id, month, None, language)
    return len(ids)


@shared_task(name="wagtail_iom.build_municipal_route_export")
def build_municipal_route_export(municipality_id, month, requested_by_id=None, language=None):
    """The XLSX of one municipality's routes for ``month`` (ISO date), replacing the file of
    that municipality and month; then its link to the methodists not told yet."""
    with translation.override(language or settings.LANGUAGE_CODE):
        export = municipal_export.build(municipality_id, month, requested_by_id)
    if export is None:
        return None
    mail.enqueue_on_commit("send_municipal_route_export", export.pk, language)
    return export.pk


@shared_task(name="wagtail_iom.send_municipal_route_export", **MAIL_RETRY)
def send_municipal_route_export(export_id, language=None):
    """The signed link of a ready export to each methodist of its municipality (each once)."""
    return report_emails.send_export_links(export_id, language=language)


@shared_task(name="wagtail_iom.delete_expired_municipal_route_exports")
def delete_expired_municipal_route_exports():
    """Periodic (daily): delete the monthly exports whose link has expired."""
    return municipal_export.delete_expired_exports()
