"""The directory every route, event and report refers to: municipalities and schools, the
competency framework (groups of competencies that diagnostics score and events target), and a
record of each directory import (the uploaded file, its preview and what was applied).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.search import index

from wagtail_iom.core.text import name_key
from wagtail_iom.core.validators import validate_oktmo, validate_organisation_inn


class MunicipalityKind(models.TextChoices):
    MUNICIPAL_DISTRICT = "municipal_district", _("Municipal district")
    MUNICIPAL_OKRUG = "municipal_okrug", _("Municipal okrug")
    URBAN_OKRUG = "urban_okrug", _("Urban okrug")
    FEDERAL_CITY_DISTRICT = "federal_city_district", _("District of a federal city")


class Municipality(index.Indexed, models.Model):
    """A municipality of the region; its methodical service receives the routes of its teachers."""

    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(
        _("kind"),
        max_length=32,
        choices=MunicipalityKind.choices,
        default=MunicipalityKind.MUNICIPAL_DISTRICT,
    )
    name_key = models.CharField(max_length=255, editable=False, default="")
    oktmo = models.CharField(
        _("OKTMO code"),
        max_length=11,
        blank=True,
        validators=[validate_oktmo],
        help_text=_("The municipality's code in the all-Russian classifier (8 or 11 digits)."),
    )

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("kind"),
    ]

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"],
                name="wagtail_iom_municipality_name_unique",
                violation_error_message=_("A municipality with this name already exists."),
            ),
            models.UniqueConstraint(
                fields=["oktmo"],
                condition=~models.Q(oktmo=""),
                name="wagtail_iom_municipality_oktmo_unique",
                violation_error_message=_("A municipality with this OKTMO code already exists."),
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.name_key = name_key(self.name)
        duplicate = Municipality.objects.filter(name_key=self.name_key).exclude(pk=self.pk)
        if self.name_key and duplicate.exists():
            raise ValidationError(
                {"name": _("A municipality with this name already exists.")}, code="unique"
            )


class SchoolKind(models.TextChoices):
    SECONDARY_SCHOOL = "secondary_school", _("Secondary school")
    BASIC_SCHOOL = "basic_school", _("Basic school")
    PRIMARY_SCHOOL = "primary_school", _("Primary school")
    GYMNASIUM = "gymnasium", _("Gymnasium")
    LYCEUM = "lyceum", _("Lyceum")
    EDUCATION_CENTRE = "education_centre", _("Education centre")
    BOARDING_SCHOOL = "boarding_school", _("Boarding school")
    SPECIAL_SCHOOL = "special_school", _("Special (remedial) school")
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    COLLEGE = "college", _("College")
    SUPPLEMENTARY_EDUCATION = "supplementary_education", _("Supplementary education organisation")
    OTHER = "other", _("Other")


class School(index.Indexed, models.Model):
    """An educational organisation (ОО) of a municipality, where teachers work."""

    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="schools",
    )
    name = models.CharField(_("full name"), max_length=500)
    name_key = models.CharField(max_length=500, editable=False, default="")
    short_name = models.CharField(_("short name"), max_length=255, blank=True)
    kind = models.CharField(
        _("kind"), max_length=32, choices=SchoolKind.choices, default=SchoolKind.SECONDARY_SCHOOL
    )
    inn = models.CharField(
        _("INN"),
        max_length=10,
        blank=True,
        validators=[validate_organisation_inn],
        help_text=_("The organisation's taxpayer number (10 digits). Used to match imports."),
    )
    address = models.CharField(_("address"), max_length=500, blank=True)
    teacher_count = models.PositiveIntegerField(
        _("number of teachers"),
        null=True,
        blank=True,
        help_text=_(
            "The teachers working at the school, for the reports' shares. Leave empty when unknown."
        ),
    )

    search_fields = [
        index.SearchField("name"),
        index.SearchField("short_name"),
        index.AutocompleteField("name"),
        index.AutocompleteField("short_name"),
        index.SearchField("inn"),
        index.FilterField("kind"),
        index.FilterField("municipality"),
        index.RelatedFields("municipality", [index.SearchField("name")]),
    ]

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["municipality__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name_key"],
                name="wagtail_iom_school_name_unique",
                violation_error_message=_("This municipality already has a school with this name."),
            ),
            models.UniqueConstraint(
                fields=["inn"],
                condition=~models.Q(inn=""),
                name="wagtail_iom_school_inn_unique",
                violation_error_message=_("A school with this INN already exists."),
            ),
        ]

    def __str__(self):
        return self.short_name or self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.name_key = name_key(self.name)
        if self.municipality_id and self.name_key:
            duplicate = School.objects.filter(
                municipality_id=self.municipality_id, name_key=self.name_key
            ).exclude(pk=self.pk)
            if duplicate.exists():
                raise ValidationError(
                    {"name": _("This municipality already has a school with this name.")},
                    code="unique",
                )


_code_help = _("A short stable code, e.g. METH-1. Reports and imports refer to it.")


class CompetencyGroup(index.Indexed, models.Model):
    """A group of the framework: subject, methodical, psychological-pedagogical…"""

    code = models.SlugField(_("code"), max_length=32, unique=True, help_text=_code_help)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0, editable=False)

    sort_order_field = "sort_order"
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("competency group")
        verbose_name_plural = _("competency groups")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


_draft_template_help = _(
    "Empty: the default text. Placeholders: {competency}, {code}, {score}, {threshold}, "
    "{level}, {teacher}."
)


class Competency(index.Indexed, models.Model):
    """One competency of a group, with its code and what it means."""

    group = models.ForeignKey(
        CompetencyGroup,
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        related_name="competencies",
    )
    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_code_help)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    # The programme by competency groups (seed 004) prints these two beside each step.
    labour_functions = models.TextField(
        _("labour functions"),
        blank=True,
        help_text=_(
            "The labour functions of the professional standard this competency serves, "
            "e.g. “A/01.6 General pedagogical function. Teaching”."
        ),
    )
    knowledge_and_skills = models.TextField(
        _("knowledge and skills"),
        blank=True,
        help_text=_("The knowledge and skills the competency needs, one per line."),
    )
    # Automatic route drafts (routes/drafts.py): what a draft suggests for a deficit in this
    # competency. The templates take placeholders (directory/draft_templates.py).
    self_education_recommendation = models.TextField(
        _("recommendation for self-education"),
        blank=True,
        help_text=_(
            "Suggested as a self-education step of a route draft when no upcoming event "
            "covers a deficit in this competency."
        ),
    )
    route_goal_template = models.TextField(
        _("goal template for route drafts"),
        blank=True,
        help_text=_draft_template_help,
    )
    route_task_template = models.TextField(
        _("task template for route drafts"),
        blank=True,
        help_text=_draft_template_help,
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0, editable=False)

    sort_order_field = "sort_order"
    search_fields = [
        index.SearchField("name"),
        index.SearchField("code"),
        index.AutocompleteField("name"),
        index.FilterField("group"),
    ]

    class Meta:
        verbose_name = _("competency")
        verbose_name_plural = _("competencies")
        ordering = ["group__sort_order", "sort_order", "name"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        from wagtail_iom.directory.draft_templates import template_errors

        errors = {
            name: message
            for name in ("route_goal_template", "route_task_template")
            if (message := template_errors(getattr(self, name)))
        }
        if errors:
            raise ValidationError(errors)


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
