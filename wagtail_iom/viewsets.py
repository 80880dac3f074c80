"""Admin screens of the package, built on Wagtail's ModelViewSet (wagtail_hooks.py registers them)."""

from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.pages.listing import IndexView as PageIndexView
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.viewsets.pages import PageListingViewSet

from .filters import (
    CompetencyFilterSet,
    EventAdminFilterSet,
    MunicipalityFilterSet,
    SchoolFilterSet,
)
from .models import Competency, CompetencyGroup, EventPage, Municipality, School
from .services import access
from .views import directory_import


class MunicipalityIndexView(IndexView):
    def get_base_queryset(self):
        from django.db.models import Count

        return super().get_base_queryset().annotate(school_count=Count("schools"))


class MunicipalityViewSet(ModelViewSet):
    model = Municipality
    name = "wagtail_iom_municipality"
    url_prefix = "iom/municipalities"
    icon = "site"
    menu_order = 100
    index_view_class = MunicipalityIndexView
    list_display = [
        "name",
        "kind",
        "oktmo",
        Column("school_count", label=_("Schools"), sort_key="school_count"),
    ]
    filterset_class = MunicipalityFilterSet
    list_export = ["name", "get_kind_display", "oktmo"]
    export_headings = {"get_kind_display": _("Kind")}
    export_filename = "municipalities"
    panels = [FieldPanel("name"), FieldPanel("kind"), FieldPanel("oktmo")]
    copy_view_enabled = False
    inspect_view_enabled = True


class SchoolIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("municipality")


class SchoolViewSet(ModelViewSet):
    model = School
    name = "wagtail_iom_school"
    url_prefix = "iom/schools"
    icon = "home"
    menu_order = 200
    index_view_class = SchoolIndexView
    list_display = ["name", "municipality", "kind", "inn"]
    filterset_class = SchoolFilterSet
    list_export = ["name", "short_name", "municipality.name", "get_kind_display", "inn", "address"]
    export_headings = {
        "municipality.name": _("Municipality"),
        "get_kind_display": _("Kind"),
    }
    export_filename = "schools"
    panels = [
        FieldPanel("municipality"),
        FieldPanel("name"),
        FieldPanel("short_name"),
        FieldPanel("kind"),
        FieldPanel("inn"),
        FieldPanel("address"),
    ]
    copy_view_enabled = False
    inspect_view_enabled = True


class CompetencyGroupViewSet(ModelViewSet):
    model = CompetencyGroup
    name = "wagtail_iom_competency_group"
    url_prefix = "iom/competency-groups"
    icon = "folder-open-inverse"
    menu_order = 300
    list_display = ["name", "code"]
    list_export = ["code", "name", "description"]
    export_filename = "competency-groups"
    panels = [FieldPanel("name"), FieldPanel("code"), FieldPanel("description")]
    copy_view_enabled = False


class CompetencyIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("group")


class CompetencyViewSet(ModelViewSet):
    model = Competency
    name = "wagtail_iom_competency"
    url_prefix = "iom/competencies"
    icon = "tick-inverse"
    menu_order = 400
    index_view_class = CompetencyIndexView
    list_display = ["name", "code", "group"]
    filterset_class = CompetencyFilterSet
    list_export = ["code", "name", "group.name", "description"]
    export_headings = {"group.name": _("Group")}
    export_filename = "competencies"
    ordering = ["group__sort_order", "sort_order"]
    panels = [
        FieldPanel("group"),
        FieldPanel("name"),
        FieldPanel("code"),
        FieldPanel("description"),
    ]
    copy_view_enabled = False


class DirectoryImportViewSet(ViewSet):
    """Upload → preview → apply for municipalities and schools."""

    name = "wagtail_iom_directory_import"
    url_prefix = "iom/directory-import"
    icon = "upload"
    menu_label = _("Import municipalities and schools")
    menu_order = 500

    def get_urlpatterns(self):
        return [
            path("", directory_import.upload, name="upload"),
            path("template.csv", directory_import.template_csv, name="template"),
            path("<int:pk>/", directory_import.detail, name="detail"),
            path("<int:pk>/apply/", directory_import.apply, name="apply"),
            path("<int:pk>/rejected.csv", directory_import.rejected_csv, name="rejected_csv"),
        ]

    @cached_property
    def menu_url(self):
        return reverse(self.get_url_name("upload"))

    @cached_property
    def menu_item_class(self):
        class DirectoryImportMenuItem(MenuItem):
            def is_shown(self, request):
                return access.can_import_directory(request.user)

        return DirectoryImportMenuItem


class DirectoryViewSetGroup(ViewSetGroup):
    """The reference data every other part of the package uses."""

    menu_label = _("Directories")
    menu_icon = "list-ul"
    menu_order = 900
    items = (
        MunicipalityViewSet,
        SchoolViewSet,
        CompetencyGroupViewSet,
        CompetencyViewSet,
        DirectoryImportViewSet,
    )


class EventIndexView(PageIndexView):
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
    menu_label = _("Events")
    menu_order = 250
    add_to_admin_menu = True
    filterset_class = EventAdminFilterSet
    columns = [
        column for column in PageListingViewSet.columns if column.name in ("bulk_actions", "title")
    ] + [
        Column("first_session_date", label=_("First session"), width="12%"),
        Column("get_track_display", label=_("Track"), width="14%"),
        Column("get_kind_display", label=_("Kind"), width="14%"),
        Column("get_status_display", label=_("Event status"), sort_key="status", width="12%"),
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
        "get_track_display": _("Track"),
        "get_kind_display": _("Kind"),
        "get_level_display": _("Level"),
        "get_status_display": _("Status"),
    }
    export_filename = "events"
