"""Sign-ups racing each other on PostgreSQL, in real threads with their own connections.

Each test starts its threads together at a barrier. ``signup._race_window_for_tests`` widens
the gap between counting the seats and writing the decision, and each thread connects before
the barrier, so that every thread counts before any other writes: with the lock switched off
(``signup.locking_disabled()``) the race must show, which proves that the tests can see one.

SQLite is skipped: it lets one transaction write at a time, so there is no race to see.
"""

import threading
from collections import Counter

import pytest
from django.db import close_old_connections, connection

from tests.factories import UserFactory, make_event, make_resource_map
from wagtail_iom.events import signup
from wagtail_iom.models import Registration, RegistrationStatus

# Service tests read messages in the source language; tests/test_translations.py covers
# Russian.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("english_messages"),
]

# serialized_rollback: the flush after a transactional test would also empty what the
# migrations created (the root page, the default site); this puts it back for later tests.

RACE_WINDOW = 0.05  # seconds between the count and the write, in every thread


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "Concurrency needs PostgreSQL (SQLite runs one writing transaction at a time); "
            "run with DATABASE_URL=postgres://…"
        )


@pytest.fixture
def race_window(monkeypatch):
    monkeypatch.setattr(signup, "_race_window_for_tests", RACE_WINDOW)


@pytest.fixture
def event_factory():
    resource_map = make_resource_map()
    counter = iter(range(1000))

    def factory(**fields):
        return make_event(resource_map, slug=f"event-{next(counter)}", **fields)

    return factory


def run_together(calls):
    """Run each call in its own thread with its own connection, all released at once.

    Returns (results, errors), each in the order of ``calls``; a call that raised leaves None
    in results and its exception in errors.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def worker(index, call):
        from django.db import connection as thread_connection

        try:
            thread_connection.ensure_connection()  # connect before the start, not after
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as error:  # reported to the test, which fails on it
            errors[index] = error
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, call)) for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    close_old_connections()
    return results, errors


def count_statuses(event):
    return Counter(Registration.objects.filter(event=event).values_list("status", flat=True))


@pytest.mark.parametrize("locked", [True, False], ids=["locked", "lock-off"])
def test_fifty_people_for_ten_seats(event_factory, race_window, locked):
    event = event_factory(capacity=10)
    people = [UserFactory() for _ in range(50)]
    calls = [lambda person=person: signup.register(event, person) for person in people]

    if locked:
        results, errors = run_together(calls)
    else:
        with signup.locking_disabled():
            results, errors = run_together(calls)

    assert errors == [None] * 50
    statuses = count_statuses(event)
    outcomes = Counter(result.outcome for result in results)
    if locked:
        assert statuses == {"confirmed": 10, "waitlisted": 40}
        assert outcomes == {"confirmed": 10, "waitlisted": 40}
        positions = sorted(r.waiting_position for r in results if r.outcome == "waitlisted")
        assert positions == list(range(1, 41))
    else:
        # Without the lock every thread counts ten free seats: the event is oversold.
        assert statuses["confirmed"] > 10


@pytest.mark.parametrize("locked", [True, False], ids=["locked", "lock-off"])
def test_two_cancellations_at_once_move_up_two_different_people(event_factory, race_window, locked):
    event = event_factory(capacity=10)
    holders = [signup.register(event, UserFactory()).registration for _ in range(10)]
    waiting = [signup.register(event, UserFactory()).registration for _ in range(5)]
    calls = [lambda r=holders[0]: signup.cancel(r), lambda r=holders[1]: signup.cancel(r)]

    if locked:
        results, errors = run_together(calls)
    else:
        with signup.locking_disabled():
            results, errors = run_together(calls)

    assert errors == [None, None]
    promoted = [r.pk for result in results for r in result.promoted]
    if locked:
        assert sorted(promoted) == [waiting[0].pk, waiting[1].pk]
        assert count_statuses(event) == {"confirmed": 10, "cancelled": 2, "waitlisted": 3}
    else:
        # Without the lock both read the same first in line: one person "moved up" twice.
        assert promoted == [waiting[0].pk, waiting[0].pk]
        assert count_statuses(event)["confirmed"] == 9


def test_cancellations_during_promotions_and_sign_ups(event_factory, race_window):
    """A storm on a full event: two cancellations, the same one clicked twice, a fill after a
    publication and newcomers, all at once. Seats stay at ten; each freed seat goes to exactly
    one person, first in line first; newcomers queue behind those already waiting."""
    event = event_factory(capacity=10)
    holders = [signup.register(event, UserFactory()).registration for _ in range(10)]
    waiting = [signup.register(event, UserFactory()).registration for _ in range(5)]
    newcomers = [UserFactory() for _ in range(4)]
    calls = [
        lambda: signup.cancel(Registration.objects.get(pk=holders[0].pk)),
        lambda: signup.cancel(Registration.objects.get(pk=holders[0].pk)),
        lambda: signup.cancel(Registration.objects.get(pk=holders[1].pk)),
        lambda: signup.fill_free_seats(event),
        *[lambda person=person: signup.register(event, person) for person in newcomers],
    ]

    results, errors = run_together(calls)

    assert errors == [None] * len(calls)
    first_cancel, second_cancel, other_cancel, filled, *signed_up = results
    assert sorted([first_cancel.cancelled, second_cancel.cancelled]) == [False, True]
    assert other_cancel.cancelled
    promoted = [
        r.pk for result in (first_cancel, second_cancel, other_cancel) for r in result.promoted
    ]
    promoted += [r.pk for r in filled]
    assert sorted(promoted) == [waiting[0].pk, waiting[1].pk]
    assert {result.outcome for result in signed_up} == {"waitlisted"}
    assert count_statuses(event) == {"confirmed": 10, "cancelled": 2, "waitlisted": 7}
    line = list(
        Registration.objects.filter(event=event).waiting_list().values_list("pk", flat=True)
    )
    assert line[:3] == [w.pk for w in waiting[2:]]


@pytest.mark.parametrize("locked", [True, False], ids=["locked", "lock-off"])
def test_one_person_submitting_five_times_gets_one_registration(event_factory, race_window, locked):
    """With the lock the others wait, then the first row stops their insert (or they find it,
    when they look after its commit); without it, the unique constraint stops the rest. Either
    way the service answers "already" rather than an IntegrityError."""
    event = event_factory(capacity=10)
    teacher = UserFactory()
    calls = [lambda: signup.register(event, teacher)] * 5

    if locked:
        results, errors = run_together(calls)
    else:
        with signup.locking_disabled():
            results, errors = run_together(calls)

    assert errors == [None] * 5
    assert Registration.objects.filter(event=event, user=teacher).count() == 1
    assert sorted(result.outcome for result in results) == ["already"] * 4 + ["confirmed"]
    assert {result.registration.pk for result in results} == {
        Registration.objects.get(event=event, user=teacher).pk
    }
    assert count_statuses(event) == {RegistrationStatus.CONFIRMED: 1}
