"""Forms of the teacher's cabinet: the info card, its four lists and the professional request.

The info card and the lists are section 1 of the route document; the request is the teacher's
part of section 2. The same checks serve the cabinet and the admin: the model's validators
(no dates or years in the future, hours from 1 to 3000) and :func:`check_school_municipality`.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator, ModelChoiceIteratorValue
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core.forms import IdModelChoiceField
from wagtail_iom.directory.models import Municipality, School
from wagtail_iom.people.models import (
    Achievement,
    CommunityMembership,
    FurtherEducation,
    ProfessionalRequest,
    RegionalProject,
    TeacherProfile,
)

#: The most rows a teacher keeps in each list. Bounds the work a forged ``TOTAL_FORMS`` can cause.
MAX_ROWS = 100

#: Dates and years before this are typing mistakes (0202 for 2022), not courses or attestations.
EARLIEST_YEAR = 1950


def _date_widget():
    # ISO format: what <input type="date"> sends and expects, whatever the site's language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _reject_too_early(value):
    if value and value.year < EARLIEST_YEAR:
        raise ValidationError(_("The date is too early: check the year."), code="too_early")
    return value


def check_school_municipality(form, cleaned_data):
    """The school must be one of the chosen municipality's; a school alone sets the municipality.

    Adds the error to the school field, where the teacher has to change something.
    """
    municipality = cleaned_data.get("municipality")
    school = cleaned_data.get("school")
    if not school:
        return
    if municipality and school.municipality_id != municipality.pk:
        form.add_error(
            "school",
            ValidationError(
                _(
                    "This school belongs to %(school_municipality)s, not to %(municipality)s. "
                    "Choose a school of the chosen municipality, or change the municipality."
                ),
                code="school_municipality",
                params={
                    "school_municipality": school.municipality,
                    "municipality": municipality,
                },
            ),
        )
    elif not municipality and "municipality" not in form.errors:
        cleaned_data["municipality"] = school.municipality


class SchoolsByMunicipalityIterator(ModelChoiceIterator):
    """School choices grouped into ``<optgroup>`` by municipality: thousands of schools stay
    findable in a plain select (type-ahead works within the list, no JavaScript needed)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        group_name, group = None, []
        for school in self.queryset.select_related("municipality").order_by(
            "municipality__name", "municipality_id", "name", "pk"
        ):
            name = school.municipality.name
            if group and name != group_name:
                yield (group_name, group)
                group = []
            group_name = name
            group.append(
                (ModelChoiceIteratorValue(self.field.prepare_value(school), school), str(school))
            )
        if group:
            yield (group_name, group)


class SchoolChoiceField(IdModelChoiceField):
    iterator = SchoolsByMunicipalityIterator


def school_field(**kwargs):
    return SchoolChoiceField(
        queryset=School.objects.all(),
        required=False,
        label=_("School"),
        help_text=_(
            "Schools are grouped by municipality. If you leave the municipality empty, it is "
            "taken from the school."
        ),
        **kwargs,
    )


