"""Sign-ups to events: register and cancel, the waiting list, approval of sign-ups.

Every change that takes or frees a seat goes through these functions. Each runs in one
transaction that first locks the event, then counts the seats and decides (lock inside the
transaction, just before the availability check, as pretix does). Two teachers signing up for
the last seat at once are therefore served one after the other: the second sees the first
one's seat and goes to the waiting list.

Which row is locked. :class:`~wagtail_iom.models.EventPage` is a multi-table page: a
``wagtailcore_page`` row and a ``wagtail_iom_eventpage`` row. Only the latter is locked
(``SELECT … FOR NO KEY UPDATE OF wagtail_iom_eventpage``):

* not ``wagtailcore_page``: Wagtail writes that row for revisions, page locks, moves and
  publication, and the tree code locks it too; editors should not queue behind sign-ups, and
  sign-ups should not wait for the page tree;
* ``NO KEY UPDATE`` rather than ``UPDATE``: it conflicts with itself, which is all the seat
  count needs, but not with the ``KEY SHARE`` lock PostgreSQL takes on the event when another
  transaction inserts a row that points to it (a registration, a session…).

The capacity, the status and the registration window are read by that same locking query, so
they are the committed values at the moment the lock is granted. What does not depend on
other sign-ups is read just before the lock (whether the event is over; the person's own
sign-up, read again under the lock when there is one), so that the lock is held for the seat
count and the write only: 200 teachers signing up at once each wait for every sign-up ahead
of them. On SQLite the lock is a no-op: SQLite lets one transaction write at a time anyway.

What happened is returned (:class:`SignupResult`, :class:`CancelResult`,
:class:`DecisionResult`), never sent: the caller tells people, and
:func:`wagtail_iom.events.emails.registration_changed` e-mails them once the transaction
commits::

    result = signup.cancel(registration)
    emails.registration_changed(registration, NotificationKind.CANCELLED)
    for promoted in result.promoted:
        emails.registration_changed(promoted, NotificationKind.PROMOTED)

Who may approve, decline or cancel someone else's sign-up is decided by
:mod:`wagtail_iom.core.access`, not here.
"""

from __future__ import annotations

import datetime
import enum
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access
from wagtail_iom.events.models import EventPage, EventSession, Registration, RegistrationStatus

#: Lock the event before counting its seats. Switched off only by the concurrency tests
#: (through :func:`locking_disabled`) to prove that they can see a race; never in production.
LOCKING = True

#: Seconds to sleep between counting the seats and writing the decision: 0 except in the
#: concurrency tests, which widen the window so that, with the lock off, the oversell they
#: must see happens on every run rather than by luck.
_race_window_for_tests = 0.0


@contextmanager
def locking_disabled():
    """Test hook: count seats without locking the event, to show what the lock prevents."""
    global LOCKING
    previous = LOCKING
    LOCKING = False
    try:
        yield
    finally:
        LOCKING = previous


class SignupError(Exception):
    """A sign-up that cannot be made or changed; :attr:`message` tells the user why."""

    EVENT_NOT_PUBLISHED = "event_not_published"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_OVER = "event_over"
    REGISTRATION_NOT_OPEN = "registration_not_open"
    REGISTRATION_CLOSED = "registration_closed"
    REGISTRATION_DECLINED = "registration_declined"
    NOT_PENDING = "not_pending"
    CONSENT_WITHDRAWN = "consent_withdrawn"

    def __init__(self, code: str, message, params: dict | None = None):
        self.code = code
        self._message = message
        self.params = params or {}
        super().__init__(code)

    @property
    def message(self) -> str:
        """The message in the active language (dates in the event's timezone)."""
        if not self.params:
            return str(self._message)
        params = {
            key: formats.date_format(value, "DATETIME_FORMAT")
            if isinstance(value, datetime.datetime)
            else value
            for key, value in self.params.items()
        }
        return str(self._message) % params

    def __str__(self):
        return self.message


class SignupOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    WAITLISTED = "waitlisted"
    ALREADY = "already"


