"""Teachers' accounts: the consent to personal-data processing and the teacher's profile.

Under 152-FZ a teacher's profile exists only after an explicit consent: :class:`TeacherProfile`
has a required link to the :class:`PersonalDataConsent` it was created under, and both are
made by :func:`wagtail_iom.services.accounts.record_consent`. Until then the name given at
sign-up waits in :class:`PendingTeacherName`.

The profile is deliberately minimal for now (the full name); the cabinet's section 1 data
(education, position, category...) is added by a later part of the package.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonalDataConsent(models.Model):
    """One consent given by a user: what they agreed to, when and from where.

    Consents are never edited: a new version of the text gives a new row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="iom_consents",
    )
    consent_version = models.CharField(_("consent version"), max_length=32)
    # The text exactly as shown to the user, and its SHA-256, so that the version can be
    # proven even if the template changes later.
    consent_text = models.TextField(_("consent text"))
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64)
    given_at = models.DateTimeField(_("given at"), auto_now_add=True)
    # Null only when the request carried no usable address.
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("consent to personal-data processing")
        verbose_name_plural = _("consents to personal-data processing")
        ordering = ["-given_at", "-pk"]
        indexes = [models.Index(fields=["user", "consent_version"])]

    def __str__(self):
        return f"{self.user} — {self.consent_version} ({self.given_at:%Y-%m-%d %H:%M})"


class FullName(models.Model):
    """Last name, first name and patronymic, as Russian documents write a person's name."""

    last_name = models.CharField(_("last name"), max_length=150)
    first_name = models.CharField(_("first name"), max_length=150)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)


class PendingTeacherName(FullName):
    """The full name given at sign-up, kept until the consent creates the profile."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="iom_pending_name",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("name awaiting consent")
        verbose_name_plural = _("names awaiting consent")


class TeacherProfile(FullName):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="iom_teacher_profile",
    )
    # The consent the profile was created under; PROTECT: withdrawing the consent means
    # deleting the profile first.
    consent = models.ForeignKey(
        PersonalDataConsent,
        verbose_name=_("consent"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("teacher's profile")
        verbose_name_plural = _("teachers' profiles")
        ordering = ["last_name", "first_name", "patronymic", "pk"]
