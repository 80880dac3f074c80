"""The teachers' profiles in the Wagtail admin: a listing for curators and the centre, and the
profile's edit form (the info card, further education, achievements, communities and projects).

Teachers register themselves, so the admin does not create profiles. Every view takes its
profiles from :func:`wagtail_iom.core.access.teacher_profiles_visible_to`, so a staff member
reaches only the teachers they may see.
"""

import django_filters
from django import forms
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    Panel,
    TabbedInterface,
)
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.viewsets.model import ModelViewSet

from wagtail_iom.core import access
from wagtail_iom.core.forms import IdModelChoiceFilter
from wagtail_iom.core.http import NoCreationView, forbidden, parse_id, parse_ids
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.core.text import name_search
from wagtail_iom.directory.models import Municipality, School
from wagtail_iom.people import access_log
from wagtail_iom.people import profile as profile_service
from wagtail_iom.people.forms import check_school_municipality, school_field
from wagtail_iom.people.models import (
    PersonalDataAccess,
    PersonalDataAccessAction,
    QualificationCategory,
    TeacherProfile,
)
from wagtail_iom.people.widgets import TEACHER_CHOOSER, AdminTeacherChooser


class TeacherFilterSet(WagtailFilterSet):
    municipality = IdModelChoiceFilter(label=_("Municipality"), queryset=Municipality.objects.all())
    school = IdModelChoiceFilter(
        label=_("School"), queryset=School.objects.select_related("municipality")
    )
    qualification_category = django_filters.ChoiceFilter(
        label=_("Qualification category"), choices=QualificationCategory.choices
    )

    class Meta:
        model = TeacherProfile
        fields = ["municipality", "school", "qualification_category"]


class TeacherProfileAdminForm(WagtailAdminModelForm):
    """The admin's form: schools grouped by municipality, and the same school check as the cabinet."""

    school = school_field()

    def clean(self):
        cleaned = super().clean()
        check_school_municipality(self, cleaned)
        return cleaned