@dataclass(frozen=True)
class SignupResult:
    """What :func:`register` did. ``waiting_position`` counts from 1, None when not waiting."""

    registration: Registration
    outcome: SignupOutcome
    waiting_position: int | None = None

    @property
    def message(self) -> str:
        status = self.registration.status
        if self.outcome == SignupOutcome.ALREADY:
            if status == RegistrationStatus.WAITLISTED:
                return str(
                    _("You are already on the waiting list for this event: number %(position)d.")
                ) % {"position": self.waiting_position}
            if status == RegistrationStatus.PENDING:
                return str(
                    _("You are already signed up for this event; your sign-up awaits approval.")
                )
            return str(_("You are already signed up for this event."))
        if self.outcome == SignupOutcome.WAITLISTED:
            return str(
                _(
                    "The event is full, so you are on the waiting list: number %(position)d. "
                    "When a seat frees up, the first in line gets it and is told."
                )
            ) % {"position": self.waiting_position}
        if self.outcome == SignupOutcome.PENDING:
            return str(
                _(
                    "Your sign-up awaits approval by the school head or a curator. "
                    "Your seat is kept until then."
                )
            )
        return str(_("You are signed up for the event."))


@dataclass(frozen=True)
class CancelResult:
    """What :func:`cancel` did: ``cancelled`` is False when there was nothing left to cancel;
    ``promoted`` are the registrations moved up from the waiting list into the freed seat."""

    registration: Registration
    cancelled: bool
    promoted: tuple[Registration, ...] = field(default_factory=tuple)

    @property
    def message(self) -> str:
        if self.cancelled:
            return str(_("Your sign-up is cancelled."))
        return str(_("This sign-up was already cancelled."))


@dataclass(frozen=True)
class DecisionResult:
    """What :func:`approve` or :func:`decline` did: ``changed`` is False when the same decision
    had been made already (a second click); ``promoted`` as in :class:`CancelResult`."""

    registration: Registration
    changed: bool
    promoted: tuple[Registration, ...] = field(default_factory=tuple)


# Reading --------------------------------------------------------------------------------------


def seats_left(event) -> int | None:
    """Free seats of ``event`` now; None when it has no limit. For display: not locked."""
    if event.capacity is None:
        return None
    taken = Registration.objects.filter(event_id=event.pk).holding_seats().count()
    return max(0, event.capacity - taken)


def waiting_position(registration: Registration) -> int | None:
    """The place in the waiting list, counting from 1; None when not on the waiting list.

    Derived, never stored: the order is the time of signing up, then the id.
    """
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = (
        Registration.objects.filter(
            event_id=registration.event_id, status=RegistrationStatus.WAITLISTED
        )
        .filter(
            Q(created_at__lt=registration.created_at)
            | Q(created_at=registration.created_at, pk__lt=registration.pk)
        )
        .count()
    )
    return ahead + 1


def waiting_positions(registrations) -> dict[int, int]:
    """Waiting-list places of many registrations at once (registration pk → place from 1).

    One query whatever the number of registrations: the waiting lists of their events are read
    together and counted here, in the order :func:`waiting_position` uses.
    """
    waiting = [r for r in registrations if r.status == RegistrationStatus.WAITLISTED]
    if not waiting:
        return {}
    queue = (
        Registration.objects.filter(
            event_id__in={r.event_id for r in waiting}, status=RegistrationStatus.WAITLISTED
        )
        .order_by("event_id", "created_at", "pk")
        .values_list("pk", "event_id")
    )
    places, counters = {}, {}
    for pk, event_id in queue:
        counters[event_id] = counters.get(event_id, 0) + 1
        places[pk] = counters[event_id]
    return {r.pk: places[r.pk] for r in waiting if r.pk in places}


class SignupState(enum.StrEnum):
    """What the event page offers a visitor: see :func:`signup_state`."""

    SIGNED_UP = "signed_up"  # an active registration: its status is shown, it can be cancelled
    OPEN = "open"  # a seat is free: "Sign up"
    WAITING_LIST = "waiting_list"  # full: "Join the waiting list"
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    OVER = "over"
    DECLINED = "declined"


