"""Sign-ups of teachers to events: the seats an event has left are counted from these.

The rules (capacity, waiting list, approval, the registration window) live in
:mod:`wagtail_iom.services.signup`; change a registration's status only through it, so that
seats are counted under the event's lock.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("registration status", "Awaiting approval")
    CONFIRMED = "confirmed", pgettext_lazy("registration status", "Confirmed")
    WAITLISTED = "waitlisted", pgettext_lazy("registration status", "On the waiting list")
    DECLINED = "declined", pgettext_lazy("registration status", "Declined")
    CANCELLED = "cancelled", pgettext_lazy("registration status", "Cancelled")


# The statuses that hold a seat: a sign-up awaiting approval keeps its seat until decided.
SEAT_HOLDING_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING)
# The statuses of a live sign-up: holding a seat or waiting for one.
ACTIVE_STATUSES = (*SEAT_HOLDING_STATUSES, RegistrationStatus.WAITLISTED)


class RegistrationQuerySet(models.QuerySet):
    def holding_seats(self):
        return self.filter(status__in=SEAT_HOLDING_STATUSES)

    def waiting_list(self):
        """The waitlisted, first in line first: by the time they signed up, then by id."""
        return self.filter(status=RegistrationStatus.WAITLISTED).order_by("created_at", "pk")


class Registration(models.Model):
    event = models.ForeignKey(
        "wagtail_iom.EventPage",
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="registrations",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        related_name="iom_registrations",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.CONFIRMED,
    )
    # The place in the waiting list follows this: it is set again when someone signs up anew
    # after cancelling, so that they queue behind those who waited.
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    promoted_at = models.DateTimeField(
        _("moved up from the waiting list at"), null=True, blank=True
    )
    decided_at = models.DateTimeField(_("approved or declined at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or declined by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                name="wagtail_iom_one_registration_per_event",
                violation_error_message=_("This person is already signed up for this event."),
            )
        ]
        indexes = [models.Index(fields=["event", "status"])]
        permissions = [("decide_registration", "Can approve or decline sign-ups")]

    def __str__(self):
        return f"{self.user} → {self.event}"

    @property
    def holds_seat(self):
        return self.status in SEAT_HOLDING_STATUSES

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES
