"""Calendar feeds (iCalendar, RFC 5545) of the resource map, built by plain functions.

Nothing here knows about HTTP: :mod:`wagtail_iom.events.views` reads the request, calls
:func:`feed_events` and :func:`build_calendar` (or :func:`event_calendar`) and serves the bytes.

What a feed holds
    The events of one resource map that the page would list for the same query parameters
    (:func:`wagtail_iom.events.resource_map.filter_events`), live and public only. A track
    feed forces the ``track`` parameter. Every session of an event is one VEVENT.

Which period
    With no ``when`` parameter a feed keeps, besides the upcoming events, those with a session
    that ended in the last :data:`FEED_PAST_DAYS` days: calendar apps delete what disappears
    from a feed, and a seminar held yesterday should stay in the subscriber's calendar.
    ``when=upcoming`` and ``when=past`` mean exactly what they mean on the page.

Cancelled events
    They stay in feeds with ``STATUS:CANCELLED`` for ``FEED_CANCELLED_RETENTION_DAYS`` after
    their cancellation (so that calendar apps learn about it), then leave.

Stable identities
    A session's UID is made of its primary key, which Wagtail keeps when a page is edited and
    published again. SEQUENCE lives in :class:`~wagtail_iom.models.EventSessionCalendarState`
    (outside page revisions, so it only grows): :func:`sync_calendar_state`, run on every
    publish, raises it when the time, the place or the status of a session changes. DTSTAMP
    and LAST-MODIFIED come from the last publication, never from the clock, so a feed rebuilt
    with nothing changed is byte for byte the same (and keeps its ETag).

Caching
    Views cache built feeds under a key that includes the feed version, a counter kept in the
    database (:class:`~wagtail_iom.models.FeedVersion`) so that every process reads the same
    one; :func:`bump_feed_version` (called on publish, unpublish, deletion, moves, privacy
    changes) makes every cached feed stale at once, in every process. Feeds filtered by free
    seats also carry the seats version, which sign-ups move (:func:`bump_seats_version`). A
    per-process cache is then only a cache of (version → feed), which cannot go stale.
"""

import dataclasses
import datetime
import functools
import hashlib
import json
import re
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q, Value
from django.db.models.functions import Greatest
from django.http import HttpRequest, QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone
from icalendar.prop import vCategory, vDDDTypes, vDuration, vInt, vText, vUri

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import sites
from wagtail_iom.events.filters import EventFilterSet
from wagtail_iom.events.kinds import EventTrack
from wagtail_iom.events.models import (
    EventSession,
    EventSessionCalendarState,
    EventStatus,
    FeedVersion,
)
from wagtail_iom.events.resource_map import FilterError, filter_events

PRODID = "-//wagtail-iom//Resource map//EN"

# Past sessions a feed keeps when no period is asked for (see the module's docstring).
FEED_PAST_DAYS = 30

# How often calendar apps are asked to refresh a subscription (RFC 7986, and the older
# X-PUBLISHED-TTL that Outlook and Apple Calendar read).
REFRESH_INTERVAL = datetime.timedelta(hours=1)

# Query parameters of the page that links to feeds leave out: a subscription is to what comes.
NOT_FEED_PARAMS = ("page", "when", "month")


# Feed versions --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FeedVersions:
    """The two counters of :class:`~wagtail_iom.models.FeedVersion`, read together."""

    feeds: int
    seats: int
    feeds_changed_at: datetime.datetime | None
    seats_changed_at: datetime.datetime | None

    def key(self, with_seats=False):
        """What a cached feed is stored under: the seats count only for free-seat feeds."""
        return (self.feeds, self.seats if with_seats else None)

    def last_changed(self, with_seats=False):
        """When the feed last may have changed (Last-Modified), the same in every process;
        None when the counters were never set."""
        moments = [self.feeds_changed_at]
        if with_seats:
            moments.append(self.seats_changed_at)
        moments = [moment for moment in moments if moment is not None]
        return max(moments) if moments else None