@dataclass(frozen=True)
class EventSignupInfo:
    state: SignupState
    registration: Registration | None = None
    waiting_position: int | None = None
    seats_left: int | None = None

    @property
    def can_sign_up(self) -> bool:
        return self.state in (SignupState.OPEN, SignupState.WAITING_LIST)


def signup_state(event, user=None, now=None) -> EventSignupInfo:
    """What ``user`` (None: an anonymous visitor) can do on the event's page now. Not locked:
    :func:`register` decides again under the lock."""
    now = now or timezone.now()
    registration = None
    if user is not None and user.is_authenticated:
        registration = Registration.objects.filter(event_id=event.pk, user=user).first()
    left = seats_left(event)
    if registration is not None and registration.is_active:
        return EventSignupInfo(
            SignupState.SIGNED_UP,
            registration=registration,
            waiting_position=waiting_position(registration),
            seats_left=left,
        )
    if event.is_cancelled:
        state = SignupState.CANCELLED
    elif _event_is_over(event, now):
        state = SignupState.OVER
    elif registration is not None and registration.status == RegistrationStatus.DECLINED:
        state = SignupState.DECLINED
    elif event.registration_opens_at and now < event.registration_opens_at:
        state = SignupState.NOT_OPEN_YET
    elif event.registration_closes_at and now >= event.registration_closes_at:
        state = SignupState.CLOSED
    elif left == 0:
        state = SignupState.WAITING_LIST
    else:
        state = SignupState.OPEN
    return EventSignupInfo(state, registration=registration, seats_left=left)


# Changing -------------------------------------------------------------------------------------


def register(event, user, now=None) -> SignupResult:
    """Sign ``user`` up for ``event``: a seat if one is free, else the waiting list.

    A seat is ``confirmed``, or ``pending`` when the event needs approval (it is kept until a
    decision). Signing up again while signed up or waiting returns ``already`` (a double submit
    is not an error); after a cancellation the same row is used again, at the end of the queue.

    :raises SignupError: the event is unpublished, cancelled or over, the registration window
        is not open, this sign-up was declined, or the person has withdrawn the consent to
        personal-data processing.
    """
    now = now or timezone.now()
    # Read before the lock, so that the lock is held for the seat count and the insert only
    # (every statement under it makes each of many simultaneous sign-ups wait longer). Neither
    # depends on other sign-ups: whether the event is over depends on its sessions and the
    # clock; the person's own row is read again under the lock when there is one, and a row
    # that appears after this read makes the insert fail on the unique constraint (below).
    over = _event_is_over(event, now)
    existing = _own_registration(event, user)
    try:
        with transaction.atomic():
            # Before the event's lock (not to hold it longer): a withdrawal being written
            # locks the consents, so this waits for it and the withdrawal, which cancels the
            # person's sign-ups, never misses one made meanwhile.
            if access.processing_stopped(user, lock=True):
                raise SignupError(
                    SignupError.CONSENT_WITHDRAWN,
                    _(
                        "You have withdrawn your consent to the processing of your personal "
                        "data, so you cannot sign up for events. To sign up again, cancel the "
                        "withdrawal on the “My data” page."
                    ),
                )
            event = lock_event(event)
            if not event.live:
                raise SignupError(
                    SignupError.EVENT_NOT_PUBLISHED,
                    _("This event is not published, so it takes no sign-ups."),
                )
            if event.is_cancelled:
                raise SignupError(
                    SignupError.EVENT_CANCELLED,
                    _("This event is cancelled, so it takes no sign-ups."),
                )
            if existing is not None:
                existing = _own_registration(event, user)
            if existing is not None and existing.is_active:
                return _already(existing)
            if existing is not None and existing.status == RegistrationStatus.DECLINED:
                raise SignupError(
                    SignupError.REGISTRATION_DECLINED,
                    _(
                        "Your sign-up for this event was declined. If you think this is a "
                        "mistake, contact the organiser."
                    ),
                )
            _check_window(event, now, over)

            free = _free_seats(event)
            status = (
                _seat_status(event) if free is None or free > 0 else RegistrationStatus.WAITLISTED
            )
            _race_pause()

            if existing is None:
                registration = Registration.objects.create(event=event, user=user, status=status)
            else:
                registration = existing
                registration.status = status
                registration.created_at = timezone.now()  # queue behind those already waiting
                registration.promoted_at = None
                registration.decided_at = None
                registration.decided_by = None
                registration.cancelled_at = None
                registration.save()
    except IntegrityError:
        # The person's row was inserted after the read above: by their other submit, which
        # held the lock in between, or by a writer that bypasses the lock. This transaction
        # wrote nothing else and is rolled back (no savepoint needed: one round trip less
        # under the lock); that row is the sign-up.
        registration = _own_registration(event, user)
        if registration is None:
            raise
        return _already(registration)

    return SignupResult(
        registration=registration,
        outcome=SignupOutcome(status),
        waiting_position=waiting_position(registration),
    )


