"""What follows a publication, and everything else that changes what calendar feeds show.

:func:`event_published` is the one sequence run after every publication of an event, in an
order that matters:

1. the calendar state of its sessions is brought up to date (SEQUENCE grows when time, place
   or status change);
2. seats the publication added are filled from the waiting list;
3. cached feeds are made stale;
4. registrants are told what this publication changed (a SEQUENCE raised now: cancelled or
   moved) and people moved up from the waiting list hear of their seat.

:mod:`wagtail_iom.events.receivers` connects it, and :func:`feeds_changed`, to the signals.
"""

import functools

from django.db import transaction

from wagtail_iom.events import emails
from wagtail_iom.events.calendar import bump_feed_version, bump_seats_version, sync_calendar_state
from wagtail_iom.events.signup import fill_free_seats


def event_published(event):
    """After a publication of ``event``: calendar state, waiting list, feeds, e-mails."""
    sync_calendar_state(event)
    # More seats than before: the first in line on the waiting list move up.
    fill_free_seats(event)
    feeds_changed()
    emails.publication_changes(event)


def feeds_changed():
    """Every cached feed is stale: move the feed version, once, now.

    Now, inside the caller's transaction, is enough. The version is a row of the database,
    written in the same transaction as the change: no other process sees the new version
    before the change is committed. A feed that another request builds meanwhile reads the
    old version and is cached under it, so no feed with the old data is ever cached under the
    new version. (While the version lived in Django's cache, seen at once by everyone, it had
    to move a second time after the commit.) If the transaction rolls back, so does the move.
    """
    bump_feed_version()


def seats_changed():
    """Seats taken or freed change only what a feed filtered by "free seats" shows: those
    feeds carry the seats version in their cache key, the others stay cached.

    The seats version moves after the commit, not inside the transaction: sign-ups lock their
    own event only, and one counter for all events, locked until each sign-up commits, would
    make sign-ups to every event wait for each other (and a bulk publication moving people up
    on several events could deadlock with a sign-up). Moved after the change is visible, it
    still never labels old seats as new; until it moves, a few milliseconds, a free-seat feed
    may show the seats as they were a moment before. ``robust``: an earlier callback that
    fails does not keep it from running. One UPDATE, nothing read back: see
    :func:`~wagtail_iom.events.calendar.bump_seats_version`.
    """
    transaction.on_commit(functools.partial(bump_seats_version, read_back=False), robust=True)
