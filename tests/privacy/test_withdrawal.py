"""Withdrawing the consent to personal-data processing: what stops at once, what a cancellation
restores, the date of the depersonalisation and staff bringing it forward."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.checks import run_checks
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from tests.factories import UserFactory, make_event, make_teacher
from tests.routes.test_teacher import make_route
from wagtail_iom.core import access
from wagtail_iom.events import signup
from wagtail_iom.models import (
    ConsentWithdrawal,
    EventSession,
    PersonalDataConsent,
    Registration,
    RegistrationStatus,
    Route,
    RouteStatus,
)
from wagtail_iom.privacy import withdrawal
from wagtail_iom.privacy.withdrawal import WithdrawalError
from wagtail_iom.routes import teacher as route_service
from wagtail_iom.routes import workflow
from wagtail_iom.routes.services import RouteError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

NOW = timezone.now()


@pytest.fixture
def event_factory(resource_map):
    counter = iter(range(1000))

    def factory(**fields):
        fields.setdefault("slug", f"event-{next(counter)}")
        return make_event(resource_map, **fields)

    return factory


def status(registration):
    return Registration.objects.get(pk=registration.pk).status


# Withdrawing ----------------------------------------------------------------------------------


def test_withdrawing_schedules_the_depersonalisation_after_the_delay(teacher):
    result = withdrawal.withdraw(teacher.user, now=NOW)

    row = ConsentWithdrawal.objects.get()
    assert row == result.withdrawal
    assert row.user == teacher.user
    assert row.requested_at == NOW
    assert row.anonymise_after == NOW + datetime.timedelta(days=30)
    assert row.is_open
    assert withdrawal.is_withdrawn(teacher.user)
    assert access.processing_stopped(teacher.user)
    assert PersonalDataConsent.objects.get(user=teacher.user).withdrawn_at == NOW


@override_settings(WAGTAIL_IOM={"CONSENT_WITHDRAWAL_DAYS": 5})
def test_the_delay_is_a_setting(teacher):
    row = withdrawal.withdraw(teacher.user, now=NOW).withdrawal
    assert row.anonymise_after == NOW + datetime.timedelta(days=5)


def test_future_sign_ups_are_cancelled_and_their_seats_go_to_the_first_waiting(
    teacher, event_factory, django_capture_on_commit_callbacks
):
    full = event_factory(capacity=1)
    mine = signup.register(full, teacher.user).registration
    first, second = UserFactory(), UserFactory()
    first_waiting = signup.register(full, first).registration
    second_waiting = signup.register(full, second).registration
    waiting_elsewhere = signup.register(event_factory(capacity=1), UserFactory()).registration
    other_event = event_factory(capacity=1)
    signup.register(other_event, UserFactory())
    my_waiting = signup.register(other_event, teacher.user).registration
    past = event_factory(capacity=5)
    my_past = signup.register(past, teacher.user).registration
    EventSession.objects.filter(page=past).update(ends_at=NOW - datetime.timedelta(hours=1))

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = withdrawal.withdraw(teacher.user, now=NOW)

    assert {r.pk for r in result.cancelled} == {mine.pk, my_waiting.pk}
    assert [r.pk for r in result.promoted] == [first_waiting.pk]
    assert status(mine) == RegistrationStatus.CANCELLED
    assert status(my_waiting) == RegistrationStatus.CANCELLED
    assert status(first_waiting) == RegistrationStatus.CONFIRMED
    assert status(second_waiting) == RegistrationStatus.WAITLISTED
    assert status(waiting_elsewhere) == RegistrationStatus.CONFIRMED
    assert status(my_past) == RegistrationStatus.CONFIRMED  # an event over keeps its history
    # the usual e-mails: two cancellations and one promotion, sent on commit
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [teacher.user.email, teacher.user.email, first.email]
    )


def test_a_second_withdrawal_is_refused_and_changes_nothing(teacher):
    first = withdrawal.withdraw(teacher.user, now=NOW).withdrawal

    with pytest.raises(WithdrawalError) as caught:
        withdrawal.withdraw(teacher.user, now=NOW + datetime.timedelta(days=3))

    assert caught.value.code == "already_withdrawn"
    assert "already" in caught.value.message
    assert list(ConsentWithdrawal.objects.all()) == [first]
    assert ConsentWithdrawal.objects.get().anonymise_after == first.anonymise_after
    assert PersonalDataConsent.objects.get(user=teacher.user).withdrawn_at == NOW


def test_someone_not_signed_in_cannot_withdraw(db):
    with pytest.raises(WithdrawalError) as caught:
        withdrawal.withdraw(AnonymousUser(), now=NOW)
    assert caught.value.code == "not_signed_in"
    assert not ConsentWithdrawal.objects.exists()


def test_the_database_holds_one_open_withdrawal_per_person(teacher):
    withdrawal.withdraw(teacher.user, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentWithdrawal.objects.create(user=teacher.user, requested_at=NOW, anonymise_after=NOW)


# What stops ------------------------------------------------------------------------------------


def test_new_sign_ups_are_refused(teacher, event_factory):
    event = event_factory(capacity=5)
    withdrawal.withdraw(teacher.user, now=NOW)

    with pytest.raises(signup.SignupError) as caught:
        signup.register(event, teacher.user)

    assert caught.value.code == "consent_withdrawn"
    assert "withdrawn your consent" in caught.value.message
    assert not Registration.objects.filter(user=teacher.user).exists()


def test_the_route_is_frozen_for_the_teacher(teacher):
    route = make_route(teacher, status=RouteStatus.COMPLETED)
    withdrawal.withdraw(teacher.user, now=NOW)

    with pytest.raises(RouteError) as caught:
        route_service.save_reflection(route, "Текст", teacher.user)

    assert caught.value.code == "withdrawn"
    assert Route.objects.get(pk=route.pk).reflection == ""


def test_the_route_is_frozen_for_staff(teacher, superuser):
    route = make_route(teacher)
    other = make_route(make_teacher(username="other-teacher"))
    assert access.can_edit_route(superuser, route)

    withdrawal.withdraw(teacher.user, now=NOW)

    assert not access.can_edit_route(superuser, route)
    assert access.can_edit_route(superuser, other)
    for rule in (
        access.can_write_recommendations,
        access.can_approve_route,
        access.can_audit_route,
    ):
        assert not rule(superuser, route), rule.__name__
        assert rule(superuser, other), rule.__name__
    assert workflow.allowed_transitions(route, superuser) == []
    assert access.can_see_route(superuser, route)  # staff still read it


# Cancelling ------------------------------------------------------------------------------------


def test_cancelling_restores_the_processing_but_not_the_sign_ups(teacher, superuser, event_factory):
    event = event_factory(capacity=5)
    mine = signup.register(event, teacher.user).registration
    route = make_route(teacher, status=RouteStatus.COMPLETED)
    withdrawal.withdraw(teacher.user, now=NOW)

    cancelled = withdrawal.cancel(teacher.user, now=NOW + datetime.timedelta(days=1))

    assert cancelled.cancelled_at == NOW + datetime.timedelta(days=1)
    assert not withdrawal.is_withdrawn(teacher.user)
    assert not access.processing_stopped(teacher.user)
    assert PersonalDataConsent.objects.get(user=teacher.user).withdrawn_at is None
    assert access.can_edit_route(superuser, route)
    route_service.save_reflection(route, "Текст", teacher.user)
    assert status(mine) == RegistrationStatus.CANCELLED  # stays cancelled
    assert signup.register(event, teacher.user).outcome == signup.SignupOutcome.CONFIRMED
    assert list(withdrawal.due(NOW + datetime.timedelta(days=60))) == []


def test_cancelling_without_a_withdrawal_is_refused(teacher):
    with pytest.raises(WithdrawalError) as caught:
        withdrawal.cancel(teacher.user)
    assert caught.value.code == "nothing_to_cancel"
    with pytest.raises(WithdrawalError):
        withdrawal.cancel(AnonymousUser())


def test_a_new_withdrawal_after_a_cancellation(teacher):
    withdrawal.withdraw(teacher.user, now=NOW)
    withdrawal.cancel(teacher.user, now=NOW)

    withdrawal.withdraw(teacher.user, now=NOW)

    assert ConsentWithdrawal.objects.count() == 2
    assert withdrawal.is_withdrawn(teacher.user)


# Due, brought forward, carried out --------------------------------------------------------------


def test_due_lists_the_open_withdrawals_whose_date_has_come(teacher, other_teacher):
    mine = withdrawal.withdraw(teacher.user, now=NOW).withdrawal
    withdrawal.withdraw(other_teacher.user, now=NOW + datetime.timedelta(days=10))

    assert list(withdrawal.due(NOW + datetime.timedelta(days=29))) == []
    assert list(withdrawal.due(NOW + datetime.timedelta(days=30))) == [mine]
    assert withdrawal.pending().count() == 2


def test_bringing_forward_makes_it_due_now_and_nothing_else(teacher):
    row = withdrawal.withdraw(teacher.user, now=NOW).withdrawal
    later = NOW + datetime.timedelta(hours=2)

    withdrawal.bring_forward(row, now=later)

    row.refresh_from_db()
    assert row.anonymise_after == later
    assert row.is_open  # the depersonalisation is the task's, not this step's
    assert list(withdrawal.due(later)) == [row]


def test_mark_carried_out_closes_it_and_the_processing_stays_stopped(teacher, superuser):
    row = withdrawal.withdraw(teacher.user, now=NOW).withdrawal

    withdrawal.mark_carried_out(row, by=superuser, now=NOW)

    row.refresh_from_db()
    assert (row.carried_out_at, row.carried_out_by) == (NOW, superuser)
    assert list(withdrawal.due(NOW + datetime.timedelta(days=60))) == []
    assert access.processing_stopped(teacher.user)
    with pytest.raises(WithdrawalError):
        withdrawal.mark_carried_out(row, by=superuser)
    with pytest.raises(WithdrawalError):
        withdrawal.bring_forward(row)
    with pytest.raises(WithdrawalError):
        withdrawal.cancel(teacher.user)


# The setting's check ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [31, -1, "30", 2.5, True])
def test_the_delay_must_be_0_to_30_days(value):
    with override_settings(WAGTAIL_IOM={"CONSENT_WITHDRAWAL_DAYS": value}):
        ids = [message.id for message in run_checks()]
    assert "wagtail_iom.E016" in ids


@pytest.mark.parametrize("value", [0, 30])
def test_the_delay_within_the_law_passes(value):
    with override_settings(WAGTAIL_IOM={"CONSENT_WITHDRAWAL_DAYS": value}):
        ids = [message.id for message in run_checks()]
    assert "wagtail_iom.E016" not in ids
