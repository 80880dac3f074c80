"""Teachers' accounts: sign-up, e-mail confirmation, consent.

The flow: :func:`register_teacher` makes an inactive user (username = the e-mail) waiting for
its confirmation (:class:`~wagtail_iom.accounts.models.PendingConfirmation`) →
:func:`confirmation_token` goes out in an e-mail → :func:`confirm_email` activates the user →
after the first login, :func:`record_consent` stores the consent to personal-data processing
(152-FZ) and only then creates the :class:`~wagtail_iom.models.TeacherProfile`.

A confirmation link activates an account only while it waits for its confirmation: once the
account has been active, or staff have changed it in the admin (:func:`end_confirmation`),
staff decide whether it is active, and an old link cannot undo that.

Failed sign-ins are counted by django-axes (see :mod:`wagtail_iom.accounts.lockout`); sign-up,
password reset and resent confirmations are rate-limited by
:mod:`wagtail_iom.accounts.ratelimit`.

Errors a user can cause are raised as :class:`AccountError` (a ``ValidationError`` with a
code and a message that says what to do).
"""

import datetime
import hashlib
import ipaddress

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from wagtail_iom.accounts.models import Invitation, PendingConfirmation
from wagtail_iom.conf import iom_settings
from wagtail_iom.people.models import PendingTeacherName, PersonalDataConsent, TeacherProfile

CONFIRMATION_SALT = "wagtail_iom.accounts.email-confirmation"
USER_AGENT_MAX_LENGTH = 255


class AccountError(ValidationError):
    """A sign-up or confirmation the user must correct; ``code`` tells which."""


def normalize_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively: teachers' are stored in lower case."""
    return BaseUserManager.normalize_email((email or "").strip()).lower()


def email_taken(email: str) -> bool:
    email = normalize_email(email)
    User = get_user_model()
    return (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    )


def duplicate_email_error():
    return AccountError(
        _(
            "An account with this e-mail address already exists. Sign in, or reset the "
            "password if you have forgotten it."
        ),
        code="duplicate_email",
    )


def register_teacher(email, password, last_name, first_name, patronymic=""):
    """A new, inactive user for a teacher; active once the e-mail is confirmed.

    The password is expected to have passed the project's validators (the sign-up form runs
    them). No profile is made here: it needs the consent first.
    """
    email = normalize_email(email)
    User = get_user_model()
    _drop_expired_unconfirmed(email)
    if email_taken(email):
        raise duplicate_email_error()
    try:
        with transaction.atomic():
            user = User(
                username=email,
                email=email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                is_active=False,
            )
            user.set_password(password)
            user.save()
            PendingConfirmation.objects.create(user=user)
            PendingTeacherName.objects.create(
                user=user,
                last_name=last_name.strip(),
                first_name=first_name.strip(),
                patronymic=(patronymic or "").strip(),
            )
    except IntegrityError as error:
        # Two sign-ups with one address at once: the unique username catches the second.
        raise duplicate_email_error() from error
    return user


def _confirmation_cutoff():
    return timezone.now() - datetime.timedelta(days=iom_settings.EMAIL_CONFIRMATION_DAYS)


def awaiting_confirmation(user) -> bool:
    """Made by sign-up, never active, and not changed by staff since: its link may activate it."""
    return bool(
        user
        and user.pk
        and not user.is_active
        and PendingConfirmation.objects.filter(user=user).exists()
    )


def is_expired_unconfirmed(user) -> bool:
    """Still waiting for its confirmation, never used, and its last link has expired."""
    return bool(
        not user.is_active
        and user.last_login is None
        and PendingConfirmation.objects.filter(
            user=user, link_sent_at__lt=_confirmation_cutoff()
        ).exists()
    )


def _drop_expired_unconfirmed(email):
    """An address whose confirmation link expired may sign up again: the never-confirmed,
    never-used account is removed first. An account that staff deactivated is not waiting for
    a confirmation, and keeps its address."""
    get_user_model().objects.filter(
        username__iexact=email,
        is_active=False,
        last_login__isnull=True,
        iom_pending_confirmation__link_sent_at__lt=_confirmation_cutoff(),
    ).delete()


def resend_confirmation(email):
    """The account at ``email`` that still waits for its confirmation, or None.

    Its link is about to be sent again: it counts as sent now, so that the account is not
    taken for an expired sign-up while the new link works.
    """
    user = (
        get_user_model()
        .objects.filter(
            username__iexact=normalize_email(email),
            is_active=False,
            last_login__isnull=True,
            iom_pending_confirmation__isnull=False,
        )
        .first()
    )
    if user is not None:
        PendingConfirmation.objects.filter(user=user).update(link_sent_at=timezone.now())
    return user


