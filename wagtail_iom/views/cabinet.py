"""The teacher's cabinet: the overview and the sign-ups, from the event page and the cabinet.

Sign-ups change only through :mod:`wagtail_iom.services.signup`; the teacher's objects are
looked up only through :mod:`wagtail_iom.services.access`, so another person's id is a 404.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST

from ..models import EventPage
from ..notifications import NotificationKind, registration_changed
from ..services import access, signup
from ..services import cabinet as cabinet_service
from .decorators import teacher_required

TEMPLATES = "wagtail_iom/cabinet/"

OUTCOME_NOTIFICATIONS = {
    signup.SignupOutcome.CONFIRMED: NotificationKind.REGISTERED,
    signup.SignupOutcome.PENDING: NotificationKind.PENDING,
    signup.SignupOutcome.WAITLISTED: NotificationKind.WAITLISTED,
}


def _next_url(request, default):
    value = request.POST.get("next") or request.GET.get("next")
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


@teacher_required
@require_http_methods(["GET", "HEAD"])
def dashboard(request):
    context = cabinet_service.overview(request.iom_teacher)
    context["cabinet_section"] = "overview"
    return TemplateResponse(request, TEMPLATES + "dashboard.html", context)


@teacher_required
@require_http_methods(["GET", "HEAD"])
def registrations(request):
    context = cabinet_service.registrations_overview(request.user)
    context["cabinet_section"] = "registrations"
    return TemplateResponse(request, TEMPLATES + "registrations.html", context)


@teacher_required
@require_POST
def signup_for_event(request, event_id):
    """The "Sign up" button of an event page (and of the cabinet's lists)."""
    event = get_object_or_404(access.public_events(EventPage.objects.all()), pk=event_id)
    back = _next_url(request, event.get_url(request) or reverse("wagtail_iom:cabinet"))
    try:
        result = signup.register(event, request.user)
    except signup.SignupError as error:
        messages.error(request, error.message)
        return redirect(back)
    kind = OUTCOME_NOTIFICATIONS.get(result.outcome)
    if kind:
        registration_changed(result.registration, kind, language=get_language())
    level = (
        messages.WARNING if result.outcome == signup.SignupOutcome.WAITLISTED else messages.SUCCESS
    )
    if result.outcome == signup.SignupOutcome.ALREADY:
        level = messages.INFO
    messages.add_message(request, level, result.message)
    return redirect(back)


@teacher_required
@require_POST
def cancel_registration(request, pk):
    registration = get_object_or_404(access.own_registrations(request.user), pk=pk)
    back = _next_url(request, reverse("wagtail_iom:cabinet_registrations"))
    result = signup.cancel(registration)
    if result.cancelled:
        registration_changed(registration, NotificationKind.CANCELLED, language=get_language())
    for promoted in result.promoted:
        registration_changed(promoted, NotificationKind.PROMOTED)
    messages.success(request, result.message)
    return redirect(back)
