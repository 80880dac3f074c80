"""The methodical audit in the admin: the audit form of a completed route, the audit's one-page
PDF, and the list of audits grouped by level group (002's four groups) with their counts.

The form and the PDF are views of the route (:class:`~wagtail_iom.routes.admin.RouteViewSet`
wires them: ``audit`` and ``audit_pdf``); the list is a viewset of its own,
:class:`RouteAuditViewSet`, under *Reports*. Who audits is decided by
:func:`~wagtail_iom.core.access.can_audit_route`, who sees the audits by
:func:`~wagtail_iom.core.access.audits_visible_to`; the logic is in
:mod:`wagtail_iom.routes.audit`.
"""

import django_filters
from django import forms
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView, WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet

from wagtail_iom.core import access
from wagtail_iom.core.forms import IdModelChoiceFilter
from wagtail_iom.core.http import forbidden
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.curators.assignments import person_name
from wagtail_iom.diagnostics.models import DiagnosticLevel
from wagtail_iom.directory.models import Municipality
from wagtail_iom.people import access_log
from wagtail_iom.routes import audit as route_audit
from wagtail_iom.routes.documents import DocumentUnavailable
from wagtail_iom.routes.models import AuditResult, Route, RouteAudit
from wagtail_iom.routes.services import RouteError

VIEWSET_NAME = "wagtail_iom_route_audits"
TEMPLATES = "wagtail_iom/admin/routes/"


def route_urls(route):
    """The route's pages the audit links to (the route's viewset names them)."""
    viewset = Route.snippet_viewset
    return {
        "inspect": reverse(viewset.get_url_name("inspect"), args=[route.pk]),
        "list": reverse(viewset.get_url_name("list")),
    }


