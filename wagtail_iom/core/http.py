"""What the package's views share: the teacher-only decorator, the admin's 403 page, the
safe ``next`` URL, and ids read from URLs and forms."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views import View
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
    """Where to go back to: the request's ``next`` parameter when it is a path on this site
    (Wagtail's check, and a leading slash, so that ``redirect()`` never reads it as the name
    of a view), else ``default``."""
    value = get_valid_next_url_from_request(request)
    return value if value.startswith("/") and "\x00" not in value else default


#: The largest id a database row can have (a signed 64-bit integer, as on PostgreSQL and
#: SQLite). A larger number in a URL or a form cannot name a row: it is "not found", never an
#: error of the database.
MAX_ID = 2**63 - 1


class IdConverter:
    """The path converter ``iom_id``: a row's id, digits that fit :data:`MAX_ID`. Anything
    else does not match, so the URL answers 404 (registered in ``AppConfig.ready()``)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value):
        number = int(value)
        if number > MAX_ID:
            raise ValueError("not an id")
        return number

    def to_url(self, value):
        return str(value)


def parse_id(value):
    """``value`` (from a form or a query string) as a row's id, or None when it cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def parse_ids(values):
    """The values that are ids (see :func:`parse_id`), each once, in their order."""
    ids = []
    for value in values:
        number = parse_id(value)
        if number is not None and number not in ids:
            ids.append(number)
    return ids


class NoCreationView(View):
    """The "create" view of a chooser whose objects are never created in a chooser (teachers
    register themselves, routes are made with their snapshots): not found, whatever the
    method."""

    def dispatch(self, request, *args, **kwargs):
        raise Http404
