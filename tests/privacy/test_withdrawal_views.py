"""The cabinet's withdrawal page: the confirmation, the second click, the cancellation, and
someone who is not signed in."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_event
from wagtail_iom.events import signup
from wagtail_iom.models import ConsentWithdrawal, PersonalDataConsent, Registration
from wagtail_iom.privacy import withdrawal

pytestmark = pytest.mark.django_db

URL = reverse("wagtail_iom:cabinet_withdraw_consent")
CANCEL_URL = reverse("wagtail_iom:cabinet_cancel_withdrawal")


def test_the_page_explains_and_asks_for_a_confirmation(teacher_client):
    response = teacher_client.get(URL)

    assert response.status_code == 200
    assert response.context["withdrawal"] is None
    assert 'id="iom-withdrawal-confirm"' in response.content.decode()
    assert not ConsentWithdrawal.objects.exists()  # a GET changes nothing


def test_withdrawing_from_the_cabinet(teacher_client, teacher, resource_map):
    event = make_event(resource_map, capacity=3)
    registration = signup.register(event, teacher.user).registration

    response = teacher_client.post(URL)

    assert response.status_code == 302
    assert response.url == URL
    assert withdrawal.is_withdrawn(teacher.user)
    assert Registration.objects.get(pk=registration.pk).status == "cancelled"
    page = teacher_client.get(URL)
    assert page.context["withdrawal"] == ConsentWithdrawal.objects.get()
    assert 'data-withdrawn="true"' in page.content.decode()
    assert 'id="iom-withdrawal-cancel"' in page.content.decode()
    # every cabinet page shows the state
    for name in ("cabinet_my_data", "cabinet", "cabinet_routes"):
        other_page = teacher_client.get(reverse(f"wagtail_iom:{name}"))
        assert 'id="iom-consent-withdrawn"' in other_page.content.decode(), name


def test_a_second_withdrawal_gets_a_message_and_changes_nothing(teacher_client, teacher):
    teacher_client.post(URL, follow=True)
    first = ConsentWithdrawal.objects.get()

    response = teacher_client.post(URL, follow=True)

    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert list(ConsentWithdrawal.objects.all()) == [first]
    assert ConsentWithdrawal.objects.get().anonymise_after == first.anonymise_after


def test_someone_not_signed_in_goes_to_the_login_page(client, teacher):
    for url in (URL, CANCEL_URL):
        response = client.post(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("wagtail_iom:login"))
    assert not ConsentWithdrawal.objects.exists()


def test_the_forms_need_the_csrf_token(teacher):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(teacher.user)
    assert csrf_client.post(URL).status_code == 403
    assert not ConsentWithdrawal.objects.exists()


def test_cancelling_from_the_cabinet(teacher_client, teacher):
    teacher_client.post(URL, follow=True)

    response = teacher_client.post(CANCEL_URL, follow=True)

    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    assert not withdrawal.is_withdrawn(teacher.user)
    assert PersonalDataConsent.objects.get(user=teacher.user).withdrawn_at is None
    assert 'data-withdrawn="false"' in response.content.decode()
    assert 'id="iom-consent-withdrawn"' not in response.content.decode()


def test_cancelling_without_a_withdrawal_gets_a_message(teacher_client):
    response = teacher_client.post(CANCEL_URL, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_cancel_is_post_only(teacher_client):
    assert teacher_client.get(CANCEL_URL).status_code == 405
