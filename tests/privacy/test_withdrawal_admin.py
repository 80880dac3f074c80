"""Reports → Withdrawals of consent: for the head of the centre only; "run now" makes a
withdrawal due at once (the depersonalisation it then starts on commit is tested in
test_anonymisation.py)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.people.test_access_log import staff_with_teacher_permissions
from tests.routes.test_admin import form_data
from tests.routes.test_teacher import make_route
from wagtail_iom.core.access import StaffRole
from wagtail_iom.models import ConsentWithdrawal, Route
from wagtail_iom.privacy import withdrawal

pytestmark = pytest.mark.django_db

INDEX = reverse("wagtail_iom_withdrawals:index")


def run_now_url(row):
    return reverse("wagtail_iom_withdrawals:run_now", args=[row.pk])


@pytest.fixture
def head():
    return staff_with_teacher_permissions("head", StaffRole.CENTRE_HEAD)


@pytest.fixture
def curator():
    return staff_with_teacher_permissions("curator", StaffRole.CURATOR)


@pytest.fixture
def open_withdrawal(teacher):
    return withdrawal.withdraw(teacher.user).withdrawal


def test_the_head_of_the_centre_sees_the_open_withdrawals(
    client, head, open_withdrawal, other_teacher
):
    withdrawal.withdraw(other_teacher.user)
    withdrawal.cancel(other_teacher.user)
    client.force_login(head)

    response = client.get(INDEX)

    assert response.status_code == 200
    assert list(response.context["withdrawals"]) == [open_withdrawal]
    assert f'data-withdrawal="{open_withdrawal.pk}"' in response.content.decode()
    assert INDEX in client.get(reverse("wagtailadmin_home")).content.decode()


def test_a_curator_is_refused(client, curator, open_withdrawal):
    client.force_login(curator)

    assert client.get(INDEX).status_code == 403
    assert client.post(run_now_url(open_withdrawal)).status_code == 403
    assert INDEX not in client.get(reverse("wagtailadmin_home")).content.decode()
    row = ConsentWithdrawal.objects.get()
    assert row.anonymise_after == open_withdrawal.anonymise_after


def test_run_now_makes_it_due_at_once(client, head, open_withdrawal):
    client.force_login(head)
    before = timezone.now()

    response = client.post(run_now_url(open_withdrawal))

    assert response.status_code == 302
    row = ConsentWithdrawal.objects.get()
    assert before <= row.anonymise_after <= timezone.now()
    assert row.is_open  # not depersonalised here: that is the task's work
    assert list(withdrawal.due()) == [row]


def test_run_now_is_post_only_and_refuses_a_closed_withdrawal(
    client, head, open_withdrawal, teacher
):
    client.force_login(head)
    assert client.get(run_now_url(open_withdrawal)).status_code == 405
    withdrawal.cancel(teacher.user)

    assert client.post(run_now_url(open_withdrawal)).status_code == 404
    row = ConsentWithdrawal.objects.get()
    assert row.anonymise_after == open_withdrawal.anonymise_after


def test_the_listing_needs_admin_access(client, open_withdrawal):
    response = client.get(INDEX)
    assert response.status_code == 302


def test_staff_cannot_edit_the_route_of_a_withdrawn_teacher(admin_client, teacher):
    route = make_route(teacher)
    edit = reverse("wagtail_iom_routes:edit", args=[route.pk])
    assert admin_client.get(edit).status_code == 200
    withdrawal.withdraw(teacher.user)

    assert admin_client.get(edit).status_code in (302, 403, 404)
    admin_client.post(edit, form_data(route, goal="Новая цель"))
    assert Route.objects.get(pk=route.pk).goal == route.goal
