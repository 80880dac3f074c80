"""Signal receivers of the events domain, connected when the app is ready.

Each receiver only decides whether a signal concerns the resource map and then calls one
function of :mod:`wagtail_iom.events.publishing`; nothing depends on the order in which
receivers were connected.
"""

from django.apps import apps
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import PageViewRestriction, Site
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from wagtail_iom.events import publishing
from wagtail_iom.events.models import EventPageMixin, Registration, ResourceMapPageMixin


def _is_in_feeds(instance):
    return isinstance(instance, EventPageMixin | ResourceMapPageMixin)


@receiver(page_published)
def on_page_published(sender, instance, **kwargs):
    if isinstance(instance, EventPageMixin):
        publishing.event_published(instance)
    elif _is_in_feeds(instance):
        publishing.feeds_changed()


@receiver(page_unpublished)
def on_page_unpublished(sender, instance, **kwargs):
    if _is_in_feeds(instance):
        publishing.feeds_changed()


def on_feed_page_deleted(sender, instance, **kwargs):
    publishing.feeds_changed()


def connect_delete_receivers():
    """Listen to deletions of the page models in feeds only: a receiver for every sender
    would turn off Django's fast deletes for every model of the project."""
    for model in apps.get_models():
        if issubclass(model, EventPageMixin | ResourceMapPageMixin):
            post_delete.connect(
                on_feed_page_deleted, sender=model, dispatch_uid=f"iom-feeds-{model._meta.label}"
            )


# Any page: the URLs of the events below it change.
@receiver(page_slug_changed)
@receiver(post_page_move)
def on_page_url_changed(sender, instance, **kwargs):
    publishing.feeds_changed()


# Private pages must leave feeds at once; a site's host name is in every UID and URL.
@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
@receiver(post_save, sender=Site)
@receiver(post_delete, sender=Site)
def on_access_changed(sender, instance, **kwargs):
    publishing.feeds_changed()


@receiver(post_save, sender=Registration)
@receiver(post_delete, sender=Registration)
def on_registration_changed(sender, instance, **kwargs):
    publishing.seats_changed()
