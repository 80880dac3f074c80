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
    """Every cached feed is stale: bump the feed version now and once more after the commit
    (a feed rebuilt by another request between the first bump and the commit still shows the
    old data, and must not stay cached)."""
    bump_feed_version()
    transaction.on_commit(bump_feed_version)


def seats_changed():
    """Seats taken or freed change only what a feed filtered by "free seats" shows: those
    feeds carry the seats version in their cache key, the others stay cached."""
    bump_seats_version()
    transaction.on_commit(bump_seats_version)
