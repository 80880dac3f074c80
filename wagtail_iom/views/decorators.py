"""Decorators shared by the cabinet's views."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from ..services import access


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