def feed_versions():
    """Both counters in one query: what every feed request reads first.

    A missing row (a database emptied by hand) counts as 0 until it is first moved.
    """
    rows = FeedVersion.objects.filter(name__in=(FeedVersion.FEEDS, FeedVersion.SEATS))
    found = {name: (value, changed) for name, value, changed in rows.values_list()}
    feeds, feeds_changed_at = found.get(FeedVersion.FEEDS, (0, None))
    seats, seats_changed_at = found.get(FeedVersion.SEATS, (0, None))
    return FeedVersions(feeds, seats, feeds_changed_at, seats_changed_at)


def initial_version(now=None):
    """The value a counter starts from: the time in microseconds, not 0.

    A shared cache outlives a database that is recreated or restored from a backup; a counter
    that started again from a small number would meet feeds cached under the same number by
    the earlier database.
    """
    now = now or timezone.now()
    return int(now.timestamp() * 1_000_000)


def _bump(name, read_back=True):
    now = timezone.now()
    rows = FeedVersion.objects.filter(name=name)

    def move():
        # One UPDATE, atomic under concurrency: PostgreSQL locks the row, SQLite has one
        # writer. At least the time in microseconds, so that after a backup is restored the
        # counter never comes back to a value it already had (see initial_version).
        return rows.update(
            value=Greatest(F("value") + 1, Value(initial_version(now))), changed_at=now
        )

    # Without reading back, the UPDATE alone: outside a transaction (after a commit) it
    # commits by itself and holds the row's lock no longer than the statement runs.
    if not read_back and move():
        return None
    # In a transaction of its own (a savepoint inside the caller's), so that the row stays
    # locked until this move's value is read back.
    with transaction.atomic():
        if not move():
            try:
                with transaction.atomic():  # another process may create the row first
                    FeedVersion.objects.create(
                        name=name, value=initial_version(now), changed_at=now
                    )
            except IntegrityError:
                move()
        return rows.values_list("value", flat=True).get() if read_back else None


def feed_version():
    """The current feed version: part of every cached feed's key."""
    return feed_versions().feeds


def bump_feed_version():
    """Make every cached feed stale (an event was published, unpublished or changed).

    The new value is seen by other processes when the caller's transaction commits, together
    with the change itself. Returns the new value.
    """
    return _bump(FeedVersion.FEEDS)


def seats_version():
    """Part of the cache key of feeds filtered by free seats only."""
    return feed_versions().seats


def bump_seats_version(read_back=True):
    """A seat was taken or freed: feeds filtered by free seats are stale, others are not.

    Returns the new value; with ``read_back=False`` nothing, and the move is one UPDATE (what
    every sign-up runs after its commit: no transaction around it keeps the row locked while
    the value is read back, so simultaneous sign-ups do not queue behind each other there).
    """
    return _bump(FeedVersion.SEATS, read_back=read_back)


# Calendar state of sessions -------------------------------------------------------------------


def session_fingerprint(session, event):
    """A sha256 of what makes a calendar app update a session: its time, place and status."""
    data = [
        session.date.isoformat() if session.date else "",
        session.start_time.isoformat() if session.start_time else "",
        session.end_time.isoformat() if session.end_time else "",
        event.timezone or "",
        event.venue_address or "",
        event.online_url or "",
        event.status or "",
    ]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def sync_calendar_state(event, now=None):
    """Bring the calendar state of a published event's sessions up to date; idempotent.

    A session's SEQUENCE grows by one each time its fingerprint changes; ``cancelled_at``
    records when the event was first seen cancelled, and is cleared when it is not any more.
    """
    now = now or timezone.now()
    cancelled = event.status == EventStatus.CANCELLED
    sessions = list(EventSession.objects.filter(page_id=event.pk))
    states = {
        state.session_id: state
        for state in EventSessionCalendarState.objects.filter(session__in=sessions)
    }
    new_states = []
    for session in sessions:
        fingerprint = session_fingerprint(session, event)
        state = states.get(session.pk)
        if state is None:
            new_states.append(
                EventSessionCalendarState(
                    session=session,
                    sequence=0,
                    fingerprint=fingerprint,
                    changed_at=now,
                    cancelled_at=now if cancelled else None,
                )
            )
            continue
        changed_fields = []
        if state.fingerprint != fingerprint:
            state.sequence += 1
            state.fingerprint = fingerprint
            state.changed_at = now
            changed_fields += ["sequence", "fingerprint", "changed_at"]
        if cancelled and state.cancelled_at is None:
            state.cancelled_at = now
            changed_fields.append("cancelled_at")
        elif not cancelled and state.cancelled_at is not None:
            state.cancelled_at = None
            changed_fields.append("cancelled_at")
        if changed_fields:
            state.save(update_fields=changed_fields)
    if new_states:
        EventSessionCalendarState.objects.bulk_create(new_states)