class ProfessionalRequestPanel(Panel):
    """The teacher's request, read-only: it is the teacher's own words."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_iom/admin/teachers/request_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["professional_request"] = (
                profile_service.professional_request_of(self.instance)
                if self.instance and self.instance.pk
                else None
            )
            return context


class VisibleTeachersMixin:
    """Edit and delete look the profile up among those the user may see: others are a 404."""

    def get_queryset(self):
        return access.teacher_profiles_visible_to(self.request.user)


class TeacherIndexView(ListingMixin, generic.IndexView):
    def get_base_queryset(self):
        return access.teacher_profiles_visible_to(self.request.user).select_related(
            "municipality", "school"
        )

    @cached_property
    def columns(self):
        title_column_class = self._get_title_column_class(TitleColumn)
        return [
            title_column_class(
                "full_name",
                label=_("Full name"),
                sort_key="last_name",
                # Curators with the "view" permission only open the read-only page.
                get_url=lambda obj: self.get_edit_url(obj) or self.get_inspect_url(obj),
            ),
            Column("municipality", label=_("Municipality"), sort_key="municipality__name"),
            Column("school", label=_("School"), sort_key="school__name"),
            Column("position", label=_("Position"), sort_key="position"),
            Column(
                "get_qualification_category_display",
                label=_("Qualification category"),
                sort_key="qualification_category",
            ),
        ]

    def search_queryset(self, queryset):
        """Every word of the query must start or occur in the last, first or middle name.

        The search runs in the database (profiles are not in the search index). SQLite
        compares only ASCII letters case-insensitively, so each word is also tried in the
        usual capitalisations of a name.
        """
        if not self.is_searching:
            return queryset
        return queryset.filter(name_search(self.search_query))


class ProfileAccessLoggedMixin(access_log.AccessLoggedMixin):
    access_action = access_log.Action.VIEW_PROFILE

    def logged_teacher_id(self, obj):
        return obj.pk


class TeacherEditView(ProfileAccessLoggedMixin, VisibleTeachersMixin, generic.EditView):
    pass


class TeacherDeleteView(VisibleTeachersMixin, generic.DeleteView):
    pass


class TeacherInspectView(ProfileAccessLoggedMixin, generic.InspectView):
    def get_object(self, queryset=None):
        return get_object_or_404(
            access.teacher_profiles_visible_to(self.request.user), pk=unquote(str(self.pk))
        )


class VisibleBaseObjectMixin:
    """History and usage (listings about one teacher): the same rule for their object."""

    def get_base_object_queryset(self):
        return access.teacher_profiles_visible_to(self.request.user)


class TeacherHistoryView(VisibleBaseObjectMixin, HistoryView):
    pass


class TeacherUsageView(VisibleBaseObjectMixin, UsageView):
    pass


def _name_panels():
    return FieldRowPanel(
        [FieldPanel("last_name"), FieldPanel("first_name"), FieldPanel("patronymic")],
        heading=_("Full name"),
    )


class TeacherViewSet(ModelViewSet):
    """The teachers' profiles: listing, search, filters and the tabbed edit form."""

    pk_path_converter = "iom_id"
    model = TeacherProfile
    name = "wagtail_iom_teachers"
    url_prefix = "iom/teachers"
    icon = "user"
    menu_label = _("Teachers")
    menu_order = 240
    add_to_admin_menu = True
    index_view_class = TeacherIndexView
    edit_view_class = TeacherEditView
    delete_view_class = TeacherDeleteView
    inspect_view_class = TeacherInspectView
    history_view_class = TeacherHistoryView
    usage_view_class = TeacherUsageView
    filterset_class = TeacherFilterSet
    # Searched by TeacherIndexView.search_queryset; naming the fields turns the search box on.
    search_fields = ["last_name", "first_name", "patronymic"]
    ordering = ["last_name", "first_name", "patronymic", "pk"]
    copy_view_enabled = False
    # The inspect view registers the "view" permission, which curators are given.
    inspect_view_enabled = True
    inspect_view_fields = [
        "last_name",
        "first_name",
        "patronymic",
        "municipality",
        "school",
        "position",
        "subjects",
        "education_level",
        "qualification_category",
        "attestation_date",
    ]
    # The reference index would list teachers in the "usage" of schools and municipalities,
    # to anyone who may see the directory.
    add_to_reference_index = False

    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    _name_panels(),
                    MultiFieldPanel(
                        [
                            FieldPanel("municipality"),
                            FieldPanel("school"),
                            FieldPanel("position"),
                            FieldPanel("subjects"),
                        ],
                        heading=_("Place of work"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("education_level"),
                            FieldPanel("education_institution"),
                            FieldPanel("qualification"),
                            FieldPanel("teaching_experience_years"),
                            FieldPanel("qualification_category"),
                            FieldPanel("attestation_date"),
                            FieldPanel("expert_area"),
                        ],
                        heading=_("Education and qualification"),
                    ),
                    MultiFieldPanel(
                        [FieldPanel("mentoring_role"), FieldPanel("mentoring_partner")],
                        heading=_("Mentoring"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldPanel("user", read_only=True),
                            FieldPanel("consent", read_only=True),
                        ],
                        heading=_("Account"),
                    ),
                ],
                heading=_("Info card"),
            ),
            ObjectList(
                [
                    HelpPanel(
                        content=_(
                            "Courses the teacher completed; the route document lists those of "
                            "the last three years, grouped as regional, federal and in the "
                            "federal registry."
                        )
                    ),
                    InlinePanel(
                        "further_education",
                        label=_("Course"),
                        panels=[
                            FieldPanel("kind"),
                            FieldPanel("programme"),
                            FieldPanel("place"),
                            FieldPanel("hours"),
                            FieldPanel("completed_on"),
                            FieldPanel("certificate_number"),
                        ],
                    ),
                ],
                heading=_("Further education"),
            ),
            ObjectList(
                [
                    InlinePanel(
                        "achievements",
                        label=_("Achievement"),
                        panels=[
                            FieldPanel("direction"),
                            FieldPanel("description"),
                            FieldPanel("year"),
                            FieldPanel("link"),
                        ],
                    ),
                ],
                heading=_("Achievements"),
            ),
            ObjectList(
                [
                    InlinePanel(
                        "communities",
                        label=_("Professional community"),
                        heading=_("Professional communities"),
                        panels=[FieldPanel("name"), FieldPanel("status")],
                    ),
                    InlinePanel(
                        "regional_projects",
                        label=_("Regional project"),
                        heading=_("Regional projects"),
                        panels=[FieldPanel("name"), FieldPanel("role")],
                    ),
                ],
                heading=_("Communities and projects"),
            ),
            ObjectList(
                [ProfessionalRequestPanel(heading=_("Professional request"))],
                heading=_("Professional request"),
            ),
        ],
        base_form_class=TeacherProfileAdminForm,
    )

    def get_urlpatterns(self):
        # Teachers register themselves: there is no "add" view, so no button leads to one.
        return [pattern for pattern in super().get_urlpatterns() if pattern.name != "add"]

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(**{"add_url_name": None, **kwargs})


