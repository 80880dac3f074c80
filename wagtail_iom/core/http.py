"""What the package's views share: the teacher-only decorator, the admin's 403 page, the
safe ``next`` URL."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from wagtail.admin.utils import get_valid_next_url_from_request

from wagtail_iom.core import access


def teacher_required(view):
    """The view is the signed-in teacher's own: sets ``request.iom_teacher`` (the profile).

    Not signed in: to the login page. Signed in without a profile (no consent yet): to the
    consent step, and back here afterwards. Responses are never cached: they hold personal
    data.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        profile = access.teacher_profile(request.user)
        if profile is None:
            return redirect(
                reverse("wagtail_iom:consent") + "?" + urlencode({"next": request.get_full_path()})
            )
        request.iom_teacher = profile
        return view(request, *args, **kwargs)

    return login_required(never_cache(wrapper), login_url="wagtail_iom:login")


def forbidden(request, reason):
    """A 403 page in the admin's frame (Wagtail turns PermissionDenied into a redirect home)."""
    return TemplateResponse(
        request, "wagtail_iom/admin/forbidden.html", {"reason": reason}, status=403
    )


def next_url(request, default):
    """Where to go back to: the request's ``next`` parameter when it points to this site
    (Wagtail's check), else ``default``."""
    return get_valid_next_url_from_request(request) or default