def session_uid(session, domain):
    """A UID that survives edits: Wagtail keeps the primary keys of child objects."""
    return f"iom-session-{session.pk}@{domain}"


# Which events ---------------------------------------------------------------------------------


def track_from_slug(slug):
    """``formal``, ``non-formal`` / ``non_formal``, ``informal`` → the track; else FilterError."""
    value = (slug or "").strip().lower().replace("-", "_")
    if value in EventTrack.values:
        return value
    raise FilterError(
        {
            "track": [
                _("There is no track “%(track)s”: use formal, non-formal or informal.")
                % {"track": slug}
            ]
        }
    )


def feed_events(params, root_page, track=None, now=None):
    """The events of the map's feed for these query parameters (see the module's docstring).

    Raises :class:`~wagtail_iom.events.resource_map.FilterError` for values it cannot use,
    an unknown ``track`` included. The events come with what :func:`build_calendar` shows.
    """
    now = now or timezone.now()
    data = _mutable_params(params)
    if track is not None:
        data["track"] = track_from_slug(track)
    filterset = filter_events(data, root_page=root_page, now=now, upcoming_by_default=False)
    queryset = filterset.qs
    when = filterset.is_bound and filterset.form.cleaned_data.get("when")
    if not when:
        recent = now - datetime.timedelta(days=FEED_PAST_DAYS)
        queryset = queryset.filter(
            pk__in=EventSession.objects.filter(ends_at__gte=recent).values("page")
        )
    cutoff = now - datetime.timedelta(days=iom_settings.FEED_CANCELLED_RETENTION_DAYS)
    states = EventSessionCalendarState.objects
    cancelled_recently = states.filter(cancelled_at__gte=cutoff).values("session__page")
    cancellation_known = states.filter(cancelled_at__isnull=False).values("session__page")
    queryset = queryset.filter(
        ~Q(status=EventStatus.CANCELLED)
        | Q(pk__in=cancelled_recently)
        # Cancelled before any state was recorded: the last publication tells when.
        | (Q(last_published_at__gte=cutoff) & ~Q(pk__in=cancellation_known))
    )
    return for_calendar(queryset.order_by("pk"))


# What a feed reads of an event: no competencies, no municipality, no body.
CALENDAR_FIELDS = (
    "title",
    "slug",
    "url_path",
    "depth",
    "path",
    "live",
    "locale_id",
    "content_type_id",
    "first_published_at",
    "last_published_at",
    "summary",
    "track",
    "kind",
    "level",
    "format",
    "organiser",
    "venue_address",
    "online_url",
    "timezone",
    "status",
    "status_reason",
)


def for_calendar(queryset):
    """Events with what :func:`build_calendar` shows, and nothing more, in two queries."""
    return queryset.only(*CALENDAR_FIELDS).prefetch_related(
        Prefetch("sessions", queryset=EventSession.objects.order_by("date", "start_time"))
    )


def _mutable_params(params):
    if isinstance(params, QueryDict):
        return params.copy()
    data = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        if isinstance(value, list | tuple):
            data.setlist(key, [str(v) for v in value])
        else:
            data[key] = str(value)
    return data


# Building the calendar ------------------------------------------------------------------------

