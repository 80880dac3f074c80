"""Keeps calendar feeds in step with the pages they are made of.

On every publication of an event the calendar state of its sessions is brought up to date
(SEQUENCE grows when time, place or status change); whenever what a feed shows may have
changed — a publication, an unpublication, a deletion, a move, a new slug, a view restriction,
a site's host name — every cached feed is made stale.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import PageViewRestriction, Site
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from .models import EventPageMixin, Registration, ResourceMapPageMixin
from .services.calendar import bump_feed_version, bump_seats_version, sync_calendar_state
from .services.signup import fill_free_seats


def _feeds_changed():
    bump_feed_version()
    # Once more after the commit: a feed rebuilt by another request between the first bump and
    # the commit still shows the old data, and must not stay cached.
    transaction.on_commit(bump_feed_version)


def _is_in_feeds(instance):
    return isinstance(instance, EventPageMixin | ResourceMapPageMixin)


@receiver(page_published)
def update_feeds_on_publish(sender, instance, **kwargs):
    if isinstance(instance, EventPageMixin):
        sync_calendar_state(instance)
        # More seats than before: the first in line on the waiting list move up.
        fill_free_seats(instance)
    if _is_in_feeds(instance):
        _feeds_changed()


@receiver(page_unpublished)
def update_feeds_on_unpublish(sender, instance, **kwargs):
    if _is_in_feeds(instance):
        _feeds_changed()


def update_feeds_on_delete(sender, instance, **kwargs):
    _feeds_changed()


def connect_delete_receivers():
    """Listen to deletions of the page models in feeds only: a receiver for every sender
    would turn off Django's fast deletes for every model of the project."""
    from django.apps import apps

    for model in apps.get_models():
        if issubclass(model, EventPageMixin | ResourceMapPageMixin):
            post_delete.connect(
                update_feeds_on_delete, sender=model, dispatch_uid=f"iom-feeds-{model._meta.label}"
            )


# Any page: the URLs of the events below it change.
@receiver(page_slug_changed)
@receiver(post_page_move)
def update_feeds_on_new_url(sender, instance, **kwargs):
    _feeds_changed()


# Private pages must leave feeds at once; a site's host name is in every UID and URL.
@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
@receiver(post_save, sender=Site)
@receiver(post_delete, sender=Site)
def update_feeds_on_access_change(sender, instance, **kwargs):
    _feeds_changed()


# Seats taken or freed change only what a feed filtered by "free seats" shows: those feeds
# carry the seats version in their cache key, the others stay cached.
@receiver(post_save, sender=Registration)
@receiver(post_delete, sender=Registration)
def update_feeds_on_registration(sender, instance, **kwargs):
    bump_seats_version()
    transaction.on_commit(bump_seats_version)


# E-mails: registrants hear of a cancellation or a new time or place (a SEQUENCE raised by this
# publication), and people moved up from the waiting list by it hear of their seat. Connected
# after update_feeds_on_publish, so the calendar state is synced and the seats filled already.
@receiver(page_published)
def notify_on_publish(sender, instance, **kwargs):
    if isinstance(instance, EventPageMixin):
        from .notifications import event_published

        event_published(instance)
