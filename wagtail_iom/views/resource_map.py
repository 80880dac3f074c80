"""The resource map's pages: the filtered list and the month calendar (served by the page)."""

from django.core.paginator import InvalidPage, Paginator
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from ..conf import iom_settings
from ..event_kinds import EventTrack
from ..filters import EventFilterSet
from ..models import EventPage
from ..services import calendar as calendar_service
from ..services import resource_map as service

# A month calendar shows a whole month: the period and date filters do not apply to it.
CALENDAR_HIDDEN_FILTERS = ("date_from", "date_to", "when")


def _query_string_too_long(request):
    return len(request.META.get("QUERY_STRING", "")) > iom_settings.MAX_QUERY_STRING_LENGTH


def _track_feeds(request, page):
    """The per-track subscription links: (label, https URL, webcal URL)."""
    base = page.get_full_url(request)
    links = []
    for track in EventTrack:
        url = base.rstrip("/") + "/" + page.reverse_subpage("track_feed", args=[track.value])
        links.append((track.label, url, calendar_service.webcal(url)))
    return links


def _base_context(request, page, filterset):
    if filterset is None:
        filterset = EventFilterSet(queryset=EventPage.objects.none())
    params = request.GET.copy()
    for key in ("page", "month"):
        params.pop(key, None)
    context = page.get_context(request)
    context.update(
        {
            "filterset": filterset,
            "filter_query": params.urlencode(),
            "feeds": calendar_service.feed_urls(request, page, request.GET),
            "track_feeds": _track_feeds(request, page),
            "hidden_filters": (),
        }
    )
    return context


def _bad_request(request, page, template, filterset, message):
    context = _base_context(request, page, filterset)
    context.update({"error_message": message, "page_obj": None, "events": []})
    return TemplateResponse(request, template, context, status=400)


def _too_long(request, page, template):
    message = _("The address is too long. Clear some filters and try again.")
    return _bad_request(request, page, template, None, message)


def resource_map_list(request, page):
    template = page.get_template(request)
    if _query_string_too_long(request):
        return _too_long(request, page, template)
    try:
        filterset = service.filter_events(request.GET, root_page=page)
    except service.FilterError as exc:
        return _bad_request(
            request,
            page,
            template,
            exc.filterset,
            _("Some filters have values that cannot be used."),
        )
    events = service.order_by_next_session(filterset.qs)
    paginator = Paginator(events, iom_settings.RESOURCE_MAP_PAGE_SIZE)
    try:
        page_obj = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        return _bad_request(
            request, page, template, filterset, _("There is no such page of results.")
        )
    page_obj.object_list = list(service.with_listing_data(page_obj.object_list))
    context = _base_context(request, page, filterset)
    context.update({"page_obj": page_obj, "events": page_obj.object_list, "view": "list"})
    return TemplateResponse(request, template, context)


def resource_map_calendar(request, page):
    template = page.calendar_template
    if _query_string_too_long(request):
        return _too_long(request, page, template)
    params = service.month_filter_params(request.GET)
    try:
        first_day = service.parse_month(request.GET.get("month"))
        filterset = service.filter_events(params, root_page=page, upcoming_by_default=False)
    except service.FilterError as exc:
        return _bad_request(
            request,
            page,
            template,
            exc.filterset,
            _("Some filters have values that cannot be used."),
        )
    month = service.month_calendar(filterset.qs, first_day)
    context = _base_context(request, page, filterset)
    context.update({"month": month, "view": "calendar", "hidden_filters": CALENDAR_HIDDEN_FILTERS})
    return TemplateResponse(request, template, context)
