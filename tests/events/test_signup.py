"""Sign-up rules: capacity, waiting list, approval, the registration window, one row per person."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import UserFactory, make_event, make_resource_map
from wagtail_iom.events import signup
from wagtail_iom.events.signup import SignupError, SignupOutcome
from wagtail_iom.models import EventPage, EventSession, Registration, RegistrationStatus

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


CONFIRMED = RegistrationStatus.CONFIRMED
PENDING = RegistrationStatus.PENDING
WAITLISTED = RegistrationStatus.WAITLISTED
CANCELLED = RegistrationStatus.CANCELLED
DECLINED = RegistrationStatus.DECLINED


@pytest.fixture
def resource_map():
    return make_resource_map()


@pytest.fixture
def event_factory(resource_map):
    counter = iter(range(1000))

    def factory(**fields):
        number = next(counter)
        fields.setdefault("slug", f"event-{number}")
        return make_event(resource_map, **fields)

    return factory


def users(count):
    return [UserFactory() for _ in range(count)]


def statuses(event):
    return list(
        Registration.objects.filter(event=event).order_by("pk").values_list("status", flat=True)
    )


# Seats and the waiting list -------------------------------------------------------------------


def test_a_free_seat_is_confirmed(event_factory):
    event = event_factory(capacity=2)
    teacher = UserFactory()

    result = signup.register(event, teacher)

    assert result.outcome == SignupOutcome.CONFIRMED
    assert result.registration.status == CONFIRMED
    assert result.registration.user == teacher
    assert result.waiting_position is None
    assert result.message == "You are signed up for the event."
    assert signup.seats_left(event) == 1


def test_the_capacity_holds_and_the_rest_wait_in_order(event_factory):
    event = event_factory(capacity=2)
    people = users(5)

    results = [signup.register(event, person) for person in people]

    assert [r.outcome for r in results] == ["confirmed", "confirmed", *["waitlisted"] * 3]
    assert [r.waiting_position for r in results] == [None, None, 1, 2, 3]
    assert signup.seats_left(event) == 0
    assert results[3].message == (
        "The event is full, so you are on the waiting list: number 2. "
        "When a seat frees up, the first in line gets it and is told."
    )
    assert [signup.waiting_position(r.registration) for r in results] == [None, None, 1, 2, 3]


def test_no_capacity_means_no_limit(event_factory):
    event = event_factory(capacity=None)

    results = [signup.register(event, person) for person in users(30)]

    assert {r.outcome for r in results} == {SignupOutcome.CONFIRMED}
    assert signup.seats_left(event) is None


def test_zero_seats_puts_everyone_on_the_waiting_list(event_factory):
    event = event_factory(capacity=0)

    result = signup.register(event, UserFactory())

    assert result.outcome == SignupOutcome.WAITLISTED
    assert result.waiting_position == 1


def test_waiting_position_follows_sign_up_time_then_id(event_factory):
    event = event_factory(capacity=0)
    first, second, third = (signup.register(event, p).registration for p in users(3))
    # The third signed up earliest; the first two at the same moment, so the id decides.
    moment = timezone.now() - datetime.timedelta(hours=1)
    Registration.objects.filter(pk__in=[first.pk, second.pk]).update(created_at=moment)
    Registration.objects.filter(pk=third.pk).update(
        created_at=moment - datetime.timedelta(minutes=5)
    )
    for registration in (first, second, third):
        registration.refresh_from_db()

    assert signup.waiting_position(third) == 1
    assert signup.waiting_position(first) == 2
    assert signup.waiting_position(second) == 3


def test_seats_left_counts_pending_as_taken(event_factory):
    event = event_factory(capacity=3, needs_approval=True)
    signup.register(event, UserFactory())

    assert signup.seats_left(event) == 2


# One registration per person and event --------------------------------------------------------


def test_signing_up_twice_returns_already_and_keeps_one_row(event_factory):
    event = event_factory(capacity=5)
    teacher = UserFactory()
    first = signup.register(event, teacher)

    again = signup.register(event, teacher)

    assert again.outcome == SignupOutcome.ALREADY
    assert again.registration.pk == first.registration.pk
    assert again.message == "You are already signed up for this event."
    assert Registration.objects.filter(event=event, user=teacher).count() == 1


def test_signing_up_twice_while_waiting_tells_the_position(event_factory):
    event = event_factory(capacity=1)
    signup.register(event, UserFactory())
    signup.register(event, UserFactory())
    teacher = UserFactory()
    signup.register(event, teacher)

    again = signup.register(event, teacher)

    assert again.outcome == SignupOutcome.ALREADY
    assert again.waiting_position == 2
    assert again.message == "You are already on the waiting list for this event: number 2."


def test_signing_up_twice_while_pending(event_factory):
    event = event_factory(needs_approval=True)
    teacher = UserFactory()
    signup.register(event, teacher)

    again = signup.register(event, teacher)

    assert again.outcome == SignupOutcome.ALREADY
    assert again.message == (
        "You are already signed up for this event; your sign-up awaits approval."
    )


def test_the_database_allows_one_registration_per_person_and_event(event_factory):
    event = event_factory()
    teacher = UserFactory()
    Registration.objects.create(event=event, user=teacher)

    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(event=event, user=teacher, status=CANCELLED)


def test_a_registration_written_behind_the_services_back_reads_as_already(
    event_factory, monkeypatch
):
    """A row that appears between the first look for the person's sign-up and the insert (the
    same person's other submit): the insert fails on the unique constraint, nothing is left of
    this attempt, and the row found is the sign-up."""
    event = event_factory()
    teacher = UserFactory()
    real_read = signup._own_registration

    def read_then_someone_else_inserts(event, user):
        found = real_read(event, user)
        Registration.objects.create(event_id=event.pk, user=teacher)
        monkeypatch.setattr(signup, "_own_registration", real_read)
        return found

    monkeypatch.setattr(signup, "_own_registration", read_then_someone_else_inserts)

    result = signup.register(event, teacher)

    assert result.outcome == SignupOutcome.ALREADY
    assert Registration.objects.filter(event=event, user=teacher).count() == 1


def test_an_integrity_error_that_is_not_about_the_same_person_is_raised(event_factory, monkeypatch):
    event = event_factory()

    def insert_fails(**fields):
        raise IntegrityError("something else")

    monkeypatch.setattr(Registration.objects, "create", insert_fails)

    with pytest.raises(IntegrityError):
        signup.register(event, UserFactory())


# What cannot be signed up for -----------------------------------------------------------------


def test_registration_not_open_yet(event_factory):
    opens = timezone.now() + datetime.timedelta(days=2)
    event = event_factory(registration_opens_at=opens, timezone="Europe/Kaliningrad")

    with pytest.raises(SignupError) as caught:
        signup.register(event, UserFactory())

    assert caught.value.code == "registration_not_open"
    assert caught.value.message.startswith("Registration for this event opens on ")
    assert caught.value.message.endswith("Please come back then.")
    assert str(caught.value) == caught.value.message
    assert not Registration.objects.exists()


def test_registration_window_bounds(event_factory):
    opens = timezone.now() + datetime.timedelta(days=1)
    closes = opens + datetime.timedelta(days=2)
    event = event_factory(registration_opens_at=opens, registration_closes_at=closes)

    assert signup.register(event, UserFactory(), now=opens).outcome == "confirmed"
    assert signup.register(event, UserFactory(), now=closes - datetime.timedelta(seconds=1))
    with pytest.raises(SignupError) as caught:
        signup.register(event, UserFactory(), now=closes)
    assert caught.value.code == "registration_closed"
    assert caught.value.message.startswith("Registration for this event closed on ")


def test_the_window_shows_dates_in_the_events_timezone(event_factory):
    closes = datetime.datetime(2030, 3, 1, 21, 30, tzinfo=datetime.UTC)
    event = event_factory(
        registration_closes_at=closes,
        timezone="Asia/Vladivostok",  # UTC+10: already 2 March there
        sessions=[(datetime.date(2030, 3, 10), datetime.time(10), datetime.time(12))],
    )

    with pytest.raises(SignupError) as caught:
        signup.register(event, UserFactory(), now=closes)

    assert "2, 2030" in caught.value.message
    assert "7:30" in caught.value.message


def test_a_cancelled_event_takes_no_sign_ups(event_factory):
    event = event_factory(status="cancelled", status_reason="Лектор заболел.")

    with pytest.raises(SignupError) as caught:
        signup.register(event, UserFactory())

    assert caught.value.code == "event_cancelled"
    assert caught.value.message == "This event is cancelled, so it takes no sign-ups."


def test_an_event_over_takes_no_sign_ups(event_factory):
    past = timezone.localdate() - datetime.timedelta(days=3)
    event = event_factory(sessions=[(past, datetime.time(10), datetime.time(12))])

    with pytest.raises(SignupError) as caught:
        signup.register(event, UserFactory())

    assert caught.value.code == "event_over"
    assert caught.value.message == "This event is over, so it takes no sign-ups."


def test_an_event_in_progress_still_takes_sign_ups(event_factory):
    past = timezone.localdate() - datetime.timedelta(days=3)
    future = timezone.localdate() + datetime.timedelta(days=3)
    event = event_factory(
        sessions=[
            (past, datetime.time(10), datetime.time(12)),
            (future, datetime.time(10), datetime.time(12)),
        ]
    )

    assert signup.register(event, UserFactory()).outcome == "confirmed"


def test_an_unpublished_event_takes_no_sign_ups(event_factory):
    event = event_factory(publish=False)

    with pytest.raises(SignupError) as caught:
        signup.register(event, UserFactory())

    assert caught.value.code == "event_not_published"


def test_the_service_reads_the_event_afresh(event_factory):
    """The caller's copy of the event may be stale: the locked row decides."""
    event = event_factory(capacity=5)
    EventPage.objects.filter(pk=event.pk).update(capacity=0)

    assert signup.register(event, UserFactory()).outcome == "waitlisted"


