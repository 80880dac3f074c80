"""Attended events in the cabinet, with their hours, and participation certificates."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from wagtail_iom.attendance import certificates
from wagtail_iom.attendance import services as attendance_service
from wagtail_iom.core import access, sites
from wagtail_iom.core.http import teacher_required


@require_http_methods(["GET", "HEAD"])
@teacher_required
def attended_events(request):
    """The events the teacher attended: dates, hours, competencies, a certificate for each."""
    items = attendance_service.attended_events(request.user)
    return render(
        request,
        "wagtail_iom/cabinet/attended.html",
        {
            "cabinet_section": "attended",
            "items": items,
            "total_hours": attendance_service.total_hours(items),
        },
    )


@require_http_methods(["GET", "HEAD"])
@teacher_required
def certificate(request, registration_id):
    """The certificate of participation (PDF) of one of the teacher's own attended sign-ups.

    Another person's sign-up, or one without an attended session, is not found (404).
    """
    registration = get_object_or_404(
        access.own_registrations(request.user).select_related("event", "user"),
        pk=registration_id,
    )
    if not attendance_service.is_attended(registration):
        raise Http404
    site = sites.site_for_request(request)
    try:
        pdf = certificates.participation_certificate_pdf(
            registration, site_name=sites.site_name(site)
        )
    except certificates.NotAttended:
        raise Http404 from None
    except certificates.CertificateUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("wagtail_iom:cabinet_attended")
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = certificates.certificate_filename(registration)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
