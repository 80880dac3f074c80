"""The teacher's profile (section 1) and professional request, edited in the cabinet.

Only the signed-in teacher's own profile (``request.iom_teacher``) is ever edited. A page that
does not validate is shown again with the errors next to the fields, and nothing is saved.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from wagtail_iom.core.http import teacher_required
from wagtail_iom.people import profile as service
from wagtail_iom.people.forms import (
    MAX_ROWS,
    ProfessionalRequestForm,
    TeacherProfileForm,
    profile_formsets,
)
from wagtail_iom.people.models import ProfessionalRequest, TeacherProfile

TEMPLATES = "wagtail_iom/cabinet/"


@teacher_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    # A copy of the teacher's profile for the form: a rejected form must not change the name
    # the cabinet's frame shows.
    profile = TeacherProfile.objects.select_related("municipality", "school").get(
        pk=request.iom_teacher.pk
    )
    if request.method == "POST":
        form = TeacherProfileForm(request.POST, instance=profile)
        formsets = profile_formsets(profile, data=request.POST)
        forms_valid = form.is_valid()
        formsets_valid = [formset.is_valid() for formset in formsets.values()]
        if forms_valid and all(formsets_valid):
            service.save_profile(form, formsets.values())
            messages.success(request, _("Your profile is saved."))
            return redirect("wagtail_iom:cabinet_profile")
        tampered = [prefix for prefix, formset in formsets.items() if formset.is_tampered()]
        if tampered:
            # A list whose management data was missing or forged cannot be shown again as it
            # came: show it as saved, and say that nothing was saved.
            fresh = profile_formsets(TeacherProfile.objects.get(pk=profile.pk))
            for prefix in tampered:
                formsets[prefix] = fresh[prefix]
            messages.error(
                request,
                _(
                    "Part of the page came incomplete, so nothing was saved. Check the page "
                    "and save it again."
                ),
            )
    else:
        form = TeacherProfileForm(instance=profile)
        formsets = profile_formsets(profile)
    context = {
        "cabinet_section": "profile",
        "form": form,
        "formsets": formsets,
        "has_errors": bool(form.errors)
        or any(formset.total_error_count() for formset in formsets.values()),
        "max_rows": MAX_ROWS,
        "recent_further_education": service.recent_further_education(profile),
        "recent_years": service.RECENT_YEARS,
    }
    return TemplateResponse(request, TEMPLATES + "profile.html", context)


@teacher_required
@require_http_methods(["GET", "POST"])
def request_edit(request):
    teacher = request.iom_teacher
    instance = service.professional_request_of(teacher) or ProfessionalRequest(profile=teacher)
    if request.method == "POST":
        form = ProfessionalRequestForm(request.POST, instance=instance)
        if form.is_valid():
            service.save_request(form)
            messages.success(request, _("Your professional request is saved."))
            return redirect("wagtail_iom:cabinet_request")
    else:
        form = ProfessionalRequestForm(instance=instance)
    context = {
        "cabinet_section": "request",
        "form": form,
        "is_new": instance.pk is None,
    }
    return TemplateResponse(request, TEMPLATES + "request.html", context)
