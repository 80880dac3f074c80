"""The teacher's profile (section 1 of the route document) and professional request.

Saving the info card with its lists in one transaction, the further education of the last three
years grouped as the route document lists it, and which parts of the profile are filled in (for
the cabinet's overview).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The route document lists further education of this many years.
RECENT_YEARS = 3


def save_profile(card_form, formsets):
    """Save the info card and its lists together: all of it or, on any error, none of it.

    Every form must have been validated. Returns the saved profile.
    """
    with transaction.atomic():
        profile = card_form.save()
        for formset in formsets:
            formset.instance = profile
            formset.save()
    return profile


def save_request(form):
    """Save the professional request (a validated form); returns it."""
    return form.save()


def recent_since(today=None):
    """The first day of the period the route document's further education covers."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - RECENT_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - RECENT_YEARS, day=28)


@dataclass(frozen=True)
class FurtherEducationGroup:
    kind: str
    label: str
    courses: list
    hours: int


def recent_further_education(profile, today=None):
    """Further education of the last three years, grouped as section 1 lists it.

    One group per kind (regional, federal, in the federal registry), in that order, each with
    its courses (newest first) and their total hours; kinds without courses are included with
    an empty list, so that a layout can show "none". One query.
    """
    return recent_further_education_of([profile.pk], today).get(profile.pk) or (
        group_further_education([])
    )


def recent_further_education_of(profile_ids, today=None) -> dict:
    """:func:`recent_further_education` of many teachers, by profile id; teachers without
    recent courses are left out. One query, whatever the number of teachers."""
    from wagtail_iom.people.models import FurtherEducation

    courses = FurtherEducation.objects.filter(
        profile_id__in=list(profile_ids), completed_on__gte=recent_since(today)
    ).order_by("profile_id", "-completed_on", "pk")
    by_profile = {}
    for course in courses:
        by_profile.setdefault(course.profile_id, []).append(course)
    return {pk: group_further_education(rows) for pk, rows in by_profile.items()}


def group_further_education(courses):
    """``courses`` (newest first) in one group per kind, as :func:`recent_further_education`
    returns them. No query."""
    from wagtail_iom.people.models import FurtherEducationKind

    by_kind = {kind: [] for kind in FurtherEducationKind.values}
    for course in courses:
        by_kind.setdefault(course.kind, []).append(course)
    return [
        FurtherEducationGroup(
            kind=kind,
            label=FurtherEducationKind(kind).label,
            courses=by_kind[kind],
            hours=sum(course.hours for course in by_kind[kind]),
        )
        for kind in FurtherEducationKind.values
    ]


@dataclass(frozen=True)
class ProfileSection:
    key: str
    label: str
    filled: bool
    url_name: str


@dataclass(frozen=True)
class ProfileCompleteness:
    sections: list

    @property
    def filled_count(self):
        return sum(1 for section in self.sections if section.filled)

    @property
    def total(self):
        return len(self.sections)

    @property
    def is_complete(self):
        return self.filled_count == self.total

    @property
    def missing(self):
        return [section for section in self.sections if not section.filled]


#: The info card counts as filled when these fields are: what a curator needs first.
CARD_REQUIRED_FIELDS = (
    "municipality_id",
    "school_id",
    "position",
    "education_level",
    "qualification_category",
)


def profile_completeness(profile, today=None):
    """Which parts of the teacher's profile are filled in. One query.

    Further education counts when there is a course of the last three years. Communities and
    regional projects are one part: many teachers have neither, and either one is enough.
    """
    from wagtail_iom.people.models import (
        Achievement,
        CommunityMembership,
        FurtherEducation,
        ProfessionalRequest,
        RegionalProject,
        TeacherProfile,
    )

    def rows(model, **filters):
        return Exists(model.objects.filter(profile=OuterRef("pk"), **filters))

    flags = (
        TeacherProfile.objects.filter(pk=profile.pk)
        .annotate(
            has_courses=rows(FurtherEducation, completed_on__gte=recent_since(today)),
            has_achievements=rows(Achievement),
            has_communities=rows(CommunityMembership),
            has_projects=rows(RegionalProject),
            has_request=rows(ProfessionalRequest),
        )
        .values("has_courses", "has_achievements", "has_communities", "has_projects", "has_request")
        .get()
    )
    card = all(getattr(profile, name) for name in CARD_REQUIRED_FIELDS)
    profile_url = "wagtail_iom:cabinet_profile"
    return ProfileCompleteness(
        sections=[
            ProfileSection("card", _("Info card"), card, profile_url),
            ProfileSection(
                "further_education",
                _("Further education of the last three years"),
                flags["has_courses"],
                profile_url,
            ),
            ProfileSection(
                "achievements",
                _("Professional achievements"),
                flags["has_achievements"],
                profile_url,
            ),
            ProfileSection(
                "communities",
                _("Professional communities and regional projects"),
                flags["has_communities"] or flags["has_projects"],
                profile_url,
            ),
            ProfileSection(
                "request",
                _("Professional request"),
                flags["has_request"],
                "wagtail_iom:cabinet_request",
            ),
        ]
    )


def professional_request_of(profile):
    """The teacher's request, or None before it is first written."""
    from wagtail_iom.people.models import ProfessionalRequest

    try:
        return profile.professional_request
    except ProfessionalRequest.DoesNotExist:
        return None