class TeacherProfileForm(forms.ModelForm):
    """The info card of section 1, as the teacher fills it in the cabinet."""

    school = school_field()

    class Meta:
        model = TeacherProfile
        fields = [
            "last_name",
            "first_name",
            "patronymic",
            "municipality",
            "school",
            "position",
            "subjects",
            "education_level",
            "education_institution",
            "qualification",
            "teaching_experience_years",
            "qualification_category",
            "attestation_date",
            "expert_area",
            "mentoring_role",
            "mentoring_partner",
        ]
        widgets = {
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "patronymic": forms.TextInput(attrs={"autocomplete": "additional-name"}),
            "position": forms.TextInput(attrs={"autocomplete": "organization-title"}),
            "education_institution": forms.Textarea(attrs={"rows": 2}),
            "qualification": forms.Textarea(attrs={"rows": 2}),
            "expert_area": forms.Textarea(attrs={"rows": 2}),
            "mentoring_partner": forms.Textarea(attrs={"rows": 2}),
            "teaching_experience_years": forms.NumberInput(attrs={"min": 0, "max": 70}),
            "attestation_date": _date_widget(),
        }
        help_texts = {
            "attestation_date": _("The date of the order that assigned your current category."),
        }

    #: The info card's fields in the groups the page shows them in (legend, field names).
    GROUPS = (
        (_("Full name"), ("last_name", "first_name", "patronymic")),
        (_("Place of work"), ("municipality", "school", "position", "subjects")),
        (
            _("Education and qualification"),
            (
                "education_level",
                "education_institution",
                "qualification",
                "teaching_experience_years",
                "qualification_category",
                "attestation_date",
                "expert_area",
            ),
        ),
        (_("Mentoring"), ("mentoring_role", "mentoring_partner")),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = Municipality.objects.order_by("name")

    def groups(self):
        """(legend, bound fields) per group, for the template."""
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def clean_attestation_date(self):
        return _reject_too_early(self.cleaned_data.get("attestation_date"))

    def clean(self):
        cleaned = super().clean()
        check_school_municipality(self, cleaned)
        return cleaned


class FurtherEducationForm(forms.ModelForm):
    class Meta:
        model = FurtherEducation
        fields = ["kind", "programme", "place", "hours", "completed_on", "certificate_number"]
        labels = {"kind": _("Kind of programme")}
        widgets = {
            "programme": forms.Textarea(attrs={"rows": 2}),
            "hours": forms.NumberInput(attrs={"min": 1, "max": 3000}),
            "completed_on": _date_widget(),
        }
        help_texts = {
            "place": _("The organisation that ran the course."),
            "kind": _("Regional, federal, or a programme of the federal registry."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model field's own minimum is 0; a course has at least one hour.
        self.fields["hours"].widget.attrs["min"] = 1

    def clean_completed_on(self):
        return _reject_too_early(self.cleaned_data.get("completed_on"))


class AchievementForm(forms.ModelForm):
    link = forms.URLField(
        label=Achievement._meta.get_field("link").verbose_name,
        max_length=500,
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    class Meta:
        model = Achievement
        fields = ["direction", "description", "year", "link"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "year": forms.NumberInput(attrs={"min": EARLIEST_YEAR}),
        }
        help_texts = {
            "description": _("A publication, a contest and its result, a talk, an award…"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].widget.attrs["max"] = timezone.localdate().year


class CommunityMembershipForm(forms.ModelForm):
    class Meta:
        model = CommunityMembership
        fields = ["name", "status"]
        help_texts = {
            "name": _("A methodical association, a professional club or network."),
        }


class RegionalProjectForm(forms.ModelForm):
    class Meta:
        model = RegionalProject
        fields = ["name", "role"]


class ProfileRowsFormSet(forms.BaseInlineFormSet):
    """A list of the teacher's rows: only the teacher's own rows can be changed or deleted."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Django checks a row's id against every row of the table; a forged id of another
        # teacher's row must be an error, not a silently ignored (or new) row.
        pk_name = self.model._meta.pk.name
        form.fields[pk_name].queryset = self.get_queryset()

    def clean(self):
        super().clean()
        # A saved row whose id is not one of the teacher's: forged, or deleted meanwhile in
        # another tab. Refused even when the row is marked for deletion (Django skips the
        # validation of rows being deleted).
        for form in self.initial_forms:
            if form.instance.pk is None:
                raise ValidationError(
                    _(
                        "This list has changed since the page was opened. Open the page "
                        "again and repeat your changes."
                    ),
                    code="unknown_row",
                )

    def is_tampered(self):
        """The management form is missing, broken or asks for more rows than allowed."""
        if not self.is_bound:
            return False
        if not self.management_form.is_valid():
            return True
        total = self.management_form.cleaned_data.get(forms.formsets.TOTAL_FORM_COUNT) or 0
        return total > self.absolute_max


def _rows_formset(model, form):
    return forms.inlineformset_factory(
        TeacherProfile,
        model,
        form=form,
        formset=ProfileRowsFormSet,
        extra=1,
        can_delete=True,
        can_delete_extra=False,
        max_num=MAX_ROWS,
        validate_max=True,
        # One more than max_num: the page's empty row may be filled when the list is full,
        # and the teacher is then told to delete a row rather than losing the new one.
        absolute_max=MAX_ROWS + 1,
    )


FurtherEducationFormSet = _rows_formset(FurtherEducation, FurtherEducationForm)
AchievementFormSet = _rows_formset(Achievement, AchievementForm)
CommunityFormSet = _rows_formset(CommunityMembership, CommunityMembershipForm)
RegionalProjectFormSet = _rows_formset(RegionalProject, RegionalProjectForm)

#: prefix → formset class, in the order the page shows them.
PROFILE_FORMSETS = {
    "further_education": FurtherEducationFormSet,
    "achievements": AchievementFormSet,
    "communities": CommunityFormSet,
    "regional_projects": RegionalProjectFormSet,
}


def profile_formsets(profile, data=None):
    """The four lists of ``profile``, bound to ``data`` when given; keyed by prefix."""
    return {
        prefix: formset_class(data, instance=profile, prefix=prefix)
        for prefix, formset_class in PROFILE_FORMSETS.items()
    }


class ProfessionalRequestForm(forms.ModelForm):
    """The request of section 2, in the teacher's own words."""

    class Meta:
        model = ProfessionalRequest
        fields = ["interest_areas", "needs", "goal"]
        widgets = {
            "interest_areas": forms.Textarea(attrs={"rows": 5}),
            "needs": forms.Textarea(attrs={"rows": 5}),
            "goal": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "interest_areas": _(
                "What in your profession interests you most: topics, methods, technologies."
            ),
            "needs": _("What you lack in your work now: knowledge, skills, support, resources."),
            "goal": _("What you want to achieve by the end of your route."),
        }
