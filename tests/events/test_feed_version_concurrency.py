"""Feed versions moved by many connections at once, on PostgreSQL, in real threads.

Each move is one UPDATE (the row is created by the first one, the others wait for it), so no
move is lost and no two get the same value. SQLite is skipped: it runs one writing
transaction at a time.
"""

import pytest
from django.db import connection

from tests.events.test_signup_concurrency import run_together
from wagtail_iom.events import calendar
from wagtail_iom.models import FeedVersion

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MOVES = 20


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency needs PostgreSQL; run with DATABASE_URL=postgres://…")


@pytest.mark.parametrize("row", ["present", "missing"])
def test_moves_at_once_are_all_counted(row):
    if row == "missing":
        FeedVersion.objects.all().delete()
    before = calendar.feed_version()

    values, errors = run_together([calendar.bump_feed_version] * MOVES)

    assert errors == [None] * MOVES
    assert len(set(values)) == MOVES  # each move got a value of its own
    assert min(values) > before
    assert calendar.feed_version() == max(values)
    assert FeedVersion.objects.filter(name=FeedVersion.FEEDS).count() == 1
