"""Every sign-in page of the site is throttled by django-axes, with counts in the database: the
package's login, Wagtail's admin login and Django's admin login (mounted by the sandbox at
/django-admin/). The lockout pages say how long to wait, with HTTP 429, never a 500."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.cache import cache
from django.db.models import F
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from tests.factories import SuperUserFactory
from wagtail_iom.accounts import lockout
from wagtail_iom.accounts import services as accounts

pytestmark = pytest.mark.django_db

PASSWORD = "Tr1cky-route-2026"
STAFF_PASSWORD = "Staff-pass-2026"
ADDRESS = "198.51.100.20"


@pytest.fixture(autouse=True)
def no_failures_counted():
    """Each test starts with no failed sign-ins counted (axes' rows are rolled back too)."""
    from axes.utils import reset

    reset()
    yield
    reset()


def en_client(address=ADDRESS):
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def active_teacher(email="teacher@example.org"):
    user = accounts.register_teacher(email, PASSWORD, "Иванова", "Мария", "Петровна")
    accounts.confirm_email(accounts.confirmation_token(user))
    return user


@pytest.fixture
def staff():
    user = SuperUserFactory(username="methodist", email="methodist@example.org")
    user.set_password(STAFF_PASSWORD)
    user.save()
    return user


def fail(client, url, username, times):
    return [client.post(url, {"username": username, "password": "wrong"}) for _ in range(times)]


def signed_in(client):
    return "_auth_user_id" in client.session


# Wagtail's admin login --------------------------------------------------------------------


def test_six_wrong_passwords_on_the_wagtail_admin_lock_the_right_one_out(staff):
    client = en_client()
    url = reverse("wagtailadmin_login")
    responses = fail(client, url, "methodist", 6)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429, 429]

    response = client.post(url, {"username": "methodist", "password": STAFF_PASSWORD})
    page = response.content.decode()
    assert response.status_code == 429
    assert not signed_in(client)
    # Wagtail's own login page, with the message above its form.
    assert "Too many failed attempts to sign in. Wait 15 minutes" in page
    assert 'role="alert"' in page
    assert 'class="login-form"' in page
    assert 'value="methodist"' in page
    assert response["Retry-After"] == str(15 * 60)
    assert "no-cache" in response["Cache-Control"]
    assert client.get(reverse("wagtailadmin_home")).status_code == 302


def test_the_wagtail_admin_login_works_again_after_the_cool_off(staff):
    client = en_client()
    url = reverse("wagtailadmin_login")
    fail(client, url, "methodist", 5)
    assert (
        client.post(url, {"username": "methodist", "password": STAFF_PASSWORD}).status_code == 429
    )
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=15))
    response = client.post(url, {"username": "methodist", "password": STAFF_PASSWORD})
    assert response.status_code == 302
    assert signed_in(client)


def test_the_wagtail_admin_lockout_page_is_translated(staff):
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_ACCEPT_LANGUAGE="ru")
    url = reverse("wagtailadmin_login")
    fail(client, url, "methodist", 5)
    response = client.post(url, {"username": "methodist", "password": STAFF_PASSWORD})
    assert response.status_code == 429
    assert 'lang="ru"' in response.content.decode()


# Django's admin login (the sandbox mounts it at /django-admin/) ----------------------------


def test_six_wrong_passwords_on_the_django_admin_lock_the_right_one_out(staff):
    client = en_client()
    url = reverse("admin:login")
    responses = fail(client, url, "methodist", 6)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429, 429]
    response = client.post(url, {"username": "methodist", "password": STAFF_PASSWORD})
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many failed attempts to sign in. Wait 15 minutes" in page
    assert 'role="alert"' in page
    assert not signed_in(client)
    assert client.get(reverse("admin:index")).status_code == 302


# The package's login ----------------------------------------------------------------------


