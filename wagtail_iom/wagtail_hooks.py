"""The one place where the package is wired into the Wagtail admin."""

from wagtail import hooks

from .viewsets import DirectoryViewSetGroup, EventListingViewSet


@hooks.register("register_admin_viewset")
def register_directory_viewsets():
    return DirectoryViewSetGroup()


@hooks.register("register_admin_viewset")
def register_event_listing():
    return EventListingViewSet()


# Diagnostics (section 2 of the route document): the results listing and the teacher chooser.
@hooks.register("register_admin_viewset")
def register_diagnostics_viewset():
    from .viewsets_diagnostics import DiagnosticResultViewSet

    return DiagnosticResultViewSet()


@hooks.register("register_admin_viewset")
def register_teacher_chooser_viewset():
    from .viewsets_diagnostics import teacher_chooser_viewset

    return teacher_chooser_viewset


# Attendance and sign-ups: marking attendance per session, approving sign-ups.
@hooks.register("register_admin_urls")
def register_attendance_urls():
    from django.urls import include, path

    from .views import attendance_admin

    urls = [
        path("events/<int:event_id>/", attendance_admin.event_attendance, name="event"),
        path("sessions/<int:session_id>/", attendance_admin.session_attendance, name="session"),
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
    from .viewsets_registrations import RegistrationViewSet

    return RegistrationViewSet()


def _attendance_button(page, user, priority):
    """The "Attendance" button of an event page, for those who may mark it; else None."""
    from django.urls import reverse
    from django.utils.translation import gettext as _
    from wagtail.admin.widgets import Button

    from .models import EventPageMixin
    from .services import access

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
    from .viewsets_teachers import TeacherViewSet

    return TeacherViewSet()
