"""Diagnostics of a teacher's competencies (section 2 of the route document).

Curators enter the results in the admin: the procedure, the total score and level, and a score
per competency of the framework. Scores are percentages (0–100) of the competency's maximum, so
that procedures with different scales compare; deficits and proficits follow from the
thresholds ``DIAGNOSTICS_DEFICIT_BELOW`` and ``DIAGNOSTICS_PROFICIT_FROM`` in ``WAGTAIL_IOM``
(see :mod:`wagtail_iom.diagnostics.competency_profile`).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from wagtail_iom.people.models import not_in_future


class DiagnosticProcedure(models.TextChoices):
    SELF = "self", _("Self-diagnostics")
    FEDERAL = "federal", _("Federal assessment")
    ENTRY_TEST = "entry_test", _("Entry testing before a course")
    REGIONAL = "regional", _("Regional diagnostics")
    SCHOOL = "school", _("School-level diagnostics")


class DiagnosticLevel(models.TextChoices):
    """The four groups of diagnostic results by which the methodical audit differentiates
    teachers: low, basic, elevated, high."""

    LOW = "low", _("Low")
    BASIC = "basic", _("Basic")
    ELEVATED = "elevated", _("Elevated")
    HIGH = "high", _("High")


class DiagnosticResult(ClusterableModel):
    teacher = models.ForeignKey(
        "wagtail_iom.TeacherProfile",
        verbose_name=_("teacher"),
        on_delete=models.CASCADE,
        related_name="diagnostic_results",
    )
    date = models.DateField(_("date"), validators=[not_in_future])
    procedure = models.CharField(_("procedure"), max_length=16, choices=DiagnosticProcedure.choices)
    procedure_name = models.CharField(
        _("name of the procedure"),
        max_length=500,
        blank=True,
        help_text=_("E.g. the name of the test or of the diagnostic programme."),
    )
    total_score = models.DecimalField(
        _("total score, %"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    level = models.CharField(_("level"), max_length=16, choices=DiagnosticLevel.choices)
    comment = models.TextField(_("curator's comment"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("diagnostics result")
        verbose_name_plural = _("diagnostics results")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["teacher", "-date"])]

    def __str__(self):
        return f"{self.get_procedure_display()}, {self.date:%d.%m.%Y}"


class CompetencyScore(models.Model):
    result = ParentalKey(DiagnosticResult, on_delete=models.CASCADE, related_name="scores")
    competency = models.ForeignKey(
        "wagtail_iom.Competency",
        verbose_name=_("competency"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    score = models.DecimalField(
        _("score, %"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("score per competency")
        verbose_name_plural = _("scores per competency")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["result", "competency"],
                name="wagtail_iom_one_score_per_competency",
                violation_error_message=_("This competency already has a score in this result."),
            )
        ]

    def __str__(self):
        return f"{self.competency}: {self.score}"