# Control characters are not allowed in TEXT; a byte-order mark at the start of a value is
# dropped by parsers, so it is dropped everywhere.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufeff]")


def plain_text(value):
    """Text as iCalendar can carry it: line breaks as ``\\n``, no other control characters."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARACTERS.sub("", text)


class _Text(vText):
    """TEXT escaped as RFC 5545 says, and nothing more.

    icalendar's own escaping first turns a literal backslash-N into a line break, so a title
    with ``\\N`` in it would not come back as it was written.
    """

    __slots__ = ()

    def to_ical(self):
        escaped = (
            str(self)
            .replace("\\", "\\\\")
            .replace(";", "\\;")
            .replace(",", "\\,")
            .replace("\n", "\\n")
        )
        return escaped.encode(self.encoding)


def _text(value):
    return _Text(plain_text(value))


@functools.lru_cache(maxsize=64)
def _vtimezone_ical(tzid, first_year, last_year):
    # Building a VTIMEZONE walks the zone's transitions: slow enough to remember.
    vtimezone = Timezone.from_tzid(
        tzid,
        first_date=datetime.date(first_year, 1, 1),
        last_date=datetime.date(last_year, 1, 1),
    )
    return vtimezone.to_ical()


def vtimezone(tzid, first_year, last_year):
    """A VTIMEZONE for ``tzid`` valid from 1 January ``first_year`` to 1 January ``last_year``."""
    return Timezone.from_ical(_vtimezone_ical(tzid, first_year, last_year))


def _request_and_base_url(request_or_base_url):
    if isinstance(request_or_base_url, HttpRequest):
        return request_or_base_url, None
    return None, str(request_or_base_url).rstrip("/")


def calendar_domain(request_or_base_url):
    """The host name that UIDs end with: the Wagtail site's, or the base URL's.

    Not the request's host: a session's UID stays the same however the site is reached.
    """
    request, base_url = _request_and_base_url(request_or_base_url)
    if request is None:
        return urlsplit(base_url).hostname or "localhost"
    site = sites.site_for_request(request)
    if site is not None:
        return site.hostname
    return request.get_host().rsplit(":", 1)[0]


def page_full_url(page, request_or_base_url):
    """The page's absolute URL: at the request's host (see
    :func:`wagtail_iom.core.sites.page_url_for_request`), or at the base URL given."""
    request, base_url = _request_and_base_url(request_or_base_url)
    if request is not None:
        return sites.page_url_for_request(page, request)
    url = page.get_url() if page.url_path else None
    if not url:
        return base_url + "/"
    if url.startswith("/"):
        return base_url + url
    return url


def session_summary(event, session, index=1, count=1):
    """SUMMARY: the event's title, the session's topic, its number when there are several."""
    summary = event.title
    if session.title:
        summary = f"{summary} — {session.title}"
    if count > 1:
        summary = f"{summary} ({index}/{count})"
    if event.status == EventStatus.CANCELLED:
        summary = _("Cancelled: %(title)s") % {"title": summary}
    elif event.status == EventStatus.POSTPONED:
        summary = _("Postponed: %(title)s") % {"title": summary}
    return plain_text(summary)


def session_description(event, session, url, index=1, count=1, labels=None):
    """DESCRIPTION, plain text: status, summary, organiser, format, hours and the page's URL."""
    labels = labels or ChoiceLabels()
    lines = []
    reason = (event.status_reason or "").strip()
    if event.status == EventStatus.CANCELLED:
        if reason:
            lines += [_("The event is cancelled: %(reason)s") % {"reason": reason}, ""]
        else:
            lines += [_("The event is cancelled."), ""]
    elif event.status == EventStatus.POSTPONED:
        if reason:
            lines += [_("The event is postponed: %(reason)s") % {"reason": reason}, ""]
        else:
            lines += [_("The event is postponed."), ""]
    if event.summary:
        lines += [event.summary, ""]
    texts = labels.texts
    if count > 1:
        lines.append(texts["session"] % {"index": index, "count": count})
    lines.append(texts["organiser"] % {"organiser": event.organiser})
    lines.append(texts["format"] % {"format": labels.format(event)})
    if session.academic_hours is not None:
        lines.append(texts["hours"] % {"hours": labels.number(session.academic_hours)})
    if url:
        lines += ["", url]
    return plain_text("\n".join(lines))


