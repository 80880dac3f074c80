"""The individual educational route (ИОМ): its content, status workflow and the teacher's marks.

A route holds personal data, so it is not a page: it is a model edited in the admin through a
snippet viewset (revisions with comparison, history) and shown to its teacher in the cabinet.
Who sees which route is decided by :mod:`wagtail_iom.core.access`; status changes go
through :mod:`wagtail_iom.routes.services`, which records each one as a
:class:`RouteTransition`.

Section 1 (general information) and section 2 (diagnostics, deficits, request) are snapshots
taken from the teacher's profile when the route is created, refreshable by the curator: a printed
route must keep saying what it said when it was approved.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.models import ClusterableModel
from wagtail.fields import StreamField
from wagtail.models import RevisionMixin

from wagtail_iom.diagnostics.models import DiagnosticLevel
from wagtail_iom.routes.blocks import RoadmapBlock


class RouteStatus(models.TextChoices):
    DEVELOPMENT = "development", pgettext_lazy("route status", "In development")
    SENT_FOR_APPROVAL = "sent_for_approval", pgettext_lazy("route status", "Sent for approval")
    RETURNED = "returned", pgettext_lazy("route status", "Returned for revision")
    APPROVED = "approved", pgettext_lazy("route status", "Approved by the school")
    IMPLEMENTATION = "implementation", pgettext_lazy("route status", "In implementation")
    COMPLETED = "completed", pgettext_lazy("route status", "Completed")
    AUDITED = "audited", pgettext_lazy("route status", "Audited")


class RouteLayout(models.TextChoices):
    """The printed forms of a route: one set of data, four layouts (the four-section
    document, the compact task table, the programme by competency groups, the seven parts of
    the profiles form)."""

    FULL = "full", _("Full document in four sections")
    COMPACT = "compact", _("Compact task table")
    COMPETENCY_GROUPS = "competency_groups", _("Programme by competency groups")
    PROFILES = "profiles", _("Profiles, request, goals, recommendations and reflection")


class RouteKind(models.TextChoices):
    """The case a route is made for; each kind has its own bounds of length (setting
    ``ROUTE_LENGTH_MONTHS``): a regular route (003 §1.5: half a year to a year), a route of a
    teacher with low diagnostic results (002: extended to 6 months), a mentoring programme
    (002: 1 to 3 years). No route lasts more than three years (000 §5.12)."""

    REGULAR = "regular", _("Regular route")
    LOW_LEVEL = "low_level", _("Route for a teacher with low results")
    MENTORING = "mentoring", _("Mentoring programme")


class RouteSource(models.TextChoices):
    """How a route came about, so that reports count routes by source."""

    MANUAL = "manual", _("Created by staff")
    DIAGNOSTICS = "diagnostics", _("Drafted from diagnostics")


class PresentationLevel(models.TextChoices):
    """Where the teacher presented the results of the route to the professional community
    (seed 004: «представивших результаты … педагогическому сообществу на разных уровнях
    (школьный и т.д.)»)."""

    SCHOOL = "school", pgettext_lazy("presentation level", "School")
    MUNICIPAL = "municipal", pgettext_lazy("presentation level", "Municipal")
    REGIONAL = "regional", pgettext_lazy("presentation level", "Regional")
    FEDERAL = "federal", pgettext_lazy("presentation level", "Federal")


class Route(RevisionMixin, ClusterableModel):
    teacher = models.ForeignKey(
        "wagtail_iom.TeacherProfile",
        verbose_name=_("teacher"),
        on_delete=models.CASCADE,
        related_name="routes",
    )
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("curator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="iom_routes_curated",
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    kind = models.CharField(
        _("kind of route"),
        max_length=16,
        choices=RouteKind.choices,
        default=RouteKind.REGULAR,
        help_text=_("The allowed length of the route depends on its kind."),
    )
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=RouteStatus.choices,
        default=RouteStatus.DEVELOPMENT,
        editable=False,
    )

    goal = models.TextField(_("goal of the route"), blank=True)
    tasks = models.TextField(_("tasks"), blank=True, help_text=_("One task per line."))
    self_education_topic = models.CharField(
        _("topic of self-education"),
        max_length=500,
        blank=True,
        help_text=_("Printed in the header of the compact table."),
    )
    roadmap = StreamField(RoadmapBlock(), verbose_name=_("development map"), blank=True)

    # Section 4: recommendations of the curator or the municipal methodist.
    further_support = models.TextField(
        _("directions of further support"),
        blank=True,
        help_text=_("Competitions, communities, attestation, mentoring, internships, supervision."),
    )
    self_and_non_formal_education = models.TextField(
        _("self-education and non-formal education"), blank=True
    )
    sources = models.TextField(_("sources to study"), blank=True)

    # Stage 4: the teacher's reflection, written in the cabinet.
    reflection = models.TextField(_("reflection"), blank=True)
    # Stage 4 too: the curator's (tutor's) reflection on the route (000 §4.5: the
    # effectiveness is analysed by the teacher and by the tutor / curator), written in the
    # admin through routes/reflection.py; who wrote it and when are kept with it.
    curator_reflection = models.TextField(_("reflection of the curator"), blank=True,
                                          editable=False)  # fmt: skip
    curator_reflection_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reflection of the curator written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    curator_reflection_at = models.DateTimeField(
        _("reflection of the curator written at"), null=True, blank=True, editable=False
    )
    # Seed 004's indicator: the teacher presented the route's results to the professional
    # community, at a level, on a date; marked by the curator with the reflection
    # (routes/reflection.py).
    results_presented_level = models.CharField(
        _("results presented to the community at the level"),
        max_length=16,
        choices=PresentationLevel.choices,
        blank=True,
        editable=False,
    )
    results_presented_on = models.DateField(
        _("results presented on"), null=True, blank=True, editable=False
    )

    # Sections 1 and 2 as they were when taken (see the module's documentation).
    profile_snapshot = models.JSONField(_("general information"), default=dict, blank=True,
                                        editable=False)  # fmt: skip
    diagnostics_snapshot = models.JSONField(
        _("competencies and request"), default=dict, blank=True, editable=False
    )
    snapshot_taken_at = models.DateTimeField(_("taken at"), null=True, blank=True, editable=False)

    # Automatic drafts (routes/drafts.py): the diagnostics result a draft was built from, and
    # what the draft wrote (a new draft run replaces its own steps and keeps those added by
    # hand).
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=RouteSource.choices,
        default=RouteSource.MANUAL,
        editable=False,
    )
    source_diagnostic = models.ForeignKey(
        "wagtail_iom.DiagnosticResult",
        verbose_name=_("diagnostics result"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routes",
        editable=False,
    )
    # {"step_ids": [...], "digest": "..."}: the steps the draft suggested and a digest of what
    # it wrote, so that a run with nothing new changes nothing.
    draft_state = models.JSONField(
        _("state of the automatic draft"), default=dict, blank=True, editable=False
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("individual educational route")
        verbose_name_plural = _("individual educational routes")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-updated_at"]),
            models.Index(fields=["curator", "status"]),
        ]
        permissions = [
            ("approve_route", "Can approve routes at the school"),
            ("audit_route", "Can audit routes"),
        ]

    def __str__(self):
        return str(
            _("Route of %(teacher)s, %(start)s–%(end)s")
            % {
                "teacher": self.teacher.full_name if self.teacher_id else "—",
                "start": f"{self.starts_on:%d.%m.%Y}" if self.starts_on else "",
                "end": f"{self.ends_on:%d.%m.%Y}" if self.ends_on else "",
            }
        )

    def save(self, *args, **kwargs):
        # Steps are addressed by their stream ids. Wagtail gives ids to the stages (top-level
        # children) of raw data when saving, but stores a stage's nested raw steps as they are;
        # reading the stages first makes every step get an id too.
        for _stage in self.roadmap:
            pass
        super().save(*args, **kwargs)

    def clean(self):
        from wagtail_iom.routes.services import validate_route

        errors = validate_route(self)
        if errors:
            raise ValidationError(errors)


class RouteTransition(models.Model):
    """One change of a route's status: who, when, why. The route's status history."""

    route = models.ForeignKey(
        Route, verbose_name=_("route"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(_("previous status"), max_length=32, choices=RouteStatus.choices)
    to_status = models.CharField(_("new status"), max_length=32, choices=RouteStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("status change of a route")
        verbose_name_plural = _("status changes of routes")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.route_id}: {self.from_status} → {self.to_status}"


class StepCompletion(models.Model):
    """The teacher's mark on a step that attendance cannot fill: self-education done, with
    the evidence. The step is named by its stream id in the route's roadmap."""

    route = models.ForeignKey(
        Route, verbose_name=_("route"), on_delete=models.CASCADE, related_name="completions"
    )
    step_id = models.CharField(_("step"), max_length=64)
    done_at = models.DateTimeField(_("done at"), auto_now_add=True)
    evidence_text = models.TextField(_("what was done"), blank=True, max_length=4000)
    evidence_url = models.URLField(_("link"), blank=True, max_length=500)
    evidence_file = models.FileField(
        _("file"), upload_to="wagtail_iom/evidence/%Y/%m/", blank=True, max_length=255
    )

    class Meta:
        verbose_name = _("completed step")
        verbose_name_plural = _("completed steps")
        constraints = [
            models.UniqueConstraint(
                fields=["route", "step_id"], name="wagtail_iom_one_mark_per_step"
            )
        ]

    def __str__(self):
        return f"{self.route_id}/{self.step_id}"


