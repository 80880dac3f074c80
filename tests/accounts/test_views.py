"""Teachers' account pages: the whole flow, errors next to the fields, CSRF, the lockout."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.db.models import F
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from tests.factories import UserFactory
from wagtail_iom.accounts import services as accounts
from wagtail_iom.conf import iom_settings
from wagtail_iom.models import PersonalDataConsent, TeacherProfile

pytestmark = pytest.mark.django_db

PASSWORD = "Tr1cky-route-2026"
SIGNUP = {
    "email": "Teacher@Example.org",
    "last_name": "Иванова",
    "first_name": "Мария",
    "patronymic": "Петровна",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


@pytest.fixture(autouse=True)
def english_and_empty_cache():
    cache.clear()
    with translation.override("en"):
        yield
    cache.clear()


@pytest.fixture
def en_client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def sign_up(client, capture, **changes):
    with capture(execute=True):
        return client.post(reverse("wagtail_iom:signup"), {**SIGNUP, **changes})


def active_teacher(email="teacher@example.org"):
    user = accounts.register_teacher(email, PASSWORD, "Иванова", "Мария", "Петровна")
    accounts.confirm_email(accounts.confirmation_token(user))
    return user


def test_the_whole_flow(en_client, django_capture_on_commit_callbacks):
    response = en_client.get(reverse("wagtail_iom:signup"))
    assert response.status_code == 200
    assert 'autocomplete="new-password"' in response.content.decode()

    response = sign_up(en_client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtail_iom:signup_done")
    user = get_user_model().objects.get(username="teacher@example.org")
    assert not user.is_active

    # The e-mail: plain text and HTML, with the confirmation link.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["teacher@example.org"]
    assert "Confirm your e-mail address" in message.subject
    html = message.alternatives[0][0]
    link = re.search(r"http://testserver(/iom/accounts/confirm/[^/\s]+/)", message.body).group(1)
    assert link in html

    # Not yet confirmed: the login says so.
    response = en_client.post(
        reverse("wagtail_iom:login"), {"username": "teacher@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "not confirmed yet" in response.content.decode()

    # The link shows a button; pressing it confirms.
    assert en_client.get(link).status_code == 200
    user.refresh_from_db()
    assert not user.is_active
    response = en_client.post(link)
    assert response.status_code == 200
    assert "E-mail address confirmed" in response.content.decode()
    user.refresh_from_db()
    assert user.is_active

    # Login (in any case) leads to the consent step, keeping where the user was going.
    response = en_client.post(
        reverse("wagtail_iom:login") + "?next=/resource-map/",
        {"username": "TEACHER@example.org", "password": PASSWORD, "next": "/resource-map/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtail_iom:consent") + "?next=%2Fresource-map%2F"
    assert not TeacherProfile.objects.exists()

    response = en_client.get(response["Location"])
    page = response.content.decode()
    assert response.status_code == 200
    assert "Federal Law No. 152-FZ" in page
    assert iom_settings.CONSENT_VERSION in page

    # Without ticking the box: an error next to it, no consent, no profile.
    response = en_client.post(reverse("wagtail_iom:consent"), {"next": "/resource-map/"})
    assert response.status_code == 200
    assert 'id="id_agree_error"' in response.content.decode()
    assert 'aria-describedby="id_agree_error"' in response.content.decode()
    assert not PersonalDataConsent.objects.exists()
    assert not TeacherProfile.objects.exists()

    response = en_client.post(
        reverse("wagtail_iom:consent"),
        {"agree": "on", "next": "/resource-map/"},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )
    assert response.status_code == 302
    assert response["Location"] == "/resource-map/"
    consent = PersonalDataConsent.objects.get(user=user)
    assert consent.consent_version == iom_settings.CONSENT_VERSION
    assert consent.ip_address == "198.51.100.4"
    assert consent.user_agent == "TestBrowser/1.0"
    assert consent.given_at is not None
    assert "152-FZ" in consent.consent_text
    assert consent.text_sha256 == accounts.text_digest(consent.consent_text)
    profile = TeacherProfile.objects.get(user=user)
    assert profile.full_name == "Иванова Мария Петровна"

    # Once given, the consent step steps aside and a new login goes straight on.
    assert en_client.get(reverse("wagtail_iom:consent"))["Location"] == "/"
    en_client.post(reverse("wagtail_iom:logout"))
    response = en_client.post(
        reverse("wagtail_iom:login"), {"username": "teacher@example.org", "password": PASSWORD}
    )
    assert response["Location"] == "/"


def test_the_email_follows_the_active_language(client, django_capture_on_commit_callbacks):
    with translation.override("ru"):
        sign_up(Client(HTTP_ACCEPT_LANGUAGE="ru"), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert "/iom/accounts/confirm/" in mail.outbox[0].body


@pytest.mark.parametrize("email", ["teacher@example.org", "TEACHER@EXAMPLE.ORG"])
def test_a_duplicate_email_is_refused_next_to_the_field(
    en_client, django_capture_on_commit_callbacks, email
):
    active_teacher()
    response = sign_up(en_client, django_capture_on_commit_callbacks, email=email)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_email_error"' in page
    assert "An account with this e-mail address already exists" in page
    assert get_user_model().objects.count() == 1
    assert mail.outbox == []


def test_a_weak_password_is_refused_next_to_the_field(
    en_client, django_capture_on_commit_callbacks
):
    response = sign_up(
        en_client, django_capture_on_commit_callbacks, password1="12345678", password2="12345678"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_password1_error"' in page
    assert "This password is too common." in page
    assert "This password is entirely numeric." in page
    assert not get_user_model().objects.exists()


def test_different_passwords_are_refused(en_client, django_capture_on_commit_callbacks):
    response = sign_up(en_client, django_capture_on_commit_callbacks, password2="Other-pass-2026")
    assert "The two passwords differ" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_missing_and_bad_values_get_messages_not_errors(
    en_client, django_capture_on_commit_callbacks
):
    response = sign_up(
        en_client, django_capture_on_commit_callbacks, email="not-an-email", last_name=""
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in page
    assert 'id="id_last_name_error"' in page


@pytest.mark.parametrize(
    "token", ["nonsense", "a:b:c", "x" * 300, "eyJ1IjoxfQ:1vZ:forged"], ids=str
)
def test_a_bad_confirmation_link_is_a_400_page_not_a_500(en_client, token):
    response = en_client.post(reverse("wagtail_iom:confirm_email", args=[token]))
    assert response.status_code == 400
    assert "This confirmation link is not valid" in response.content.decode()


def test_a_used_confirmation_link_says_so(en_client):
    user = accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    token = accounts.confirmation_token(user)
    url = reverse("wagtail_iom:confirm_email", args=[token])
    assert en_client.post(url).status_code == 200
    response = en_client.post(url)
    assert response.status_code == 400
    assert "already confirmed" in response.content.decode()


@override_settings(WAGTAIL_IOM={"EMAIL_CONFIRMATION_DAYS": 1})
def test_an_expired_confirmation_link_says_so(en_client, monkeypatch):
    from django.core import signing

    user = accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    url = reverse("wagtail_iom:confirm_email", args=[accounts.confirmation_token(user)])
    later = signing.time.time() + 2 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = en_client.post(url)
    assert response.status_code == 400
    assert "This confirmation link has expired" in response.content.decode()


# Sign-in lockouts (django-axes; more in test_lockout.py) ----------------------------------

LOCKOUT_AFTER_3 = {"AXES_FAILURE_LIMIT": 3, "AXES_COOLOFF_TIME": datetime.timedelta(seconds=120)}


def age_failed_sign_ins(seconds):
    """Move the failures axes counted into the past, as if time had passed."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - datetime.timedelta(seconds=seconds)
    )


