"""Routes (ИОМ) in the Wagtail admin: the curator's listing and editor, the status workflow,
the "new route" flow with the snapshots of sections 1 and 2, and events suggested per deficit.

One :class:`RouteViewSet` (a snippet viewset, for revisions with comparison and history) holds
every screen. Who reaches which route is decided by :mod:`wagtail_iom.core.access` alone:

* every view looks its route up in :func:`~wagtail_iom.core.access.routes_visible_to`, so
  a route of a teacher the user does not reach is not found (404), whatever the endpoint
  (edit, inspect, history, revision comparison and revert, usage, delete, the chooser, bulk
  actions, exports, and the workflow, refresh, suggestion and comment actions below);
* :class:`RoutePermissionPolicy`, registered for the model, answers Wagtail's own
  per-object questions the same way (bulk actions, the snippets API);
* the content changes only in the editable statuses and only by those who may edit the route
  (:func:`~wagtail_iom.routes.builder.can_change_content`); others read it on the
  inspect page, where they also see the status history, comment and move the status as far
  as :func:`~wagtail_iom.routes.workflow.allowed_transitions` lets them.
"""

import django_filters
from django import forms
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    MultiFieldPanel,
    ObjectList,
    Panel,
    TabbedInterface,
)
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.mixins import RevisionsRevertMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import AdminDateInput, Button, HeaderButton
from wagtail.log_actions import LogFormatter, log
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views

from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access
from wagtail_iom.core.access import StaffRole
from wagtail_iom.core.forms import IdModelChoiceField, IdModelChoiceFilter
from wagtail_iom.core.http import MAX_ID, NoCreationView, parse_id, parse_ids
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.core.text import name_search
from wagtail_iom.curators.assignments import curators, person_name
from wagtail_iom.curators.models import CuratorAssignment
from wagtail_iom.diagnostics.models import DiagnosticResult
from wagtail_iom.directory.models import Municipality, School
from wagtail_iom.events.models import EventPage
from wagtail_iom.people import access_log
from wagtail_iom.people.forms import SchoolChoiceField
from wagtail_iom.people.widgets import AdminTeacherChooser
from wagtail_iom.routes import builder as route_builder
from wagtail_iom.routes import reflection as curator_reflection
from wagtail_iom.routes.audit_admin import route_urlpatterns as audit_urlpatterns
from wagtail_iom.routes.blocks import RouteStage
from wagtail_iom.routes.models import (
    AuditResult,
    PresentationLevel,
    Route,
    RouteAudit,
    RouteComment,
    RouteKind,
    RouteSource,
    RouteStatus,
)
from wagtail_iom.routes.services import (
    EDITABLE_STATUSES,
    RouteError,
    keep_teacher_choices,
    period_errors,
    route_steps,
    route_warnings,
    track_shares,
)
from wagtail_iom.routes.workflow import allowed_transitions, transition

TEMPLATES = "wagtail_iom/admin/routes/"
TRANSITION_LOG_ACTION = "wagtail_iom.route_transition"


def visible_routes(user):
    """The routes ``user`` reaches, with what listings and headers show."""
    return access.routes_visible_to(user).select_related(
        "teacher__municipality", "teacher__school", "curator"
    )


def editable_teacher_ids(user):
    """The teachers whose routes ``user`` may edit: None for all of them, else a set of ids.

    :func:`~wagtail_iom.core.access.can_edit_route` asks the database per route; listings
    ask this once per request instead, so that their queries do not grow with the rows.
    """
    if not access.can_edit_route(user):
        return set()
    if access.is_centre_head(user) or not access.staff_roles(user):
        return None
    return set(
        CuratorAssignment.objects.filter(curator=user, ended_at__isnull=True).values_list(
            "teacher_id", flat=True
        )
    )


# The listing ------------------------------------------------------------------------------------


class RouteFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RouteStatus.choices)
    municipality = IdModelChoiceFilter(
        label=_("Municipality"),
        field_name="teacher__municipality",
        queryset=Municipality.objects.all(),
    )
    curator = IdModelChoiceFilter(label=_("Curator"), queryset=curators())
    source = django_filters.ChoiceFilter(label=_("Source"), choices=RouteSource.choices)
    period = django_filters.DateFromToRangeFilter(
        label=_("Active in the period"),
        method="filter_period",
        widget=DateRangePickerWidget,
        help_text=_("Routes whose period overlaps these dates."),
    )

    class Meta:
        model = Route
        fields = ["status", "municipality", "curator", "source", "period"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Evaluated per request: curators are added while the site runs.
        self.filters["curator"].queryset = curators()
        self.filters["curator"].field.label_from_instance = person_name

    def filter_period(self, queryset, name, value):
        if value.start:
            queryset = queryset.filter(ends_on__gte=value.start)
        if value.stop:
            queryset = queryset.filter(starts_on__lte=value.stop)
        return queryset


def period_display(route):
    return f"{route.starts_on:%d.%m.%Y} – {route.ends_on:%d.%m.%Y}"


class RouteIndexView(ListingMixin, access_log.ExportLoggedMixin, snippet_views.IndexView):
    export_access_action = access_log.Action.EXPORT_ROUTES

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if access.can_edit_route(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Build route drafts"),
                    url=reverse(f"{RouteViewSet.url_namespace}:drafts"),
                    icon_name="clipboard-list",
                    attrs={"data-iom-build-drafts": ""},
                )
            )
        return buttons

    def get_base_queryset(self):
        # The roadmap and the snapshots are the large columns: a listing never needs them.
        return visible_routes(self.request.user).defer(
            "roadmap",
            "profile_snapshot",
            "diagnostics_snapshot",
            "reflection",
            "curator_reflection",
        )

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return queryset.filter(
            name_search(
                self.search_query,
                ["teacher__last_name", "teacher__first_name", "teacher__patronymic"],
            )
        )

    @cached_property
    def editable_teacher_ids(self):
        return editable_teacher_ids(self.request.user)

    def row_is_editable(self, route):
        ids = self.editable_teacher_ids
        return route.status in EDITABLE_STATUSES and (ids is None or route.teacher_id in ids)

    def get_edit_url(self, instance):
        if self.row_is_editable(instance):
            return super().get_edit_url(instance)
        return None

    def get_delete_url(self, instance):
        if instance.status == RouteStatus.DEVELOPMENT and self.row_is_editable(instance):
            return super().get_delete_url(instance)
        return None

    @cached_property
    def columns(self):
        title_column_class = self._get_title_column_class(TitleColumn)
        return [
            *[column for column in super().columns if column.name == "bulk_actions"],
            title_column_class(
                "teacher",
                label=_("Teacher"),
                accessor=lambda route: route.teacher.full_name,
                sort_key="teacher__last_name",
                get_url=lambda route: self.get_edit_url(route) or self.get_inspect_url(route),
            ),
            Column(
                "municipality",
                label=_("Municipality"),
                accessor="teacher.municipality",
                sort_key="teacher__municipality__name",
            ),
            Column(
                "school",
                label=_("School"),
                accessor="teacher.school",
                sort_key="teacher__school__name",
            ),
            Column(
                "curator",
                label=_("Curator"),
                accessor=lambda route: person_name(route.curator),
                sort_key="curator__last_name",
            ),
            Column("period", label=_("Period"), accessor=period_display, sort_key="starts_on"),
            Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
            DateColumn("updated_at", label=_("Changed"), sort_key="updated_at"),
        ]

    def to_row_dict(self, item):
        teacher = item.teacher
        return {
            "teacher": teacher.full_name,
            "municipality": teacher.municipality.name if teacher.municipality_id else "",
            "school": teacher.school.name if teacher.school_id else "",
            "curator": person_name(item.curator),
            "starts_on": item.starts_on,
            "ends_on": item.ends_on,
            "status": str(item.get_status_display()),
            "updated_at": item.updated_at,
        }


# The editor -------------------------------------------------------------------------------------


class RouteAdminForm(WagtailAdminModelForm):
    """The curator is chosen among the curators, and only by the centre head: a curator's own
    routes stay theirs. Period, deadlines and blocks are checked by ``Route.clean()``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("curator")
        if field is None:
            return
        current = self.instance.curator_id if self.instance else None
        field.queryset = get_user_model().objects.filter(
            Q(pk__in=curators().values("pk")) | Q(pk=current)
        )
        field.label_from_instance = person_name
        user = self.for_user
        if access.staff_roles(user) and not access.is_centre_head(user):
            field.disabled = True


class SnapshotPanel(Panel):
    """Sections 1 and 2 as copied from the teacher's profile, read-only; the button refreshes
    them (its form is outside the editor's form, see edit.html)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = TEMPLATES + "snapshot_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            route = self.instance
            context.update(
                {
                    "route": route,
                    "refresh_form_id": "iom-route-refresh-form",
                    **snapshot_context(route),
                }
            )
            return context


class CuratorReflectionPanel(Panel):
    """The curator's reflection (stage 4) in the editor's "Recommendations and reflection"
    tab: shown to everyone, written by those :func:`.reflection.can_write` lets. Its fields
    belong to #iom-curator-reflection-form, outside the editor's form (see edit.html), so that
    it is saved on its own, with who wrote it and when."""

    class BoundPanel(Panel.BoundPanel):
        template_name = TEMPLATES + "includes/curator_reflection.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            route = self.instance
            context.update(curator_reflection_context(self.request.user, route))
            return context


def curator_reflection_context(user, route):
    return {
        "route": route,
        "route_urls": route_urls(route),
        "can_write_curator_reflection": curator_reflection.can_write(user, route),
        "curator_reflection_statuses": curator_reflection.status_allows(route),
        "curator_reflection_max_length": curator_reflection.CURATOR_REFLECTION_MAX_LENGTH,
        "presentation_levels": PresentationLevel.choices,
    }


def route_edit_handler():
    return TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("teacher", read_only=True),
                    FieldPanel("curator"),
                    FieldRowPanel(
                        [FieldPanel("starts_on"), FieldPanel("ends_on")], heading=_("Period")
                    ),  # fmt: skip
                    FieldPanel("kind"),
                    FieldPanel("goal"),
                    FieldPanel("tasks"),
                    FieldPanel("self_education_topic"),
                ],
                heading=_("Route"),
            ),
            ObjectList([SnapshotPanel()], heading=_("Sections 1 and 2")),
            ObjectList([FieldPanel("roadmap")], heading=_("Development map")),
            ObjectList(
                [
                    MultiFieldPanel(
                        [
                            FieldPanel("further_support"),
                            FieldPanel("self_and_non_formal_education"),
                            FieldPanel("sources"),
                        ],
                        heading=_("Recommendations"),
                    ),
                    FieldPanel("reflection", read_only=True),
                    CuratorReflectionPanel(heading=_("Reflection of the curator")),
                ],
                heading=_("Recommendations and reflection"),
            ),
        ],
        base_form_class=RouteAdminForm,
    )


