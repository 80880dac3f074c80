"""The "Curators" admin screens: staff roles, assigning teachers to curators, proposals.

* **Staff roles** — a ``ModelViewSet`` of :class:`~wagtail_iom.models.StaffMembership` (who is a
  curator, the centre head, a municipal methodist of which municipality, a school head of which
  school). Only the centre head or a superuser manages it
  (:func:`~wagtail_iom.core.access.can_manage_staff_roles`).
* **Assign curators** — the centre head filters the teachers (municipality, school, with or
  without a curator, name), ticks some or applies to *all teachers matching the filter*, and
  assigns them to a curator or unassigns them; a history per teacher
  (:func:`~wagtail_iom.core.access.can_assign_curators`).
* **Propose teachers** — a municipal methodist proposes teachers of the own municipality with a
  comment (:func:`~wagtail_iom.core.access.can_propose_teachers`).
* **Recommend teachers** — a school head recommends teachers of the own school for routes
  (:func:`~wagtail_iom.core.access.can_recommend_teachers`); the recommendations land in the
  municipality's proposals.
* **Proposed teachers** — the centre accepts proposals (choosing a curator) or rejects them;
  each shows its origin (a methodist's proposal, a teacher's request, a school head's
  recommendation).
* **My teachers** — a curator's assigned teachers (the centre head's: all who have a curator),
  when each was last sent the recommendation letter and by whom; the letter goes to one teacher
  (after a preview) or to the ticked ones
  (:func:`~wagtail_iom.core.access.teachers_recommendation_sendable_by`). The centre head edits
  the letter's template (:mod:`wagtail_iom.curators.recommendations`).

The work is done by :mod:`wagtail_iom.curators.assignments`; ``wagtail_hooks.py`` registers the
viewsets, the log actions and the permissions shown in the group editor.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import AdminDateInput
from wagtail.log_actions import LogFormatter

from wagtail_iom.core import access
from wagtail_iom.core.access import StaffRole
from wagtail_iom.core.forms import IdModelChoiceField, IdModelChoiceFilter
from wagtail_iom.core.http import forbidden, parse_id, parse_ids
from wagtail_iom.core.listings import ListingMixin
from wagtail_iom.curators import assignments as service
from wagtail_iom.curators import recommendations
from wagtail_iom.curators.models import (
    RecommendationLetter,
    RecommendationSent,
    StaffMembership,
    TeacherProposal,
    TeacherProposalOrigin,
    TeacherProposalStatus,
)
from wagtail_iom.directory.models import Municipality, School
from wagtail_iom.people.forms import SchoolChoiceField
from wagtail_iom.people.models import PersonalDataConsent

ASSIGNMENTS = "wagtail_iom_assignments"
PROPOSALS = "wagtail_iom_proposals"
PROPOSE = "wagtail_iom_propose"
RECOMMEND = "wagtail_iom_recommend"
RECOMMENDATIONS = "wagtail_iom_recommendations"
PER_PAGE = 50

ASSIGN = "assign"
UNASSIGN = "unassign"
ACCEPT = "accept"
REJECT = "reject"


# Staff roles ---------------------------------------------------------------------------------


def staff_user_choices(include_pk=None):
    """Users who may enter the admin (a role is of no use to anyone else), and the user the
    edited role already belongs to."""
    access_admin = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    users = get_user_model().objects.filter(
        Q(is_active=True)
        & (
            Q(is_superuser=True)
            | Q(groups__permissions__in=access_admin)
            | Q(user_permissions__in=access_admin)
        )
    )
    if include_pk:
        users = get_user_model().objects.filter(Q(pk__in=users.values("pk")) | Q(pk=include_pk))
    return users.distinct().order_by("last_name", "first_name", "username")


def person_label(user):
    """A user named by full name and login, as staff recognise each other."""
    name = user.get_full_name()
    login = user.get_username()
    return f"{name} ({login})" if name else login


class PersonChoiceField(IdModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class StaffRoleForm(WagtailAdminModelForm):
    user = PersonChoiceField(
        queryset=get_user_model().objects.none(), label=gettext_lazy("Staff member")
    )
    school = SchoolChoiceField(
        queryset=School.objects.all(),
        required=False,
        label=gettext_lazy("School"),
        help_text=gettext_lazy("Required for a school head."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff_user_choices(self.instance.user_id)

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        # A place that does not belong to the role would make a second, different-looking
        # copy of it (the unique constraints tell the shapes apart), so it is refused...
        if role in (StaffRole.CURATOR, StaffRole.CENTRE_HEAD) and cleaned.get("municipality"):
            self.add_error(
                "municipality",
                ValidationError(
                    _("This role is not tied to a municipality: leave the field empty."),
                    code="not_for_role",
                ),
            )
        if role and role != StaffRole.SCHOOL_HEAD and cleaned.get("school"):
            self.add_error(
                "school",
                ValidationError(
                    _("Only a school head's role is tied to a school: leave the field empty."),
                    code="not_for_role",
                ),
            )
        # ...except a school head's municipality, which the school already says.
        if role == StaffRole.SCHOOL_HEAD:
            cleaned["municipality"] = None
        return cleaned


class StaffRoleFilterSet(WagtailFilterSet):
    role = django_filters.ChoiceFilter(label=gettext_lazy("Role"), choices=StaffRole.choices)
    municipality = IdModelChoiceFilter(
        label=gettext_lazy("Municipality"), queryset=Municipality.objects.all()
    )

    class Meta:
        model = StaffMembership
        fields = ["role", "municipality"]


class StaffRoleIndexView(ListingMixin, generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("user", "municipality", "school")

    @cached_property
    def columns(self):
        title_column_class = self._get_title_column_class(TitleColumn)
        return [
            title_column_class(
                "user",
                label=gettext_lazy("Staff member"),
                accessor=lambda m: person_label(m.user),
                sort_key="user__last_name",
                get_url=self.get_edit_url,
            ),
            Column(
                "role", label=gettext_lazy("Role"), accessor="get_role_display", sort_key="role"
            ),
            Column(
                "municipality", label=gettext_lazy("Municipality"), sort_key="municipality__name"
            ),
            Column("school", label=gettext_lazy("School"), sort_key="school__name"),
        ]


class StaffRoleViewSet(ModelViewSet):
    """Who holds which staff role; the roles narrow what each person reaches (access.py)."""

    pk_path_converter = "iom_id"
    model = StaffMembership
    name = "wagtail_iom_staff_roles"
    url_prefix = "iom/staff-roles"
    icon = "user"
    menu_label = gettext_lazy("Staff roles")
    menu_order = 100
    index_view_class = StaffRoleIndexView
    filterset_class = StaffRoleFilterSet
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    ordering = ["user__last_name", "user__first_name", "user__username", "role", "pk"]
    list_export = [
        "user.get_username",
        "user.get_full_name",
        "get_role_display",
        "municipality",
        "school",
    ]
    export_headings = {
        "user.get_username": gettext_lazy("Login"),
        "user.get_full_name": gettext_lazy("Full name"),
        "get_role_display": gettext_lazy("Role"),
    }
    export_filename = "staff-roles"
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False
    edit_handler = ObjectList(
        [
            FieldPanel("user"),
            FieldPanel("role"),
            FieldPanel("municipality"),
            FieldPanel("school"),
        ],
        base_form_class=StaffRoleForm,
    )


# Shared pieces of the screens ----------------------------------------------------------------


def _ids(values):
    """Whole numbers from a POST list; None if any value is not one (a forged request)."""
    ids = set(parse_ids(values))
    if len(ids) != len(set(values)):
        return None
    return ids


def _refuse_ids(request):
    return forbidden(
        request,
        _(
            "Some of the chosen items are not among those you may change, or no longer exist. "
            "Nothing was changed. Reload the list and try again."
        ),
    )


def _paginate(request, queryset):
    paginator = WagtailPaginator(queryset, PER_PAGE)
    page = paginator.get_page(request.GET.get("p"))
    return {
        "page_obj": page,
        "paginator": paginator,
        "elided_page_range": paginator.get_elided_page_range(page.number),
    }


HAS_CURATOR_CHOICES = [
    ("", gettext_lazy("With or without a curator")),
    ("yes", gettext_lazy("With a curator")),
    ("no", gettext_lazy("Without a curator")),
]


class TeacherFilterForm(forms.Form):
    """The filter of the assignment and proposal screens (a GET form)."""

    q = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=200)
    municipality = IdModelChoiceField(
        label=gettext_lazy("Municipality"), queryset=Municipality.objects.all(), required=False
    )
    school = SchoolChoiceField(
        label=gettext_lazy("School"), queryset=School.objects.all(), required=False
    )
    has_curator = forms.ChoiceField(
        label=gettext_lazy("Has a curator"), choices=HAS_CURATOR_CHOICES, required=False
    )
    curator = PersonChoiceField(
        label=gettext_lazy("Current curator"), queryset=service.curators(), required=False
    )

    def __init__(self, *args, municipalities=None, with_curator_filter=True, **kwargs):
        super().__init__(*args, **kwargs)
        if municipalities is not None:
            self.fields["municipality"].queryset = municipalities
            self.fields["school"].queryset = School.objects.filter(municipality__in=municipalities)
        if not with_curator_filter:
            del self.fields["curator"]

    def filters(self):
        """The valid fields as keyword arguments of services.assignments.filter_teachers;
        an invalid field is left out (call after is_valid())."""
        data = getattr(self, "cleaned_data", {})
        return {
            "search": data.get("q") or "",
            "municipality": data.get("municipality"),
            "school": data.get("school"),
            "has_curator": {"yes": True, "no": False}.get(data.get("has_curator") or ""),
            "curator": data.get("curator"),
        }


def _chosen_curator(request):
    """The user named by the POST's ``curator``, or None. Whether they hold the curator role
    is checked by the service, which refuses with a message saying so."""
    pk = parse_id(request.POST.get("curator"))
    if pk is None:
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def _current_curator(teacher):
    rows = getattr(teacher, "current_assignments", None) or []
    return rows[0].curator if rows else None


class _ScreenMixin(WagtailAdminTemplateMixin):
    header_icon = "group"
    index_url_name = None

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": self.get_page_title()},
        ]

    def back(self):
        """Back to the same screen with the same filter and page."""
        return redirect(self.request.get_full_path())


# Assign curators -----------------------------------------------------------------------------


class AssignmentIndexView(_ScreenMixin, TemplateView):
    """The teachers with their curators; assign or unassign the ticked ones or all that match."""

    template_name = "wagtail_iom/admin/assignments/index.html"
    page_title = gettext_lazy("Assign curators")
    index_url_name = f"{ASSIGNMENTS}:index"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_assign_curators(request.user):
            return forbidden(
                request,
                _("Only the head of the centre assigns teachers to curators."),
            )
        return super().dispatch(request, *args, **kwargs)

    def visible_teachers(self):
        return access.teacher_profiles_visible_to(self.request.user)

    @cached_property
    def filter_form(self):
        form = TeacherFilterForm(self.request.GET or None)
        form.is_valid()
        return form

    def filtered_teachers(self):
        return service.filter_teachers(self.visible_teachers(), **self.filter_form.filters())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        teachers = (
            self.filtered_teachers()
            .select_related("municipality", "school")
            .prefetch_related(service.current_assignments_prefetch())
            .order_by("last_name", "first_name", "patronymic", "pk")
        )
        context.update(_paginate(self.request, teachers))
        context["rows"] = [
            (teacher, _current_curator(teacher)) for teacher in context["page_obj"].object_list
        ]
        context["filter_form"] = self.filter_form
        context["curators"] = list(service.curators())
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if action not in (ASSIGN, UNASSIGN):
            messages.error(request, _("Choose “Assign” or “Unassign”."))
            return self.back()
        if request.POST.get("select_all"):
            if self.request.GET and not self.filter_form.is_valid():
                messages.error(
                    request,
                    _("The filter is not valid, so nothing was changed. Correct it and try again."),
                )
                return self.back()
            # Ids only: a whole region's teachers are not loaded as objects.
            teachers = list(self.filtered_teachers().order_by().values_list("pk", flat=True))
        else:
            ids = _ids(request.POST.getlist("teacher"))
            if ids is None:
                return _refuse_ids(request)
            found = set(self.visible_teachers().filter(pk__in=ids).values_list("pk", flat=True))
            if found != ids:
                return _refuse_ids(request)
            teachers = sorted(ids)
        if not teachers:
            messages.warning(request, _("No teachers were selected: tick some, or choose all."))
            return self.back()
        if action == UNASSIGN:
            result = service.unassign(teachers, request.user)
            messages.success(
                request,
                _("Curators unassigned from %(count)d teachers; %(none)d had no curator.")
                % {"count": result.unassigned, "none": result.not_assigned},
            )
            return self.back()
        curator = _chosen_curator(request)
        if curator is None:
            messages.error(request, _("Choose the curator to assign the teachers to."))
            return self.back()
        try:
            result = service.assign(teachers, curator, request.user)
        except service.AssignmentError as exc:
            messages.error(request, exc.message)
            return self.back()
        messages.success(
            request,
            _(
                "Assigned to %(curator)s: %(assigned)d teachers without a curator, %(moved)d "
                "moved from another curator, %(unchanged)d already with this curator."
            )
            % {
                "curator": service.person_name(curator),
                "assigned": result.assigned,
                "moved": result.reassigned,
                "unchanged": result.unchanged,
            },
        )
        return self.back()


class AssignmentHistoryView(_ScreenMixin, TemplateView):
    """One teacher's assignment rows and proposals: who, by whom, when."""

    template_name = "wagtail_iom/admin/assignments/history.html"
    page_title = gettext_lazy("Curator history")
    index_url_name = f"{ASSIGNMENTS}:index"

    def dispatch(self, request, pk):
        if not access.can_assign_curators(request.user):
            return forbidden(
                request, _("Only the head of the centre assigns teachers to curators.")
            )
        self.teacher = get_object_or_404(access.teacher_profiles_visible_to(request.user), pk=pk)
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return self.teacher.full_name

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Assign curators")},
            {"url": "", "label": self.teacher.full_name},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        proposals = list(
            self.teacher.proposals.select_related("proposed_by", "decided_by").order_by(
                "-proposed_at", "-pk"
            )
        )
        comments = service.rejection_comments(proposals)
        context.update(
            {
                "teacher": self.teacher,
                "assignments": service.assignment_history(self.teacher),
                "proposals": [(p, comments.get(p.pk, "")) for p in proposals],
            }
        )
        return context


