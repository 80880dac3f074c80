"""A teacher's withdrawal of the consent to personal-data processing (152-FZ, art. 9 §2, 21 §5).

:func:`withdraw` stops the processing at once, in one transaction: the consents are marked
withdrawn (``PersonalDataConsent.withdrawn_at``, which the lower domains read through
``core.access.processing_stopped``: sign-ups are refused, the routes are frozen for the teacher
and for staff), and the sign-ups for events that are not over are cancelled through
``events.signup.cancel``, so that freed seats go to the waiting list with the usual e-mails.
The depersonalisation is due ``CONSENT_WITHDRAWAL_DAYS`` days later (:func:`due` lists the
withdrawals whose date has come); until it is carried out the teacher may :func:`cancel`, which
restores the processing (the cancelled sign-ups stay cancelled).

The depersonalisation itself (docs/personal-data.md, "Where personal data lives") is not done
here: the task that will do it takes :func:`due` withdrawals and calls
:func:`mark_carried_out` on each.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.conf import iom_settings
from wagtail_iom.events import signup
from wagtail_iom.events.emails import NotificationKind, registration_changed
from wagtail_iom.events.models import ACTIVE_STATUSES, Registration
from wagtail_iom.people.models import PersonalDataConsent
from wagtail_iom.privacy.models import ConsentWithdrawal


class WithdrawalError(Exception):
    """A withdrawal that cannot be made or cancelled; :attr:`message` tells the user why."""

    NOT_SIGNED_IN = "not_signed_in"
    ALREADY_WITHDRAWN = "already_withdrawn"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    NOT_OPEN = "not_open"

    def __init__(self, code: str, message):
        self.code = code
        self._message = message
        super().__init__(code)

    @property
    def message(self) -> str:
        return str(self._message)

    def __str__(self):
        return self.message


@dataclass(frozen=True)
class WithdrawalResult:
    withdrawal: ConsentWithdrawal
    #: The sign-ups cancelled by the withdrawal.
    cancelled: tuple[Registration, ...] = field(default_factory=tuple)
    #: The sign-ups of others that took the freed seats.
    promoted: tuple[Registration, ...] = field(default_factory=tuple)


def delay() -> datetime.timedelta:
    return datetime.timedelta(days=iom_settings.CONSENT_WITHDRAWAL_DAYS)


def open_withdrawal(user) -> ConsentWithdrawal | None:
    """The user's withdrawal that is neither cancelled nor carried out, or None."""
    if user is None or not user.is_authenticated:
        return None
    return ConsentWithdrawal.objects.filter(
        user=user, cancelled_at__isnull=True, carried_out_at__isnull=True
    ).first()


def is_withdrawn(user) -> bool:
    return open_withdrawal(user) is not None


def withdraw(user, now=None, language=None) -> WithdrawalResult:
    """Withdraw ``user``'s consent: stop the processing and schedule the depersonalisation.

    :raises WithdrawalError: not signed in, or a withdrawal is open already (nothing changes).
    """
    if user is None or not user.is_authenticated:
        raise WithdrawalError(WithdrawalError.NOT_SIGNED_IN, _("Sign in to withdraw your consent."))
    now = now or timezone.now()
    already = WithdrawalError(
        WithdrawalError.ALREADY_WITHDRAWN,
        _(
            "You have withdrawn your consent already; nothing has changed. Your data will be "
            "depersonalised as planned, unless you cancel the withdrawal."
        ),
    )
    try:
        with transaction.atomic():
            # The person's consents, locked: two simultaneous withdrawals wait for each other
            # here and the second finds the first (the unique constraint is the last guard).
            consents = list(PersonalDataConsent.objects.select_for_update().filter(user=user))
            if is_withdrawn(user):
                raise already
            withdrawal = ConsentWithdrawal.objects.create(
                user=user, requested_at=now, anonymise_after=now + delay()
            )
            PersonalDataConsent.objects.filter(
                pk__in=[c.pk for c in consents], withdrawn_at__isnull=True
            ).update(withdrawn_at=now)
            cancelled, promoted = _cancel_future_signups(user, now, language)
    except IntegrityError:
        raise already from None
    return WithdrawalResult(withdrawal=withdrawal, cancelled=cancelled, promoted=promoted)


