"""Teachers' accounts: the consent to personal-data processing and the teacher's profile.

Under 152-FZ a teacher's profile exists only after an explicit consent: :class:`TeacherProfile`
has a required link to the :class:`PersonalDataConsent` it was created under, and both are
made by :func:`wagtail_iom.accounts.services.record_consent`. Until then the name given at
sign-up waits in :class:`PendingTeacherName`.

The profile holds section 1 of the route document (general information): the info
card on the profile itself, and the lists (further education, achievements, professional
communities, regional projects) as child rows edited with formsets in the cabinet and with
inline panels in the admin. The teacher's professional request (section 2, in the teacher's
own words) is :class:`ProfessionalRequest`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel


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
    # Set while a withdrawal of the consent is open (privacy/withdrawal.py sets and clears it):
    # the lower domains read it through core.access.processing_stopped() and stop processing
    # the person's data (no sign-ups, no route changes) without knowing about withdrawals.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

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


class EducationLevel(models.TextChoices):
    HIGHER = "higher", _("Higher")
    HIGHER_PEDAGOGICAL = "higher_pedagogical", _("Higher pedagogical")
    SECONDARY_VOCATIONAL = "secondary_vocational", _("Secondary vocational")
    SECONDARY_VOCATIONAL_PEDAGOGICAL = (
        "secondary_vocational_pedagogical",
        _("Secondary vocational pedagogical"),
    )
    OTHER = "other", pgettext_lazy("education level", "Other")


class QualificationCategory(models.TextChoices):
    HIGHEST = "highest", _("Highest category")
    FIRST = "first", _("First category")
    MATCHES_POSITION = "matches_position", _("Matches the position held")
    NONE = "none", _("No category")


class MentoringRole(models.TextChoices):
    NONE = "", _("Neither")
    MENTOR = "mentor", _("Mentor")
    MENTEE = "mentee", _("Mentee")
    BOTH = "both", _("Mentor and mentee")


def not_in_future(value):
    """A date or a year that has already come (a course finished, an achievement won)."""
    today = timezone.localdate()
    if isinstance(value, int):
        if value > today.year:
            raise ValidationError(_("The year cannot be in the future."), code="future")
    elif value and value > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")


class TeacherProfile(FullName, ClusterableModel):
    """A teacher and the info card of section 1 of the route document."""

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
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    # The info card (section 1).
    municipality = models.ForeignKey(
        "wagtail_iom.Municipality",
        verbose_name=_("municipality"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teachers",
    )
    school = models.ForeignKey(
        "wagtail_iom.School",
        verbose_name=_("school"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teachers",
    )
    position = models.CharField(_("position"), max_length=255, blank=True)
    subjects = models.CharField(
        _("subjects taught"),
        max_length=255,
        blank=True,
        help_text=_("As in the timetable, separated by commas."),
    )
    education_level = models.CharField(
        _("education"), max_length=40, choices=EducationLevel.choices, blank=True
    )
    education_institution = models.CharField(
        _("educational institution and year of graduation"), max_length=500, blank=True
    )
    qualification = models.CharField(_("qualification by diploma"), max_length=500, blank=True)
    teaching_experience_years = models.PositiveSmallIntegerField(
        _("teaching experience, years"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(70)],
    )
    qualification_category = models.CharField(
        _("qualification category"),
        max_length=32,
        choices=QualificationCategory.choices,
        blank=True,
    )
    attestation_date = models.DateField(
        _("date of the last attestation"), null=True, blank=True, validators=[not_in_future]
    )
    expert_area = models.CharField(
        _("expert activity"),
        max_length=500,
        blank=True,
        help_text=_("E.g. member of the subject commission of the State Final Attestation."),
    )
    mentoring_role = models.CharField(
        _("mentoring"), max_length=16, choices=MentoringRole.choices, blank=True
    )
    mentoring_partner = models.CharField(
        _("mentor or mentees"),
        max_length=500,
        blank=True,
        help_text=_("Full name of the mentor, or of the mentees."),
    )

    # The secret of the personal calendar feed; regenerating it retires the old address.
    calendar_token = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("teacher's profile")
        verbose_name_plural = _("teachers' profiles")
        ordering = ["last_name", "first_name", "patronymic", "pk"]


class FurtherEducationKind(models.TextChoices):
    REGIONAL = "regional", _("Regional")
    FEDERAL = "federal", _("Federal")
    FEDERAL_REGISTRY = "federal_registry", _("In the federal registry of programmes")


class FurtherEducation(models.Model):
    """A further-education course the teacher completed (section 1: the last three years)."""

    profile = ParentalKey(
        TeacherProfile, on_delete=models.CASCADE, related_name="further_education"
    )
    kind = models.CharField(_("programme"), max_length=32, choices=FurtherEducationKind.choices)
    place = models.CharField(_("where"), max_length=500)
    programme = models.CharField(_("programme title"), max_length=500)
    hours = models.PositiveSmallIntegerField(
        _("hours"), validators=[MinValueValidator(1), MaxValueValidator(3000)]
    )
    completed_on = models.DateField(_("completed on"), validators=[not_in_future])
    certificate_number = models.CharField(_("certificate number"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("further education")
        verbose_name_plural = _("further education")
        ordering = ["-completed_on", "pk"]

    def __str__(self):
        return f"{self.programme} ({self.completed_on:%Y})"

    @property
    def is_recent(self):
        """Within the three years the route document lists."""
        today = timezone.localdate()
        try:
            since = today.replace(year=today.year - 3)
        except ValueError:  # 29 February
            since = today.replace(year=today.year - 3, day=28)
        return self.completed_on >= since


class AchievementDirection(models.TextChoices):
    METHODICAL = "methodical", _("Methodical")
    PSYCHOLOGICAL_PEDAGOGICAL = "psychological_pedagogical", _("Psychological-pedagogical")
    INFORMATIONAL = "informational", _("Informational")
    GENERAL_PROFESSIONAL = "general_professional", _("General professional")


class Achievement(models.Model):
    """A professional achievement by direction: a publication, a contest, a talk…"""

    profile = ParentalKey(TeacherProfile, on_delete=models.CASCADE, related_name="achievements")
    direction = models.CharField(
        _("direction"), max_length=32, choices=AchievementDirection.choices
    )
    description = models.CharField(_("achievement"), max_length=1000)
    year = models.PositiveSmallIntegerField(
        _("year"),
        validators=[MinValueValidator(1950), not_in_future],
    )
    link = models.URLField(_("link"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("professional achievement")
        verbose_name_plural = _("professional achievements")
        ordering = ["direction", "-year", "pk"]

    def __str__(self):
        return self.description


class CommunityStatus(models.TextChoices):
    MEMBER = "member", _("Member")
    HEAD = "head", _("Head")
    DEPUTY_HEAD = "deputy_head", _("Deputy head")
    EXPERT = "expert", _("Expert")


class CommunityMembership(models.Model):
    """Membership of a professional community: a methodical association, a club, a network."""

    profile = ParentalKey(TeacherProfile, on_delete=models.CASCADE, related_name="communities")
    name = models.CharField(_("community"), max_length=500)
    status = models.CharField(_("status"), max_length=16, choices=CommunityStatus.choices)

    class Meta:
        verbose_name = _("professional community")
        verbose_name_plural = _("professional communities")
        ordering = ["pk"]

    def __str__(self):
        return self.name


class RegionalProject(models.Model):
    """A regional project the teacher takes part in."""

    profile = ParentalKey(
        TeacherProfile, on_delete=models.CASCADE, related_name="regional_projects"
    )
    name = models.CharField(_("project"), max_length=500)
    role = models.CharField(_("role"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("regional project")
        verbose_name_plural = _("regional projects")
        ordering = ["pk"]

    def __str__(self):
        return self.name


class ProfessionalRequest(models.Model):
    """The teacher's professional request (section 2), in the teacher's own words."""

    profile = models.OneToOneField(
        TeacherProfile,
        on_delete=models.CASCADE,
        related_name="professional_request",
        verbose_name=_("teacher"),
    )
    interest_areas = models.TextField(_("areas of professional interest"), max_length=4000)
    needs = models.TextField(_("professional needs"), max_length=4000, blank=True)
    goal = models.TextField(_("goal of the route"), max_length=4000)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("professional request")
        verbose_name_plural = _("professional requests")

    def __str__(self):
        return str(self.profile)


class PersonalDataAccessAction(models.TextChoices):
    VIEW_PROFILE = "view_profile", _("Opened the profile")
    VIEW_DIAGNOSTIC = "view_diagnostic", _("Opened a diagnostic result")
    VIEW_ROUTE = "view_route", _("Opened a route")
    PRINT_ROUTE = "print_route", _("Printed a route")
    EXPORT_DIAGNOSTICS = "export_diagnostics", _("Exported diagnostic results")
    EXPORT_ROUTES = "export_routes", _("Exported routes")
    EXPORT_REGISTRATIONS = "export_registrations", _("Exported sign-ups")


class PersonalDataAccess(models.Model):
    """One reading of a teacher's personal data by staff: who, when, which teacher, what.

    Written by the admin screens that open, print or export a teacher's profile, diagnostics
    or routes (:mod:`wagtail_iom.people.access_log`); read by the head of the centre in the
    admin's access log. ``teacher`` is kept as an id when the profile is deleted later, and
    ``staff_member`` likewise, so the record outlives both.
    """

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    teacher = models.ForeignKey(
        TeacherProfile,
        verbose_name=_("teacher"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=32, choices=PersonalDataAccessAction.choices)
    object_id = models.CharField(
        _("object"),
        max_length=64,
        blank=True,
        help_text=_("The id of the route or diagnostic result, when the action names one."),
    )
    detail = models.CharField(
        _("detail"),
        max_length=200,
        blank=True,
        help_text=_("E.g. the layout and format of a print. Never personal data."),
    )

    class Meta:
        verbose_name = _("access to personal data")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["teacher", "-at"], name="iom_access_teacher_idx"),
            models.Index(fields=["staff_member", "-at"], name="iom_access_staff_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()}, {self.at:%d.%m.%Y %H:%M}"

    @property
    def staff_member_name(self):
        staff = self.staff_member
        if staff is None:
            return str(self.staff_member_id or "")
        return staff.get_full_name().strip() or staff.get_username()


# Staff: who curates, heads, audits and approves. ---------------------------------------------