# Proposals -----------------------------------------------------------------------------------


OPEN_ORIGIN_CHOICES = [
    ("", gettext_lazy("Any")),
    *[(value, label) for value, label in TeacherProposalOrigin.choices],
]


class ProposeFilterForm(TeacherFilterForm):
    """The methodist's filter: the teachers' filter and the origin of a proposal that awaits
    the centre (a teacher's request, a school head's recommendation...)."""

    origin = forms.ChoiceField(
        label=gettext_lazy("Awaiting the centre, by origin"),
        choices=OPEN_ORIGIN_CHOICES,
        required=False,
    )


class ProposeView(_ScreenMixin, TemplateView):
    """A municipal methodist ticks teachers of the own municipality and proposes them."""

    template_name = "wagtail_iom/admin/assignments/propose.html"
    page_title = gettext_lazy("Propose teachers")
    index_url_name = f"{PROPOSE}:index"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_propose_teachers(request.user):
            return forbidden(
                request,
                _("Only municipal methodists propose teachers of their municipality for routes."),
            )
        return super().dispatch(request, *args, **kwargs)

    def proposable(self):
        return access.teachers_proposable_by(self.request.user)

    @cached_property
    def filter_form(self):
        user = self.request.user
        municipalities = None
        if not access.is_centre_head(user):
            municipalities = Municipality.objects.filter(
                pk__in=[
                    m.municipality_id
                    for m in access.staff_roles(user)
                    if m.role == StaffRole.MUNICIPAL_METHODIST
                ]
            )
        form = ProposeFilterForm(
            self.request.GET or None, municipalities=municipalities, with_curator_filter=False
        )
        form.is_valid()
        return form

    def filtered_teachers(self):
        teachers = service.filter_teachers(self.proposable(), **self.filter_form.filters())
        origin = getattr(self.filter_form, "cleaned_data", {}).get("origin")
        if origin:
            teachers = teachers.filter(
                pk__in=TeacherProposal.objects.filter(
                    status=TeacherProposalStatus.PROPOSED, origin=origin
                ).values("teacher_id")
            )
        return teachers

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        teachers = (
            self.filtered_teachers()
            .select_related("municipality", "school")
            .prefetch_related(
                service.current_assignments_prefetch(),
                Prefetch(
                    "proposals",
                    queryset=TeacherProposal.objects.order_by("-proposed_at", "-pk"),
                    to_attr="latest_proposals",
                ),
            )
            .order_by("last_name", "first_name", "patronymic", "pk")
        )
        context.update(_paginate(self.request, teachers))
        page = list(context["page_obj"].object_list)
        latest = [t.latest_proposals[0] for t in page if t.latest_proposals]
        comments = service.rejection_comments(latest)
        context["rows"] = [
            (
                teacher,
                _current_curator(teacher),
                teacher.latest_proposals[0] if teacher.latest_proposals else None,
                comments.get(teacher.latest_proposals[0].pk, "")
                if teacher.latest_proposals
                else "",
            )
            for teacher in page
        ]
        context["filter_form"] = self.filter_form
        context["comment_max_length"] = ProposalCommentForm.base_fields["comment"].max_length
        context["recommend"] = self.origin == TeacherProposalOrigin.SCHOOL_HEAD
        return context

    origin = TeacherProposalOrigin.METHODIST

    def post(self, request, *args, **kwargs):
        ids = _ids(request.POST.getlist("teacher"))
        if ids is None:
            return _refuse_ids(request)
        if set(self.proposable().filter(pk__in=ids).values_list("pk", flat=True)) != ids:
            return _refuse_ids(request)
        if not ids:
            messages.warning(request, _("No teachers were selected."))
            return self.back()
        form = ProposalCommentForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["comment"]))
            return self.back()
        result = service.propose(
            sorted(ids),
            request.user,
            form.cleaned_data["comment"],
            origin=self.origin,
            language=get_language(),
        )
        if result.created:
            messages.success(request, self.success_message(len(result.created)))
        if result.already_proposed:
            messages.warning(
                request,
                _("Already awaiting the centre, not proposed again: %(names)s.")
                % {"names": ", ".join(t.full_name for t in result.already_proposed[:20])},
            )
        return self.back()

    def success_message(self, count):
        return _("%(count)d teachers proposed; the centre will verify the list.") % {"count": count}


