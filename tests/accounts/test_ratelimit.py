"""Sign-up, password reset and resending the confirmation link are rate-limited per IP address
and per e-mail address, with counts in the database; over a limit the page answers 429, sends
nothing and tells nothing about the address."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from wagtail_iom.accounts import ratelimit
from wagtail_iom.accounts import services as accounts
from wagtail_iom.models import RateLimitCount

pytestmark = pytest.mark.django_db

PASSWORD = "Tr1cky-route-2026"
LIMITS = {
    "ACCOUNT_RATE_LIMIT_PER_IP": 4,
    "ACCOUNT_RATE_LIMIT_PER_ADDRESS": 2,
    "ACCOUNT_RATE_LIMIT_WINDOW_SECONDS": 3600,
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def client(address="198.51.100.7"):
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def sign_up(client, capture, email, **changes):
    data = {
        "email": email,
        "last_name": "Иванова",
        "first_name": "Мария",
        "patronymic": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **changes,
    }
    with capture(execute=True):
        return client.post(reverse("wagtail_iom:signup"), data)


def assert_refused(response):
    page = response.content.decode()
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many requests from your network or for this e-mail address" in page
    assert 'role="alert"' in page
    return page


# Sign-up ----------------------------------------------------------------------------------


@override_settings(WAGTAIL_IOM=LIMITS)
def test_sign_ups_are_limited_per_ip(django_capture_on_commit_callbacks):
    school = client()
    for n in range(4):
        response = sign_up(school, django_capture_on_commit_callbacks, f"t{n}@example.org")
        assert response.status_code == 302
    response = sign_up(school, django_capture_on_commit_callbacks, "t4@example.org")
    assert_refused(response)
    assert not get_user_model().objects.filter(username="t4@example.org").exists()
    assert len(mail.outbox) == 4
    # Another network signs up as usual.
    response = sign_up(client("203.0.113.50"), django_capture_on_commit_callbacks, "t4@example.org")
    assert response.status_code == 302


@override_settings(WAGTAIL_IOM=LIMITS)
def test_sign_ups_are_limited_per_address_and_say_nothing_about_it(
    django_capture_on_commit_callbacks,
):
    first = sign_up(client("203.0.113.1"), django_capture_on_commit_callbacks, "t@example.org")
    assert first.status_code == 302
    # The address is taken now: the form says so, and that counts too (else addresses could be
    # tested without limit).
    second = sign_up(client("203.0.113.2"), django_capture_on_commit_callbacks, "T@example.org")
    assert "already exists" in second.content.decode()
    third = sign_up(client("203.0.113.3"), django_capture_on_commit_callbacks, "t@example.org")
    page = assert_refused(third)
    assert "already exists" not in page
    assert PASSWORD not in page
    assert 'value="t@example.org"' in page  # what was typed stays, the passwords do not
    assert len(mail.outbox) == 1


@override_settings(WAGTAIL_IOM=LIMITS)
def test_a_mistyped_sign_up_does_not_count(django_capture_on_commit_callbacks):
    for _ in range(5):
        response = sign_up(
            client(), django_capture_on_commit_callbacks, "t@example.org", password2="Other-2026"
        )
        assert response.status_code == 200
    assert not RateLimitCount.objects.exists()
    assert sign_up(client(), django_capture_on_commit_callbacks, "t@example.org").status_code == 302


# Password reset ---------------------------------------------------------------------------


def same_page(response, email):
    """The page with the e-mail typed and the CSRF token left out."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return page.replace(email, "X")


def reset(client, email):
    return client.post(reverse("wagtail_iom:password_reset"), {"email": email})


def active_teacher(email):
    user = accounts.register_teacher(email, PASSWORD, "Иванова", "Мария")
    accounts.confirm_email(accounts.confirmation_token(user))
    return user


@override_settings(WAGTAIL_IOM=LIMITS)
def test_password_resets_are_limited_per_address_whether_or_not_it_has_an_account():
    active_teacher("t@example.org")
    for address in ("t@example.org", "nobody@example.org"):
        for n in range(2):
            assert reset(client(f"203.0.113.{n}"), address).status_code == 302
    assert len(mail.outbox) == 2
    known = reset(client("203.0.113.9"), "t@example.org")
    unknown = reset(client("203.0.113.9"), "nobody@example.org")
    # The same answer for both: nothing tells whether the address has an account.
    assert_refused(known)
    assert_refused(unknown)
    assert same_page(known, "t@example.org") == same_page(unknown, "nobody@example.org")
    assert len(mail.outbox) == 2


