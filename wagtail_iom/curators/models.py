"""Staff roles, curator assignments and municipal methodists' proposals of teachers.

A role (:class:`StaffMembership`) ties a staff member to the centre, a municipality or a school;
:mod:`wagtail_iom.core.access` reads them to decide who reaches which teacher.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wagtail_iom.core.access import StaffRole
from wagtail_iom.people.models import TeacherProfile


class StaffMembership(models.Model):
    """A role a staff member holds. A municipal methodist's role is tied to a municipality, a
    school head's to a school; one person may hold several roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="iom_staff_roles",
    )
    role = models.CharField(_("role"), max_length=32, choices=StaffRole.choices)
    municipality = models.ForeignKey(
        "wagtail_iom.Municipality",
        verbose_name=_("municipality"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("Required for a municipal methodist."),
    )
    school = models.ForeignKey(
        "wagtail_iom.School",
        verbose_name=_("school"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("Required for a school head."),
    )

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        # NULLs are distinct in unique constraints, so each shape of the role has its own.
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(municipality__isnull=True, school__isnull=True),
                name="wagtail_iom_one_staff_role",
                violation_error_message=_("This person already holds this role."),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "municipality"],
                condition=models.Q(municipality__isnull=False, school__isnull=True),
                name="wagtail_iom_one_staff_role_per_municipality",
                violation_error_message=_("This person already holds this role."),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "school"],
                condition=models.Q(school__isnull=False),
                name="wagtail_iom_one_staff_role_per_school",
                violation_error_message=_("This person already holds this role."),
            ),
        ]

    def __str__(self):
        where = self.school or self.municipality
        label = self.get_role_display()
        return f"{self.user} — {label}" + (f" ({where})" if where else "")

    def clean(self):
        errors = {}
        if self.role == StaffRole.MUNICIPAL_METHODIST and not self.municipality_id:
            errors["municipality"] = _("Choose the methodist's municipality.")
        if self.role == StaffRole.SCHOOL_HEAD and not self.school_id:
            errors["school"] = _("Choose the school this person heads.")
        if errors:
            raise ValidationError(errors)


class CuratorAssignment(models.Model):
    """A teacher assigned to a curator. Never deleted: unassigning ends it, so that the rows are
    the log of who was assigned to whom, by whom and when."""

    teacher = models.ForeignKey(
        TeacherProfile,
        verbose_name=_("teacher"),
        on_delete=models.CASCADE,
        related_name="curator_assignments",
    )
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("curator"),
        on_delete=models.CASCADE,
        related_name="iom_curated_teachers",
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("unassigned at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("unassigned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("curator assignment")
        verbose_name_plural = _("curator assignments")
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher"],
                condition=models.Q(ended_at__isnull=True),
                name="wagtail_iom_one_current_curator",
                violation_error_message=_("This teacher already has a curator."),
            )
        ]

    def __str__(self):
        return f"{self.teacher} → {self.curator}"

    @property
    def is_current(self):
        return self.ended_at is None


class TeacherProposalStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("proposal status", "Proposed")
    ACCEPTED = "accepted", pgettext_lazy("proposal status", "Accepted")
    REJECTED = "rejected", pgettext_lazy("proposal status", "Rejected")


class TeacherProposalOrigin(models.TextChoices):
    """Who started the proposal (000 §5.2: the teacher's own initiative, the school head's or
    the municipal service's recommendation)."""

    METHODIST = "methodist", _("Municipal methodist's proposal")
    TEACHER = "teacher", _("Teacher's request")
    SCHOOL_HEAD = "school_head", _("School head's recommendation")


class TeacherProposal(models.Model):
    """A teacher proposed for a route — by a municipal methodist, at the teacher's own request
    or on the school head's recommendation (``origin``); the centre verifies the proposal and
    assigns a curator."""

    teacher = models.ForeignKey(
        TeacherProfile,
        verbose_name=_("teacher"),
        on_delete=models.CASCADE,
        related_name="proposals",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=TeacherProposalStatus.choices,
        default=TeacherProposalStatus.PROPOSED,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    origin = models.CharField(
        _("origin"),
        max_length=16,
        choices=TeacherProposalOrigin.choices,
        default=TeacherProposalOrigin.METHODIST,
    )

    class Meta:
        verbose_name = _("proposed teacher")
        verbose_name_plural = _("proposed teachers")
        ordering = ["-proposed_at", "-pk"]

    def __str__(self):
        return str(self.teacher)


class RecommendationLetter(models.Model):
    """The e-mail a curator sends an assigned teacher (000 §5.5): the recommendation to build an
    individual route and the instructions. One row, edited by the centre head; until it is
    saved, :func:`wagtail_iom.curators.recommendations.letter` offers the default text.

    The texts hold placeholders in braces (``{teacher}``, ``{cabinet_url}``...), filled in for
    each teacher when the e-mail is sent (:mod:`wagtail_iom.curators.recommendations`)."""

    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("text"))
    deadline = models.DateField(
        _("deadline"),
        null=True,
        blank=True,
        help_text=_(
            "The date the letter names as {deadline}: fill in the cabinet by then. Empty: two "
            "weeks after the day the letter is sent."
        ),
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("recommendation letter")
        verbose_name_plural = _("recommendation letters")

    def __str__(self):
        return self.subject


class RecommendationSent(models.Model):
    """One recommendation letter sent to a teacher: when, by whom. Sending again is a new row;
    ``key`` (the teacher and the minute) keeps a repeated click from sending twice."""

    teacher = models.ForeignKey(
        TeacherProfile,
        verbose_name=_("teacher"),
        on_delete=models.CASCADE,
        related_name="recommendations_sent",
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    key = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("recommendation letter sent")
        verbose_name_plural = _("recommendation letters sent")
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["teacher", "-sent_at"])]

    def __str__(self):
        return f"{self.teacher} ({self.sent_at:%Y-%m-%d %H:%M})"