class RecommendView(ProposeView):
    """A school head ticks teachers of the own school and recommends them for a route: the
    recommendations land in the municipality's proposals, which the centre verifies."""

    page_title = gettext_lazy("Recommend teachers")
    index_url_name = f"{RECOMMEND}:index"
    origin = TeacherProposalOrigin.SCHOOL_HEAD

    def dispatch(self, request, *args, **kwargs):
        if not access.can_recommend_teachers(request.user):
            return forbidden(
                request,
                _("Only school heads recommend teachers of their school for routes."),
            )
        return super(ProposeView, self).dispatch(request, *args, **kwargs)

    def proposable(self):
        return access.teachers_recommendable_by(self.request.user)

    @cached_property
    def filter_form(self):
        schools = [
            m.school_id
            for m in access.staff_roles(self.request.user)
            if m.role == StaffRole.SCHOOL_HEAD
        ]
        form = ProposeFilterForm(
            self.request.GET or None,
            municipalities=Municipality.objects.filter(schools__in=schools).distinct(),
            with_curator_filter=False,
        )
        form.fields["school"].queryset = School.objects.filter(pk__in=schools)
        form.is_valid()
        return form

    def success_message(self, count):
        return _(
            "%(count)d teachers recommended for a route; the methodists of the municipality "
            "are told, and the centre assigns the curators."
        ) % {"count": count}


class ProposalCommentForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Comment for the centre"), required=False, max_length=2000
    )


STATUS_FILTER_CHOICES = [
    (TeacherProposalStatus.PROPOSED, gettext_lazy("Awaiting verification")),
    (TeacherProposalStatus.ACCEPTED, TeacherProposalStatus.ACCEPTED.label),
    (TeacherProposalStatus.REJECTED, TeacherProposalStatus.REJECTED.label),
    ("all", gettext_lazy("All")),
]


class ProposalFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=STATUS_FILTER_CHOICES, required=False
    )
    origin = forms.ChoiceField(
        label=gettext_lazy("Origin"), choices=OPEN_ORIGIN_CHOICES, required=False
    )
    municipality = IdModelChoiceField(
        label=gettext_lazy("Municipality"), queryset=Municipality.objects.all(), required=False
    )


class ProposalListView(_ScreenMixin, TemplateView):
    """The centre verifies proposals: accept (assigning a curator) or reject with a reason."""

    template_name = "wagtail_iom/admin/assignments/proposals.html"
    page_title = gettext_lazy("Proposed teachers")
    index_url_name = f"{PROPOSALS}:index"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_assign_curators(request.user):
            return forbidden(
                request, _("Only the head of the centre verifies the proposed teachers.")
            )
        return super().dispatch(request, *args, **kwargs)

    def visible_proposals(self):
        return TeacherProposal.objects.filter(
            teacher__in=access.teacher_profiles_visible_to(self.request.user).values("pk")
        )

    @cached_property
    def filter_form(self):
        form = ProposalFilterForm(self.request.GET or None)
        form.is_valid()
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = getattr(self.filter_form, "cleaned_data", {})
        status = data.get("status") or TeacherProposalStatus.PROPOSED
        proposals = self.visible_proposals()
        if status != "all":
            proposals = proposals.filter(status=status)
        if data.get("municipality"):
            proposals = proposals.filter(teacher__municipality=data["municipality"])
        if data.get("origin"):
            proposals = proposals.filter(origin=data["origin"])
        proposals = (
            proposals.select_related(
                "teacher",
                "teacher__municipality",
                "teacher__school",
                "proposed_by",
                "decided_by",
            )
            .prefetch_related(
                Prefetch(
                    "teacher__curator_assignments",
                    queryset=service.current_assignments_prefetch().queryset,
                    to_attr="current_assignments",
                )
            )
            .order_by("-proposed_at", "-pk")
        )
        context.update(_paginate(self.request, proposals))
        page = list(context["page_obj"].object_list)
        comments = service.rejection_comments(page)
        context["rows"] = [
            (proposal, _current_curator(proposal.teacher), comments.get(proposal.pk, ""))
            for proposal in page
        ]
        context["filter_form"] = self.filter_form
        context["status"] = status
        context["curators"] = list(service.curators())
        return context

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if action not in (ACCEPT, REJECT):
            messages.error(request, _("Choose “Accept” or “Reject”."))
            return self.back()
        ids = _ids(request.POST.getlist("proposal"))
        if ids is None:
            return _refuse_ids(request)
        proposals = list(
            self.visible_proposals().filter(pk__in=ids).select_related("teacher").order_by("pk")
        )
        if {p.pk for p in proposals} != ids:
            return _refuse_ids(request)
        if not proposals:
            messages.warning(request, _("No proposals were selected."))
            return self.back()
        curator = None
        if action == ACCEPT:
            curator = _chosen_curator(request)
            if curator is None:
                messages.error(request, _("Choose the curator to assign the accepted teachers to."))
                return self.back()
            if not service.is_curator(curator):
                messages.error(
                    request,
                    _("%(name)s does not hold the curator role; choose another curator.")
                    % {"name": service.person_name(curator)},
                )
                return self.back()
        comment = (request.POST.get("comment") or "")[:2000]
        done, skipped = 0, 0
        with transaction.atomic():
            for proposal in proposals:
                try:
                    if action == ACCEPT:
                        service.accept_proposal(proposal, curator, request.user)
                    else:
                        service.reject_proposal(proposal, request.user, comment)
                except service.AssignmentError:
                    skipped += 1
                else:
                    done += 1
        if action == ACCEPT:
            text = _("%(done)d proposals accepted and the teachers assigned to %(curator)s.") % {
                "done": done,
                "curator": service.person_name(curator),
            }
        else:
            text = _("%(done)d proposals rejected.") % {"done": done}
        messages.success(request, text)
        if skipped:
            messages.warning(
                request,
                _("%(count)d proposals had already been decided and were left as they were.")
                % {"count": skipped},
            )
        return self.back()


