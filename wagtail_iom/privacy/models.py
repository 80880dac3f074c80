"""A teacher's export of everything the site holds about them (152-FZ, art. 14)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PersonalDataExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class PersonalDataExport(models.Model):
    """One request of a teacher for their data, built by a Celery task into a ZIP file.

    At most one request per person is being prepared at a time (a partial unique constraint):
    a second click while one is built gets that one. The file is deleted when the link expires.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="iom_personal_data_exports",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PersonalDataExportStatus.choices,
        default=PersonalDataExportStatus.PENDING,
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    file = models.FileField(
        _("file"), upload_to="wagtail_iom/personal-data/", blank=True, max_length=255
    )

    class Meta:
        verbose_name = _("personal data export")
        verbose_name_plural = _("personal data exports")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="iom_one_pending_personal_data_export",
            )
        ]

    def __str__(self):
        return f"{self.user_id}: {self.get_status_display()}, {self.requested_at:%d.%m.%Y %H:%M}"


class ConsentWithdrawal(models.Model):
    """A teacher's withdrawal of the consent to personal-data processing (152-FZ, art. 9 §2).

    While it is open (neither cancelled nor carried out) the person's data are not processed
    and, from ``anonymise_after``, are due to be depersonalised. At most one is open per person
    (a partial unique constraint). ``privacy/withdrawal.py`` makes every change.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="iom_consent_withdrawals",
    )
    requested_at = models.DateTimeField(_("requested at"))
    anonymise_after = models.DateTimeField(_("depersonalise after"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    carried_out_at = models.DateTimeField(_("carried out at"), null=True, blank=True)
    carried_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("carried out by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("withdrawal of consent")
        verbose_name_plural = _("withdrawals of consent")
        ordering = ["anonymise_after", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(cancelled_at__isnull=True, carried_out_at__isnull=True),
                name="iom_one_open_consent_withdrawal",
            )
        ]

    def __str__(self):
        return f"{self.user_id}: {self.requested_at:%d.%m.%Y %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.cancelled_at is None and self.carried_out_at is None


class AnonymisationBasis(models.TextChoices):
    """The legal ground of a depersonalisation."""

    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn (152-FZ, art. 21 §5)")
    RETENTION_EXPIRED = "retention_expired", _("Retention period expired (152-FZ, art. 21 §4)")


class AnonymisationRecord(models.Model):
    """The proof that a person's data were depersonalised: when, on what legal ground, who ran
    it (nobody: the scheduled task) and how many things changed in each place.

    It holds no personal value: the person is named by the anonymous account left behind
    (:attr:`reference`), and ``changes`` holds counts only, e.g. ``{"registrations": 3}``.
    At most one record per person: a second run of the depersonalisation finds it and stops.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("anonymous account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="iom_anonymisation",
    )
    withdrawal = models.ForeignKey(
        ConsentWithdrawal,
        verbose_name=_("withdrawal of consent"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="anonymisations",
    )
    carried_out_at = models.DateTimeField(_("carried out at"))
    carried_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("carried out by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the scheduled task."),
    )
    basis = models.CharField(
        _("legal basis"),
        max_length=32,
        choices=AnonymisationBasis.choices,
        default=AnonymisationBasis.CONSENT_WITHDRAWN,
    )
    changes = models.JSONField(_("changes by place (counts)"), default=dict, blank=True)

    class Meta:
        verbose_name = _("depersonalisation")
        verbose_name_plural = _("depersonalisations")
        ordering = ["-carried_out_at", "-pk"]

    def __str__(self):
        return f"{self.reference}: {self.carried_out_at:%d.%m.%Y %H:%M}"

    @property
    def reference(self) -> str:
        """A pseudonymous name of the person: the number of their anonymous account."""
        return _("Teacher No. %(number)s") % {"number": self.user_id or "—"}