def end_confirmation(users) -> int:
    """Staff have changed these accounts: from now on staff decide whether they are active,
    and their confirmation links no longer activate them. Returns how many were waiting."""
    pks = [user.pk for user in users if user is not None and user.pk is not None]
    deleted, _rows = PendingConfirmation.objects.filter(user__in=pks).delete()
    return deleted


def account_activated(user) -> None:
    """An account that is active is no longer waiting for its confirmation, however it was
    activated (its link, the admin, a script)."""
    if user.is_active and user.pk is not None:
        PendingConfirmation.objects.filter(user=user).delete()


# E-mail confirmation ---------------------------------------------------------------------


def _user_state(user) -> str:
    """Changes when the confirmation must stop working: activation, a new password or e-mail."""
    value = f"{user.pk}|{user.password}|{user.email}|{user.is_active}|{user.last_login}"
    return salted_hmac(CONFIRMATION_SALT, value, algorithm="sha256").hexdigest()[:32]


def confirmation_token(user) -> str:
    """A signed, timestamped token for the link in the confirmation e-mail."""
    return signing.TimestampSigner(salt=CONFIRMATION_SALT).sign_object(
        {"u": user.pk, "s": _user_state(user)}, compress=True
    )


def _invalid_token_error():
    return AccountError(
        _(
            "This confirmation link is not valid. Copy the whole link from the e-mail, "
            "or sign up again."
        ),
        code="invalid_token",
    )


def confirm_email(token: str):
    """Activate the user the token was made for and return them.

    Raises :class:`AccountError` with the code ``expired_token``, ``used_token``,
    ``deactivated`` (the account no longer waits for a confirmation: staff decide) or
    ``invalid_token``.
    """
    max_age = datetime.timedelta(days=iom_settings.EMAIL_CONFIRMATION_DAYS)
    try:
        payload = signing.TimestampSigner(salt=CONFIRMATION_SALT).unsign_object(
            token, max_age=max_age
        )
    except signing.SignatureExpired as error:
        raise AccountError(
            _(
                "This confirmation link has expired. Sign up again with the same e-mail "
                "address, or ask the centre to activate your account."
            ),
            code="expired_token",
        ) from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise _invalid_token_error() from error
    if not isinstance(payload, dict):
        raise _invalid_token_error()
    User = get_user_model()
    try:
        user = User.objects.get(pk=payload.get("u"))
    except (User.DoesNotExist, ValueError, TypeError) as error:
        raise _invalid_token_error() from error
    if user.is_active:
        raise AccountError(
            _("This e-mail address is already confirmed: the link has been used. Sign in."),
            code="used_token",
        )
    with transaction.atomic():
        pending = PendingConfirmation.objects.select_for_update().filter(user=user).first()
        if pending is None:
            # Confirmed once and deactivated since, or stopped by staff before its
            # confirmation: staff decide, not the link.
            raise AccountError(
                _(
                    "This account has been deactivated, so the confirmation link no longer "
                    "works. Contact the centre if you need the account."
                ),
                code="deactivated",
            )
        if not constant_time_compare(str(payload.get("s", "")), _user_state(user)):
            raise _invalid_token_error()
        pending.delete()
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


# Invitations -----------------------------------------------------------------------------
#
# Staff create accounts for teachers who have not signed up (an import of diagnostics results
# names them): inactive, with an unusable password, and the name to put in the profile once the
# teacher consents. The invitation's link lets the teacher set a password, which activates the
# account; the consent step follows at the first sign-in, as after a sign-up.

INVITATION_SALT = "wagtail_iom.accounts.invitation"


def invite_teachers(people) -> list:
    """Create invited accounts for ``people``: dicts with ``email`` and optionally
    ``last_name``, ``first_name``, ``patronymic``. An address that has an account already is
    skipped. Returns the new users (with primary keys)."""
    User = get_user_model()
    wanted = {}
    for person in people:
        email = normalize_email(person.get("email", ""))
        if email and email not in wanted:
            wanted[email] = person
    if not wanted:
        return []
    taken = {
        value.lower()
        for pair in User.objects.annotate(
            username_lower=Lower("username"), email_lower=Lower("email")
        )
        .filter(models.Q(username_lower__in=list(wanted)) | models.Q(email_lower__in=list(wanted)))
        .values_list("username", "email")
        for value in pair
    }
    users = []
    for email, person in wanted.items():
        if email in taken:
            continue
        user = User(
            username=email,
            email=email,
            first_name=(person.get("first_name") or "").strip()[:150],
            last_name=(person.get("last_name") or "").strip()[:150],
            is_active=False,
        )
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    if users and users[0].pk is None:  # a database that returns no keys from a bulk insert
        users = list(User.objects.filter(username__in=[u.username for u in users]))
    people_by_email = {email: wanted[email] for email in wanted}
    Invitation.objects.bulk_create([Invitation(user=user) for user in users])
    PendingTeacherName.objects.bulk_create(
        [
            PendingTeacherName(
                user=user,
                last_name=(people_by_email[user.username].get("last_name") or "").strip(),
                first_name=(people_by_email[user.username].get("first_name") or "").strip(),
                patronymic=(people_by_email[user.username].get("patronymic") or "").strip(),
            )
            for user in users
        ]
    )
    return users