# The recommendation letter ---------------------------------------------------------------------


class RecommendationLetterForm(forms.ModelForm):
    """The centre head's template of the letter; a placeholder the letter does not know is
    refused, naming it."""

    class Meta:
        model = RecommendationLetter
        fields = ["subject", "body", "deadline"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 24}),
            "deadline": AdminDateInput(),
        }

    def clean(self):
        cleaned = super().clean()
        subject, body = cleaned.get("subject", ""), cleaned.get("body", "")
        for name, text in (("subject", subject), ("body", body)):
            unknown = recommendations.unknown_placeholders(text)
            if unknown:
                self.add_error(
                    name,
                    ValidationError(
                        ngettext(
                            "Unknown placeholder %(names)s: use only those listed.",
                            "Unknown placeholders %(names)s: use only those listed.",
                            len(unknown),
                        )
                        % {"names": ", ".join("{" + n + "}" for n in unknown)},
                        code="unknown_placeholder",
                    ),
                )
        return cleaned


class RecommendationLetterView(_ScreenMixin, TemplateView):
    """The centre head edits the letter the curators send (one template for all)."""

    template_name = "wagtail_iom/admin/recommendations/letter.html"
    page_title = gettext_lazy("Recommendation letter")
    index_url_name = f"{RECOMMENDATIONS}:letter"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_assign_curators(request.user):
            return forbidden(
                request, _("Only the head of the centre edits the recommendation letter.")
            )
        self.letter = recommendations.letter()
        self.form = RecommendationLetterForm(request.POST or None, instance=self.letter)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "form": self.form,
                "letter": self.letter,
                "placeholders": recommendations.PLACEHOLDERS.items(),
                "media": self.form.media,
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.form.is_valid():
            messages.error(request, _("The letter could not be saved: correct the errors."))
            return self.get(request, *args, **kwargs)
        letter = self.form.save(commit=False)
        letter.updated_by = request.user
        letter.save()
        messages.success(request, _("The recommendation letter is saved."))
        return redirect(f"{RECOMMENDATIONS}:letter")


