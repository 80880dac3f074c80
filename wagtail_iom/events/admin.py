"""The admin of sign-ups ("Sign-ups"): a listing with filters and export, and the approval of
sign-ups to events that need it.

Statuses are never edited by hand: seats are counted under the event's lock in
:mod:`wagtail_iom.events.signup`, so the viewset has no add, edit or delete views. The only
changes are *approve* and *decline* of pending sign-ups, per row or for the ticked rows, each
through a confirmation page that calls :func:`~wagtail_iom.events.signup.approve` or
:func:`~wagtail_iom.events.signup.decline` and then tells the teacher
(:func:`wagtail_iom.events.emails.registration_changed`).

Who may: the listing follows :func:`~wagtail_iom.core.access.registrations_visible_to`;
deciding needs :func:`~wagtail_iom.core.access.can_decide_registrations`.
"""

from urllib.parse import urlencode

import django_filters
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.pages.listing import IndexView as PageIndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.viewsets.pages import PageListingViewSet
from wagtail.admin.widgets import ListingButton

from wagtail_iom.core import access, http
from wagtail_iom.core.forms import IdModelChoiceFilter
from wagtail_iom.core.http import forbidden, parse_ids
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.core.text import participant_name
from wagtail_iom.events import emails as notifications
from wagtail_iom.events import signup
from wagtail_iom.events.filters import EventAdminFilterSet
from wagtail_iom.events.models import EventPage, Registration, RegistrationStatus
from wagtail_iom.people import access_log

VIEWSET_NAME = "wagtail_iom_registrations"
APPROVE = "approve"
DECLINE = "decline"


class RegistrationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"), choices=RegistrationStatus.choices
    )
    event = IdModelChoiceFilter(
        label=gettext_lazy("Event"),
        # Only events somebody signed up for: the list stays short on a large resource map.
        queryset=lambda request: EventPage.objects.filter(
            pk__in=access.registrations_visible_to(request.user).values("event_id")
        ).order_by("title"),
    )

    class Meta:
        model = Registration
        fields = ["status", "event"]


