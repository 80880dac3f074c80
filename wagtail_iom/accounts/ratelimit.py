"""Rate limits on the account actions that send an e-mail: sign-up, password reset and resending
the confirmation link.

Each request for an action counts once for the client's IP address and once for the e-mail
address it names. Within one window of ``ACCOUNT_RATE_LIMIT_WINDOW_SECONDS`` (fixed windows,
aligned on the epoch) an action is refused once either count is over its limit:
``ACCOUNT_RATE_LIMIT_PER_IP`` or ``ACCOUNT_RATE_LIMIT_PER_ADDRESS``. A refused request still
counts, so that a flood stays refused until the window ends.

The counts live in the database (:class:`~wagtail_iom.accounts.models.RateLimitCount`), so that
every process and server of the site shares them. A count is one atomic ``UPDATE … SET count =
count + 1`` (or the insert of its row, retried as an update when a concurrent request inserted
it first); rows of ended windows are deleted as new ones are written. Keys are keyed hashes:
neither IP addresses nor e-mail addresses are stored.
"""

import datetime
import math

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from wagtail_iom.accounts.models import RateLimitCount
from wagtail_iom.conf import iom_settings

SIGNUP = "signup"
PASSWORD_RESET = "password_reset"  # noqa: S105 (the name of an action, not a password)
RESEND_CONFIRMATION = "resend_confirmation"
ACTIONS = (SIGNUP, PASSWORD_RESET, RESEND_CONFIRMATION)

KEY_SALT = "wagtail_iom.accounts.rate-limit"


def _key(action, kind, value) -> str:
    return salted_hmac(KEY_SALT, f"{action}|{kind}|{value}", algorithm="sha256").hexdigest()


def _window(now):
    """The start and the end of the window ``now`` falls in."""
    length = iom_settings.ACCOUNT_RATE_LIMIT_WINDOW_SECONDS
    timestamp = int(now.timestamp())
    start = datetime.datetime.fromtimestamp(timestamp - timestamp % length, tz=datetime.UTC)
    return start, start + datetime.timedelta(seconds=length)


def _count(action, key, window_start) -> int:
    """Add one to the count of ``key`` in this window and return the new count."""
    counts = RateLimitCount.objects.filter(action=action, key=key, window_start=window_start)
    with transaction.atomic():
        if not counts.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateLimitCount.objects.create(
                        action=action, key=key, window_start=window_start, count=1
                    )
            except IntegrityError:
                # Another request inserted the row in between: count on it.
                counts.update(count=F("count") + 1)
        return counts.values_list("count", flat=True).get()


def hit(action, ip, email) -> int:
    """Count one request for ``action`` from ``ip`` (None when unknown) naming ``email``.

    Returns 0 when the action may go ahead, else the seconds until the window ends.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown rate-limited action: {action!r}")
    now = timezone.now()
    start, end = _window(now)
    RateLimitCount.objects.filter(window_start__lt=start).delete()
    over = False
    if ip:
        over |= _count(action, _key(action, "ip", ip), start) > (
            iom_settings.ACCOUNT_RATE_LIMIT_PER_IP
        )
    email = (email or "").strip().lower()
    if email:
        over |= _count(action, _key(action, "address", email), start) > (
            iom_settings.ACCOUNT_RATE_LIMIT_PER_ADDRESS
        )
    if not over:
        return 0
    return max(1, math.ceil((end - now).total_seconds()))


def message(seconds: int) -> str:
    """What the person who asked too often reads. It names neither whether the address has an
    account nor which of the two limits was reached."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many requests from your network or for this e-mail address. Wait %(minutes)d "
        "minute and try again.",
        "Too many requests from your network or for this e-mail address. Wait %(minutes)d "
        "minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