def snapshot_context(route):
    """The snapshots for templates, with the ISO dates they keep turned into dates."""
    import datetime

    diagnostics = dict(route.diagnostics_snapshot or {})
    latest = diagnostics.get("latest")
    if latest and latest.get("date"):
        try:
            latest = {**latest, "date": datetime.date.fromisoformat(latest["date"])}
        except ValueError:
            pass
        diagnostics["latest"] = latest
    return {
        "profile_snapshot": route.profile_snapshot or {},
        "diagnostics_snapshot": diagnostics,
    }


def route_urls(route):
    viewset = Route.snippet_viewset
    pk = quote(route.pk)
    return {
        "edit": reverse(viewset.get_url_name("edit"), args=[pk]),
        "inspect": reverse(viewset.get_url_name("inspect"), args=[pk]),
        "history": reverse(viewset.get_url_name("history"), args=[pk]),
        "refresh": reverse(viewset.get_url_name("refresh_snapshot"), args=[pk]),
        "add_step": reverse(viewset.get_url_name("add_step"), args=[pk]),
        "comment": reverse(viewset.get_url_name("comment"), args=[pk]),
        "recommendations": reverse(viewset.get_url_name("recommendations"), args=[pk]),
        "curator_reflection": reverse(viewset.get_url_name("curator_reflection"), args=[pk]),
    }


#: What the button that moves a route to a status says: the action, not the status.
TRANSITION_ACTIONS = {
    RouteStatus.SENT_FOR_APPROVAL: _("Send for approval"),
    RouteStatus.APPROVED: _("Approve"),
    RouteStatus.RETURNED: _("Return for revision"),
    RouteStatus.IMPLEMENTATION: _("Start the implementation"),
    RouteStatus.COMPLETED: _("Mark as completed"),
    RouteStatus.AUDITED: _("Record the audit"),
}


def transition_buttons(route, user):
    """The moves ``user`` may make; "audited" opens the audit form (routes/audit_admin.py),
    every other move the confirmation of :class:`RouteTransitionView`."""
    viewset = Route.snippet_viewset
    return [
        {
            "to": to,
            "label": TRANSITION_ACTIONS.get(to, RouteStatus(to).label),
            "url": reverse(viewset.get_url_name("audit"), args=[quote(route.pk)])
            if to == RouteStatus.AUDITED
            else reverse(viewset.get_url_name("transition"), args=[quote(route.pk), to]),
        }
        for to in allowed_transitions(route, user)
    ]


def route_context(request, route, *, with_suggestions=False, with_steps=False):
    """What the edit and inspect pages show around the route's fields."""
    user = request.user
    can_change = route_builder.can_change_content(user, route)
    context = {
        "route": route,
        "route_urls": route_urls(route),
        "can_change": can_change,
        "can_comment": access.can_comment_route(user, route),
        # The curator writes section 4 in the editor; a methodist on the route's page.
        "can_write_recommendations": not can_change
        and access.can_write_recommendations(user, route),
        **curator_reflection_context(user, route),
        "transitions": transition_buttons(route, user),
        "status_history": list(route.transitions.select_related("by")),
        "route_comments": list(route.comments.select_related("author")),
        "route_warnings": route_warnings(route),
        "route_audit": RouteAudit.objects.filter(route=route).select_related("auditor").first(),
        "result_choices": AuditResult.choices,
        "audit_pdf_url": reverse(Route.snippet_viewset.get_url_name("audit_pdf"), args=[route.pk]),
        **snapshot_context(route),
        "stage_choices": RouteStage.CHOICES,
        "default_stage": route_builder.DEFAULT_EVENT_STAGE,
    }
    if with_suggestions and can_change:
        context["suggestions"] = route_builder.suggest_events(route)
    if with_steps:
        steps = route_steps(route)
        labels = dict(RouteStage.CHOICES)
        context["stages"] = [
            {"code": code, "label": labels[code], "steps": [s for s in steps if s.stage == code]}
            for code in RouteStage.ORDER
            if any(s.stage == code for s in steps)
        ]
        context["track_shares"] = track_shares(steps)
    return context