@override_settings(**LOCKOUT_AFTER_3)
def test_logins_are_locked_after_n_failures_even_with_the_right_password(en_client, monkeypatch):
    user = active_teacher()
    url = reverse("wagtail_iom:login")
    for _ in range(2):
        response = en_client.post(url, {"username": user.username, "password": "wrong"})
        assert "The e-mail or password is wrong" in response.content.decode()
    # The third failure locks.
    response = en_client.post(url, {"username": user.username, "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed attempts to sign in. Wait 2 minutes" in response.content.decode()

    checked = []
    original = get_user_model().check_password
    monkeypatch.setattr(
        get_user_model(),
        "check_password",
        lambda self, raw: checked.append(raw) or original(self, raw),
    )
    response = en_client.post(url, {"username": user.username, "password": PASSWORD})
    page = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "120"
    assert "Too many failed attempts to sign in. Wait 2 minutes" in page
    assert 'role="alert"' in page
    assert 'name="username"' in page  # the package's own page, the form still there
    assert checked == []  # no authentication was attempted
    assert "_auth_user_id" not in en_client.session

    # Another address is not locked out.
    other = Client(REMOTE_ADDR="10.9.9.9", HTTP_ACCEPT_LANGUAGE="en")
    assert other.post(url, {"username": user.username, "password": PASSWORD}).status_code == 302

    age_failed_sign_ins(120)
    response = en_client.post(url, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in en_client.session


@override_settings(**LOCKOUT_AFTER_3)
def test_a_successful_login_resets_the_count(en_client):
    user = active_teacher()
    url = reverse("wagtail_iom:login")
    for _ in range(2):
        en_client.post(url, {"username": user.username, "password": "wrong"})
    assert en_client.post(url, {"username": user.username, "password": PASSWORD}).status_code == 302
    en_client.post(reverse("wagtail_iom:logout"))
    for _ in range(2):
        en_client.post(url, {"username": user.username, "password": "wrong"})
    assert en_client.post(url, {"username": user.username, "password": PASSWORD}).status_code == 302


# CSRF, access, no 500s -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["signup", "consent", "login", "logout", "password_reset"], ids=str
)
def test_posts_without_a_csrf_token_are_refused(name):
    user = active_teacher()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    if name == "login":
        client = Client(enforce_csrf_checks=True)
    data = {**SIGNUP, "agree": "on", "username": user.username, "password": PASSWORD}
    response = client.post(reverse(f"wagtail_iom:{name}"), data)
    assert response.status_code == 403
    assert not PersonalDataConsent.objects.exists()
    assert get_user_model().objects.count() == 1


def test_confirmation_post_without_a_csrf_token_is_refused():
    user = accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    client = Client(enforce_csrf_checks=True)
    url = reverse("wagtail_iom:confirm_email", args=[accounts.confirmation_token(user)])
    assert client.post(url).status_code == 403
    user.refresh_from_db()
    assert not user.is_active


def test_the_consent_step_needs_a_login(client):
    response = client.get(reverse("wagtail_iom:consent"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtail_iom:login"))


def test_staff_logging_in_are_not_sent_to_the_consent(en_client):
    UserFactory(username="methodist", is_staff=True)
    response = en_client.post(
        reverse("wagtail_iom:login"), {"username": "methodist", "password": "password"}
    )
    assert response["Location"] == "/"


def test_an_unsafe_next_is_ignored(en_client):
    user = active_teacher()
    en_client.force_login(user)
    response = en_client.post(
        reverse("wagtail_iom:consent"), {"agree": "on", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_password_reset_sends_a_working_link(en_client):
    active_teacher()
    response = en_client.post(
        reverse("wagtail_iom:password_reset"), {"email": "teacher@example.org"}
    )
    assert response["Location"] == reverse("wagtail_iom:password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].alternatives
    link = re.search(r"http://testserver(/iom/accounts/password-reset/\S+/)", mail.outbox[0].body)
    response = en_client.get(link.group(1), follow=True)
    assert response.status_code == 200
    response = en_client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Brand-new-2026", "new_password2": "Brand-new-2026"},
    )
    assert response["Location"] == reverse("wagtail_iom:password_reset_complete")
    assert get_user_model().objects.get().check_password("Brand-new-2026")


def test_password_reset_ignores_unconfirmed_accounts(en_client):
    accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    en_client.post(reverse("wagtail_iom:password_reset"), {"email": "t@example.org"})
    assert mail.outbox == []


@pytest.mark.parametrize(
    "name",
    [
        "signup",
        "signup_done",
        "login",
        "password_reset",
        "password_reset_done",
        "password_reset_complete",
    ],
)
def test_every_page_renders_in_both_languages(client, name):
    for language in ("ru", "en"):
        response = client.get(reverse(f"wagtail_iom:{name}"), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200


def test_logout_by_get_is_not_allowed(client):
    assert client.get(reverse("wagtail_iom:logout")).status_code == 405


# What staff decide --------------------------------------------------------------------------


def confirm(client, token):
    return client.post(reverse("wagtail_iom:confirm_email", args=[token]))


def test_a_link_cannot_reactivate_an_account_staff_deactivated_in_the_admin(
    en_client, admin_client
):
    user = accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    token = accounts.confirmation_token(user)
    assert confirm(en_client, token).status_code == 200
    # Staff deactivate the account (the admin's edit form, "Active" unticked).
    response = admin_client.post(
        reverse("wagtailusers_users:edit", args=[user.pk]),
        {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "password1": "",
            "password2": "",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active

    response = confirm(en_client, token)
    page = response.content.decode()
    assert response.status_code == 400
    assert "This account has been deactivated" in page
    assert reverse("wagtail_iom:signup") not in page.split("</h1>", 1)[1].split("</section>")[0]
    user.refresh_from_db()
    assert not user.is_active


def test_a_link_cannot_activate_an_unconfirmed_account_staff_set_inactive(en_client, admin_client):
    user = accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    token = accounts.confirmation_token(user)
    # Staff mark the waiting account inactive with the users listing's bulk action.
    url = (
        reverse("wagtail_bulk_action", args=["auth", "user", "set_active_state"]) + f"?id={user.pk}"
    )
    assert admin_client.post(url, {"mark_as_active": False}).status_code == 302
    assert not accounts.awaiting_confirmation(user)

    response = confirm(en_client, token)
    assert response.status_code == 400
    assert "This account has been deactivated" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active
    # It no longer answers as "not confirmed yet" either.
    response = en_client.post(
        reverse("wagtail_iom:login"), {"username": user.username, "password": PASSWORD}
    )
    assert "not confirmed yet" not in response.content.decode()


def test_a_link_still_confirms_an_account_staff_did_not_touch(en_client, admin_client):
    user = accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    other = accounts.register_teacher("other@example.org", PASSWORD, "Петров", "Иван")
    admin_client.post(
        reverse("wagtail_bulk_action", args=["auth", "user", "set_active_state"])
        + f"?id={other.pk}",
        {"mark_as_active": False},
    )
    assert confirm(en_client, accounts.confirmation_token(user)).status_code == 200
    user.refresh_from_db()
    assert user.is_active


@pytest.mark.parametrize("name", ["resend_confirmation", "resend_confirmation_done"], ids=str)
def test_the_resend_pages_render_in_both_languages(client, name):
    for language in ("ru", "en"):
        response = client.get(reverse(f"wagtail_iom:{name}"), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