class RegistrationIndexView(ListingMixin, access_log.ExportLoggedMixin, IndexView):
    template_name = "wagtail_iom/admin/registrations/index.html"
    export_access_action = access_log.Action.EXPORT_REGISTRATIONS
    teacher_id_field = "user__iom_teacher_profile"
    any_permission_required = None  # replaced by the access rule in dispatch()
    page_title = gettext_lazy("Sign-ups")

    def dispatch(self, request, *args, **kwargs):
        if not access.can_list_registrations(request.user):
            return forbidden(request, _("You may not see the sign-ups."))
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return access.registrations_visible_to(self.request.user).select_related(
            "event", "user", "user__iom_teacher_profile"
        )

    @cached_property
    def can_decide(self):
        return access.can_decide_registrations(self.request.user)

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        columns = [
            title_class(
                "participant",
                label=_("Participant"),
                accessor=lambda r: participant_name(r.user),
                get_title_id=lambda r: f"registration_{r.pk}_title",
            ),
            Column("email", label=_("E-mail"), accessor="user.email"),
            Column("event", label=_("Event"), accessor="event.title", sort_key="event__title"),
            Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
            DateColumn("created_at", label=_("Signed up at"), sort_key="created_at"),
        ]
        if self.can_decide:
            columns.insert(0, BulkActionsCheckboxColumn("bulk_actions", obj_type="registration"))
        return columns

    def get_list_more_buttons(self, instance):
        if not (self.can_decide and instance.status == RegistrationStatus.PENDING):
            return []
        next_url = self.request.get_full_path()
        return [
            ListingButton(
                _("Approve"),
                url=decision_url(APPROVE, [instance.pk], next_url),
                icon_name="check",
                priority=10,
            ),
            ListingButton(
                _("Decline"),
                url=decision_url(DECLINE, [instance.pk], next_url),
                icon_name="cross",
                priority=20,
            ),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_decide"] = self.can_decide
        context["approve_url"] = reverse(f"{VIEWSET_NAME}:{APPROVE}")
        context["decline_url"] = reverse(f"{VIEWSET_NAME}:{DECLINE}")
        return context

    def to_row_dict(self, item):
        return {
            "participant": participant_name(item.user),
            "email": item.user.email,
            "event": item.event.title,
            "status": item.get_status_display(),
            "created_at": item.created_at,
            "decided_at": item.decided_at,
        }


def decision_url(decision, ids, next_url=None):
    query = [("id", pk) for pk in ids]
    if next_url:
        query.append(("next", next_url))
    return reverse(f"{VIEWSET_NAME}:{decision}") + "?" + urlencode(query)


class DecisionView(WagtailAdminTemplateMixin, TemplateView):
    """Approve or decline the sign-ups named by ``id`` parameters: GET asks, POST does.

    Only pending sign-ups change; the others are listed as such and stay as they are.
    """

    template_name = "wagtail_iom/admin/registrations/decide.html"
    header_icon = "tick-inverse"
    decision = APPROVE
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_decide_registrations(request.user):
            return forbidden(
                request,
                _(
                    "Only school heads and curators with the right to approve sign-ups may "
                    "approve or decline them."
                ),
            )
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        if self.decision == APPROVE:
            return _("Approve sign-ups")
        return _("Decline sign-ups")

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(f"{VIEWSET_NAME}:index"), "label": _("Sign-ups")},
            {"url": "", "label": self.get_page_title()},
        ]

    @cached_property
    def next_url(self):
        return http.next_url(self.request, reverse(f"{VIEWSET_NAME}:index"))

    def selected(self, data):
        """The visible sign-ups named in ``data``; ids that are not numbers are ignored."""
        ids = parse_ids(data.getlist("id"))
        if not ids:
            return []
        return list(
            access.registrations_visible_to(self.request.user)
            .filter(pk__in=ids)
            .select_related("event", "user", "user__iom_teacher_profile")
            .order_by("event__title", "created_at")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        registrations = self.selected(self.request.GET)
        context.update(
            {
                "decision": self.decision,
                "pending": [r for r in registrations if r.status == RegistrationStatus.PENDING],
                "not_pending": [r for r in registrations if r.status != RegistrationStatus.PENDING],
                "next": self.next_url,
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        decide = signup.approve if self.decision == APPROVE else signup.decline
        kind = (
            notifications.NotificationKind.APPROVED
            if self.decision == APPROVE
            else notifications.NotificationKind.DECLINED
        )
        changed, unchanged = [], []
        for registration in self.selected(request.POST):
            if registration.status != RegistrationStatus.PENDING:
                unchanged.append((registration, None))
                continue
            try:
                result = decide(registration, request.user)
            except signup.SignupError as exc:
                unchanged.append((registration, exc.message))
                continue
            if result.changed:
                changed.append(registration)
                notifications.registration_changed(registration, kind)
                # A declined seat goes to the first in line: they are told too.
                for promoted in result.promoted:
                    notifications.registration_changed(
                        promoted, notifications.NotificationKind.PROMOTED
                    )
            else:
                unchanged.append((registration, None))
        if changed:
            names = ", ".join(participant_name(r.user) for r in changed[:10])
            if len(changed) > 10:
                names += " …"
            if self.decision == APPROVE:
                text = _("%(count)d sign-ups approved: %(names)s.")
            else:
                text = _("%(count)d sign-ups declined: %(names)s.")
            messages.success(request, text % {"count": len(changed), "names": names})
        for registration, reason in unchanged:
            messages.warning(
                request,
                _("Not changed: %(name)s, “%(event)s”. %(reason)s")
                % {
                    "name": participant_name(registration.user),
                    "event": registration.event.title,
                    "reason": reason
                    or _("This sign-up is not awaiting approval: its status is “%(status)s”.")
                    % {"status": registration.get_status_display()},
                },
            )
        if not changed and not unchanged:
            messages.warning(request, _("No sign-ups were selected."))
        return redirect(self.next_url)


class RegistrationViewSet(ModelViewSet):
    """Sign-ups: listed, filtered, exported, approved or declined; never edited by hand."""

    pk_path_converter = "iom_id"
    model = Registration
    name = VIEWSET_NAME
    url_prefix = "iom/registrations"
    icon = "group"
    menu_label = gettext_lazy("Sign-ups")
    menu_order = 260
    add_to_admin_menu = True
    index_view_class = RegistrationIndexView
    filterset_class = RegistrationFilterSet
    search_fields = [
        "user__email",
        "user__last_name",
        "user__iom_teacher_profile__last_name",
        "event__title",
    ]
    ordering = ["-created_at", "-pk"]
    list_per_page = 50
    list_export = ["participant", "email", "event", "status", "created_at", "decided_at"]
    export_headings = {
        "participant": gettext_lazy("Participant"),
        "email": gettext_lazy("E-mail"),
        "event": gettext_lazy("Event"),
        "status": gettext_lazy("Status"),
        "created_at": gettext_lazy("Signed up at"),
        "decided_at": gettext_lazy("Approved or declined at"),
    }
    export_filename = "sign-ups"
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
        # No add, edit, delete, history or usage views: nothing links to them.
        return super().get_common_view_kwargs(
            **{
                "add_url_name": None,
                "edit_url_name": None,
                "delete_url_name": None,
                "history_url_name": None,
                "usage_url_name": None,
                **kwargs,
            }
        )

    def register_admin_url_finder(self):
        # A sign-up has no edit view: the site history report and other admin screens that
        # link an object to its edit URL show it without a link (was a NoReverseMatch).
        pass

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path(f"{APPROVE}/", DecisionView.as_view(decision=APPROVE), name=APPROVE),
            path(f"{DECLINE}/", DecisionView.as_view(decision=DECLINE), name=DECLINE),
        ]

    def get_permissions_to_register(self):
        # The group editor offers what matters here: seeing the sign-ups and deciding them.
        content_type = ContentType.objects.get_for_model(Registration)
        return Permission.objects.filter(
            content_type=content_type, codename__in=["view_registration", "decide_registration"]
        )

    @cached_property
    def menu_item_class(self):
        class RegistrationMenuItem(MenuItem):
            def is_shown(self, request):
                return access.can_list_registrations(request.user)

        return RegistrationMenuItem


class EventIndexView(ListingMixin, PageIndexView):
    def get_base_queryset(self):
        # The "first session" column reads the sessions: one query for the page, not per row.
        return super().get_base_queryset().prefetch_related("sessions")


class EventListingViewSet(PageListingViewSet):
    """All events of every resource map in one listing, for editors."""

    model = EventPage
    index_view_class = EventIndexView
    name = "wagtail_iom_events"
    url_prefix = "iom/events"
    icon = "date"
    menu_label = gettext_lazy("Events")
    menu_order = 250
    add_to_admin_menu = True
    filterset_class = EventAdminFilterSet
    columns = [
        column for column in PageListingViewSet.columns if column.name in ("bulk_actions", "title")
    ] + [
        Column("first_session_date", label=gettext_lazy("First session"), width="12%"),
        Column("get_track_display", label=gettext_lazy("Track"), width="14%"),
        Column("get_kind_display", label=gettext_lazy("Kind"), width="14%"),
        Column(
            "get_status_display", label=gettext_lazy("Event status"), sort_key="status", width="12%"
        ),
        *[column for column in PageListingViewSet.columns if column.name == "status"],
    ]
    list_export = [
        "title",
        "get_track_display",
        "get_kind_display",
        "get_level_display",
        "get_status_display",
        "organiser",
        "capacity",
    ]
    export_headings = {
        "get_track_display": gettext_lazy("Track"),
        "get_kind_display": gettext_lazy("Kind"),
        "get_level_display": gettext_lazy("Level"),
        "get_status_display": gettext_lazy("Status"),
    }
    export_filename = "events"