def route_header_buttons(view, route):
    buttons = [
        Button(
            item["label"],
            url=item["url"],
            icon_name="arrow-right",
            attrs={"data-iom-transition": item["to"]},
            priority=40 + number,
        )
        for number, item in enumerate(transition_buttons(route, view.request.user))
    ]
    buttons.append(
        Button(_("History"), url=route_urls(route)["history"], icon_name="history", priority=90)
    )
    try:
        print_url = reverse(
            "wagtail_iom_route_print:print",
            args=[route.pk, iom_settings.ROUTE_DEFAULT_LAYOUT, "html"],
        )
    except NoReverseMatch:  # the printed routes are not installed
        print_url = None
    if print_url:
        buttons.append(Button(_("Print"), url=print_url, icon_name="doc-full", priority=95))
    return buttons


class VisibleRouteMixin:
    def get_queryset(self):
        return visible_routes(self.request.user)


class RouteEditView(access_log.AccessLoggedMixin, VisibleRouteMixin, snippet_views.EditView):
    template_name = TEMPLATES + "edit.html"
    access_action = access_log.Action.VIEW_ROUTE

    def dispatch(self, request, *args, **kwargs):
        if not self.user_has_permission("change"):
            raise PermissionDenied
        if not route_builder.can_change_content(request.user, self.object):
            if request.method in ("GET", "HEAD"):
                messages.warning(
                    request,
                    _(
                        "This route cannot be changed in its current status, or by you: "
                        "it is shown read-only."
                    ),  # fmt: skip
                )
                return redirect(route_urls(self.object)["inspect"])
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self):
        return self.get_edit_url()

    def save_instance(self):
        # The status and the teacher's reflection change elsewhere (the workflow, the
        # cabinet) while the editor is open: read them again under a lock, so that saving the
        # content never puts back what they were when the page was loaded.
        with transaction.atomic():
            current = Route.objects.select_for_update().get(pk=self.object.pk)
            if not route_builder.can_change_content(self.request.user, current):
                # Wagtail shows this as the form's error and saves nothing.
                raise PermissionDenied(
                    gettext(
                        "While you were editing, the route's status changed to “%(status)s” "
                        "and it can no longer be changed here. Copy your changes and reload "
                        "the page."
                    )
                    % {"status": current.get_status_display()}
                )
            self.form.instance.status = current.status
            self.form.instance.reflection = current.reflection
            for name in (*curator_reflection.FIELDS, *curator_reflection.PRESENTATION_FIELDS):
                setattr(self.form.instance, name, getattr(current, name))
            # Options the teacher picked meanwhile stay picked.
            keep_teacher_choices(self.form.instance, current)
            return super().save_instance()

    @cached_property
    def header_more_buttons(self):
        return [*super().header_more_buttons, *route_header_buttons(self, self.object)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(route_context(self.request, self.object, with_suggestions=True))
        return context


class RouteRevertView(RevisionsRevertMixin, RouteEditView):
    """Going back to an older version restores the content, never the workflow: the status, the
    teacher, the curator, both reflections and the presentation mark stay as they are now."""

    view_name = "revisions_revert"

    def get_object(self, queryset=None):
        reverted = super().get_object(queryset)
        for name in (
            "status", "teacher_id", "curator_id", "reflection", "created_by_id", "created_at",
            "curator_reflection", "curator_reflection_by_id", "curator_reflection_at",
            *curator_reflection.PRESENTATION_FIELDS,
        ):  # fmt: skip
            setattr(reverted, name, getattr(self.live_object, name))
        return reverted


class RouteInspectView(access_log.AccessLoggedMixin, snippet_views.InspectView):
    template_name = TEMPLATES + "inspect.html"
    access_action = access_log.Action.VIEW_ROUTE

    def get_object(self, queryset=None):
        return get_object_or_404(visible_routes(self.request.user), pk=self.pk)

    def get_edit_url(self):
        if route_builder.can_change_content(self.request.user, self.object):
            return super().get_edit_url()
        return None

    def get_delete_url(self):
        if route_builder.can_delete_route(self.request.user, self.object):
            return super().get_delete_url()
        return None

    @cached_property
    def header_more_buttons(self):
        return [*super().header_more_buttons, *route_header_buttons(self, self.object)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(route_context(self.request, self.object, with_steps=True))
        return context


class RouteDeleteView(VisibleRouteMixin, snippet_views.DeleteView):
    def dispatch(self, request, *args, **kwargs):
        if not route_builder.can_delete_route(request.user, self.object):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class VisibleBaseObjectMixin:
    def get_base_object_queryset(self):
        return visible_routes(self.request.user)


class RouteHistoryView(VisibleBaseObjectMixin, snippet_views.HistoryView):
    # Methodists and school heads read the route's history too.
    any_permission_required = ["add", "change", "delete", "view"]


class RouteUsageView(VisibleBaseObjectMixin, snippet_views.UsageView):
    pass


class RouteRevisionsCompareView(snippet_views.RevisionsCompareView):
    permission_required = None
    any_permission_required = ["change", "view"]

    def get_object(self, queryset=None):
        return get_object_or_404(visible_routes(self.request.user), pk=self.pk)


# The chooser and bulk actions ---------------------------------------------------------------------


class VisibleRouteChooserMixin:
    def get_object_list(self):
        return visible_routes(self.request.user)


class RouteChooseView(VisibleRouteChooserMixin, snippet_chooser.ChooseView):
    pass


class RouteChooseResultsView(VisibleRouteChooserMixin, snippet_chooser.ChooseResultsView):
    pass


class RouteChosenView(snippet_chooser.SnippetChosenView):
    def get_object(self, pk):
        pk = parse_id(pk)
        if pk is None:
            raise Route.DoesNotExist
        return visible_routes(self.request.user).get(pk=pk)


class RouteChosenMultipleView(snippet_chooser.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return visible_routes(self.request.user).filter(pk__in=parse_ids(pks))


class RouteChooserViewSet(snippet_chooser.SnippetChooserViewSet):
    choose_view_class = RouteChooseView
    choose_results_view_class = RouteChooseResultsView
    chosen_view_class = RouteChosenView
    chosen_multiple_view_class = RouteChosenMultipleView
    # Routes are created with their snapshots by the "new route" flow, never in a chooser.
    create_view_class = NoCreationView


class RouteDeleteBulkAction(DeleteBulkAction):
    """Bulk deletion among the routes the user reaches; another's ids are simply not found."""

    models = [Route]

    @cached_property
    def _actionable_objects(self):
        ids = self.request.GET.getlist("id")
        routes = visible_routes(self.request.user)
        if "all" not in ids:
            routes = routes.filter(pk__in=parse_ids(ids))
        objects, refused = [], []
        for route in routes:
            (objects if self.check_perm(route) else refused).append(route)
        if not objects and not refused:
            raise Http404
        return objects, {"items_with_no_access": refused}


# The "new route" flow -------------------------------------------------------------------------


class NewRouteForm(forms.Form):
    teacher = IdModelChoiceField(
        label=_("Teacher"),
        queryset=None,
        widget=AdminTeacherChooser(),
        error_messages={"invalid_choice": _("Choose one of the teachers you work with.")},
    )
    starts_on = forms.DateField(label=_("Start"), widget=AdminDateInput())
    ends_on = forms.DateField(label=_("End"), widget=AdminDateInput())
    kind = forms.ChoiceField(
        label=_("Kind of route"),
        choices=[("", _("By the teacher's latest diagnostics")), *RouteKind.choices],
        required=False,
        help_text=_(
            "A teacher at the low level gets a route for a teacher with low results, others a "
            "regular route. The allowed length depends on the kind."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["teacher"].queryset = access.teacher_profiles_visible_to(user)

    def clean(self):
        cleaned = super().clean()
        teacher = cleaned.get("teacher")
        if teacher is not None and not access.can_edit_route(self.user, Route(teacher=teacher)):
            self.add_error(
                "teacher",
                ValidationError(
                    _("You may create routes only for the teachers assigned to you."),
                    code="not_assigned",
                ),
            )
        if not cleaned.get("kind"):
            cleaned["kind"] = route_builder.default_kind(teacher)
        for name, message in period_errors(
            cleaned.get("starts_on"), cleaned.get("ends_on"), cleaned["kind"]
        ).items():
            self.add_error(name, ValidationError(message, code="period"))
        return cleaned


def default_curator(teacher, user):
    """The teacher's current curator; failing that, the creating user if they are a curator."""
    assignment = (
        CuratorAssignment.objects.filter(teacher=teacher, ended_at__isnull=True)
        .select_related("curator")
        .first()
    )
    if assignment is not None:
        return assignment.curator
    roles = {membership.role for membership in access.staff_roles(user)}
    if StaffRole.CURATOR in roles or not roles:
        return user
    return None


class RouteCreateView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Ask for the teacher and the period, create the route (snapshots, stages), open it."""

    model = Route
    permission_required = "add"
    form_class = NewRouteForm
    template_name = "wagtailadmin/generic/form.html"
    page_title = _("New route")
    header_icon = "clipboard-list"
    index_url_name = None
    edit_url_name = None
    breadcrumbs_items = WagtailAdminTemplateMixin.breadcrumbs_items

    def dispatch(self, request, *args, **kwargs):
        if not access.can_edit_route(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(self.index_url_name),
                "label": capfirst(Route._meta.verbose_name_plural),
            },
            {"url": "", "label": self.page_title},
        ]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        from django.utils import timezone

        from wagtail_iom.routes.services import add_months, length_bounds

        today = timezone.localdate()
        teacher = None
        teacher_id = self.request.GET.get("teacher", "")
        if teacher_id.isdigit() and int(teacher_id) <= MAX_ID:
            teacher = (
                access.teacher_profiles_visible_to(self.request.user).filter(pk=teacher_id).first()
            )
        # The end suggested is the longest the route's kind allows (a teacher at the low level:
        # 6 months; a regular route: 12), so that the suggestion is never refused.
        kind = route_builder.default_kind(teacher)
        initial = {"starts_on": today, "ends_on": add_months(today, length_bounds(kind)[1])}
        if teacher is not None:
            initial["teacher"] = teacher
        return initial

    def form_valid(self, form):
        teacher = form.cleaned_data["teacher"]
        try:
            route = route_builder.create_route(
                teacher,
                default_curator(teacher, self.request.user),
                form.cleaned_data["starts_on"],
                form.cleaned_data["ends_on"],
                self.request.user,
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as error:
            for name, messages_ in error.message_dict.items():
                for message in messages_:
                    form.add_error(name if name in form.fields else None, message)
            return self.form_invalid(form)
        log(instance=route, action="wagtail.create", user=self.request.user)
        messages.success(
            self.request,
            _("The route for %(teacher)s is created: sections 1 and 2 are filled from the "
              "profile. Add the steps of the development map.") % {"teacher": teacher.full_name},
        )  # fmt: skip
        return redirect(route_urls(route)["edit"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            {
                "action_url": self.request.path,
                "submit_button_label": _("Create the route"),
                "submit_button_active_label": _("Creating…"),
                "media": form.media,
            }
        )
        return context


# Route drafts from diagnostics, on demand --------------------------------------------------------


class DraftFilterForm(forms.Form):
    """Which of the user's teachers get drafts: all of them, or those that match."""

    q = forms.CharField(label=_("Name"), required=False, max_length=200)
    municipality = IdModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.all(), required=False
    )
    school = SchoolChoiceField(label=_("School"), queryset=School.objects.all(), required=False)

    def filters(self):
        """Keyword arguments of curators.assignments.filter_teachers."""
        data = getattr(self, "cleaned_data", {})
        return {
            "search": data.get("q") or "",
            "municipality": data.get("municipality"),
            "school": data.get("school"),
        }


class BuildDraftsView(WagtailAdminTemplateMixin, FormView):
    """Build route drafts (routes/drafts.py) for the teachers that match a filter, among those
    whose routes the user edits, from each one's latest diagnostics, in the background."""

    template_name = "wagtailadmin/generic/form.html"
    page_title = _("Build route drafts")
    header_icon = "clipboard-list"
    breadcrumbs_items = WagtailAdminTemplateMixin.breadcrumbs_items

    def dispatch(self, request, *args, **kwargs):
        if not access.can_edit_route(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    form_class = DraftFilterForm

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(f"{RouteViewSet.url_namespace}:list"),
                "label": capfirst(Route._meta.verbose_name_plural),
            },
            {"url": "", "label": self.page_title},
        ]

    def teachers(self, form):
        from wagtail_iom.curators.assignments import filter_teachers

        return filter_teachers(
            access.teachers_draftable_by(self.request.user), **form.filters()
        ).filter(pk__in=DiagnosticResult.objects.values("teacher_id"))

    def form_valid(self, form):
        from django.utils.translation import get_language, ngettext

        from wagtail_iom.core import mail

        ids = list(self.teachers(form).order_by("pk").values_list("pk", flat=True))
        if ids:
            mail.enqueue_on_commit(
                "build_route_drafts_for_teachers", ids, self.request.user.pk, get_language()
            )
        messages.success(
            self.request,
            ngettext(
                "Route drafts are being built for %(count)d teacher with diagnostics.",
                "Route drafts are being built for %(count)d teachers with diagnostics.",
                len(ids),
            )
            % {"count": len(ids)},
        )
        return redirect(f"{RouteViewSet.url_namespace}:list")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "action_url": self.request.path,
                "submit_button_label": _("Build the drafts"),
                "submit_button_active_label": _("Starting…"),
                "media": context["form"].media,
            }
        )
        return context


class RouteDraftLogFormatter(LogFormatter):
    label = _("Draft the route from diagnostics")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        if data.get("created"):
            return _("The route was drafted from diagnostics")
        return _("The route draft was updated from diagnostics")


# Actions on one route -------------------------------------------------------------------------


class RouteActionMixin:
    """Looks the route up among those the user reaches: another's id is a 404."""

    index_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.route = get_object_or_404(visible_routes(request.user), pk=kwargs["pk"])

    def back(self):
        urls = route_urls(self.route)
        if route_builder.can_change_content(self.request.user, self.route):
            return redirect(urls["edit"])
        return redirect(urls["inspect"])


class TransitionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RouteTransitionView(RouteActionMixin, WagtailAdminTemplateMixin, FormView):
    """Confirm a change of status with a comment; the workflow service decides."""

    template_name = TEMPLATES + "transition.html"
    form_class = TransitionForm
    header_icon = "clipboard-list"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.to_status = kwargs["to_status"]
        if self.to_status not in RouteStatus.values:
            raise Http404

    def get(self, request, *args, **kwargs):
        if self.to_status not in allowed_transitions(self.route, request.user):
            messages.error(request, _("This change of status is not possible now."))
            return self.back()
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return gettext("Change the status")

    def get_page_subtitle(self):
        return str(self.route)

    def get_breadcrumbs_items(self):
        urls = route_urls(self.route)
        route_url = (
            urls["edit"]
            if route_builder.can_change_content(self.request.user, self.route)
            else urls["inspect"]
        )
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse(Route.snippet_viewset.get_url_name("list")),
                "label": capfirst(Route._meta.verbose_name_plural),
            },
            {"url": route_url, "label": str(self.route)},
            {"url": "", "label": self.get_page_title()},
        ]

    def form_valid(self, form):
        before = self.route.status
        try:
            transition(self.route, self.to_status, self.request.user, form.cleaned_data["comment"])
        except RouteError as error:
            if error.code == "comment_required":
                form.add_error("comment", ValidationError(error.message, code=error.code))
                return self.form_invalid(form)
            messages.error(self.request, error.message)
            return self.back()
        log(
            instance=self.route,
            action=TRANSITION_LOG_ACTION,
            user=self.request.user,
            data={"from": before, "to": self.to_status, "comment": form.cleaned_data["comment"]},
        )
        messages.success(
            self.request,
            _("The route is now “%(status)s”.") % {"status": RouteStatus(self.to_status).label},
        )
        return self.back()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "route": self.route,
                "from_label": self.route.get_status_display(),
                "to_status": self.to_status,
                "to_label": RouteStatus(self.to_status).label,
                "comment_required": self.to_status == RouteStatus.RETURNED,
                "cancel_url": self.back().url,
            }
        )
        return context