def session_status(event):
    """STATUS: CONFIRMED, TENTATIVE while postponed, CANCELLED."""
    if event.status == EventStatus.CANCELLED:
        return "CANCELLED"
    if event.status == EventStatus.POSTPONED:
        return "TENTATIVE"
    return "CONFIRMED"


def _utc(moment):
    return moment.astimezone(datetime.UTC).replace(microsecond=0)


class ChoiceLabels:
    """The labels of an event's choices, looked up once per calendar, not once per session.

    ``get_FOO_display()`` rebuilds the choices (and, for kinds, reads the settings and
    translates every label) at each call: thousands of sessions made that the feed's cost.
    """

    def __init__(self):
        from wagtail_iom.events.kinds import event_kind_choices
        from wagtail_iom.events.models import EventFormat, EventLevel

        self._labels = {
            "track": {k: str(v) for k, v in EventTrack.choices},
            "kind": {k: str(v) for k, v in event_kind_choices()},
            "level": {k: str(v) for k, v in EventLevel.choices},
            "format": {k: str(v) for k, v in EventFormat.choices},
        }
        self.shared = {}
        # Translated once per calendar, not once per session.
        self.texts = {
            "session": _("Session %(index)s of %(count)s"),
            "organiser": _("Organiser: %(organiser)s"),
            "format": _("Format: %(format)s"),
            "hours": _("Academic hours: %(hours)s"),
        }
        self._decimal_separator = formats.get_format("DECIMAL_SEPARATOR")

    def number(self, value):
        """Hours as the language writes them (``1,5`` in Russian), whole numbers without ``,0``."""
        if value is None:
            return ""
        if value == int(value):
            return str(int(value))
        return str(value).replace(".", self._decimal_separator)

    def _label(self, field, event):
        value = getattr(event, field)
        return self._labels[field].get(value, value)

    def format(self, event):
        return self._label("format", event)

    def categories(self, event):
        labels = (self._label(field, event) for field in ("track", "kind", "level"))
        return [plain_text(label) for label in labels if label]


def session_vevent(
    event, session, *, url, domain, state=None, index=1, count=1, now=None, labels=None
):
    """One session as a VEVENT, its times in the event's own timezone."""
    labels = labels or ChoiceLabels()
    tzinfo = event.tzinfo
    starts = datetime.datetime.combine(session.date, session.start_time, tzinfo=tzinfo)
    ends = datetime.datetime.combine(session.date, session.end_time, tzinfo=tzinfo)
    # Stable across rebuilds: the last publication, not the clock.
    stamp = (
        event.last_published_at
        or (state.changed_at if state is not None else None)
        or event.first_published_at
        or now
        or timezone.now()
    )
    shared = _shared_properties(event, url, stamp, labels)
    vevent = Event()
    # Properties set directly, as their icalendar types: Component.add() would infer the
    # type and build new parameters for each of thousands of sessions.
    vevent.update(shared)
    vevent["UID"] = vText(session_uid(session, domain))
    vevent["DTSTART"] = vDDDTypes(starts)
    vevent["DTEND"] = vDDDTypes(ends)
    vevent["SEQUENCE"] = vInt(state.sequence if state is not None else 0)
    vevent["SUMMARY"] = _Text(session_summary(event, session, index, count))
    vevent["DESCRIPTION"] = _Text(session_description(event, session, url, index, count, labels))
    return vevent


def _shared_properties(event, url, stamp, labels):
    """The properties all sessions of an event have in common, built once per event.

    The same property objects are shared by the VEVENTs of one event: serialising never
    changes them.
    """
    key = (id(event), url, stamp)
    cached = labels.shared.get(key)
    if cached is not None:
        return cached
    stamp = vDDDTypes(_utc(stamp))
    properties = {"DTSTAMP": stamp, "LAST-MODIFIED": stamp, "STATUS": vText(session_status(event))}
    if url:
        properties["URL"] = vUri(url)
    if event.location:
        properties["LOCATION"] = _text(event.location)
    categories = labels.categories(event)
    if categories:
        properties["CATEGORIES"] = vCategory(categories)
    labels.shared = {key: properties}  # one event at a time: sessions come grouped by event
    return properties


