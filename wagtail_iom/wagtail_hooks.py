"""The one place where the package is wired into the Wagtail admin."""

from functools import partial

from wagtail import hooks

from wagtail_iom.directory.admin import DirectoryViewSetGroup
from wagtail_iom.events.admin import EventListingViewSet
from wagtail_iom.reports.admin import REPORT_MENU, report_menu_item


@hooks.register("register_admin_viewset")
def register_directory_viewsets():
    return DirectoryViewSetGroup()


@hooks.register("register_admin_viewset")
def register_event_listing():
    return EventListingViewSet()


# Wagtail's log of changes to teachers' data (profiles, routes, diagnostics, sign-ups) records
# the teacher each entry is about, so that the site history report, its exports and every
# object's history show a scoped staff member only their teachers (core/history.py).
@hooks.register("register_log_actions")
def register_teacher_log_models(actions):
    from wagtail_iom.core import access, history
    from wagtail_iom.models import DiagnosticResult, Registration, Route, TeacherProfile

    def registration_teacher(registration):
        profile = access.teacher_profile(registration.user)
        return profile.pk if profile else None

    history.register(actions, TeacherProfile, teacher_of=lambda profile: profile.pk)
    history.register(actions, Route, teacher_of=lambda route: route.teacher_id)
    history.register(actions, DiagnosticResult, teacher_of=lambda result: result.teacher_id)
    history.register(actions, Registration, teacher_of=registration_teacher)


# Diagnostics (section 2 of the route document): the results listing and the teacher chooser.
@hooks.register("register_admin_viewset")
def register_diagnostics_viewset():
    from wagtail_iom.diagnostics.admin import DiagnosticResultViewSet

    return DiagnosticResultViewSet()


@hooks.register("register_admin_viewset")
def register_diagnostics_import_viewset():
    from wagtail_iom.diagnostics.admin import DiagnosticImportViewSet

    return DiagnosticImportViewSet()


@hooks.register("register_admin_viewset")
def register_teacher_chooser_viewset():
    from wagtail_iom.people.admin import teacher_chooser_viewset

    return teacher_chooser_viewset


# Attendance and sign-ups: marking attendance per session, approving sign-ups.
@hooks.register("register_admin_urls")
def register_attendance_urls():
    from django.urls import include, path

    from wagtail_iom.attendance import admin as attendance_admin

    urls = [
        path("events/<iom_id:event_id>/", attendance_admin.event_attendance, name="event"),
        path("sessions/<iom_id:session_id>/", attendance_admin.session_attendance, name="session"),
    ]
    return [
        path(
            "iom/attendance/",
            include(
                (urls, attendance_admin.URL_NAMESPACE), namespace=attendance_admin.URL_NAMESPACE
            ),
        )
    ]


@hooks.register("register_admin_viewset")
def register_registration_viewset():
    from wagtail_iom.events.admin import RegistrationViewSet

    return RegistrationViewSet()


def _attendance_button(page, user, priority):
    """The "Attendance" button of an event page, for those who may mark it; else None."""
    from django.urls import reverse
    from django.utils.translation import gettext as _
    from wagtail.admin.widgets import Button

    from wagtail_iom.core import access
    from wagtail_iom.events.models import EventPageMixin

    if page.pk is None or not issubclass(page.specific_class or type(page), EventPageMixin):
        return None
    if not access.can_mark_attendance(user, page):
        return None
    return Button(
        _("Attendance"),
        reverse("wagtail_iom_attendance:event", args=[page.pk]),
        icon_name="tick-inverse",
        attrs={"title": _("Mark who attended the sessions of this event")},
        priority=priority,
    )


@hooks.register("register_page_header_buttons")
def attendance_page_header_button(page, user, view_name=None, next_url=None):
    button = _attendance_button(page, user, priority=40)
    return [button] if button else []


@hooks.register("register_page_listing_more_buttons")
def attendance_page_listing_button(page, user, next_url=None):
    button = _attendance_button(page, user, priority=45)
    return [button] if button else []


@hooks.register("register_admin_viewset")
def register_teacher_viewset():
    from wagtail_iom.people.admin import TeacherViewSet

    return TeacherViewSet()


# Who read what (152-FZ): the access log of teachers' personal data, under Reports, for the
# head of the centre (people/access_log.py writes it).
@hooks.register("register_admin_viewset")
def register_access_log_viewset():
    from wagtail_iom.people.admin import access_log_viewset

    return access_log_viewset


@hooks.register("register_reports_menu_item")
def register_access_log_menu_item():
    from wagtail_iom.people.admin import access_log_menu_item

    return access_log_menu_item()


# Withdrawals of consent (152-FZ): the open ones, under Reports, for the head of the centre
# (privacy/admin.py).
@hooks.register("register_admin_urls")
def register_withdrawal_urls():
    from django.urls import include, path

    from wagtail_iom.privacy import admin as privacy_admin

    return [
        path(
            "iom/withdrawals/",
            include(
                (privacy_admin.urlpatterns(), privacy_admin.URL_NAMESPACE),
                namespace=privacy_admin.URL_NAMESPACE,
            ),
        )
    ]


@hooks.register("register_reports_menu_item")
def register_withdrawals_menu_item():
    from wagtail_iom.privacy.admin import withdrawals_menu_item

    return withdrawals_menu_item()