def invitation_token(user) -> str:
    """A signed, timestamped token for the invitation's link; it stops working once the
    account has a password or is active (both change the user's state)."""
    return signing.TimestampSigner(salt=INVITATION_SALT).sign_object(
        {"u": user.pk, "s": _user_state(user)}, compress=True
    )


def invited_user(token: str):
    """The user an invitation's token was made for, while the invitation stands.

    Raises :class:`AccountError` (``expired_token``, ``used_token`` or ``invalid_token``).
    """
    max_age = datetime.timedelta(days=iom_settings.INVITATION_DAYS)
    try:
        payload = signing.TimestampSigner(salt=INVITATION_SALT).unsign_object(
            token, max_age=max_age
        )
    except signing.SignatureExpired as error:
        raise AccountError(
            _("This invitation has expired. Ask the centre to send it again."),
            code="expired_token",
        ) from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise _invalid_invitation_error() from error
    if not isinstance(payload, dict):
        raise _invalid_invitation_error()
    user = get_user_model().objects.filter(pk=payload.get("u")).first()
    invitation = Invitation.objects.filter(user=user).first() if user else None
    if user is None or invitation is None:
        raise _invalid_invitation_error()
    if invitation.accepted_at is not None or user.is_active:
        raise AccountError(
            _("This invitation has been used: the account is active. Sign in."),
            code="used_token",
        )
    if not constant_time_compare(str(payload.get("s", "")), _user_state(user)):
        raise _invalid_invitation_error()
    return user


def _invalid_invitation_error():
    return AccountError(
        _("This invitation link is not valid. Copy the whole link from the e-mail."),
        code="invalid_token",
    )


@transaction.atomic
def accept_invitation(user, password) -> None:
    """The invited teacher has chosen a password (validated by the form): activate."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    Invitation.objects.filter(user=user).update(accepted_at=timezone.now())


# Consent ---------------------------------------------------------------------------------


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def client_ip(request):
    """The address the request came from, or None.

    The same address django-axes counts failed sign-ins by: REMOTE_ADDR, unless the
    ``AXES_IPWARE_*`` settings name the headers of a trusted reverse proxy (see
    docs/production.md) or ``AXES_CLIENT_IP_CALLABLE`` is set.
    """
    # Imported here: axes' models load only once the app registry is ready, and this module
    # loads with the app (the system checks report a missing "axes" instead of a crash).
    from axes.helpers import get_client_ip_address

    value = get_client_ip_address(request) or ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def has_consented(user, version=None) -> bool:
    """Whether the user has given the consent (of ``version``, if given)."""
    if not user or not user.is_authenticated:
        return False
    consents = PersonalDataConsent.objects.filter(user=user)
    if version is not None:
        consents = consents.filter(consent_version=version)
    return consents.exists()


def needs_consent(user) -> bool:
    """A signed-in teacher without a profile must give the consent before going on.

    Staff members are not teachers: they manage the site and are not asked.
    """
    if not user or not user.is_authenticated or user.is_staff:
        return False
    return not TeacherProfile.objects.filter(user=user).exists()


@transaction.atomic
def record_consent(user, version, text, ip, user_agent="") -> PersonalDataConsent:
    """Store the consent and create the teacher's profile from the name given at sign-up."""
    try:
        ip = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    consent = PersonalDataConsent.objects.create(
        user=user,
        consent_version=version,
        consent_text=text,
        text_sha256=text_digest(text),
        ip_address=ip,
        user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH],
    )
    if not TeacherProfile.objects.filter(user=user).exists():
        pending = PendingTeacherName.objects.filter(user=user).first()
        TeacherProfile.objects.create(
            user=user,
            consent=consent,
            last_name=pending.last_name if pending else user.last_name,
            first_name=pending.first_name if pending else user.first_name,
            patronymic=pending.patronymic if pending else "",
        )
        if pending:
            pending.delete()
    return consent
