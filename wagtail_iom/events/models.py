"""Event pages, the resource map they form (ресурсная карта), and teachers' sign-ups to events.

The behaviour lives in :class:`EventPageMixin` and :class:`ResourceMapPageMixin`; the concrete
pages on top are what the package installs, and what institutes subclass.

The seats an event has left are counted from its :class:`Registration` rows. The rules
(capacity, waiting list, approval, the registration window) live in
:mod:`wagtail_iom.events.signup`; change a registration's status only through it, so that
seats are counted under the event's lock.
"""

import datetime
import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from wagtail_iom.conf import iom_settings
from wagtail_iom.core.timezones import timezone_choices
from wagtail_iom.events.blocks import EventBodyBlock
from wagtail_iom.events.kinds import EventTrack, event_kind_choices, track_of_kind


class EventLevel(models.TextChoices):
    PERSONAL = "personal", pgettext_lazy("event level", "Personal")
    SCHOOL = "school", pgettext_lazy("event level", "School")
    MUNICIPAL = "municipal", pgettext_lazy("event level", "Municipal")
    REGIONAL = "regional", pgettext_lazy("event level", "Regional")
    FEDERAL = "federal", pgettext_lazy("event level", "Federal")


class EventFormat(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online")
    BLENDED = "blended", _("Blended")


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("event status", "Scheduled")
    POSTPONED = "postponed", pgettext_lazy("event status", "Postponed")
    CANCELLED = "cancelled", pgettext_lazy("event status", "Cancelled")


class EventDocument(models.TextChoices):
    NONE = "", _("No document")
    FURTHER_EDUCATION_CERTIFICATE = (
        "further_education_certificate",
        _("Certificate of further education (удостоверение)"),
    )
    RETRAINING_DIPLOMA = "retraining_diploma", _("Diploma of professional retraining")
    PARTICIPATION_CERTIFICATE = "participation_certificate", _("Certificate of participation")


def default_event_timezone():
    return iom_settings.EVENT_DEFAULT_TIMEZONE or settings.TIME_ZONE


def validate_timezone(value):
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(value)s” is not a known timezone; use a name such as Europe/Kaliningrad."),
            params={"value": value},
            code="timezone",
        ) from None