def test_six_wrong_passwords_on_the_package_login_lock_the_right_one_out():
    user = active_teacher()
    client = en_client()
    url = reverse("wagtail_iom:login")
    responses = fail(client, url, user.username, 6)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429, 429]
    response = client.post(url, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts to sign in. Wait 15 minutes" in response.content.decode()
    assert not signed_in(client)


def test_the_failures_of_one_sign_in_page_count_on_the_others(staff):
    """One name, one address: the admin's failures lock the package's login too."""
    client = en_client()
    fail(client, reverse("wagtailadmin_login"), "methodist", 5)
    response = client.post(
        reverse("wagtail_iom:login"), {"username": "methodist", "password": STAFF_PASSWORD}
    )
    assert response.status_code == 429
    assert not signed_in(client)
    response = client.post(
        reverse("admin:login"), {"username": "methodist", "password": STAFF_PASSWORD}
    )
    assert response.status_code == 429
    assert not signed_in(client)


def test_the_counts_are_in_the_database_not_in_a_process():
    user = active_teacher()
    fail(en_client(), reverse("wagtail_iom:login"), user.username, 5)
    attempt = AccessAttempt.objects.get(username=user.username, ip_address=ADDRESS)
    assert attempt.failures_since_start == 5
    # Another client (another worker, say) with an empty cache: still locked.
    cache.clear()
    response = en_client().post(
        reverse("wagtail_iom:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    response = en_client().post(
        reverse("wagtailadmin_login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 429


def test_an_unconfirmed_account_that_is_locked_out_gives_no_hint_about_its_password():
    user = accounts.register_teacher("new@example.org", PASSWORD, "Иванова", "Мария")
    client = en_client()
    url = reverse("wagtail_iom:login")
    fail(client, url, user.username, 5)
    response = client.post(url, {"username": user.username, "password": PASSWORD})
    page = response.content.decode()
    assert response.status_code == 429
    assert "not confirmed yet" not in page
    assert "Too many failed attempts" in page


def test_a_password_reset_by_e_mail_lifts_the_lockout():
    user = active_teacher()
    client = en_client()
    fail(client, reverse("wagtail_iom:login"), user.username, 5)
    client.post(reverse("wagtail_iom:password_reset"), {"email": user.email})
    link = re.search(r"http://testserver(/iom/accounts/password-reset/\S+/)", mail.outbox[0].body)
    response = client.get(link.group(1), follow=True)
    client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Brand-new-2026", "new_password2": "Brand-new-2026"},
    )
    response = client.post(
        reverse("wagtail_iom:login"), {"username": user.username, "password": "Brand-new-2026"}
    )
    assert response.status_code == 302
    assert signed_in(client)


# The lockout's wording --------------------------------------------------------------------


def locked_request():
    request = RequestFactory().post("/", {"username": "t@example.org"}, REMOTE_ADDR=ADDRESS)
    request.axes_ip_address = ADDRESS
    request.axes_user_agent = "<unknown>"
    request.axes_locked_out = True
    return request


@override_settings(AXES_COOLOFF_TIME=datetime.timedelta(minutes=10))
def test_the_time_left_counts_from_the_last_failure():
    request = locked_request()
    assert lockout.seconds_left(request) == 600  # nothing recorded: the whole cool-off
    AccessAttempt.objects.create(
        username="t@example.org",
        ip_address=ADDRESS,
        user_agent="<unknown>",
        failures_since_start=5,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/",
    )
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=7))
    assert 170 <= lockout.seconds_left(request) <= 180
    assert "Wait 3 minutes" in lockout.message(request)


@override_settings(AXES_COOLOFF_TIME=None)
def test_without_a_cool_off_the_message_says_whom_to_ask():
    with override_settings(LANGUAGE_CODE="en"):
        request = locked_request()
        assert lockout.seconds_left(request) is None
        assert "ask the centre to unlock your account" in lockout.message(request)


def test_nothing_is_locked_out_for_a_right_password_typed_first():
    user = active_teacher()
    client = en_client()
    response = client.post(
        reverse("wagtail_iom:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert get_user_model().objects.get(pk=user.pk).last_login is not None


# The lockout page itself (AXES_LOCKOUT_CALLABLE) -------------------------------------------


@pytest.mark.parametrize(
    "extra_args",
    [((None, {"username": "t@example.org"})), (({"username": "t@example.org"},))],
    ids=["axes-8.1-and-later", "axes-before-8.1"],
)
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/iom/accounts/login/", 'name="username"'),
        ("/admin/login/", 'class="login-form"'),
        ("/django-admin/login/", "Sign-in locked"),
        ("/api/v2/anything-else/", "Sign-in locked"),
    ],
)
def test_the_lockout_page_answers_every_sign_in_page_with_429(path, expected, extra_args):
    from django.urls import Resolver404, resolve

    from wagtail_iom.accounts import views

    request = locked_request()
    request.path_info = request.path = path
    try:
        request.resolver_match = resolve(path)
    except Resolver404:
        request.resolver_match = None
    request.session = {}
    request.user = AnonymousUser()
    request.LANGUAGE_CODE = "en"
    response = views.lockout(request, *extra_args)
    assert response.status_code == 429
    assert expected in response.content.decode()
    assert "Too many failed attempts to sign in" in response.content.decode()