class RecommendationFilterForm(TeacherFilterForm):
    """The filter of the curator's teachers; the curator filter for the centre head only."""

    def __init__(self, *args, with_curator_filter=True, **kwargs):
        super().__init__(*args, with_curator_filter=with_curator_filter, **kwargs)
        del self.fields["has_curator"]


def _last_sent(teacher):
    rows = getattr(teacher, "recommendation_sends", None) or []
    return rows[0] if rows else None


class RecommendationListView(_ScreenMixin, TemplateView):
    """The curator's teachers (the centre head's: all who have a curator), when each was last
    sent the recommendation letter and by whom; send it to one teacher or the ticked ones."""

    template_name = "wagtail_iom/admin/recommendations/index.html"
    page_title = gettext_lazy("My teachers")
    index_url_name = f"{RECOMMENDATIONS}:index"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        if not access.can_send_recommendations(request.user):
            return forbidden(
                request, _("Only curators send the recommendation letter to their teachers.")
            )
        return super().dispatch(request, *args, **kwargs)

    def sendable(self):
        return access.teachers_recommendation_sendable_by(self.request.user)

    @cached_property
    def sees_all(self):
        return access.sees_all_teachers(self.request.user)

    @cached_property
    def filter_form(self):
        form = RecommendationFilterForm(self.request.GET or None, with_curator_filter=self.sees_all)
        form.is_valid()
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        teachers = (
            service.filter_teachers(self.sendable(), **self.filter_form.filters())
            .select_related("municipality", "school", "user")
            .annotate(
                consent_withdrawn=Exists(
                    PersonalDataConsent.objects.filter(
                        user_id=OuterRef("user_id"), withdrawn_at__isnull=False
                    )
                )
            )
            .prefetch_related(
                service.current_assignments_prefetch(),
                Prefetch(
                    "recommendations_sent",
                    queryset=RecommendationSent.objects.select_related("sent_by").order_by(
                        "-sent_at", "-pk"
                    ),
                    to_attr="recommendation_sends",
                ),
            )
            .order_by("last_name", "first_name", "patronymic", "pk")
        )
        context.update(_paginate(self.request, teachers))
        context["rows"] = [
            (
                teacher,
                _current_curator(teacher),
                _last_sent(teacher),
                len(teacher.recommendation_sends),
            )
            for teacher in context["page_obj"].object_list
        ]
        context["filter_form"] = self.filter_form
        context["sees_all"] = self.sees_all
        context["can_edit_letter"] = access.can_assign_curators(self.request.user)
        return context

    def post(self, request, *args, **kwargs):
        ids = _ids(request.POST.getlist("teacher"))
        if ids is None:
            return _refuse_ids(request)
        if set(self.sendable().filter(pk__in=ids).values_list("pk", flat=True)) != ids:
            return _refuse_ids(request)
        if not ids:
            messages.warning(request, _("No teachers were selected."))
            return self.back()
        _report(request, recommendations.send(ids, request.user, language=get_language()))
        return self.back()