class RoutePostActionView(RouteActionMixin, View):
    http_method_names = ["post"]


class RefreshSnapshotView(RoutePostActionView):
    def post(self, request, *args, **kwargs):
        if not route_builder.can_change_content(request.user, self.route):
            raise PermissionDenied
        try:
            route_builder.refresh_snapshot(self.route, request.user)
        except RouteError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Sections 1 and 2 are refreshed from the profile."))
        return self.back()


class AddStepView(RoutePostActionView):
    """Add a suggested event as a step. The event must be one the resource map shows to anyone;
    any other id is refused and nothing changes."""

    def post(self, request, *args, **kwargs):
        if not route_builder.can_change_content(request.user, self.route):
            raise PermissionDenied
        event_id = request.POST.get("event", "")
        stage = request.POST.get("stage") or route_builder.DEFAULT_EVENT_STAGE
        event = None
        if event_id.isdigit():
            event = (
                access.public_events(EventPage.objects.all())
                .exclude(status="cancelled")
                .filter(pk=event_id)
                .first()
            )
        if event is None:
            messages.error(request, _("This event cannot be added: choose one of the suggested."))
            return self.back()
        try:
            route_builder.add_event_step(self.route, event, stage, request.user)
        except RouteError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("“%(event)s” is added to the route.") % {"event": event.title}
            )
        return self.back()


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Remark"), max_length=4000, widget=forms.Textarea)