# Cancelling and moving up ---------------------------------------------------------------------


def test_a_cancellation_gives_the_seat_to_the_first_in_line(event_factory):
    event = event_factory(capacity=2)
    holder, other, first, second = (signup.register(event, p).registration for p in users(4))
    now = timezone.now()

    result = signup.cancel(holder, now=now)

    assert result.cancelled
    assert result.message == "Your sign-up is cancelled."
    assert result.registration is holder
    assert holder.status == CANCELLED
    assert holder.cancelled_at == now
    assert [r.pk for r in result.promoted] == [first.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == CONFIRMED
    assert first.promoted_at == now
    assert signup.waiting_position(second) == 1
    assert signup.seats_left(event) == 0


def test_cancelling_a_place_in_the_waiting_list_moves_nobody_up(event_factory):
    event = event_factory(capacity=1)
    holder, first, second = (signup.register(event, p).registration for p in users(3))

    result = signup.cancel(first)

    assert result.cancelled
    assert result.promoted == ()
    assert signup.waiting_position(second) == 1
    holder.refresh_from_db()
    assert holder.status == CONFIRMED


def test_cancelling_twice_is_not_an_error(event_factory):
    event = event_factory(capacity=1)
    holder, waiting = (signup.register(event, p).registration for p in users(2))
    stale_copy = Registration.objects.get(pk=holder.pk)
    signup.cancel(holder)

    again = signup.cancel(stale_copy)

    assert not again.cancelled
    assert again.promoted == ()
    assert again.message == "This sign-up was already cancelled."
    assert stale_copy.status == CANCELLED
    assert statuses(event) == [CANCELLED, CONFIRMED]


def test_a_seat_freed_in_an_event_needing_approval_goes_to_pending(event_factory):
    event = event_factory(capacity=1, needs_approval=True)
    holder, waiting = (signup.register(event, p).registration for p in users(2))
    assert (holder.status, waiting.status) == (PENDING, WAITLISTED)

    result = signup.cancel(holder)

    assert [r.status for r in result.promoted] == [PENDING]
    waiting.refresh_from_db()
    assert waiting.status == PENDING


def test_nobody_moves_up_in_a_cancelled_event(event_factory):
    event = event_factory(capacity=1)
    holder, waiting = (signup.register(event, p).registration for p in users(2))
    EventPage.objects.filter(pk=event.pk).update(status="cancelled")

    result = signup.cancel(holder)

    assert result.cancelled
    assert result.promoted == ()
    waiting.refresh_from_db()
    assert waiting.status == WAITLISTED


def test_an_event_over_cannot_be_cancelled(event_factory):
    event = event_factory(capacity=1)
    registration = signup.register(event, UserFactory()).registration
    EventSession.objects.filter(page=event).update(
        ends_at=timezone.now() - datetime.timedelta(hours=1)
    )

    with pytest.raises(SignupError) as caught:
        signup.cancel(registration)

    assert caught.value.code == "event_over"
    registration.refresh_from_db()
    assert registration.status == CONFIRMED


def test_signing_up_again_after_cancelling_reuses_the_row_at_the_end_of_the_queue(event_factory):
    event = event_factory(capacity=1)
    teacher, holder, waiting = users(3)
    mine = signup.register(event, teacher).registration
    signup.register(event, holder)  # waits behind me
    signup.register(event, waiting)
    signup.cancel(mine)  # the holder moves up

    again = signup.register(event, teacher)

    assert again.registration.pk == mine.pk
    assert again.outcome == SignupOutcome.WAITLISTED
    assert again.waiting_position == 2
    assert again.registration.cancelled_at is None
    assert again.registration.promoted_at is None
    assert Registration.objects.filter(event=event, user=teacher).count() == 1


def test_signing_up_again_after_cancelling_gets_a_free_seat(event_factory):
    event = event_factory(capacity=3)
    teacher = UserFactory()
    signup.cancel(signup.register(event, teacher).registration)

    again = signup.register(event, teacher)

    assert again.outcome == SignupOutcome.CONFIRMED
    assert again.registration.status == CONFIRMED


# Approval -------------------------------------------------------------------------------------


def test_a_sign_up_needing_approval_holds_its_seat_until_decided(event_factory):
    event = event_factory(capacity=1, needs_approval=True)

    result = signup.register(event, UserFactory())

    assert result.outcome == SignupOutcome.PENDING
    assert result.message == (
        "Your sign-up awaits approval by the school head or a curator. "
        "Your seat is kept until then."
    )
    assert signup.register(event, UserFactory()).outcome == SignupOutcome.WAITLISTED


def test_approval_confirms_and_records_who_decided(event_factory):
    event = event_factory(capacity=1, needs_approval=True)
    registration = signup.register(event, UserFactory()).registration
    head = UserFactory(username="head")
    now = timezone.now()

    result = signup.approve(registration, head, now=now)

    assert result.changed
    assert result.promoted == ()
    assert registration.status == CONFIRMED
    registration.refresh_from_db()
    assert registration.status == CONFIRMED
    assert registration.decided_by == head
    assert registration.decided_at == now
    assert not signup.approve(registration, head).changed


def test_declining_frees_the_seat_for_the_first_in_line(event_factory):
    event = event_factory(capacity=1, needs_approval=True)
    pending, first, second = (signup.register(event, p).registration for p in users(3))
    curator = UserFactory(username="curator")

    result = signup.decline(pending, curator)

    assert result.changed
    assert pending.status == DECLINED
    assert pending.decided_by_id == curator.pk
    assert [r.pk for r in result.promoted] == [first.pk]
    assert [r.status for r in result.promoted] == [PENDING]
    assert not signup.decline(pending, curator).changed
    second.refresh_from_db()
    assert signup.waiting_position(second) == 1


def test_a_declined_person_cannot_sign_up_again(event_factory):
    event = event_factory(needs_approval=True)
    teacher = UserFactory()
    signup.decline(signup.register(event, teacher).registration, UserFactory())

    with pytest.raises(SignupError) as caught:
        signup.register(event, teacher)

    assert caught.value.code == "registration_declined"
    assert "declined" in caught.value.message


@pytest.mark.parametrize("action", ["approve", "decline"])
def test_only_pending_sign_ups_are_decided(event_factory, action):
    event = event_factory(capacity=1, needs_approval=True)
    signup.register(event, UserFactory())
    waiting = signup.register(event, UserFactory()).registration

    with pytest.raises(SignupError) as caught:
        getattr(signup, action)(waiting, UserFactory())

    assert caught.value.code == "not_pending"
    assert caught.value.message == (
        "This sign-up is not awaiting approval: its status is “On the waiting list”."
    )


def test_a_declined_sign_up_cannot_be_approved(event_factory):
    event = event_factory(needs_approval=True)
    registration = signup.register(event, UserFactory()).registration
    signup.decline(registration, UserFactory())

    with pytest.raises(SignupError) as caught:
        signup.approve(registration, UserFactory())

    assert caught.value.code == "not_pending"


def test_sign_ups_to_a_cancelled_event_cannot_be_approved(event_factory):
    event = event_factory(needs_approval=True)
    registration = signup.register(event, UserFactory()).registration
    EventPage.objects.filter(pk=event.pk).update(status="cancelled")

    with pytest.raises(SignupError) as caught:
        signup.approve(registration, UserFactory())

    assert caught.value.code == "event_cancelled"


# More seats -----------------------------------------------------------------------------------


def test_fill_free_seats_moves_up_as_many_as_fit(event_factory):
    event = event_factory(capacity=1)
    registrations = [signup.register(event, p).registration for p in users(5)]
    EventPage.objects.filter(pk=event.pk).update(capacity=3)

    promoted = signup.fill_free_seats(event)

    assert [r.pk for r in promoted] == [registrations[1].pk, registrations[2].pk]
    assert statuses(event) == [CONFIRMED, CONFIRMED, CONFIRMED, WAITLISTED, WAITLISTED]
    assert signup.fill_free_seats(event) == ()


def test_fill_free_seats_without_a_limit_moves_up_everyone(event_factory):
    event = event_factory(capacity=1, needs_approval=True)
    for person in users(4):
        signup.register(event, person)
    EventPage.objects.filter(pk=event.pk).update(capacity=None)

    promoted = signup.fill_free_seats(event)

    assert len(promoted) == 3
    assert statuses(event) == [PENDING] * 4


def test_fill_free_seats_moves_nobody_up_in_a_cancelled_event(event_factory):
    event = event_factory(capacity=0)
    signup.register(event, UserFactory())
    EventPage.objects.filter(pk=event.pk).update(capacity=5, status="cancelled")

    assert signup.fill_free_seats(event) == ()
    assert statuses(event) == [WAITLISTED]


# The lock -------------------------------------------------------------------------------------


def test_the_lock_can_be_switched_off_only_inside_the_test_hook():
    assert signup.LOCKING is True
    with signup.locking_disabled():
        assert signup.LOCKING is False
    assert signup.LOCKING is True
    assert signup._race_window_for_tests == 0


def test_the_event_row_is_locked_before_the_seats_are_counted(event_factory):
    """The locking query must come first in the transaction (before the seats are counted),
    after only the person's consents (locked to wait for a withdrawal being written), and, on
    PostgreSQL, lock only the event page's row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    event = event_factory(capacity=1)
    teacher = UserFactory()
    with CaptureQueriesContext(connection) as queries:
        signup.register(event, teacher)

    sqls = [q["sql"] for q in queries.captured_queries]
    # The transaction's start: a savepoint inside the test's transaction.
    start = next(i for i, sql in enumerate(sqls) if sql.startswith(("SAVEPOINT", "BEGIN")))
    consents, first = sqls[start + 1], sqls[start + 2]
    assert 'FROM "wagtail_iom_personaldataconsent"' in consents
    assert first.startswith("SELECT") and 'FROM "wagtail_iom_eventpage"' in first
    assert sqls.index(first) < next(i for i, sql in enumerate(sqls) if "COUNT(" in sql)
    if connection.features.has_select_for_update:
        assert first.endswith('FOR NO KEY UPDATE OF "wagtail_iom_eventpage"')


def statements_under_the_lock(queries):
    """The statements run after the locking query, up to the end of its transaction (its
    savepoint inside the test's transaction)."""
    sqls = [q["sql"] for q in queries.captured_queries]
    lock = next(i for i, sql in enumerate(sqls) if 'FROM "wagtail_iom_eventpage"' in sql)
    under = []
    for sql in sqls[lock + 1 :]:
        if sql.startswith(("RELEASE SAVEPOINT", "COMMIT")):
            return under
        under.append(sql.split(" ", 1)[0] + (" COUNT" if "COUNT(" in sql else ""))
    raise AssertionError("the transaction did not end")


def test_only_the_seat_count_and_the_insert_run_under_the_lock(event_factory):
    """Simultaneous sign-ups wait for each other while one holds the lock: whether the event
    is over and whether the person is signed up already are read before it, and the insert
    needs no savepoint of its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    past = timezone.localdate() - datetime.timedelta(days=3)
    future = timezone.localdate() + datetime.timedelta(days=3)
    event = event_factory(
        capacity=1,
        sessions=[
            (past, datetime.time(10), datetime.time(12)),
            (future, datetime.time(10), datetime.time(12)),
        ],
    )
    for expected in ("confirmed", "waitlisted"):
        with CaptureQueriesContext(connection) as queries:
            assert signup.register(event, UserFactory()).outcome == expected
        assert statements_under_the_lock(queries) == ["SELECT COUNT", "INSERT"]


def test_signing_up_again_reads_the_own_row_again_under_the_lock(event_factory):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    event = event_factory(capacity=1)
    teacher = UserFactory()
    registration = signup.register(event, teacher).registration
    signup.cancel(registration)

    with CaptureQueriesContext(connection) as queries:
        assert signup.register(event, teacher).outcome == "confirmed"
    assert statements_under_the_lock(queries) == ["SELECT", "SELECT COUNT", "UPDATE"]


def test_a_sign_up_runs_a_fixed_number_of_queries(event_factory, django_assert_num_queries):
    """Consent withdrawn? The event over? Signed up already? Then in one transaction (a
    savepoint here): lock, count, insert. Queries: 3 before, savepoint, 3, release; 1 for the
    place in the queue."""
    event = event_factory(capacity=0)
    UserFactory()
    teacher = UserFactory()
    with django_assert_num_queries(9):
        assert signup.register(event, teacher).outcome == "waitlisted"


def test_publishing_more_seats_moves_the_waiting_list_up():
    event = make_event(make_resource_map(slug="seats-map"), capacity=1)
    first = signup.register(event, UserFactory()).registration
    second = signup.register(event, UserFactory()).registration
    assert second.status == RegistrationStatus.WAITLISTED
    event.capacity = 2
    event.save_revision().publish()
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, second.status) == (
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
    )
