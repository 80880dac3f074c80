"""The public import path of the events API endpoint (Wagtail API v2), for a project's
``api_router.register_endpoint("events", EventsAPIViewSet)``."""

from wagtail_iom.events.api import EventsAPIViewSet

__all__ = ["EventsAPIViewSet"]