def _names(teachers):
    names = [t.full_name for t in teachers[:20]]
    return ", ".join(names) + (", …" if len(teachers) > 20 else "")


def _report(request, result):
    """ "Sent N, skipped M (why)" as admin messages."""
    if result.sent:
        messages.success(
            request,
            ngettext(
                "The recommendation letter is sent to %(count)d teacher.",
                "The recommendation letter is sent to %(count)d teachers.",
                len(result.sent),
            )
            % {"count": len(result.sent)},
        )
    if result.skipped:
        reasons = []
        if result.consent_withdrawn:
            reasons.append(
                _("consent to personal-data processing withdrawn: %(names)s")
                % {"names": _names(result.consent_withdrawn)}
            )
        if result.no_email:
            reasons.append(_("no e-mail address: %(names)s") % {"names": _names(result.no_email)})
        if result.just_sent:
            reasons.append(
                _("sent less than a minute ago: %(names)s") % {"names": _names(result.just_sent)}
            )
        messages.warning(
            request,
            ngettext(
                "%(count)d teacher skipped (%(reasons)s).",
                "%(count)d teachers skipped (%(reasons)s).",
                result.skipped,
            )
            % {"count": result.skipped, "reasons": "; ".join(reasons)},
        )


class RecommendationSendView(_ScreenMixin, TemplateView):
    """One teacher: the letter as it will be sent, and the button that sends it."""

    template_name = "wagtail_iom/admin/recommendations/send.html"
    page_title = gettext_lazy("Send the recommendation letter")
    index_url_name = f"{RECOMMENDATIONS}:index"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, pk):
        if not access.can_send_recommendations(request.user):
            return forbidden(
                request, _("Only curators send the recommendation letter to their teachers.")
            )
        self.teacher = get_object_or_404(
            access.teachers_recommendation_sendable_by(request.user).select_related("user"),
            pk=pk,
        )
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return self.teacher.full_name

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("My teachers")},
            {"url": "", "label": self.teacher.full_name},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subject, text = recommendations.rendered(self.teacher)
        context.update(
            {
                "teacher": self.teacher,
                "letter_subject": subject,
                "letter_text": text,
                "consent_withdrawn": access.processing_stopped(self.teacher.user),
                "sends": list(
                    self.teacher.recommendations_sent.select_related("sent_by").order_by(
                        "-sent_at", "-pk"
                    )[:10]
                ),
                "index_url": reverse(self.index_url_name),
                "can_edit_letter": access.can_assign_curators(self.request.user),
            }
        )
        return context

    def post(self, request, pk):
        _report(request, recommendations.send([self.teacher.pk], request.user, get_language()))
        return redirect(self.index_url_name)


# Viewsets and the menu -----------------------------------------------------------------------


def _menu_item(rule):
    class RuleMenuItem(MenuItem):
        def is_shown(self, request):
            return rule(request.user)

    return RuleMenuItem


class AssignmentViewSet(ViewSet):
    name = ASSIGNMENTS
    url_prefix = "iom/assignments"
    icon = "group"
    menu_label = gettext_lazy("Assign curators")
    menu_order = 200

    def get_urlpatterns(self):
        return [
            path("", AssignmentIndexView.as_view(), name="index"),
            path("teachers/<iom_id:pk>/", AssignmentHistoryView.as_view(), name="history"),
        ]

    @cached_property
    def menu_item_class(self):
        return _menu_item(access.can_assign_curators)


