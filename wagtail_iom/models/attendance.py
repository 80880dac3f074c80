"""Attendance of events, marked per session by editors, and the e-mails sent about sign-ups.

A teacher attended an event when at least one of its sessions is marked; the hours are the
academic hours of the marked sessions (see :mod:`wagtail_iom.services.attendance`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AttendanceMark(models.Model):
    """One teacher present at one session. No row: not marked present."""

    registration = models.ForeignKey(
        "wagtail_iom.Registration",
        verbose_name=_("registration"),
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    session = models.ForeignKey(
        "wagtail_iom.EventSession",
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    marked_at = models.DateTimeField(_("marked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attendance mark")
        verbose_name_plural = _("attendance marks")
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "session"], name="wagtail_iom_one_mark_per_session"
            )
        ]

    def __str__(self):
        return f"{self.registration.user} @ {self.session}"


class SentNotification(models.Model):
    """An e-mail already sent, so that a retried or repeated task does not send it again.

    ``key`` names the occasion: the kind, the registration and what makes the occasion unique
    (the registration's status change, the event's calendar sequence, the session's date).
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", null=True
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sent notification")
        verbose_name_plural = _("sent notifications")
        indexes = [models.Index(fields=["kind", "sent_at"])]

    def __str__(self):
        return self.key
