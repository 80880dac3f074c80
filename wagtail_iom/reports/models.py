"""The monthly export of a municipality's routes to its methodists (seed 002)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MunicipalRouteExportStatus(models.TextChoices):
    # The export (выгрузка) is feminine in Russian: its own context.
    PENDING = "pending", pgettext_lazy("municipal route export", "Being prepared")
    READY = "ready", pgettext_lazy("municipal route export", "Ready")
    FAILED = "failed", pgettext_lazy("municipal route export", "Failed")


class MunicipalRouteExport(models.Model):
    """The XLSX of one municipality's routes for one month, built by a Celery task.

    One row per municipality and month (a unique constraint): building it again, on the 1st
    of the month by the scheduled task or on demand by staff, replaces the file of that row.
    The file is deleted when the link expires (``reports/municipal_export.py``).
    """

    municipality = models.ForeignKey(
        "wagtail_iom.Municipality",
        verbose_name=_("municipality"),
        on_delete=models.CASCADE,
        related_name="route_exports",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=MunicipalRouteExportStatus.choices,
        default=MunicipalRouteExportStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the scheduled task."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    routes = models.PositiveIntegerField(_("routes"), default=0)
    file = models.FileField(
        _("file"), upload_to="wagtail_iom/municipal-exports/", blank=True, max_length=255
    )

    class Meta:
        verbose_name = _("monthly export of routes")
        verbose_name_plural = _("monthly exports of routes")
        ordering = ["-month", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "month"], name="iom_one_route_export_per_month"
            )
        ]

    def __str__(self):
        return f"{self.municipality_id}: {self.month:%m.%Y}, {self.get_status_display()}"
