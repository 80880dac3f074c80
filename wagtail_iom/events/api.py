"""Wagtail API v2 endpoint for events: register it in the project's API router.

    from wagtail.api.v2.router import WagtailAPIRouter
    from wagtail_iom.api import EventsAPIViewSet

    api_router = WagtailAPIRouter("wagtailapi")
    api_router.register_endpoint("events", EventsAPIViewSet)
    urlpatterns = [path("api/v2/", api_router.urls), ...]

``/api/v2/events/`` lists live, public events of the site with their track, kind, level,
sessions and competencies; any API field filters (``?track=formal&level=regional``).
"""

from django.db.models import Prefetch
from wagtail.api.v2.views import PagesAPIViewSet

from wagtail_iom.directory.models import Competency
from wagtail_iom.events.models import EventPage, EventSession


class EventsAPIViewSet(PagesAPIViewSet):
    model = EventPage
    listing_default_fields = [
        *PagesAPIViewSet.listing_default_fields,
        "summary",
        "track",
        "kind",
        "level",
        "format",
        "status",
        "api_sessions",
        "api_competencies",
    ]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("municipality")
            .prefetch_related(
                Prefetch("sessions", queryset=EventSession.objects.order_by("date", "start_time")),
                Prefetch("competencies", queryset=Competency.objects.order_by("code")),
            )
        )