class RouteActionMixin:
    """Looks the route up among those the user reaches: another's id is a 404 (as the route's
    own actions do, routes/admin.py)."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.route = get_object_or_404(
            access.routes_visible_to(request.user).select_related(
                "teacher__municipality", "teacher__school", "curator"
            ),
            pk=kwargs["pk"],
        )

    def back(self):
        return redirect(route_urls(self.route)["inspect"])


# The form -------------------------------------------------------------------------------------


class RouteAuditForm(forms.Form):
    """A result and a comment per goal and task (``result_<n>``, ``comment_<n>``), then the
    transfer to practice, the level group, the further support and the conclusion."""

    def __init__(self, *args, rows, level_help="", **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        task = 0
        for number, row in enumerate(rows):
            if row.kind == "task":
                task += 1
                title = gettext("Task %(number)s") % {"number": task}
            else:
                title = gettext("Goal")
            self.fields[f"result_{number}"] = forms.ChoiceField(
                label=f"{title}: {row.text}",
                choices=AuditResult.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose how far this was achieved.")},
            )
            self.fields[f"comment_{number}"] = forms.CharField(
                label=_("Comment"),
                required=False,
                max_length=route_audit.COMMENT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.fields["transfer_to_practice"] = forms.CharField(
            label=_("Transfer to practice"),
            max_length=route_audit.TEXT_MAX_LENGTH,
            help_text=_(
                "How the teacher applies what was learnt in the lessons and the school's work."
            ),
            widget=forms.Textarea(attrs={"rows": 4}),
        )
        self.fields["level_group"] = forms.ChoiceField(
            label=_("Level group"),
            choices=DiagnosticLevel.choices,
            widget=forms.RadioSelect,
            help_text=level_help,
            error_messages={"required": _("Choose the level group.")},
        )
        self.fields["further_support"] = forms.CharField(
            label=_("Further support recommended"),
            required=False,
            max_length=route_audit.TEXT_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.fields["conclusion"] = forms.CharField(
            label=_("Conclusion"),
            max_length=route_audit.TEXT_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 4}),
        )

    def row_fields(self):
        return [
            (self[f"result_{number}"], self[f"comment_{number}"])
            for number in range(len(self.rows))
        ]

    def other_fields(self):
        return [
            self[name]
            for name in ("transfer_to_practice", "level_group", "further_support", "conclusion")
        ]

    def audit_data(self):
        data = self.cleaned_data
        return {
            "results": [
                {"result": data[f"result_{number}"], "comment": data[f"comment_{number}"]}
                for number in range(len(self.rows))
            ],
            **{name: data[name] for name in route_audit.TEXT_FIELDS},
            "level_group": data["level_group"],
        }


class RouteAuditView(RouteActionMixin, WagtailAdminTemplateMixin, FormView):
    """The audit form of a completed route; :func:`~wagtail_iom.routes.audit.record_audit`
    decides and records."""

    template_name = TEMPLATES + "audit.html"
    form_class = RouteAuditForm
    header_icon = "clipboard-list"

    def dispatch(self, request, *args, **kwargs):
        if not access.can_audit_route(request.user, self.route):
            return forbidden(
                request,
                _(
                    "A route is audited by a methodist of the teacher's municipality or by "
                    "the head of the centre."
                ),
            )
        problem = route_audit.refusal(self.route, request.user)
        if problem is not None:
            messages.error(request, problem.message)
            return self.back()
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def latest(self):
        return route_audit.initial_level(self.route)

    def get_form_kwargs(self):
        level, result = self.latest
        if result is not None:
            level_help = _(
                "Proposed from the teacher's latest diagnostics (%(date)s): %(level)s. "
                "Change it if the audit shows otherwise."
            ) % {"date": f"{result.date:%d.%m.%Y}", "level": result.get_level_display()}
        else:
            level_help = _("The teacher has no diagnostic results: choose the group.")
        return {
            **super().get_form_kwargs(),
            "rows": route_audit.audit_rows(self.route),
            "level_help": level_help,
        }

    def get_initial(self):
        level, _result = self.latest
        return {"level_group": level, "further_support": self.route.further_support}

    def get_page_title(self):
        return gettext("Methodical audit")

    def get_page_subtitle(self):
        return str(self.route)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": route_urls(self.route)["list"],
                "label": capfirst(Route._meta.verbose_name_plural),
            },
            {"url": route_urls(self.route)["inspect"], "label": str(self.route)},
            {"url": "", "label": self.get_page_title()},
        ]

    def form_invalid(self, form):
        messages.error(self.request, _("Correct the errors in the audit form."))
        return super().form_invalid(form)

    def form_valid(self, form):
        try:
            route_audit.record_audit(
                self.route,
                self.request.user,
                form.audit_data(),
                language=getattr(self.request, "LANGUAGE_CODE", None),
            )
        except route_audit.AuditInvalid as error:
            for name, message in error.errors.items():
                form.add_error(name if name in form.fields else None, message)
            return self.form_invalid(form)
        except RouteError as error:
            messages.error(self.request, error.message)
            return self.back()
        messages.success(
            self.request, _("The audit is recorded and sent to the centre; the route is audited.")
        )
        return redirect(route_urls(self.route)["inspect"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "route": self.route,
                "teacher": self.route.teacher,
                "cancel_url": route_urls(self.route)["inspect"],
            }
        )
        return context


class RouteAuditPdfView(RouteActionMixin, View):
    """The audit of a route the user sees, as its one-page PDF."""

    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        audit = route_audit.audited_route(
            get_object_or_404(RouteAudit.objects.only("pk"), route=self.route).pk
        )
        try:
            content = route_audit.audit_pdf(audit)
        except DocumentUnavailable as error:
            messages.error(request, str(error))
            return redirect(route_urls(self.route)["inspect"])
        access_log.record(
            request.user,
            access_log.Action.PRINT_ROUTE,
            self.route.teacher_id,
            object_id=self.route.pk,
            detail="audit.pdf",
        )
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{route_audit.audit_filename(audit)}"'
        )
        return response


def audit_urls(route):
    viewset = Route.snippet_viewset
    return {
        "form": reverse(viewset.get_url_name("audit"), args=[route.pk]),
        "pdf": reverse(viewset.get_url_name("audit_pdf"), args=[route.pk]),
    }


def route_urlpatterns():
    """The audit's views of a route, added to the route viewset's URLs."""
    return [
        path("audit/<iom_id:pk>/", RouteAuditView.as_view(), name="audit"),
        path("audit/<iom_id:pk>/pdf/", RouteAuditPdfView.as_view(), name="audit_pdf"),
    ]


# The list -------------------------------------------------------------------------------------

#: The order of the level groups in the list and in the counts (002: groups 1 to 4).
LEVEL_ORDER = [level.value for level in DiagnosticLevel]


def level_rank():
    return Case(
        *(When(level_group=value, then=Value(rank)) for rank, value in enumerate(LEVEL_ORDER)),
        default=Value(len(LEVEL_ORDER)),
        output_field=IntegerField(),
    )


class RouteAuditFilterSet(WagtailFilterSet):
    level_group = django_filters.ChoiceFilter(
        label=_("Level group"), choices=DiagnosticLevel.choices
    )
    municipality = IdModelChoiceFilter(
        label=_("Municipality"),
        field_name="route__teacher__municipality",
        queryset=Municipality.objects.order_by("name"),
    )

    class Meta:
        model = RouteAudit
        fields = ["level_group", "municipality"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # Only the centre chooses a municipality; a methodist's list is their own already.
        if request is not None and not access.sees_all_teachers(request.user):
            self.filters.pop("municipality", None)


def level_counts(queryset):
    """The number of audits in each of the four groups, in one query."""
    counts = queryset.order_by().aggregate(
        **{value: Count("pk", filter=Q(level_group=value)) for value in LEVEL_ORDER}
    )
    return counts


class RouteAuditIndexView(ListingMixin, access_log.ExportLoggedMixin, IndexView):
    template_name = "wagtail_iom/admin/route_audits/index.html"
    results_template_name = "wagtail_iom/admin/route_audits/index_results.html"
    export_access_action = access_log.Action.EXPORT_ROUTES
    teacher_id_field = "route__teacher_id"
    any_permission_required = None  # replaced by the access rule in dispatch()
    page_title = _("Methodical audits")
    default_ordering = "level"

    def dispatch(self, request, *args, **kwargs):
        if not access.can_view_routes(request.user):
            return forbidden(request, _("You may not see the audits of routes."))
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return (
            access.audits_visible_to(self.request.user)
            .select_related("route__teacher__municipality", "route__teacher__school", "auditor")
            .annotate(level_rank=level_rank())
        )

    def order_queryset(self, queryset):
        if self.ordering in ("level", "-level"):
            sign = "-" if self.ordering.startswith("-") else ""
            return queryset.order_by(f"{sign}level_rank", "-audited_at", "-pk")
        return super().order_queryset(queryset)

    @cached_property
    def columns(self):
        title_class = self._get_title_column_class(TitleColumn)
        return [
            title_class(
                "teacher",
                label=_("Teacher"),
                accessor=lambda audit: audit.route.teacher.full_name,
                url_name=None,
                get_url=lambda audit: route_urls(audit.route)["inspect"],
                sort_key="route__teacher__last_name",
            ),
            Column(
                "municipality",
                label=_("Municipality"),
                accessor=lambda audit: audit.route.teacher.municipality or "",
            ),
            Column(
                "school", label=_("School"), accessor=lambda audit: audit.route.teacher.school or ""
            ),
            Column(
                "level_group",
                label=_("Level group"),
                accessor="get_level_group_display",
                sort_key="level",
            ),
            Column("auditor", label=_("Audited by"), accessor=lambda a: person_name(a.auditor)),
            DateColumn("audited_at", label=_("Audited at"), sort_key="audited_at"),
            Column(
                "pdf",
                label=_("PDF"),
                accessor=lambda audit: format_html(
                    '<a href="{}" download>{}</a>', audit_urls(audit.route)["pdf"], gettext("PDF")
                ),
            ),
        ]

    @cached_property
    def counts_queryset(self):
        """The list's queryset with every filter but the level group's: the four counts."""
        queryset = access.audits_visible_to(self.request.user)
        filters = self.filters
        if filters is not None and filters.is_valid():
            data = {**filters.form.cleaned_data, "level_group": ""}
            for name, value in data.items():
                queryset = filters.filters[name].filter(queryset, value)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = level_counts(self.counts_queryset)
        selected = self.request.GET.get("level_group", "")
        query = self.request.GET.copy()
        query.pop("p", None)
        groups = []
        for number, value in enumerate(LEVEL_ORDER, start=1):
            query["level_group"] = value
            groups.append(
                {
                    "number": number,
                    "value": value,
                    "label": DiagnosticLevel(value).label,
                    "count": counts[value],
                    "url": "?" + query.urlencode(),
                    "current": selected == value,
                }
            )
        query.pop("level_group", None)
        context["level_groups"] = groups
        context["all_groups_url"] = "?" + query.urlencode()
        context["all_groups_current"] = not any(group["current"] for group in groups)
        context["level_total"] = sum(counts.values())
        return context

    def to_row_dict(self, item):
        teacher = item.route.teacher
        return {
            "teacher": teacher.full_name,
            "municipality": str(teacher.municipality or ""),
            "school": str(teacher.school or ""),
            "level_group": item.get_level_group_display(),
            "level_from_diagnostic": gettext("yes")
            if item.level_from_diagnostic
            else gettext("no"),
            "auditor": person_name(item.auditor),
            "audited_at": item.audited_at,
        }


class RouteAuditViewSet(ModelViewSet):
    """The methodical audits: listed, filtered and counted by level group, exported; recorded
    only through a route's audit form, never edited here."""

    pk_path_converter = "iom_id"
    model = RouteAudit
    name = VIEWSET_NAME
    url_prefix = "iom/route-audits"
    icon = "clipboard-list"
    menu_label = _("Methodical audits")
    add_to_admin_menu = False
    index_view_class = RouteAuditIndexView
    filterset_class = RouteAuditFilterSet
    # Grouped by level group (002's groups 1 to 4), the latest audits first in each.
    ordering = "level"
    list_per_page = 50
    list_export = [
        "teacher",
        "municipality",
        "school",
        "level_group",
        "level_from_diagnostic",
        "auditor",
        "audited_at",
    ]
    export_headings = {
        "teacher": _("Teacher"),
        "municipality": _("Municipality"),
        "school": _("School"),
        "level_group": _("Level group"),
        "level_from_diagnostic": _("Level group as in the latest diagnostic"),
        "auditor": _("Audited by"),
        "audited_at": _("Audited at"),
    }
    export_filename = "route-audits"
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
        # No add, edit, delete, history or usage views: an audit is recorded on its route.
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
        pass

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]