class CommentView(RoutePostActionView):
    """A remark on the route (municipal methodists and everyone else who reads it)."""

    def post(self, request, *args, **kwargs):
        if not access.can_comment_route(request.user, self.route):
            raise PermissionDenied
        form = CommentForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Write the remark (at most 4000 characters)."))
            return self.back()
        RouteComment.objects.create(
            route=self.route,
            kind=RouteComment.Kind.REMARK,
            author=request.user,
            text=form.cleaned_data["text"],
        )
        messages.success(request, _("The remark is added; the curator will see it."))
        return self.back()


class RecommendationsForm(forms.ModelForm):
    class Meta:
        model = Route
        fields = ["further_support", "self_and_non_formal_education", "sources"]


class RecommendationsView(RoutePostActionView):
    """Section 4, for a municipal methodist of the teacher's municipality (who reads the route
    but does not edit it): the form on the route's page saves a revision of the route."""

    def post(self, request, *args, **kwargs):
        if not access.can_write_recommendations(request.user, self.route):
            raise PermissionDenied
        form = RecommendationsForm(request.POST, instance=self.route)
        if not form.is_valid():
            messages.error(request, _("The recommendations could not be saved."))
            return self.back()
        route = form.save()
        route.save_revision(user=request.user, log_action=True)
        messages.success(request, _("The recommendations are saved."))
        return self.back()


