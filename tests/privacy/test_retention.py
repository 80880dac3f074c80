"""Retention: the sign-ups and attendance of events older than SIGNUP_RETENTION_YEARS, and the
accounts never confirmed after UNCONFIRMED_ACCOUNT_DAYS, are removed by the daily
depersonalisation task, with a record that counts them."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from tests.factories import UserFactory, make_event, make_teacher
from wagtail_iom.models import (
    AnonymisationRecord,
    AttendanceMark,
    Invitation,
    PendingConfirmation,
    PersonalDataConsent,
    Registration,
    TeacherProfile,
)
from wagtail_iom.privacy import retention

pytestmark = pytest.mark.django_db

T = (datetime.time(10, 0), datetime.time(13, 0))
TODAY = timezone.localdate()


def ago(**kwargs):
    return timezone.now() - datetime.timedelta(**kwargs)


def signed_up(event, teacher, marked=True):
    registration = Registration.objects.create(event=event, user=teacher.user, status="confirmed")
    if marked:
        AttendanceMark.objects.create(registration=registration, session=event.sessions.first())
    return registration


@pytest.fixture
def events(resource_map):
    old = make_event(
        resource_map,
        [
            (retention.years_before(TODAY, 6), *T),
            (retention.years_before(TODAY, 5) - datetime.timedelta(days=2), *T),
        ],
        slug="old",
    )
    # Its last session is within the five years: kept whole.
    lasting = make_event(
        resource_map,
        [(retention.years_before(TODAY, 7), *T), (retention.years_before(TODAY, 4), *T)],
        slug="lasting",
    )
    recent = make_event(resource_map, [(TODAY - datetime.timedelta(days=30), *T)], slug="recent")
    return {"old": old, "lasting": lasting, "recent": recent}


def test_old_events_lose_their_sign_ups_and_marks(events):
    teacher, other = make_teacher(username="t1"), make_teacher(username="t2")
    signed_up(events["old"], teacher)
    signed_up(events["old"], other, marked=False)
    kept = [signed_up(events["lasting"], teacher), signed_up(events["recent"], teacher)]

    record = retention.run()

    assert set(Registration.objects.all()) == set(kept)
    assert AttendanceMark.objects.count() == 2
    assert record.basis == "retention_expired"
    assert record.changes == {"registrations": 2, "attendance_marks": 1}
    # The events and the people stay.
    assert events["old"].sessions.count() == 2
    assert TeacherProfile.objects.count() == 2


@override_settings(WAGTAIL_IOM={"SIGNUP_RETENTION_YEARS": 10})
def test_the_period_is_a_setting(events):
    signed_up(events["old"], make_teacher(username="t1"))
    assert retention.run() is None
    assert Registration.objects.count() == 1


def unconfirmed(username, sent_days_ago, **user_fields):
    teacher = make_teacher(username=username)
    user = teacher.user
    for name, value in {"is_active": False, **user_fields}.items():
        setattr(user, name, value)
    user.save()
    PendingConfirmation.objects.create(user=user, link_sent_at=ago(days=sent_days_ago))
    return user


def test_accounts_never_confirmed_are_deleted_with_their_profile_and_consent(db):
    stale = unconfirmed("stale", 31)
    fresh = unconfirmed("fresh", 10)
    # Confirmed meanwhile, or once signed in, or staff: never deleted by retention.
    active = unconfirmed("active", 60, is_active=True)
    signed_in = unconfirmed("signed-in", 60, last_login=ago(days=40))
    invited = UserFactory(username="invited", is_active=False)
    Invitation.objects.create(user=invited, created_at=ago(days=50), sent_at=ago(days=45))
    accepted = UserFactory(username="accepted", is_active=False)
    Invitation.objects.create(
        user=accepted, created_at=ago(days=50), sent_at=ago(days=45), accepted_at=ago(days=44)
    )

    record = retention.run()

    left = set(get_user_model().objects.values_list("username", flat=True))
    assert {"stale", "invited"}.isdisjoint(left)
    assert {"fresh", "active", "signed-in", "accepted"} <= left
    assert not TeacherProfile.objects.filter(user_id=stale.pk).exists()
    assert not PersonalDataConsent.objects.filter(user_id=stale.pk).exists()
    assert record.changes == {"unconfirmed_accounts": 2}
    assert {fresh.pk, active.pk, signed_in.pk} <= set(
        get_user_model().objects.values_list("pk", flat=True)
    )


def test_nothing_due_leaves_no_record(events):
    signed_up(events["recent"], make_teacher(username="t1"))
    assert retention.run() is None
    assert AnonymisationRecord.objects.count() == 0


def test_the_daily_task_and_the_command_run_it(events):
    from wagtail_iom import tasks

    signed_up(events["old"], make_teacher(username="t1"))
    out = io.StringIO()
    call_command("iom_anonymise", "--dry-run", stdout=out)
    assert "1 sign-up(s), 0 unconfirmed account(s)" in out.getvalue()
    assert Registration.objects.count() == 1

    tasks.anonymise_due_withdrawals.delay().get()
    assert Registration.objects.count() == 0
    assert AnonymisationRecord.objects.get().changes == {"registrations": 1, "attendance_marks": 1}


def test_years_before_a_29_february():
    assert retention.years_before(datetime.date(2024, 2, 29), 1) == datetime.date(2023, 2, 28)


@pytest.mark.parametrize("key", ["SIGNUP_RETENTION_YEARS", "UNCONFIRMED_ACCOUNT_DAYS"])
def test_the_settings_are_checked(key):
    from wagtail_iom.checks import check_iom_settings

    with override_settings(WAGTAIL_IOM={key: 0}):
        errors = check_iom_settings(None)
    assert [error for error in errors if key in error.msg]