def cancel(registration: Registration, now=None) -> CancelResult:
    """Cancel a sign-up (a seat, a pending one or a place in the waiting list).

    A freed seat goes to the first in line at once: ``confirmed``, or ``pending`` when the
    event needs approval. Cancelling twice is not an error (``cancelled`` is False).
    ``registration`` is updated in place.

    :raises SignupError: the event is over, so its sign-ups no longer change.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.get(pk=registration.pk)
        if not current.is_active:
            _copy_fields(current, registration)
            return CancelResult(registration=registration, cancelled=False)
        if _event_is_over(event, now):
            raise SignupError(
                SignupError.EVENT_OVER,
                _("This event is over, so its sign-ups can no longer be cancelled."),
            )
        freed_seat = current.holds_seat
        current.status = RegistrationStatus.CANCELLED
        current.cancelled_at = now
        current.save(update_fields=["status", "cancelled_at", "updated_at"])
        promoted = _promote(event, now) if freed_seat else ()
    _copy_fields(current, registration)
    return CancelResult(registration=registration, cancelled=True, promoted=promoted)


def approve(registration: Registration, by_user, now=None) -> DecisionResult:
    """Approve a pending sign-up: it becomes ``confirmed``; ``by_user`` is recorded.

    Approving a confirmed sign-up again changes nothing. ``registration`` is updated in place.

    :raises SignupError: the sign-up is not pending (declined, cancelled, waiting), or the
        event is cancelled.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.get(pk=registration.pk)
        if current.status == RegistrationStatus.CONFIRMED:
            _copy_fields(current, registration)
            return DecisionResult(registration=registration, changed=False)
        _check_pending(current)
        if event.is_cancelled:
            raise SignupError(
                SignupError.EVENT_CANCELLED,
                _("This event is cancelled, so its sign-ups cannot be approved."),
            )
        current.status = RegistrationStatus.CONFIRMED
        current.decided_at = now
        current.decided_by = by_user
        current.save(update_fields=["status", "decided_at", "decided_by", "updated_at"])
    _copy_fields(current, registration)
    return DecisionResult(registration=registration, changed=True)