class EventPageForm(WagtailAdminPageForm):
    """The event editor: an event needs at least one session, each ending after it starts."""

    def clean(self):
        cleaned_data = super().clean()
        sessions = self.formsets.get("sessions")
        if sessions is not None and sessions.is_valid():
            kept = [
                form
                for form in sessions.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
            if not kept:
                self.add_error(None, _("Add at least one session: its date and time."))
        self._check_capacity(cleaned_data.get("capacity"))
        return cleaned_data

    def _check_capacity(self, capacity):
        """Seats cannot drop below the sign-ups holding them: name who would lose a seat.

        Counted under the event's lock, which the admin's edit of an event holds from this
        check until the page is saved (:func:`wagtail_iom.events.signup.edit_under_lock`), so
        that no sign-up takes a seat in between."""
        if capacity is None or not self.instance.pk:
            return
        holders = list(
            self.instance.registrations.filter(status__in=SEAT_HOLDING_STATUSES)
            .select_related("user")
            .order_by("created_at")
        )
        if capacity >= len(holders):
            return
        affected = holders[capacity:]
        names = ", ".join((r.user.get_full_name() or r.user.get_username()) for r in affected[:10])
        if len(affected) > 10:
            names += " …"
        self.add_error(
            "capacity",
            _(
                "%(count)d people hold seats, so there cannot be fewer than %(count)d. "
                "These would lose their seats: %(names)s. Cancel their sign-ups first, "
                "or keep enough seats."
            )
            % {"count": len(holders), "names": names},
        )


class EventPageMixin(RoutablePageMixin, models.Model):
    """Everything an event page is and does; mix it into a Page subclass."""

    summary = models.TextField(
        _("summary"),
        max_length=600,
        help_text=_("One or two sentences: shown in lists, calendars and calendar apps."),
    )
    body = StreamField(EventBodyBlock(), verbose_name=_("description"), blank=True)
    track = models.CharField(_("track"), max_length=16, choices=EventTrack.choices)
    kind = models.CharField(_("kind"), max_length=64, choices=event_kind_choices)
    level = models.CharField(_("level"), max_length=16, choices=EventLevel.choices)
    format = models.CharField(
        _("format"), max_length=16, choices=EventFormat.choices, default=EventFormat.IN_PERSON
    )
    organiser = models.CharField(_("organiser"), max_length=255)
    venue_address = models.CharField(_("venue address"), max_length=500, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    municipality = models.ForeignKey(
        "wagtail_iom.Municipality",
        verbose_name=_("municipality"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    timezone = models.CharField(
        _("timezone"),
        max_length=64,
        choices=timezone_choices,
        default=default_event_timezone,
        validators=[validate_timezone],
        help_text=_("Session times are entered and shown in this timezone."),
    )
    audience_positions = models.CharField(
        _("for positions"),
        max_length=255,
        blank=True,
        help_text=_("E.g. teachers of primary school, deputy heads."),
    )
    audience_subjects = models.CharField(
        _("for subjects"), max_length=255, blank=True, help_text=_("E.g. mathematics, physics.")
    )
    competencies = ParentalManyToManyField(
        "wagtail_iom.Competency",
        verbose_name=_("targeted competencies"),
        blank=True,
        related_name="+",
    )
    in_federal_registry = models.BooleanField(
        _("in the federal registry"),
        default=False,
        help_text=_("A further-education programme listed in the federal registry (ФРОП ДППО)."),
    )
    document_issued = models.CharField(
        _("document issued"), max_length=64, choices=EventDocument.choices, blank=True
    )
    capacity = models.PositiveIntegerField(
        _("seats"), null=True, blank=True, help_text=_("Leave blank for no limit.")
    )
    registration_opens_at = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(_("registration closes"), null=True, blank=True)
    needs_approval = models.BooleanField(
        _("sign-ups need approval"),
        default=False,
        help_text=_("The school head or a curator approves each sign-up."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.SCHEDULED
    )
    status_reason = models.TextField(
        _("reason for the change"),
        blank=True,
        help_text=_("Shown to visitors when the event is cancelled or postponed."),
    )

    search_fields = [
        index.SearchField("summary"),
        index.SearchField("organiser"),
        index.SearchField("audience_positions"),
        index.SearchField("audience_subjects"),
        index.AutocompleteField("title"),
        index.FilterField("track"),
        index.FilterField("kind"),
        index.FilterField("level"),
        index.FilterField("format"),
        index.FilterField("status"),
        index.FilterField("municipality"),
    ]

    api_fields = [
        APIField("summary"),
        APIField("track"),
        APIField("kind"),
        APIField("level"),
        APIField("format"),
        APIField("organiser"),
        APIField("venue_address"),
        APIField("online_url"),
        APIField("timezone"),
        APIField("status"),
        APIField("status_reason"),
        APIField("capacity"),
        APIField("in_federal_registry"),
        APIField("api_sessions"),
        APIField("api_competencies"),
    ]

    base_form_class = EventPageForm
    template = "wagtail_iom/event_page.html"

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldRowPanel([FieldPanel("track"), FieldPanel("kind"), FieldPanel("level")]),
        FieldPanel("body"),
    ]
    schedule_panels = [
        FieldRowPanel([FieldPanel("format"), FieldPanel("timezone")]),
        FieldPanel("organiser"),
        FieldPanel("municipality"),
        FieldPanel("venue_address"),
        FieldPanel("online_url"),
        InlinePanel("sessions", label=_("Session"), min_num=1, heading=_("Sessions")),
        MultiFieldPanel([FieldPanel("status"), FieldPanel("status_reason")], heading=_("Status")),
    ]
    audience_panels = [
        FieldPanel("audience_positions"),
        FieldPanel("audience_subjects"),
        FieldPanel("competencies", widget=forms.CheckboxSelectMultiple),
        MultiFieldPanel(
            [FieldPanel("in_federal_registry"), FieldPanel("document_issued")],
            heading=_("Formal programmes"),
        ),
    ]
    registration_panels = [
        FieldPanel("capacity"),
        FieldRowPanel([FieldPanel("registration_opens_at"), FieldPanel("registration_closes_at")]),
        FieldPanel("needs_approval"),
    ]

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        errors = {}
        kind_track = track_of_kind(self.kind)
        if self.kind and kind_track and self.track and kind_track != self.track:
            errors["kind"] = _("This kind of event belongs to another track: %(track)s.") % {
                "track": EventTrack(kind_track).label
            }
        if (
            self.status in (EventStatus.CANCELLED, EventStatus.POSTPONED)
            and not self.status_reason.strip()
        ):
            errors["status_reason"] = _(
                "Say why the event is cancelled or postponed: visitors and participants see it."
            )
        if self.in_federal_registry and self.track != EventTrack.FORMAL:
            errors["in_federal_registry"] = _("Only formal programmes are in the federal registry.")
        if self.format in (EventFormat.ONLINE, EventFormat.BLENDED) and not self.online_url:
            errors["online_url"] = _("An online or blended event needs its online link.")
        if self.format in (EventFormat.IN_PERSON, EventFormat.BLENDED) and not self.venue_address:
            errors["venue_address"] = _("An event in person needs the venue address.")
        if (
            self.registration_opens_at
            and self.registration_closes_at
            and self.registration_closes_at <= self.registration_opens_at
        ):
            errors["registration_closes_at"] = _("Registration must close after it opens.")
        if errors:
            raise ValidationError(errors)

    @property
    def tzinfo(self):
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def is_cancelled(self):
        return self.status == EventStatus.CANCELLED

    @property
    def location(self):
        """Where it happens, in one line: the address, the link, or both."""
        parts = [p for p in (self.venue_address, self.online_url) if p]
        return " · ".join(parts)

    def ordered_sessions(self):
        """The sessions in time order (from the prefetch cache when there is one)."""
        return sorted(self.sessions.all(), key=lambda s: (s.date, s.start_time))

    @cached_property
    def session_list(self):
        return self.ordered_sessions()

    @property
    def first_session_date(self):
        sessions = self.session_list
        return sessions[0].date if sessions else None

    @property
    def next_session(self):
        """The first session not yet over, else the last one."""
        sessions = self.session_list
        now = timezone.now()
        upcoming = [s for s in sessions if s.ends_at and s.ends_at >= now]
        return upcoming[0] if upcoming else (sessions[-1] if sessions else None)

    @property
    def total_hours(self):
        hours = [s.academic_hours for s in self.sessions.all() if s.academic_hours is not None]
        return sum(hours) if hours else None

    @property
    def api_sessions(self):
        return [
            {
                "id": s.pk,
                "title": s.title,
                "starts_at": s.starts_at.isoformat() if s.starts_at else None,
                "ends_at": s.ends_at.isoformat() if s.ends_at else None,
                "academic_hours": float(s.academic_hours) if s.academic_hours is not None else None,
            }
            for s in self.ordered_sessions()
        ]

    @property
    def api_competencies(self):
        return [{"id": c.pk, "code": c.code, "name": c.name} for c in self.competencies.all()]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["sessions"] = self.ordered_sessions()
        context.update(self.get_signup_context(request))
        return context

    def get_signup_context(self, request):
        """The sign-up box: only when the project includes the package's URLs (wagtail_iom)."""
        from django.urls import NoReverseMatch, reverse

        from wagtail_iom.events import signup

        try:
            url = reverse("wagtail_iom:event_signup", args=[self.pk])
        except NoReverseMatch:
            return {}
        return {"signup": signup.signup_state(self, request.user), "signup_url": url}

    # Wagtail pages route their own URLs; the work is done in this domain's views.py (imported late, so that
    # models do not depend on views at import time).
    @path("ics/", name="ics")
    def ics(self, request):
        from wagtail_iom.events.views import event_feed

        return event_feed(request, self)


class EventPage(EventPageMixin, Page):
    """An educational event of the resource map: a course, a seminar, a mentoring session…"""

    parent_page_types = ["wagtail_iom.ResourceMapPage"]
    subpage_types = []

    edit_handler = TabbedInterface(
        [
            ObjectList(EventPageMixin.content_panels, heading=_("Content")),
            ObjectList(EventPageMixin.schedule_panels, heading=_("Schedule and place")),
            ObjectList(EventPageMixin.audience_panels, heading=_("Audience and competencies")),
            ObjectList(EventPageMixin.registration_panels, heading=_("Registration")),
            ObjectList(Page.promote_panels, heading=_("Promote")),
            ObjectList(Page.settings_panels, heading=_("Settings")),
        ]
    )

    search_fields = Page.search_fields + EventPageMixin.search_fields
    api_fields = EventPageMixin.api_fields

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self):
        return self.title


class EventSession(Orderable):
    """One meeting of an event, on a day, from a time to a time, in the event's timezone."""

    page = ParentalKey(EventPage, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(
        _("topic"), max_length=255, blank=True, help_text=_("Optional, e.g. “Module 2”.")
    )
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    academic_hours = models.DecimalField(
        _("academic hours"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    # The same moments as aware datetimes, kept in step with date, times and the event's
    # timezone on every save: what queries filter and sort on.
    starts_at = models.DateTimeField(editable=False, db_index=True)
    ends_at = models.DateTimeField(editable=False, db_index=True)

    panels = [
        FieldPanel("date"),
        FieldRowPanel([FieldPanel("start_time"), FieldPanel("end_time")]),
        FieldPanel("academic_hours"),
        FieldPanel("title"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["date"])]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self):
        super().clean()
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError(
                {"end_time": _("The session must end after it starts.")}, code="ends_before_start"
            )

    def compute_moments(self, tzinfo):
        starts = datetime.datetime.combine(self.date, self.start_time, tzinfo=tzinfo)
        ends = datetime.datetime.combine(self.date, self.end_time, tzinfo=tzinfo)
        return starts, ends

    def save(self, *args, **kwargs):
        self.starts_at, self.ends_at = self.compute_moments(self.page.tzinfo)
        super().save(*args, **kwargs)

    @property
    def is_over(self):
        return self.ends_at is not None and self.ends_at < timezone.now()


class EventSessionCalendarState(models.Model):
    """What calendar feeds need to remember about a session across edits.

    Kept apart from the session so that page revisions, which carry the session's fields,
    never roll it back: SEQUENCE only grows.
    """

    session = models.OneToOneField(
        EventSession, on_delete=models.CASCADE, related_name="calendar_state"
    )
    sequence = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=64)
    changed_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar state of a session")
        verbose_name_plural = _("calendar states of sessions")

    def __str__(self):
        return f"{self.session} (SEQUENCE {self.sequence})"


class FeedVersion(models.Model):
    """A counter that moves whenever what calendar feeds show may have changed.

    Built feeds are cached under the current values (:mod:`wagtail_iom.events.calendar`).
    They live in the database, not in Django's cache, so that every process (each gunicorn
    worker, cron's ``publish_scheduled``, a Celery worker) reads the same value, and reads a
    new one exactly when the change that moved it is committed. Bookkeeping, not content: it
    has no admin screen and no permissions.
    """

    FEEDS = "feeds"  # every feed
    SEATS = "seats"  # feeds filtered by free seats only, besides FEEDS

    name = models.CharField(max_length=16, primary_key=True)
    value = models.BigIntegerField()
    changed_at = models.DateTimeField()

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"{self.name} {self.value}"


class ResourceMapPageMixin(RoutablePageMixin, models.Model):
    """The resource map: lists, filters, a month calendar and calendar feeds of its events."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]

    template = "wagtail_iom/resource_map_page.html"
    calendar_template = "wagtail_iom/resource_map_calendar.html"

    class Meta:
        abstract = True

    @path("", name="list")
    def list_view(self, request):
        from wagtail_iom.events.views import resource_map_list

        return resource_map_list(request, self)

    @path("calendar/", name="calendar")
    def calendar_view(self, request):
        from wagtail_iom.events.views import resource_map_calendar

        return resource_map_calendar(request, self)

    @path("feed/", name="feed")
    def feed_view(self, request):
        from wagtail_iom.events.views import resource_map_feed

        return resource_map_feed(request, self)

    @path("feed/<slug:track>/", name="track_feed")
    def track_feed_view(self, request, track):
        from wagtail_iom.events.views import resource_map_feed

        return resource_map_feed(request, self, track=track)


class ResourceMapPage(ResourceMapPageMixin, Page):
    subpage_types = ["wagtail_iom.EventPage"]
    content_panels = ResourceMapPageMixin.content_panels

    class Meta:
        verbose_name = _("resource map")
        verbose_name_plural = _("resource maps")

    def __str__(self):
        return self.title


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("registration status", "Awaiting approval")
    CONFIRMED = "confirmed", pgettext_lazy("registration status", "Confirmed")
    WAITLISTED = "waitlisted", pgettext_lazy("registration status", "On the waiting list")
    DECLINED = "declined", pgettext_lazy("registration status", "Declined")
    CANCELLED = "cancelled", pgettext_lazy("registration status", "Cancelled")


# The statuses that hold a seat: a sign-up awaiting approval keeps its seat until decided.
SEAT_HOLDING_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING)
# The statuses of a live sign-up: holding a seat or waiting for one.
ACTIVE_STATUSES = (*SEAT_HOLDING_STATUSES, RegistrationStatus.WAITLISTED)


class RegistrationQuerySet(models.QuerySet):
    def holding_seats(self):
        return self.filter(status__in=SEAT_HOLDING_STATUSES)

    def waiting_list(self):
        """The waitlisted, first in line first: by the time they signed up, then by id."""
        return self.filter(status=RegistrationStatus.WAITLISTED).order_by("created_at", "pk")


class Registration(models.Model):
    event = models.ForeignKey(
        "wagtail_iom.EventPage",
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="registrations",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        related_name="iom_registrations",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.CONFIRMED,
    )
    # The place in the waiting list follows this: it is set again when someone signs up anew
    # after cancelling, so that they queue behind those who waited.
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    promoted_at = models.DateTimeField(
        _("moved up from the waiting list at"), null=True, blank=True
    )
    decided_at = models.DateTimeField(_("approved or declined at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or declined by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                name="wagtail_iom_one_registration_per_event",
                violation_error_message=_("This person is already signed up for this event."),
            )
        ]
        indexes = [models.Index(fields=["event", "status"])]
        permissions = [("decide_registration", "Can approve or decline sign-ups")]

    def __str__(self):
        return f"{self.user} → {self.event}"

    @property
    def holds_seat(self):
        return self.status in SEAT_HOLDING_STATUSES

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES
