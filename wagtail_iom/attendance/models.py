"""Attendance of events, marked per session by editors.

A teacher attended an event when at least one of its sessions is marked; the hours are the
academic hours of the marked sessions (see :mod:`wagtail_iom.attendance.services`).
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
