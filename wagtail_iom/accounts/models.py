"""What the accounts domain keeps in the database: which accounts still wait for their e-mail
confirmation, and the counters of the rate limits on sign-up, password reset and resent
confirmations."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PendingConfirmation(models.Model):
    """An account made by sign-up whose e-mail address is not confirmed yet.

    Its confirmation link activates the account only while this row exists: the link removes
    it, and so does the account becoming active by any other way, or staff changing the account
    in the admin. An account that staff deactivated therefore stays inactive, whatever link its
    owner still has.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="iom_pending_confirmation",
    )
    link_sent_at = models.DateTimeField(_("link sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("account awaiting confirmation")
        verbose_name_plural = _("accounts awaiting confirmation")

    def __str__(self):
        return str(self.user)


class RateLimitCount(models.Model):
    """How often an action was asked for with one key (an IP address or an e-mail address)
    in the window that started at ``window_start``.

    The key is a keyed hash, never the address itself. Rows of windows that have ended are
    deleted by the next count.
    """

    action = models.CharField(_("action"), max_length=32)
    key = models.CharField(_("key"), max_length=64)
    window_start = models.DateTimeField(_("window start"), db_index=True)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("rate limit count")
        verbose_name_plural = _("rate limit counts")
        constraints = [
            models.UniqueConstraint(
                fields=["action", "key", "window_start"], name="iom_rate_limit_unique_window"
            )
        ]

    def __str__(self):
        return f"{self.action} {self.window_start:%Y-%m-%d %H:%M} {self.count}"


class Invitation(models.Model):
    """An account that staff created for a teacher who has not signed up (an import of
    diagnostics results names them): inactive, with an unusable password, until the teacher
    opens the invitation's link and sets a password. The e-mail goes out only when staff
    confirm (``sent_at``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="iom_invitation",
    )
    created_at = models.DateTimeField(_("invited at"), default=timezone.now)
    sent_at = models.DateTimeField(_("invitation sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return str(self.user)
