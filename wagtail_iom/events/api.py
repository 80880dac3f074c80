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
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet

from wagtail_iom.core.http import MAX_ID
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

    def check_query_parameters(self, queryset):
        """Wagtail's checks, and values no database can take answer 400 rather than 500: a
        NUL byte anywhere (PostgreSQL refuses it in text), an offset or limit past 64 bits."""
        super().check_query_parameters(queryset)
        for name, values in self.request.GET.lists():
            if any("\x00" in value for value in (name, *values)):
                raise BadRequestError(f"{name}: the value contains a NUL byte")
        for name in ("offset", "limit"):
            value = self.request.GET.get(name, "")
            if value.strip().lstrip("+-").isdigit() and abs(int(value)) > MAX_ID:
                raise BadRequestError(f"{name} is too large")

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
