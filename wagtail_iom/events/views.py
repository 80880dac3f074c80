"""The resource map's pages and calendar feeds over HTTP.

The pages (served by the ResourceMapPage): the filtered list and the month calendar.

The feeds: the resource map's (whole, per track, filtered) and one event's, at plain GET URLs
that calendar apps subscribe to. The iCalendar itself is built by
:mod:`wagtail_iom.events.calendar`; here are the request checks, the cache and the conditional
responses (ETag / Last-Modified → 304).
"""

import hashlib
from calendar import timegm

from django.core.cache import cache
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date, quote_etag
from django.utils.translation import gettext as _

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access, sites
from wagtail_iom.events import calendar as calendar_service
from wagtail_iom.events import resource_map
from wagtail_iom.events.calendar import CONTENT_TYPE
from wagtail_iom.events.filters import EventFilterSet
from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.events.models import EventPage
from wagtail_iom.events.resource_map import FilterError

# A month calendar shows a whole month: the period and date filters do not apply to it.
CALENDAR_HIDDEN_FILTERS = ("date_from", "date_to", "when")


def _query_string_too_long(request):
    return len(request.META.get("QUERY_STRING", "")) > iom_settings.MAX_QUERY_STRING_LENGTH


def _track_feeds(request, page):
    """The per-track subscription links: (label, https URL, webcal URL), at the host and port
    the request came to."""
    base = sites.page_url_for_request(page, request)
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
        filterset = resource_map.filter_events(request.GET, root_page=page)
    except resource_map.FilterError as exc:
        return _bad_request(
            request,
            page,
            template,
            exc.filterset,
            _("Some filters have values that cannot be used."),
        )
    events = resource_map.order_by_next_session(filterset.qs)
    paginator = Paginator(events, iom_settings.RESOURCE_MAP_PAGE_SIZE)
    try:
        page_obj = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        return _bad_request(
            request, page, template, filterset, _("There is no such page of results.")
        )
    page_obj.object_list = list(resource_map.with_listing_data(page_obj.object_list))
    context = _base_context(request, page, filterset)
    context.update({"page_obj": page_obj, "events": page_obj.object_list, "view": "list"})
    return TemplateResponse(request, template, context)


def resource_map_calendar(request, page):
    template = page.calendar_template
    if _query_string_too_long(request):
        return _too_long(request, page, template)
    params = resource_map.month_filter_params(request.GET)
    try:
        first_day = resource_map.parse_month(request.GET.get("month"))
        filterset = resource_map.filter_events(params, root_page=page, upcoming_by_default=False)
    except resource_map.FilterError as exc:
        return _bad_request(
            request,
            page,
            template,
            exc.filterset,
            _("Some filters have values that cannot be used."),
        )
    month = resource_map.month_calendar(filterset.qs, first_day)
    context = _base_context(request, page, filterset)
    context.update({"month": month, "view": "calendar", "hidden_filters": CALENDAR_HIDDEN_FILTERS})
    return TemplateResponse(request, template, context)


# How long browsers and proxies may keep a feed without asking again; calendar apps are
# asked to refresh hourly (REFRESH-INTERVAL), so a cancellation reaches them within the hour.
CLIENT_MAX_AGE = 15 * 60

ALLOWED_METHODS = ("GET", "HEAD")


def _text_response(message, status=400):
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _refusal(request):
    """A response that refuses the request before any work, or None."""
    if request.method not in ALLOWED_METHODS:
        return HttpResponseNotAllowed(ALLOWED_METHODS)
    limit = iom_settings.MAX_QUERY_STRING_LENGTH
    if len(request.META.get("QUERY_STRING", "")) > limit:
        return _text_response(
            _(
                "The address is too long: a calendar address may have at most %(limit)s "
                "characters after the “?”. Choose fewer filters and try again."
            )
            % {"limit": limit}
        )
    return None


def _filter_error_response(error):
    lines = [
        _("The filter “%(name)s” has a value that cannot be used: %(problem)s")
        % {"name": name, "problem": " ".join(str(message) for message in messages)}
        for name, messages in error.errors.items()
    ]
    return _text_response("\n".join(lines))


def _normalised_filters(params):
    """The filter parameters, sorted: equal filters in any order share one cache entry."""
    return sorted(
        (name, value) for name in EventFilterSet.base_filters for value in params.getlist(name)
    )


def _cache_key(request, version, *parts):
    raw = repr(
        (
            version,
            translation.get_language(),
            # The URLs in the feed follow the scheme and host the request came to, the UIDs
            # the site that the host name selects.
            request.scheme,
            request.get_host(),
            # A new retention takes effect at once, not when cached feeds expire.
            iom_settings.FEED_CANCELLED_RETENTION_DAYS,
            *parts,
        )
    )
    return "wagtail_iom:feed:" + hashlib.sha256(raw.encode()).hexdigest()


def _cached_calendar(key, build):
    """``{"body", "etag"}`` from the cache, or built and stored.

    The key holds the feed version read from the database, so an entry is never stale: a
    cache private to each process (Django's default) only builds the same feed once per
    process. The ETag is the body's hash: equal bodies built by different processes agree.
    """
    entry = cache.get(key)
    if entry is None:
        body = build().to_ical()
        entry = {"body": body, "etag": quote_etag(hashlib.sha256(body).hexdigest())}
        cache.set(key, entry, iom_settings.FEED_CACHE_TIMEOUT)
    return entry


def _calendar_response(request, entry, filename, last_changed):
    """The feed, or 304. Last-Modified is when the feed version moved (in the database, so
    every process sends the same), not when this process built the body."""
    last_modified = timegm(last_changed.utctimetuple()) if last_changed else None
    response = HttpResponse(entry["body"], content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(False, filename)
    response["ETag"] = entry["etag"]
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"public, max-age={CLIENT_MAX_AGE}"
    return get_conditional_response(
        request, etag=entry["etag"], last_modified=last_modified, response=response
    )


def resource_map_feed(request, page, track=None):
    """The map's events as iCalendar: all, one track's (``track``), or filtered like the page."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    params = request.GET
    filters = _normalised_filters(params)
    versions = calendar_service.feed_versions()
    # Sign-ups change only the feeds filtered by free seats.
    with_seats = any(name == "free_seats" for name, _v in filters)
    key = _cache_key(request, versions.key(with_seats), "map", page.pk, track, filters)

    def build():
        events = calendar_service.feed_events(params, page, track=track)
        return calendar_service.build_calendar(
            events,
            request_or_base_url=request,
            name=calendar_service.feed_name(page, track),
            now=timezone.now(),
        )

    try:
        entry = _cached_calendar(key, build)
    except FilterError as error:
        return _filter_error_response(error)
    filename = page.slug if track is None else f"{page.slug}-{track}"
    return _calendar_response(request, entry, f"{filename}.ics", versions.last_changed(with_seats))


def event_feed(request, page):
    """One event's ``.ics``: its sessions, for live public pages only."""
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    # Wagtail serves live pages only and checks view restrictions before calling us; the
    # file is for anyone to import or subscribe to, so a private page has none at all.
    if not access.is_public_event(page):
        raise Http404
    versions = calendar_service.feed_versions()
    key = _cache_key(request, versions.key(), "event", page.pk)

    def build():
        return calendar_service.event_calendar(
            page, request_or_base_url=request, now=timezone.now()
        )

    entry = _cached_calendar(key, build)
    return _calendar_response(request, entry, f"{page.slug}.ics", versions.last_changed())
