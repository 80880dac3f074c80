"""Models of the core: the record of e-mails already sent."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
