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
        constraints = [
            # Imports find a result again by these three: a file applied twice adds nothing.
            models.UniqueConstraint(
                fields=["teacher", "procedure", "date"],
                name="iom_one_result_per_teacher_procedure_date",
                violation_error_message=_(
                    "This teacher already has a result of this procedure on this date."
                ),
            )
        ]

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


class TeacherPersonalId(models.Model):
    """A person's SNILS, kept only as a keyed hash (see
    :func:`wagtail_iom.core.validators.snils_digest`): an import finds the person by it, and
    the number itself is never stored. Attached to the user, so that an invited account that
    has no teacher profile yet is found too."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="iom_personal_id",
    )
    snils_digest = models.CharField(_("SNILS (keyed hash)"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("personal id")
        verbose_name_plural = _("personal ids")

    def __str__(self):
        return str(self.user)


class PendingDiagnosticResult(models.Model):
    """A result an import read for a person who has an account but no teacher's profile yet
    (invited by the import, or signed up without the consent so far).

    No profile may hold results before the consent (152-FZ), so the row waits here, keyed like
    a result by the person, procedure and date: it holds what the import would have written.
    When the teacher's profile is created (the consent), the rows become
    :class:`DiagnosticResult` rows in the same transaction and are deleted
    (:func:`wagtail_iom.diagnostics.importing.write_pending_results`). They go with the account,
    and with an invitation that expired unused
    (:func:`wagtail_iom.diagnostics.importing.delete_expired_pending_results`).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="iom_pending_diagnostic_results",
    )
    date = models.DateField(_("date"))
    procedure = models.CharField(_("procedure"), max_length=16, choices=DiagnosticProcedure.choices)
    procedure_name = models.CharField(_("name of the procedure"), max_length=500, blank=True)
    total_score = models.DecimalField(_("total score, %"), max_digits=5, decimal_places=1)
    level = models.CharField(_("level"), max_length=16, choices=DiagnosticLevel.choices)
    # {competency code: "55.0"}: codes, so that the row reads without the framework's ids.
    scores = models.JSONField(_("scores per competency"), default=dict, blank=True)
    school = models.ForeignKey(
        "wagtail_iom.School",
        verbose_name=_("school"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("read at"), auto_now=True)

    class Meta:
        verbose_name = _("result awaiting the consent")
        verbose_name_plural = _("results awaiting the consent")
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "procedure", "date"],
                name="iom_one_pending_result_per_user_procedure_date",
            )
        ]

    def __str__(self):
        return f"{self.get_procedure_display()}, {self.date:%d.%m.%Y}"


class DiagnosticImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed, not applied")
    APPLYING = "applying", _("Being applied")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed, nothing saved")


class DiagnosticImport(models.Model):
    """An uploaded file of diagnostics results, and the progress of its apply.

    The rows read from the file are kept (``table``) until the apply starts, which hands each
    chunk its own rows (:class:`DiagnosticImportChunk`); the file itself is not, and each
    SNILS in them is already replaced by its keyed hash (see
    :func:`wagtail_iom.diagnostics.importing.read_file`).
    Progress lives here, in the database, so that any process can report it: the chunks add
    their rows to ``processed_rows`` (written or rejected) or ``failed_rows`` (a chunk that
    failed and was rolled back).
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
    table = models.JSONField(_("rows read from the file"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DiagnosticImportStatus.choices,
        default=DiagnosticImportStatus.PREVIEWED,
    )
    report = models.JSONField(_("report"), default=dict, blank=True)
    chunk_size = models.PositiveIntegerField(_("rows per chunk"), default=500)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    failed_rows = models.PositiveIntegerField(_("rows in failed chunks"), default=0)
    started_at = models.DateTimeField(_("apply started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("apply finished at"), null=True, blank=True)
    invitations_sent_at = models.DateTimeField(_("invitations confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("diagnostics import")
        verbose_name_plural = _("diagnostics imports")
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_name

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == DiagnosticImportStatus.APPLIED else 0
        return min(100, (self.processed_rows + self.failed_rows) * 100 // self.total_rows)


class DiagnosticImportChunkStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Written")
    FAILED = "failed", _("Failed, rolled back")


class DiagnosticImportChunk(models.Model):
    """One part of an import's apply: rows ``start`` to ``start + size`` of the file, written
    in one transaction. A chunk that is done is never written again."""

    job = models.ForeignKey(DiagnosticImport, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16,
        choices=DiagnosticImportChunkStatus.choices,
        default=DiagnosticImportChunkStatus.PENDING,
    )
    # {"created": n, "updated": n, "unchanged": n, "rejected": n, "not_registered": n}
    counts = models.JSONField(default=dict, blank=True)
    # [{"line": n, "reason": "...", "values": {...}}]
    rejected = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # The chunk's rows as read and checked from the file (see importing.row_to_data), kept
    # until the chunk is written or fails: its task reads these, not the whole file.
    rows = models.JSONField(default=list, blank=True)
    # The results the chunk created or changed: route drafts are built for them once the
    # whole import is applied.
    result_ids = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("diagnostics import chunk")
        verbose_name_plural = _("diagnostics import chunks")
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="iom_one_chunk_per_index")
        ]

    def __str__(self):
        return f"{self.job} #{self.index}"