class ProposalViewSet(ViewSet):
    name = PROPOSALS
    url_prefix = "iom/proposals"
    icon = "list-ul"
    menu_label = gettext_lazy("Proposed teachers")
    menu_order = 300

    def get_urlpatterns(self):
        return [path("", ProposalListView.as_view(), name="index")]

    @cached_property
    def menu_item_class(self):
        return _menu_item(access.can_assign_curators)


class ProposeViewSet(ViewSet):
    name = PROPOSE
    url_prefix = "iom/propose-teachers"
    icon = "plus"
    menu_label = gettext_lazy("Propose teachers")
    menu_order = 400

    def get_urlpatterns(self):
        return [path("", ProposeView.as_view(), name="index")]

    @cached_property
    def menu_item_class(self):
        return _menu_item(access.can_propose_teachers)


class RecommendViewSet(ViewSet):
    name = RECOMMEND
    url_prefix = "iom/recommend-teachers"
    icon = "plus"
    menu_label = gettext_lazy("Recommend teachers")
    menu_order = 500

    def get_urlpatterns(self):
        return [path("", RecommendView.as_view(), name="index")]

    @cached_property
    def menu_item_class(self):
        return _menu_item(access.can_recommend_teachers)


class RecommendationViewSet(ViewSet):
    name = RECOMMENDATIONS
    url_prefix = "iom/my-teachers"
    icon = "mail"
    menu_label = gettext_lazy("My teachers")
    menu_order = 50

    def get_urlpatterns(self):
        return [
            path("", RecommendationListView.as_view(), name="index"),
            path("<iom_id:pk>/send/", RecommendationSendView.as_view(), name="send"),
            path("letter/", RecommendationLetterView.as_view(), name="letter"),
        ]

    @cached_property
    def menu_item_class(self):
        return _menu_item(access.can_send_recommendations)


class CuratorsViewSetGroup(ViewSetGroup):
    """Staff roles and who accompanies which teacher; each item shown only to those allowed."""

    menu_label = gettext_lazy("Curators")
    menu_icon = "group"
    menu_order = 245
    items = (
        RecommendationViewSet,
        StaffRoleViewSet,
        AssignmentViewSet,
        ProposalViewSet,
        ProposeViewSet,
        RecommendViewSet,
    )


# The log of the teacher's profile ------------------------------------------------------------


def register_log_actions(actions):
    """Labels and messages of the assignment entries in the teacher's history."""

    def _name(entry, key):
        person = (entry.data or {}).get(key) or {}
        return person.get("title") or "—"

    @actions.register_action(service.LOG_ASSIGNED)
    class Assigned(LogFormatter):
        label = gettext_lazy("Assign curator")

        def format_message(self, log_entry):
            if (log_entry.data or {}).get("previous_curator"):
                return _("Moved from curator %(previous)s to %(curator)s") % {
                    "previous": _name(log_entry, "previous_curator"),
                    "curator": _name(log_entry, "curator"),
                }
            return _("Assigned to curator %(curator)s") % {"curator": _name(log_entry, "curator")}

    @actions.register_action(service.LOG_UNASSIGNED)
    class Unassigned(LogFormatter):
        label = gettext_lazy("Unassign curator")

        def format_message(self, log_entry):
            return _("Unassigned from curator %(curator)s") % {
                "curator": _name(log_entry, "curator")
            }

    @actions.register_action(service.LOG_PROPOSED)
    class Proposed(LogFormatter):
        label = gettext_lazy("Propose for a route")
        message = gettext_lazy("Proposed for a route by the municipal methodist")

        def format_comment(self, log_entry):
            return (log_entry.data or {}).get("comment", "")

    @actions.register_action(service.LOG_PROPOSAL_ACCEPTED)
    class Accepted(LogFormatter):
        label = gettext_lazy("Accept a proposal")

        def format_message(self, log_entry):
            return _("Proposal accepted; curator %(curator)s") % {
                "curator": _name(log_entry, "curator")
            }

    @actions.register_action(service.LOG_PROPOSAL_REJECTED)
    class Rejected(LogFormatter):
        label = gettext_lazy("Reject a proposal")
        message = gettext_lazy("Proposal rejected")

        def format_comment(self, log_entry):
            return (log_entry.data or {}).get("comment", "")


def permissions_to_register():
    """What the group editor offers for these screens (staff roles register their own)."""
    return Permission.objects.filter(
        content_type__app_label="wagtail_iom",
        codename__in=["add_curatorassignment", "add_teacherproposal"],
    )
