"""Sign-in lockouts, counted by django-axes.

Every sign-in of the site goes through Django's ``authenticate()``: the package's login page,
Wagtail's admin login and Django's admin login alike. django-axes
(``axes.backends.AxesStandaloneBackend`` first in ``AUTHENTICATION_BACKENDS``) counts the
failures in the database and refuses, without trying the password, while a lockout holds;
``axes.middleware.AxesMiddleware`` then turns the refused request into the lockout page
(``AXES_LOCKOUT_CALLABLE``, the package's :func:`wagtail_iom.accounts.views.lockout`).

axes is imported inside the functions: its models load only with the app registry, and
without "axes" in INSTALLED_APPS the system check wagtail_iom.E010 should say so, not an
import error. This module reads what axes decided (whether a request was refused, how long the lockout has
left) and says so; a password reset by e-mail lifts the lockouts of the account's name.
"""

import math

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext


def is_locked_out(request) -> bool:
    """Whether axes refused this request's sign-in (or locked it out with this failure)."""
    return bool(request is not None and getattr(request, "axes_locked_out", False))


def mark_answered(request) -> None:
    """The view has shown the lockout itself: axes' middleware must not replace its page."""
    request.axes_locked_out = False


def unlock(user) -> None:
    """Forget the failed sign-ins with this user's name: they have just proved that the
    mailbox is theirs (a password reset by e-mail)."""
    from axes.utils import reset

    reset(username=user.get_username())


def seconds_left(request, credentials=None):
    """How long the lockout of this request's client has left, in seconds; None when it does
    not end by itself (``AXES_COOLOFF_TIME`` is not set).

    With axes' database handler the lockout ends a cool-off after the last failure counted;
    with another handler the whole cool-off is assumed.
    """
    from axes.helpers import get_client_parameters, get_client_username, get_cool_off
    from axes.models import AccessAttempt

    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    total = max(1, math.ceil(cool_off.total_seconds()))
    credentials = credentials or getattr(request, "axes_credentials", None)
    ip_address = getattr(request, "axes_ip_address", None)
    if ip_address is None:
        return total
    filters = get_client_parameters(
        get_client_username(request, credentials),
        ip_address,
        getattr(request, "axes_user_agent", ""),
        request,
        credentials,
    )
    latest = None
    for filter_kwargs in filters:
        last = AccessAttempt.objects.filter(**filter_kwargs).aggregate(last=Max("attempt_time"))
        if last["last"] is not None and (latest is None or last["last"] > latest):
            latest = last["last"]
    if latest is None:
        return total
    left = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, min(total, math.ceil(left)))


def message(request, credentials=None) -> str:
    """What the person who is locked out reads, in the active language."""
    seconds = seconds_left(request, credentials)
    if seconds is None:
        return gettext(
            "Too many failed attempts to sign in. Reset your password, or ask the centre to "
            "unlock your account."
        )
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed attempts to sign in. Wait %(minutes)d minute and try again, "
        "or reset your password.",
        "Too many failed attempts to sign in. Wait %(minutes)d minutes and try again, "
        "or reset your password.",
        minutes,
    ) % {"minutes": minutes}
