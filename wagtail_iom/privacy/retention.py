"""Retention: personal data kept no longer than their purpose needs (152-FZ, art. 5 §7 and
art. 21 §4), removed by the same daily task that depersonalises withdrawals of consent.

* The **sign-ups** (and with them their **attendance marks**) of events whose last session ended
  more than ``SIGNUP_RETENTION_YEARS`` years ago are deleted. The events stay; the reports count
  no sign-ups for them any more.
* **Accounts never confirmed** are deleted ``UNCONFIRMED_ACCOUNT_DAYS`` days after the link
  was sent: a sign-up whose e-mail confirmation never came (an inactive account that never
  logged in), and a teacher invited by an import who never accepted the invitation, with their
  profile, their consent and the diagnostics results kept for them.

Imports' files and previews, and "My data" exports, have their own cleaning tasks.

Each run that removes anything leaves one
:class:`~wagtail_iom.privacy.models.AnonymisationRecord` (basis: retention expired) with the
counts, never a value.
"""

from __future__ import annotations

import datetime
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from wagtail_iom.accounts.models import Invitation, PendingConfirmation
from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.conf import iom_settings
from wagtail_iom.events.models import EventSession, Registration
from wagtail_iom.people.models import PersonalDataConsent, TeacherProfile
from wagtail_iom.privacy.models import AnonymisationBasis, AnonymisationRecord

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` years earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def expired_signups(now=None):
    """The sign-ups of the events whose last session ended before the retention period."""
    now = now or timezone.now()
    cutoff = years_before(timezone.localdate(now), iom_settings.SIGNUP_RETENTION_YEARS)
    old_events = (
        EventSession.objects.order_by()
        .values("page_id")
        .annotate(last=Max("date"))
        .filter(last__lt=cutoff)
        .values("page_id")
    )
    return Registration.objects.filter(event_id__in=old_events)


def expired_accounts(now=None):
    """Inactive accounts that never logged in, whose confirmation link or invitation was sent
    more than ``UNCONFIRMED_ACCOUNT_DAYS`` days ago and never used."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=iom_settings.UNCONFIRMED_ACCOUNT_DAYS)
    unconfirmed = PendingConfirmation.objects.filter(link_sent_at__lt=cutoff).values("user_id")
    uninvited = Invitation.objects.filter(accepted_at__isnull=True).filter(
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, created_at__lt=cutoff)
    )
    return get_user_model().objects.filter(
        Q(pk__in=unconfirmed) | Q(pk__in=uninvited.values("user_id")),
        is_active=False,
        is_staff=False,
        is_superuser=False,
        last_login__isnull=True,
    )


def _delete_signups(registrations) -> dict:
    """Delete ``registrations`` in batches; the counts of sign-ups and attendance marks."""
    counts = {"registrations": 0, "attendance_marks": 0}
    while True:
        ids = list(registrations.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            return counts
        with transaction.atomic():
            counts["attendance_marks"] += AttendanceMark.objects.filter(
                registration_id__in=ids
            ).count()
            counts["registrations"] += len(ids)
            Registration.objects.filter(pk__in=ids).delete()


def _delete_account(user) -> None:
    """An account never confirmed, with its profile (and what hangs on it) and its consent:
    the profile protects the consent, the consent the account."""
    with transaction.atomic():
        TeacherProfile.objects.filter(user=user).delete()
        PersonalDataConsent.objects.filter(user=user).delete()
        user.delete()


def run(now=None) -> AnonymisationRecord | None:
    """Remove what has outlived its retention period; the record of the run, or None when
    nothing was due. An account that cannot be deleted is logged and left for the next run."""
    now = now or timezone.now()
    changes = {key: value for key, value in _delete_signups(expired_signups(now)).items() if value}
    deleted = 0
    for user in expired_accounts(now).iterator():
        try:
            _delete_account(user)
        except Exception:
            logger.exception(
                "The account %s outlived its confirmation but was not deleted.", user.pk
            )
            continue
        deleted += 1
    if deleted:
        changes["unconfirmed_accounts"] = deleted
    if not changes:
        return None
    return AnonymisationRecord.objects.create(
        carried_out_at=now, basis=AnonymisationBasis.RETENTION_EXPIRED, changes=changes
    )