class CuratorReflectionForm(forms.Form):
    curator_reflection = forms.CharField(
        label=_("Reflection of the curator"),
        required=False,
        max_length=curator_reflection.CURATOR_REFLECTION_MAX_LENGTH,
        widget=forms.Textarea,
    )
    # The presentation mark is sent by the route's page and the editor's tab alike; a form
    # without it (an older page) leaves the mark as it is.
    results_presented_level = forms.ChoiceField(
        label=_("Results presented to the community at the level"),
        choices=[("", "—"), *PresentationLevel.choices],
        required=False,
    )
    results_presented_on = forms.DateField(label=_("Results presented on"), required=False)


class CuratorReflectionView(RoutePostActionView):
    """The curator's reflection on the route (stage 4), from the route's editor or its page."""

    def post(self, request, *args, **kwargs):
        form = CuratorReflectionForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(request, f"{label}: {' '.join(errors)}" if label else errors[0])
            return self.back()
        presentation = {}
        if "results_presented_level" in request.POST:
            presentation = {
                "presented_level": form.cleaned_data["results_presented_level"],
                "presented_on": form.cleaned_data["results_presented_on"],
            }
        try:
            curator_reflection.save_curator_reflection(
                self.route, form.cleaned_data["curator_reflection"], request.user, **presentation
            )
        except RouteError as error:
            messages.error(request, error.message)
            return self.back()
        messages.success(request, _("The reflection of the curator is saved."))
        return self.back()


