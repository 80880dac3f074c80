"""Accounts staff create for teachers who have not signed up: inactive, no usable password,
activated by the invitation's link once the teacher sets a password."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory
from wagtail_iom.accounts import emails, services
from wagtail_iom.accounts.models import Invitation
from wagtail_iom.models import PendingTeacherName

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


def invite(email="new@example.org", **names):
    (user,) = services.invite_teachers([{"email": email, **names}])
    return user


def test_invited_account_is_inactive_without_a_usable_password():
    user = invite("New@Example.org", last_name="Сидорова", first_name="Анна")
    assert (user.username, user.email) == ("new@example.org", "new@example.org")
    user.refresh_from_db()
    assert not user.is_active
    assert not user.has_usable_password()
    assert Invitation.objects.get(user=user).sent_at is None
    assert PendingTeacherName.objects.get(user=user).first_name == "Анна"


def test_an_address_with_an_account_is_not_invited():
    UserFactory(username="taken", email="taken@example.org")
    assert services.invite_teachers([{"email": "TAKEN@example.org"}, {"email": ""}]) == []


def test_the_link_sets_the_password_and_activates(client, mailoutbox):
    user = invite()
    assert emails.send_invitation(user.pk) is True
    assert emails.send_invitation(user.pk) is False  # once
    assert len(mailoutbox) == 1
    url = re.search(r"https?://\S+(/iom/accounts/invitation/\S+/)", mailoutbox[0].body)[1]
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"new_password1": "a long Password 1!", "new_password2": "a long Password 1!"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.check_password("a long Password 1!")
    assert Invitation.objects.get(user=user).accepted_at is not None
    response = client.get(url)
    assert response.status_code == 400  # used: the account's state changed


def test_a_broken_link_is_refused(client):
    response = client.get(reverse("wagtail_iom:accept_invitation", args=["nonsense"]))
    assert response.status_code == 400
    assert "недействительна" in response.content.decode()


def test_an_account_that_is_not_invited_has_no_invitation_link(client):
    user = UserFactory(username="plain", is_active=False)
    url = reverse("wagtail_iom:accept_invitation", args=[services.invitation_token(user)])
    assert client.get(url).status_code == 400
    assert get_user_model().objects.get(pk=user.pk).is_active is False


def test_an_address_taken_with_capitals_is_not_invited():
    UserFactory(username="Staff.Made", email="Staff.Made@Example.org")
    assert services.invite_teachers([{"email": "staff.made@example.org"}]) == []
