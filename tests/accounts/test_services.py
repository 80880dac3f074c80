"""Teachers' accounts: sign-up, e-mail confirmation (and what staff decide), consent."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import RequestFactory, override_settings
from django.utils import timezone

from tests.factories import UserFactory
from wagtail_iom.accounts import services as accounts
from wagtail_iom.models import (
    PendingConfirmation,
    PendingTeacherName,
    PersonalDataConsent,
    TeacherProfile,
)

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


PASSWORD = "Tr1cky-route-2026"


def register(email="Teacher@Example.org", **kwargs):
    values = {"last_name": "Иванова", "first_name": "Мария", "patronymic": "Петровна"}
    values.update(kwargs)
    return accounts.register_teacher(email, PASSWORD, **values)


# Sign-up ----------------------------------------------------------------------------------


def test_register_makes_an_inactive_user_named_by_the_lowercased_email_and_no_profile():
    user = register()
    assert user.username == "teacher@example.org"
    assert user.email == "teacher@example.org"
    assert not user.is_active
    assert user.check_password(PASSWORD)
    assert (user.last_name, user.first_name) == ("Иванова", "Мария")
    assert PendingTeacherName.objects.get(user=user).patronymic == "Петровна"
    assert not TeacherProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    "again", ["teacher@example.org", "TEACHER@EXAMPLE.ORG", " Teacher@example.ORG "]
)
def test_an_email_is_taken_in_any_case(again):
    register()
    with pytest.raises(accounts.AccountError) as error:
        register(again)
    assert error.value.code == "duplicate_email"
    assert "already exists" in error.value.messages[0]
    assert get_user_model().objects.count() == 1


def test_an_email_of_an_existing_staff_user_is_taken():
    UserFactory(username="methodist", email="Methodist@Example.org")
    with pytest.raises(accounts.AccountError):
        register("methodist@example.org")


@override_settings(WAGTAIL_IOM={"EMAIL_CONFIRMATION_DAYS": 3})
def test_an_expired_unconfirmed_sign_up_does_not_block_the_address():
    old = register()
    four_days_ago = timezone.now() - datetime.timedelta(days=4)
    get_user_model().objects.filter(pk=old.pk).update(date_joined=four_days_ago)
    PendingConfirmation.objects.filter(user=old).update(link_sent_at=four_days_ago)
    new = register("teacher@example.org", first_name="Анна")
    assert new.pk != old.pk
    assert not get_user_model().objects.filter(pk=old.pk).exists()


# E-mail confirmation ----------------------------------------------------------------------


def test_the_token_confirms_and_activates_the_user():
    user = register()
    confirmed = accounts.confirm_email(accounts.confirmation_token(user))
    assert confirmed == user
    user.refresh_from_db()
    assert user.is_active


def test_a_used_token_gives_a_clear_error():
    user = register()
    token = accounts.confirmation_token(user)
    accounts.confirm_email(token)
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(token)
    assert error.value.code == "used_token"
    assert "already confirmed" in error.value.messages[0]


@override_settings(WAGTAIL_IOM={"EMAIL_CONFIRMATION_DAYS": 3})
def test_an_expired_token_gives_a_clear_error(monkeypatch):
    user = register()
    token = accounts.confirmation_token(user)
    later = signing.time.time() + 3 * 24 * 3600 + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(token)
    assert error.value.code == "expired_token"
    assert "expired" in error.value.messages[0]
    user.refresh_from_db()
    assert not user.is_active


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "nonsense",
        lambda token: "",
        lambda token: signing.TimestampSigner(salt="another").sign_object({"u": 1, "s": "x"}),
    ],
    ids=["tampered", "garbage", "empty", "other-salt"],
)
def test_a_forged_token_is_refused(mangle):
    user = register()
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(mangle(accounts.confirmation_token(user)))
    assert error.value.code == "invalid_token"
    user.refresh_from_db()
    assert not user.is_active


def test_a_token_signed_for_another_state_is_refused():
    """A validly signed token stops working when the password changes before confirmation."""
    user = register()
    token = accounts.confirmation_token(user)
    user.set_password("Another-pass-2026")
    user.save()
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(token)
    assert error.value.code == "invalid_token"


def test_a_token_for_a_deleted_user_is_refused():
    user = register()
    token = accounts.confirmation_token(user)
    user.delete()
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(token)
    assert error.value.code == "invalid_token"


# Consent ----------------------------------------------------------------------------------


def test_record_consent_stores_the_terms_and_creates_the_profile():
    user = register()
    before = timezone.now()
    consent = accounts.record_consent(user, "2026-11", "<p>Text</p>", "203.0.113.7", "Firefox")
    assert consent.consent_version == "2026-11"
    assert consent.consent_text == "<p>Text</p>"
    assert consent.text_sha256 == accounts.text_digest("<p>Text</p>")
    assert consent.ip_address == "203.0.113.7"
    assert consent.user_agent == "Firefox"
    assert consent.given_at >= before
    profile = TeacherProfile.objects.get(user=user)
    assert profile.consent == consent
    assert profile.full_name == "Иванова Мария Петровна"
    assert not PendingTeacherName.objects.filter(user=user).exists()
    assert not accounts.needs_consent(user)


def test_a_new_version_adds_a_consent_and_keeps_the_profile():
    user = register()
    accounts.record_consent(user, "2026-11", "old", "127.0.0.1")
    accounts.record_consent(user, "2027-01", "new", "::1", "x" * 1000)
    assert PersonalDataConsent.objects.filter(user=user).count() == 2
    assert TeacherProfile.objects.filter(user=user).count() == 1
    assert len(PersonalDataConsent.objects.get(consent_version="2027-01").user_agent) == 255
    assert accounts.has_consented(user, "2027-01")


def test_a_bad_ip_is_stored_as_unknown():
    user = register()
    consent = accounts.record_consent(user, "2026-11", "text", "not-an-ip")
    assert consent.ip_address is None


def test_no_profile_without_consent():
    user = register()
    accounts.confirm_email(accounts.confirmation_token(user))
    assert accounts.needs_consent(user)
    assert not TeacherProfile.objects.exists()
    assert not accounts.has_consented(user)


def test_staff_are_not_asked_for_consent():
    assert not accounts.needs_consent(UserFactory(is_staff=True))


# What staff decide -----------------------------------------------------------------------


def test_a_sign_up_waits_for_its_confirmation_until_the_link_is_used():
    user = register()
    assert accounts.awaiting_confirmation(user)
    accounts.confirm_email(accounts.confirmation_token(user))
    assert not PendingConfirmation.objects.filter(user=user).exists()


def test_a_link_cannot_reactivate_an_account_staff_deactivated_after_its_confirmation():
    user = register()
    token = accounts.confirmation_token(user)
    accounts.confirm_email(token)
    # Staff deactivate the account before its owner ever signs in: the user's state is the one
    # the token was made for again.
    user.refresh_from_db()
    user.is_active = False
    user.save()
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(token)
    assert error.value.code == "deactivated"
    assert "deactivated" in error.value.messages[0]
    user.refresh_from_db()
    assert not user.is_active


def test_a_link_cannot_activate_an_account_staff_activated_then_deactivated():
    user = register()
    token = accounts.confirmation_token(user)
    # Activated and deactivated again in the admin (a bulk update: no signal, no hook here).
    get_user_model().objects.filter(pk=user.pk).update(is_active=True)
    user.refresh_from_db()
    user.save()  # any save of the active account (the admin's form) ends the wait
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(token)
    assert error.value.code == "deactivated"
    user.refresh_from_db()
    assert not user.is_active


def test_a_link_cannot_activate_an_unconfirmed_account_staff_kept_inactive():
    user = register()
    token = accounts.confirmation_token(user)
    assert accounts.end_confirmation([user]) == 1
    with pytest.raises(accounts.AccountError) as error:
        accounts.confirm_email(token)
    assert error.value.code == "deactivated"
    user.refresh_from_db()
    assert not user.is_active
    # Nor does signing up again free the address, however old the sign-up.
    get_user_model().objects.filter(pk=user.pk).update(
        date_joined=timezone.now() - datetime.timedelta(days=30)
    )
    with pytest.raises(accounts.AccountError) as error:
        register()
    assert error.value.code == "duplicate_email"
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_resending_a_link_needs_an_account_waiting_for_it():
    user = register()
    PendingConfirmation.objects.filter(user=user).update(
        link_sent_at=timezone.now() - datetime.timedelta(days=10)
    )
    assert accounts.resend_confirmation("TEACHER@example.org") == user
    # The new link counts from now: the sign-up no longer counts as expired.
    assert not accounts.is_expired_unconfirmed(user)
    assert accounts.resend_confirmation("nobody@example.org") is None
    accounts.end_confirmation([user])
    assert accounts.resend_confirmation("teacher@example.org") is None


# The client's address ---------------------------------------------------------------------


def test_the_client_address_is_remote_addr_by_default():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert accounts.client_ip(request) == "203.0.113.9"


@override_settings(
    AXES_IPWARE_META_PRECEDENCE_ORDER=("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"),
    AXES_IPWARE_PROXY_COUNT=0,
)
def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for():
    """docs/production.md: the proxy replaces X-Forwarded-For with the address it saw."""
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert accounts.client_ip(request) == "203.0.113.9"
    # A header with more in it (a client's own entry that the proxy appended to) is not
    # trusted: never the address the client wrote.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert accounts.client_ip(request) != "6.6.6.6"