def _cancel_future_signups(user, now, language):
    cancelled, promoted = [], []
    registrations = Registration.objects.filter(user=user, status__in=ACTIVE_STATUSES).order_by(
        "pk"
    )
    for registration in registrations:
        try:
            result = signup.cancel(registration, now=now)
        except signup.SignupError as error:
            if error.code == signup.SignupError.EVENT_OVER:
                continue  # an event that is over keeps its sign-ups (they are history)
            raise
        if result.cancelled:
            cancelled.append(registration)
            registration_changed(registration, NotificationKind.CANCELLED, language=language)
        for other in result.promoted:
            promoted.append(other)
            registration_changed(other, NotificationKind.PROMOTED)
    return tuple(cancelled), tuple(promoted)


def cancel(user, now=None) -> ConsentWithdrawal:
    """Cancel ``user``'s open withdrawal: the processing resumes (the routes are no longer
    frozen, sign-ups are taken again); the sign-ups it cancelled stay cancelled.

    :raises WithdrawalError: no open withdrawal (never made, cancelled or carried out already).
    """
    now = now or timezone.now()
    with transaction.atomic():
        withdrawal = (
            ConsentWithdrawal.objects.select_for_update()
            .filter(user=user, cancelled_at__isnull=True, carried_out_at__isnull=True)
            .first()
            if user is not None and user.is_authenticated
            else None
        )
        if withdrawal is None:
            raise WithdrawalError(
                WithdrawalError.NOTHING_TO_CANCEL,
                _("You have no withdrawal of consent to cancel; nothing has changed."),
            )
        withdrawal.cancelled_at = now
        withdrawal.save(update_fields=["cancelled_at"])
        PersonalDataConsent.objects.filter(user=user).update(withdrawn_at=None)
    return withdrawal


def pending():
    """The open withdrawals, the earliest due first."""
    return ConsentWithdrawal.objects.filter(
        cancelled_at__isnull=True, carried_out_at__isnull=True
    ).select_related("user")


def due(now=None):
    """The open withdrawals whose depersonalisation is due at ``now``."""
    return pending().filter(anonymise_after__lte=now or timezone.now())


def bring_forward(withdrawal, now=None) -> ConsentWithdrawal:
    """Staff's "run now": the withdrawal is due at once (the depersonalisation task, when it
    exists, takes it on its next run).

    :raises WithdrawalError: the withdrawal is cancelled or carried out already.
    """
    now = now or timezone.now()
    updated = ConsentWithdrawal.objects.filter(
        pk=withdrawal.pk, cancelled_at__isnull=True, carried_out_at__isnull=True
    ).update(anonymise_after=now)
    if not updated:
        raise WithdrawalError(
            WithdrawalError.NOT_OPEN,
            _("This withdrawal is cancelled or carried out already; nothing has changed."),
        )
    withdrawal.anonymise_after = now
    return withdrawal


def mark_carried_out(withdrawal, by=None, now=None) -> ConsentWithdrawal:
    """Record that the depersonalisation of ``withdrawal`` is done (by staff ``by``, or by the
    task when None). The consents stay marked withdrawn: the processing never resumes.

    :raises WithdrawalError: the withdrawal is cancelled or carried out already.
    """
    now = now or timezone.now()
    updated = ConsentWithdrawal.objects.filter(
        pk=withdrawal.pk, cancelled_at__isnull=True, carried_out_at__isnull=True
    ).update(carried_out_at=now, carried_out_by=by)
    if not updated:
        raise WithdrawalError(
            WithdrawalError.NOT_OPEN,
            _("This withdrawal is cancelled or carried out already; nothing has changed."),
        )
    withdrawal.carried_out_at = now
    withdrawal.carried_out_by = by
    return withdrawal