class RouteTransitionLogFormatter(LogFormatter):
    label = _("Change the route's status")

    def format_message(self, log_entry):
        data = log_entry.data or {}
        labels = dict(RouteStatus.choices)
        return _("Status changed from “%(from)s” to “%(to)s”") % {
            "from": labels.get(data.get("from"), data.get("from")),
            "to": labels.get(data.get("to"), data.get("to")),
        }

    def format_comment(self, log_entry):
        return (log_entry.data or {}).get("comment", "")


# The viewset ----------------------------------------------------------------------------------


class RouteViewSet(snippet_views.SnippetViewSet):
    pk_path_converter = "iom_id"
    model = Route
    url_prefix = "iom/routes"
    url_namespace = "wagtail_iom_routes"
    chooser_admin_url_namespace = "wagtail_iom_route_chooser"
    chooser_base_url_path = "iom/choose-route"
    icon = "clipboard-list"
    menu_label = _("Routes")
    menu_order = 245
    add_to_admin_menu = True

    index_view_class = RouteIndexView
    edit_view_class = RouteEditView
    inspect_view_class = RouteInspectView
    delete_view_class = RouteDeleteView
    history_view_class = RouteHistoryView
    usage_view_class = RouteUsageView
    revisions_compare_view_class = RouteRevisionsCompareView
    chooser_viewset_class = RouteChooserViewSet
    copy_view_enabled = False
    inspect_view_enabled = True
    edit_template_name = TEMPLATES + "edit.html"
    inspect_template_name = TEMPLATES + "inspect.html"

    filterset_class = RouteFilterSet
    search_fields = ["teacher__last_name", "teacher__first_name", "teacher__patronymic"]
    search_backend_name = None
    ordering = ["-updated_at", "-pk"]
    list_export = [
        "teacher",
        "municipality",
        "school",
        "curator",
        "starts_on",
        "ends_on",
        "status",
        "updated_at",
    ]
    export_headings = {
        "teacher": _("Teacher"),
        "municipality": _("Municipality"),
        "school": _("School"),
        "curator": _("Curator"),
        "starts_on": _("Start"),
        "ends_on": _("End"),
        "status": _("Status"),
        "updated_at": _("Changed"),
    }
    export_filename = "routes"
    # The reference index would list routes in the "usage" of events to anyone who may see
    # the events.
    add_to_reference_index = False

    edit_handler = route_edit_handler()

    @property
    def revisions_revert_view_class(self):
        return RouteRevertView

    @property
    def add_view(self):
        return self.construct_view(RouteCreateView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            *audit_urlpatterns(),
            path(
                "transition/<iom_id:pk>/<slug:to_status>/",
                self.construct_view(RouteTransitionView),
                name="transition",
            ),
            path("refresh/<iom_id:pk>/", RefreshSnapshotView.as_view(), name="refresh_snapshot"),
            path("add-step/<iom_id:pk>/", AddStepView.as_view(), name="add_step"),
            path("comment/<iom_id:pk>/", CommentView.as_view(), name="comment"),
            path("drafts/", BuildDraftsView.as_view(), name="drafts"),
            path(
                "recommendations/<iom_id:pk>/",
                RecommendationsView.as_view(),
                name="recommendations",
            ),
            path(
                "curator-reflection/<iom_id:pk>/",
                CuratorReflectionView.as_view(),
                name="curator_reflection",
            ),
        ]