def decline(registration: Registration, by_user, now=None) -> DecisionResult:
    """Decline a pending sign-up: its seat goes to the first in line; ``by_user`` is recorded.

    Declining a declined sign-up again changes nothing. ``registration`` is updated in place.

    :raises SignupError: the sign-up is not pending (confirmed, cancelled, waiting).
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.get(pk=registration.pk)
        if current.status == RegistrationStatus.DECLINED:
            _copy_fields(current, registration)
            return DecisionResult(registration=registration, changed=False)
        _check_pending(current)
        current.status = RegistrationStatus.DECLINED
        current.decided_at = now
        current.decided_by = by_user
        current.save(update_fields=["status", "decided_at", "decided_by", "updated_at"])
        promoted = _promote(event, now)
    _copy_fields(current, registration)
    return DecisionResult(registration=registration, changed=True, promoted=promoted)


def fill_free_seats(event, now=None) -> tuple[Registration, ...]:
    """Move as many of the waiting list into free seats as there are: after the capacity grew.

    Run it after an event is published. Nobody moves up for a cancelled event or one that is
    over. Returns the registrations moved up, first in line first.
    """
    now = now or timezone.now()
    with transaction.atomic():
        event = lock_event(event)
        return _promote(event, now)


# Internals ------------------------------------------------------------------------------------


def edit_under_lock(page, serve):
    """Run ``serve()`` — the admin's handling of a POST to an event's editor — in one
    transaction that first locks the event, as every sign-up does.

    The editor refuses fewer seats than the sign-ups holding them; holding the lock from that
    check until the page is saved (or published) means no sign-up can take a seat in between.
    """
    with transaction.atomic():
        lock_event(page)
        return serve()


def lock_event(event) -> EventPage:
    """The event, re-read and locked for the rest of the transaction (see the module's doc)."""
    pk = getattr(event, "pk", event)
    queryset = EventPage.objects.all()
    if LOCKING:
        queryset = queryset.select_for_update(of=("self",), no_key=True)
    return queryset.get(pk=pk)


def _race_pause():
    if _race_window_for_tests:
        time.sleep(_race_window_for_tests)


def _free_seats(event) -> int | None:
    if event.capacity is None:
        return None
    taken = Registration.objects.filter(event=event).holding_seats().count()
    return max(0, event.capacity - taken)


def _seat_status(event) -> RegistrationStatus:
    return RegistrationStatus.PENDING if event.needs_approval else RegistrationStatus.CONFIRMED


def _event_is_over(event, now) -> bool:
    """Over once its last session has ended; an event without sessions is never over."""
    last_end = EventSession.objects.filter(page_id=event.pk).aggregate(last=Max("ends_at"))["last"]
    return last_end is not None and last_end < now


def _own_registration(event, user) -> Registration | None:
    return Registration.objects.filter(event_id=event.pk, user=user).first()


def _check_window(event, now, over):
    """Refuse a sign-up outside the registration window; ``over``: :func:`_event_is_over`."""
    tz = event.tzinfo
    if event.registration_opens_at and now < event.registration_opens_at:
        raise SignupError(
            SignupError.REGISTRATION_NOT_OPEN,
            _("Registration for this event opens on %(date)s. Please come back then."),
            {"date": event.registration_opens_at.astimezone(tz)},
        )
    if event.registration_closes_at and now >= event.registration_closes_at:
        raise SignupError(
            SignupError.REGISTRATION_CLOSED,
            _("Registration for this event closed on %(date)s."),
            {"date": event.registration_closes_at.astimezone(tz)},
        )
    if over:
        raise SignupError(SignupError.EVENT_OVER, _("This event is over, so it takes no sign-ups."))


def _check_pending(registration):
    if registration.status != RegistrationStatus.PENDING:
        raise SignupError(
            SignupError.NOT_PENDING,
            _("This sign-up is not awaiting approval: its status is “%(status)s”."),
            {"status": registration.get_status_display()},
        )


def _promote(event, now) -> tuple[Registration, ...]:
    """Give free seats to the first in line. Call with the event locked."""
    if event.is_cancelled or _event_is_over(event, now):
        return ()
    free = _free_seats(event)
    if free == 0:
        return ()
    waiting = Registration.objects.filter(event=event).waiting_list()
    if free is not None:
        waiting = waiting[:free]
    promoted = tuple(waiting)
    _race_pause()
    status = _seat_status(event)
    for registration in promoted:
        registration.status = status
        registration.promoted_at = now
        registration.save(update_fields=["status", "promoted_at", "updated_at"])
    return promoted


def _already(registration) -> SignupResult:
    return SignupResult(
        registration=registration,
        outcome=SignupOutcome.ALREADY,
        waiting_position=waiting_position(registration),
    )


def _copy_fields(source, target):
    """Bring the caller's instance up to date with the row read under the lock."""
    if source is target:
        return
    for model_field in source._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))
