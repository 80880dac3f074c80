"""A record of each directory import: the uploaded file, its preview and what was applied."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DirectoryImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed, not applied")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed, nothing saved")


class DirectoryImport(models.Model):
    """An uploaded file of municipalities and schools.

    The file is kept so that the preview the user saw and the apply that follows read the
    same bytes; the report of the apply stays for whoever checks it later.
    """

    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("content"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DirectoryImportStatus.choices,
        default=DirectoryImportStatus.PREVIEWED,
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("directory import")
        verbose_name_plural = _("directory imports")
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_name
