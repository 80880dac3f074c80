"""The teacher's cabinet: the overview, the sign-ups (from the event page and the cabinet), and
the personal calendar feed.

Sign-ups change only through :mod:`wagtail_iom.events.signup`; the teacher's objects are
looked up only through :mod:`wagtail_iom.core.access`, so another person's id is a 404.

The personal feed is built by :mod:`wagtail_iom.cabinet.personal_calendar`; here are the
cabinet page that shows its secret address (and makes a new one), and the feed's URL, which
calendar apps fetch without logging in: the token in the address is the only key.
"""

import hashlib

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import (
    content_disposition_header,
    quote_etag,
)
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from wagtail_iom.cabinet import overview as cabinet_service
from wagtail_iom.cabinet import personal_calendar as service
from wagtail_iom.cabinet import portfolio as portfolio_service
from wagtail_iom.core import access, sites
from wagtail_iom.core.http import next_url, teacher_required
from wagtail_iom.events import signup
from wagtail_iom.events.calendar import CONTENT_TYPE, webcal
from wagtail_iom.events.emails import NotificationKind, registration_changed
from wagtail_iom.events.models import EventPage
from wagtail_iom.routes import documents

TEMPLATES = "wagtail_iom/cabinet/"

OUTCOME_NOTIFICATIONS = {
    signup.SignupOutcome.CONFIRMED: NotificationKind.REGISTERED,
    signup.SignupOutcome.PENDING: NotificationKind.PENDING,
    signup.SignupOutcome.WAITLISTED: NotificationKind.WAITLISTED,
}


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
@require_http_methods(["GET", "HEAD"])
def portfolio(request):
    """The teacher's portfolio: completed routes with both reflections, the evidence of
    completed steps, the certificates and the attended events (cabinet/portfolio.py)."""
    data = portfolio_service.portfolio(request.user)
    context = {"cabinet_section": "portfolio", "portfolio": data}
    return TemplateResponse(request, TEMPLATES + "portfolio.html", context)


@teacher_required
@require_http_methods(["GET", "HEAD"])
def portfolio_pdf(request):
    """The same portfolio as a PDF, made like the printed routes. Where PDF files cannot be
    made (no WeasyPrint), back to the portfolio page with the reason."""
    data = portfolio_service.portfolio(request.user)
    try:
        pdf = documents.render_pdf(portfolio_service.portfolio_document(data))
    except documents.DocumentUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("wagtail_iom:cabinet_portfolio")
    response = HttpResponse(pdf, content_type=documents.CONTENT_TYPES["pdf"])
    response["Content-Disposition"] = content_disposition_header(True, data.filename)
    return response


@teacher_required
@require_POST
def signup_for_event(request, event_id):
    """The "Sign up" button of an event page (and of the cabinet's lists)."""
    event = get_object_or_404(access.public_events(EventPage.objects.all()), pk=event_id)
    # The event's URL only when the form sent no "next" (the event page's form and the
    # route's both do): Wagtail looks the site up for it, a query on every sign-up.
    back = next_url(request, "") or event.get_url(request) or reverse("wagtail_iom:cabinet")
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
    back = next_url(request, reverse("wagtail_iom:cabinet_registrations"))
    result = signup.cancel(registration)
    if result.cancelled:
        registration_changed(registration, NotificationKind.CANCELLED, language=get_language())
    for promoted in result.promoted:
        registration_changed(promoted, NotificationKind.PROMOTED)
    messages.success(request, result.message)
    return redirect(back)


TEMPLATES = "wagtail_iom/cabinet/"


def _feed_urls(request, token):
    https = request.build_absolute_uri(reverse("wagtail_iom:personal_feed", args=[token]))
    return {"https": https, "webcal": webcal(https)}


@teacher_required
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_settings(request):
    """GET: the feed's addresses (made on the first visit). POST: a new address."""
    profile = request.iom_teacher
    if request.method == "POST":
        service.regenerate_token(profile)
        messages.success(
            request,
            _(
                "Your calendar has a new address, and the old one no longer works. Subscribe "
                "again with the new address in your calendar app."
            ),
        )
        return redirect("wagtail_iom:cabinet_calendar")
    token = service.ensure_token(profile)
    context = {
        "cabinet_section": "calendar",
        "feed": _feed_urls(request, token),
        "past_days": service.PAST_DAYS,
    }
    return TemplateResponse(request, TEMPLATES + "calendar.html", context)


@require_http_methods(["GET", "HEAD"])
def personal_feed(request, token):
    """The teacher's own sign-ups as iCalendar; an unknown or retired token is a 404."""
    profile = service.profile_for_token(token)
    if profile is None:
        raise Http404
    body = service.personal_calendar(
        profile,
        request_or_base_url=request,
        site_name=sites.site_name(sites.site_for_request(request)),
    )
    etag = quote_etag(hashlib.sha256(body).hexdigest())
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(False, "my-events.ics")
    response["ETag"] = etag
    # Personal data: no shared cache may keep it; clients ask again, and get a 304 when
    # nothing changed.
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The secret is in the address: pages it links to must not receive it as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return get_conditional_response(request, etag=etag, response=response)