# Curators: staff roles, assigning teachers to curators, proposals (curators/admin.py).
@hooks.register("register_admin_viewset")
def register_curators_viewsets():
    from wagtail_iom.curators.admin import CuratorsViewSetGroup

    return CuratorsViewSetGroup()


@hooks.register("register_log_actions")
def register_curator_log_actions(actions):
    from wagtail_iom.curators.admin import register_log_actions

    register_log_actions(actions)


@hooks.register("register_permissions")
def register_curator_permissions():
    from wagtail_iom.curators.admin import permissions_to_register

    return permissions_to_register()


# Printed routes (ИОМ): the route document in its four layouts as HTML, PDF and Word, for the
# staff who may see the route: reverse("wagtail_iom_route_print:print", args=(pk, layout, fmt)).
@hooks.register("register_admin_urls")
def register_route_print_urls():
    from django.urls import include, path

    from wagtail_iom.routes import views as route_print

    return [
        path(
            "iom/routes/",
            include(
                (route_print.admin_urlpatterns(), route_print.ADMIN_NAMESPACE),
                namespace=route_print.ADMIN_NAMESPACE,
            ),
        )
    ]


# Routes (ИОМ) in the admin: the listing and editor, the workflow, the "new route" flow
# (routes/admin.py). Their permission policy is registered in AppConfig.ready().
@hooks.register("register_admin_viewset")
def register_route_viewset():
    from wagtail_iom.routes.admin import RouteViewSet

    return RouteViewSet()


# The methodical audits of routes (routes/audit_admin.py): their list under Reports, for those
# who see routes (each sees the audits of the routes they see).
@hooks.register("register_admin_viewset")
def register_route_audit_viewset():
    from wagtail_iom.routes.audit_admin import RouteAuditViewSet

    return RouteAuditViewSet()


@hooks.register("register_reports_menu_item")
def register_route_audit_menu_item():
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _
    from wagtail.admin.menu import MenuItem

    from wagtail_iom.core import access
    from wagtail_iom.routes.audit_admin import VIEWSET_NAME

    class AuditsMenuItem(MenuItem):
        def is_shown(self, request):
            return access.can_view_routes(request.user)

    return AuditsMenuItem(
        _("Methodical audits"),
        reverse(f"{VIEWSET_NAME}:index"),
        name="iom-route-audits",
        icon_name="clipboard-list",
        order=917,
    )


def _route_delete_bulk_action():
    from wagtail_iom.routes.admin import RouteDeleteBulkAction

    return RouteDeleteBulkAction


# Registered after Wagtail's own snippet bulk delete (order=1), which it replaces for routes.
hooks.register("register_bulk_action", _route_delete_bulk_action(), order=1)


@hooks.register("register_log_actions")
def register_route_log_actions(actions):
    from wagtail_iom.routes.admin import TRANSITION_LOG_ACTION, RouteTransitionLogFormatter

    actions.register_action(TRANSITION_LOG_ACTION)(RouteTransitionLogFormatter)


@hooks.register("register_log_actions")
def register_route_draft_log_action(actions):
    from wagtail_iom.routes.admin import RouteDraftLogFormatter
    from wagtail_iom.routes.drafts import LOG_ACTION

    actions.register_action(LOG_ACTION)(RouteDraftLogFormatter)


# An event's editor checks the seats against the sign-ups holding them: a POST to it runs under
# the event's lock, like every sign-up (events/signup.py, edit_under_lock).
@hooks.register("before_edit_page")
def edit_events_under_their_lock(request, page):
    from wagtail.admin.views.pages.edit import EditView

    from wagtail_iom.events import signup
    from wagtail_iom.events.models import EventPageMixin

    if (
        request.method != "POST"
        or not isinstance(page, EventPageMixin)
        or getattr(request, "iom_event_locked", False)
    ):
        return None
    request.iom_event_locked = True
    return signup.edit_under_lock(page, lambda: EditView.as_view()(request, page_id=page.pk))


# Teachers' accounts: once staff have changed an account (its edit form, or the bulk "set active
# state"), staff decide whether it is active and its e-mail confirmation link no longer
# activates it.
@hooks.register("after_edit_user")
def end_confirmation_after_edit(request, user):
    from wagtail_iom.accounts import services as accounts

    accounts.end_confirmation([user])


@hooks.register("after_bulk_action")
def end_confirmation_after_bulk_action(request, action_type, objects, action_class_instance):
    if action_type != "set_active_state":
        return
    from django.contrib.auth import get_user_model

    from wagtail_iom.accounts import services as accounts

    accounts.end_confirmation([obj for obj in objects if isinstance(obj, get_user_model())])


# The centre's reports (reports/admin.py), under Reports, for those who may read them.
@hooks.register("register_admin_urls")
def register_report_urls():
    from django.urls import include, path

    from wagtail_iom.reports import admin as reports_admin

    return [
        path(
            "iom/reports/",
            include(
                (reports_admin.urlpatterns(), reports_admin.URL_NAMESPACE),
                namespace=reports_admin.URL_NAMESPACE,
            ),
        )
    ]


@hooks.register("register_reports_menu_item")
def register_municipal_export_menu_item():
    from wagtail_iom.reports.admin import municipal_export_menu_item

    return municipal_export_menu_item()


# The centre's reports under Reports, one menu item each (reports/admin.py, REPORT_MENU).
for _url_name in REPORT_MENU:
    hooks.register("register_reports_menu_item", partial(report_menu_item, _url_name))
