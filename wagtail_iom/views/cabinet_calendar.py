"""The teacher's personal calendar feed at a secret address, and its regeneration.

The feed itself is built by :mod:`wagtail_iom.services.personal_calendar`; here are the
cabinet page that shows the address (and makes a new one), and the feed's URL, which calendar
apps fetch without logging in: the token in the address is the only key.
"""

import hashlib

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from ..services import personal_calendar as service
from ..services.calendar import webcal
from .accounts import site_name
from .decorators import teacher_required
from .feeds import CONTENT_TYPE

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
        profile, request_or_base_url=request, site_name=site_name(request)
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