class RouteComment(models.Model):
    """A message on a route: the teacher's request for a correction, a methodist's remark,
    a comment on a transition. Reaches the route's curator."""

    class Kind(models.TextChoices):
        CORRECTION_REQUEST = "correction_request", _("Request for a correction")
        REMARK = "remark", _("Remark")

    route = models.ForeignKey(
        Route, verbose_name=_("route"), on_delete=models.CASCADE, related_name="comments"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.REMARK)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    text = models.TextField(_("text"), max_length=4000)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("comment on a route")
        verbose_name_plural = _("comments on routes")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:60]


class AuditResult(models.TextChoices):
    """How far a goal or a task of a route was reached, in the methodist's judgement."""

    ACHIEVED = "achieved", pgettext_lazy("audit result", "Achieved")
    PARTLY = "partly", pgettext_lazy("audit result", "Partly achieved")
    NOT_ACHIEVED = "not_achieved", pgettext_lazy("audit result", "Not achieved")


class RouteAudit(models.Model):
    """The methodical audit of a completed route (000 §5.13, 002): made by a municipal
    methodist (or the centre head) with :func:`wagtail_iom.routes.audit.record_audit`, which
    moves the route to "audited" in the same transaction and sends the one-page PDF to the
    centre. One audit per route.

    ``results`` holds a row per goal and task of the route as they were when audited:
    ``[{"kind": "goal" | "task", "text": ..., "result": AuditResult, "comment": ...}]``.
    ``level_group`` is one of 002's four groups (the diagnostic levels); it is proposed from
    the teacher's latest diagnostic result (``diagnostic``) and ``level_from_diagnostic`` says
    whether the methodist kept it.
    """

    route = models.OneToOneField(
        Route, verbose_name=_("route"), on_delete=models.CASCADE, related_name="audit"
    )
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("audited by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    audited_at = models.DateTimeField(_("audited at"), default=timezone.now)
    results = models.JSONField(_("results per goal and task"), default=list, blank=True)
    transfer_to_practice = models.TextField(_("transfer to practice"), blank=True)
    level_group = models.CharField(_("level group"), max_length=16, choices=DiagnosticLevel.choices)
    level_from_diagnostic = models.BooleanField(
        _("level group as in the latest diagnostic"), default=False
    )
    diagnostic = models.ForeignKey(
        "wagtail_iom.DiagnosticResult",
        verbose_name=_("latest diagnostic result"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    further_support = models.TextField(_("further support recommended"), blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta:
        verbose_name = _("methodical audit")
        verbose_name_plural = _("methodical audits")
        ordering = ["-audited_at", "-pk"]
        indexes = [models.Index(fields=["level_group", "-audited_at"])]

    def __str__(self):
        return str(_("Audit of %(route)s") % {"route": self.route})