def build_calendar(events, *, request_or_base_url, name, now=None):
    """An :class:`icalendar.Calendar` of every session of ``events``.

    ``events`` should come from :func:`feed_events` (or
    :func:`~wagtail_iom.events.resource_map.with_listing_data`): sessions prefetched. The
    calendar state of all sessions is read in one query. ``request_or_base_url`` is the
    request (URLs and UID domain from the Wagtail site) or a base URL such as
    ``"https://example.org"``.
    """
    events = list(events)
    domain = calendar_domain(request_or_base_url)
    states = {
        state.session_id: state
        for state in EventSessionCalendarState.objects.filter(
            session__page_id__in=[event.pk for event in events if event.pk is not None]
        )
    }

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = _Text(plain_text(name).replace("\n", " "))  # shown on one line in calendar apps
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL).to_ical().decode())

    vevents = []
    tzids = set()
    dates = []
    labels = ChoiceLabels()
    for event in events:
        sessions = sorted(event.sessions.all(), key=lambda s: (s.date, s.start_time, s.pk or 0))
        url = page_full_url(event, request_or_base_url)
        for index, session in enumerate(sessions, start=1):
            vevent = session_vevent(
                event,
                session,
                url=url,
                domain=domain,
                state=states.get(session.pk),
                index=index,
                count=len(sessions),
                now=now,
                labels=labels,
            )
            vevents.append(((session.date, session.start_time, session.pk or 0), vevent))
            tzids.add(event.tzinfo.key)
            dates.append(session.date)

    # Every TZID gets its VTIMEZONE, before the events that use it.
    if dates:
        first_year, last_year = min(dates).year, max(dates).year + 2
        for tzid in sorted(tzids):
            try:
                calendar.add_component(vtimezone(tzid, first_year, last_year))
            except ValueError:  # a zone icalendar cannot describe: clients still know its name
                continue
    for _key, vevent in sorted(vevents, key=lambda item: item[0]):
        calendar.add_component(vevent)
    return calendar


def event_calendar(event, *, request_or_base_url, now=None):
    """The calendar of one event (its ``.ics``), whatever its status or dates."""
    return build_calendar(
        [event], request_or_base_url=request_or_base_url, name=event.title, now=now
    )


def feed_name(page, track=None):
    """The calendar's name in calendar apps: the map's title, and the track's."""
    if track is None:
        return page.title
    return f"{page.title}: {EventTrack(track_from_slug(track)).label}"


# Links ------------------------------------------------------------------------------------------


def webcal(url):
    """``http(s)://…`` → ``webcal://…``: the link that opens a subscription in calendar apps."""
    return re.sub(r"^https?://", "webcal://", str(url), flags=re.IGNORECASE)


def feed_query(params):
    """The filters of ``params`` as a query string for a feed: no page, period, month, or
    anything that is not a filter; empty values left out."""
    data = _mutable_params(params)
    query = QueryDict(mutable=True)
    for key in data:
        if key in EventFilterSet.base_filters and key not in NOT_FEED_PARAMS:
            values = [value for value in data.getlist(key) if value.strip()]
            if values:
                query.setlist(key, values)
    return query.urlencode()


def feed_urls(request, page, params):
    """``{"https": …, "webcal": …}``: the map's feed with the same filters as ``params``, at
    the host and port the request came to."""
    base = sites.page_url_for_request(page, request)
    url = base.rstrip("/") + "/" + page.reverse_subpage("feed")
    query = feed_query(params)
    if query:
        url = f"{url}?{query}"
    return {"https": url, "webcal": webcal(url)}


CONTENT_TYPE = "text/calendar; charset=utf-8"