class TeacherSearchForm(BaseFilterForm):
    """Search the chooser by last name (the start or any part of it, in any case)."""

    q = forms.CharField(
        label=_("Last name"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Search by last name")}),
    )

    def filter(self, objects):
        objects = super().filter(objects)
        query = (self.cleaned_data.get("q") or "").strip()
        if query:
            self.is_searching = True
            self.search_query = query
            objects = objects.filter(name_search(query, ["last_name"]))
        return objects


class TeacherChooserMixin:
    filter_form_class = TeacherSearchForm
    per_page = 20

    def get_object_list(self):
        return access.teacher_profiles_visible_to(self.request.user).select_related(
            "school", "municipality"
        )

    @property
    def columns(self):
        return [
            *super().columns,
            Column("school", label=_("School"), accessor="school"),
            Column("municipality", label=_("Municipality"), accessor="municipality"),
        ]


class TeacherChooseView(TeacherChooserMixin, chooser_views.ChooseView):
    pass


class TeacherChooseResultsView(TeacherChooserMixin, chooser_views.ChooseResultsView):
    pass


class TeacherChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        # A teacher the user may not see is not found, even with the id in the URL; neither is
        # an id that cannot be one.
        pk = parse_id(pk)
        if pk is None:
            raise TeacherProfile.DoesNotExist
        return access.teacher_profiles_visible_to(self.request.user).get(pk=pk)


class TeacherChosenMultipleView(chooser_views.ChosenMultipleView):
    def get_objects(self, pks):
        return access.teacher_profiles_visible_to(self.request.user).filter(pk__in=parse_ids(pks))


class TeacherChooserViewSet(ChooserViewSet):
    model = TeacherProfile
    icon = "user"
    choose_one_text = AdminTeacherChooser.choose_one_text
    choose_another_text = AdminTeacherChooser.choose_another_text
    edit_item_text = AdminTeacherChooser.link_to_chosen_text
    widget_class = AdminTeacherChooser
    choose_view_class = TeacherChooseView
    choose_results_view_class = TeacherChooseResultsView
    chosen_view_class = TeacherChosenView
    chosen_multiple_view_class = TeacherChosenMultipleView
    # Teachers register themselves (with their consent): never created in a chooser.
    create_view_class = NoCreationView
    # Used explicitly (people.widgets.AdminTeacherChooser) rather than for every foreign key to
    # a teacher, so that other parts of the package choose how their own forms pick teachers.
    register_widget = False


teacher_chooser_viewset = TeacherChooserViewSet(TEACHER_CHOOSER, url_prefix="iom/choose-teacher")


# The access log (who read what) -------------------------------------------------------------


class PersonalDataAccessFilterSet(WagtailFilterSet):
    teacher = IdModelChoiceFilter(
        label=_("Teacher"),
        # Only teachers somebody read: the list stays as short as the log.
        queryset=lambda request: TeacherProfile.objects.filter(
            pk__in=PersonalDataAccess.objects.values("teacher_id")
        ).order_by("last_name", "first_name", "patronymic", "pk"),
    )
    staff_member = IdModelChoiceFilter(
        label=_("Staff member"),
        queryset=lambda request: (
            get_user_model()
            .objects.filter(pk__in=PersonalDataAccess.objects.values("staff_member_id"))
            .order_by("last_name", "first_name", "pk")
        ),
    )
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=PersonalDataAccessAction.choices
    )
    at = django_filters.DateFromToRangeFilter(
        label=_("Date"), widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = PersonalDataAccess
        fields = ["teacher", "staff_member", "action", "at"]


class PersonalDataAccessIndexView(ListingMixin, generic.IndexView):
    any_permission_required = None  # replaced by the access rule in dispatch()
    page_title = _("Access log")

    def dispatch(self, request, *args, **kwargs):
        if not access_log.can_read_access_log(request.user):
            return forbidden(request, _("Only the head of the centre reads the access log."))
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return PersonalDataAccess.objects.select_related("teacher", "staff_member")

    @cached_property
    def columns(self):
        return [
            Column("at", label=_("When"), sort_key="at"),
            Column("staff_member_name", label=_("Staff member")),
            Column("teacher", label=_("Teacher")),
            Column("get_action_display", label=_("Action"), sort_key="action"),
            Column("object_id", label=_("Object")),
            Column("detail", label=_("Detail")),
        ]


class PersonalDataAccessViewSet(ModelViewSet):
    """The access log, read by the head of the centre: filtered by teacher, staff member,
    action and date; exported as CSV and XLSX. Nobody adds, edits or deletes its rows."""

    pk_path_converter = "iom_id"
    model = PersonalDataAccess
    name = "wagtail_iom_access_log"
    url_prefix = "iom/access-log"
    icon = "history"
    menu_label = _("Access log")
    add_to_admin_menu = False
    index_view_class = PersonalDataAccessIndexView
    filterset_class = PersonalDataAccessFilterSet
    ordering = ["-at", "-pk"]
    list_per_page = 50
    list_export = [
        "at",
        "staff_member_name",
        "teacher",
        "get_action_display",
        "object_id",
        "detail",
    ]
    export_headings = {
        "at": _("When"),
        "staff_member_name": _("Staff member"),
        "teacher": _("Teacher"),
        "get_action_display": _("Action"),
        "object_id": _("Object"),
        "detail": _("Detail"),
    }
    export_filename = "access-log"
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
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

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]

    def register_admin_url_finder(self):
        pass  # the rows have no edit view

    def get_permissions_to_register(self):
        return Permission.objects.none()  # the role decides, not a group's permission


class AccessLogMenuItem(MenuItem):
    def is_shown(self, request):
        return access_log.can_read_access_log(request.user)


access_log_viewset = PersonalDataAccessViewSet()


def access_log_menu_item():
    """*Reports → Access log*, shown to the head of the centre."""
    return AccessLogMenuItem(
        access_log_viewset.menu_label,
        reverse(access_log_viewset.get_url_name("index")),
        name="iom-access-log",
        icon_name=access_log_viewset.icon,
        order=900,
    )
