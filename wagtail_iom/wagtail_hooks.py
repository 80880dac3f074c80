"""The one place where the package is wired into the Wagtail admin."""

from wagtail import hooks

from .viewsets import DirectoryViewSetGroup, EventListingViewSet


@hooks.register("register_admin_viewset")
def register_directory_viewsets():
    return DirectoryViewSetGroup()


@hooks.register("register_admin_viewset")
def register_event_listing():
    return EventListingViewSet()