@override_settings(WAGTAIL_IOM=LIMITS)
def test_password_resets_are_limited_per_ip():
    for n in range(4):
        active_teacher(f"t{n}@example.org")
        assert reset(client(), f"t{n}@example.org").status_code == 302
    active_teacher("t4@example.org")
    assert_refused(reset(client(), "t4@example.org"))
    assert len(mail.outbox) == 4


# Resending the confirmation link ----------------------------------------------------------


def resend(client, email, capture):
    with capture(execute=True):
        return client.post(reverse("wagtail_iom:resend_confirmation"), {"email": email})


def test_a_confirmation_link_is_sent_again_to_an_account_waiting_for_it(
    django_capture_on_commit_callbacks,
):
    accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    response = resend(client(), "T@example.org", django_capture_on_commit_callbacks)
    assert response["Location"] == reverse("wagtail_iom:resend_confirmation_done")
    assert len(mail.outbox) == 1
    assert "/iom/accounts/confirm/" in mail.outbox[0].body
    # Unknown, confirmed or deactivated addresses get the same answer and no e-mail.
    active_teacher("active@example.org")
    for email in ("nobody@example.org", "active@example.org"):
        response = resend(client(), email, django_capture_on_commit_callbacks)
        assert response["Location"] == reverse("wagtail_iom:resend_confirmation_done")
    assert len(mail.outbox) == 1
    page = client().get(reverse("wagtail_iom:resend_confirmation_done")).content.decode()
    assert "If an account at this address is waiting for its confirmation" in page


@override_settings(WAGTAIL_IOM=LIMITS)
def test_resending_is_limited_per_address(django_capture_on_commit_callbacks):
    accounts.register_teacher("t@example.org", PASSWORD, "Иванова", "Мария")
    for n in range(2):
        resend(client(f"203.0.113.{n}"), "t@example.org", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert_refused(
        resend(client("203.0.113.9"), "t@example.org", django_capture_on_commit_callbacks)
    )
    assert len(mail.outbox) == 2


@override_settings(WAGTAIL_IOM=LIMITS)
def test_resending_is_limited_per_ip(django_capture_on_commit_callbacks):
    for n in range(5):
        accounts.register_teacher(f"t{n}@example.org", PASSWORD, "Иванова", "Мария")
    for n in range(4):
        resend(client(), f"t{n}@example.org", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 4
    assert_refused(resend(client(), "t4@example.org", django_capture_on_commit_callbacks))
    assert len(mail.outbox) == 4


# The counts -------------------------------------------------------------------------------


@override_settings(WAGTAIL_IOM=LIMITS)
def test_the_counts_live_in_the_database_without_the_addresses():
    for _ in range(2):
        assert ratelimit.hit(ratelimit.PASSWORD_RESET, "203.0.113.1", "t@example.org") == 0
    cache.clear()  # nothing of it is in a cache, nor in this process
    assert ratelimit.hit(ratelimit.PASSWORD_RESET, "203.0.113.2", "T@example.org ") > 0
    counts = RateLimitCount.objects.filter(action=ratelimit.PASSWORD_RESET)
    assert sorted(counts.values_list("count", flat=True)) == [1, 2, 3]
    for row in counts:
        assert "example.org" not in row.key
        assert "203.0.113" not in row.key
    # The actions are counted apart.
    assert ratelimit.hit(ratelimit.SIGNUP, "203.0.113.2", "t@example.org") == 0


@override_settings(WAGTAIL_IOM=LIMITS)
def test_the_limit_ends_with_its_window_and_old_windows_are_deleted(monkeypatch):
    now = timezone.now()
    for _ in range(3):
        ratelimit.hit(ratelimit.RESEND_CONFIRMATION, None, "t@example.org")
    assert ratelimit.hit(ratelimit.RESEND_CONFIRMATION, None, "t@example.org") > 0
    later = now + datetime.timedelta(hours=1, seconds=1)
    monkeypatch.setattr(ratelimit.timezone, "now", lambda: later)
    assert ratelimit.hit(ratelimit.RESEND_CONFIRMATION, None, "t@example.org") == 0
    assert list(RateLimitCount.objects.values_list("count", flat=True)) == [1]


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown"):
        ratelimit.hit("unknown", None, "t@example.org")
