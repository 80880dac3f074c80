"""Admin screens to mark attendance: an event's sessions, and per session the confirmed sign-ups
with checkboxes and an upload of attendees' e-mails.

Who may: whoever may edit the event page (:func:`wagtail_iom.core.access.can_mark_attendance`);
anyone else gets 403. The work is done by :mod:`wagtail_iom.attendance.services`.
"""

from django import forms
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from wagtail_iom.attendance import services as service
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import access
from wagtail_iom.core.http import forbidden
from wagtail_iom.core.text import participant_name
from wagtail_iom.core.uploads import check_upload
from wagtail_iom.events.models import EventPage, EventSession

URL_NAMESPACE = "wagtail_iom_attendance"


class AttendanceUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("List of attendees"),
        help_text=gettext_lazy(
            "A .txt file with one e-mail per line, or a .csv (UTF-8 or Windows-1251) or .xlsx "
            "table with a column headed “email”."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def clean_file(self):
        return check_upload(
            self.cleaned_data["file"],
            extensions=service.UPLOAD_EXTENSIONS,
            limit=iom_settings.ATTENDANCE_UPLOAD_MAX_SIZE,
            wrong_type=_("Upload a .csv, .xlsx or .txt file; “%(name)s” is none of these."),
        )


class _AttendanceMixin(WagtailAdminTemplateMixin):
    header_icon = "tick-inverse"
    page_title = gettext_lazy("Attendance")

    def may_mark(self, event):
        return access.can_mark_attendance(self.request.user, event)

    def refuse(self):
        return forbidden(
            self.request,
            _(
                "Only those who may edit this event can mark its attendance. Ask an editor "
                "of the event, or an administrator, for the right."
            ),
        )

    def event_breadcrumbs(self, event):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtail_iom_events:index"), "label": _("Events")},
            {"url": reverse("wagtailadmin_pages:edit", args=[event.pk]), "label": event.title},
            {
                "url": reverse(f"{URL_NAMESPACE}:event", args=[event.pk]),
                "label": _("Attendance"),
            },
        ]


class EventAttendanceView(_AttendanceMixin, TemplateView):
    """The sessions of an event, with how many are marked present at each."""

    template_name = "wagtail_iom/admin/attendance/event.html"

    def dispatch(self, request, event_id):
        self.event = get_object_or_404(EventPage, pk=event_id)
        if not self.may_mark(self.event):
            return self.refuse()
        return super().dispatch(request, event_id)

    def get_page_subtitle(self):
        return self.event.title

    def get_breadcrumbs_items(self):
        return self.event_breadcrumbs(self.event)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["event"] = self.event
        context["sessions"] = (
            EventSession.objects.filter(page=self.event)
            .annotate(marked=Count("attendance"))
            .order_by("date", "start_time")
        )
        context["confirmed_count"] = service.eligible_registrations(self.event.pk).count()
        return context


class SessionAttendanceView(_AttendanceMixin, TemplateView):
    """One session: tick who was present, or upload their e-mails."""

    template_name = "wagtail_iom/admin/attendance/session.html"
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, session_id):
        self.session = get_object_or_404(EventSession.objects.select_related("page"), pk=session_id)
        self.event = self.session.page
        if not self.may_mark(self.event):
            return self.refuse()
        return super().dispatch(request, session_id)

    def get_page_subtitle(self):
        return self.event.title

    def get_breadcrumbs_items(self):
        return [
            *self.event_breadcrumbs(self.event),
            {
                "url": self.request.path,
                "label": "{}, {:%H:%M}".format(
                    date_format(self.session.date, "DATE_FORMAT"), self.session.start_time
                ),
            },
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        registrations = service.eligible_registrations(self.event.pk).select_related(
            "user", "user__iom_teacher_profile"
        )
        marked = service.marked_registration_ids(self.session)
        rows = sorted(
            (
                {
                    "registration": registration,
                    "name": participant_name(registration.user),
                    "email": registration.user.email,
                    "present": registration.pk in marked,
                }
                for registration in registrations
            ),
            key=lambda row: (row["name"].lower(), row["registration"].pk),
        )
        context.update(
            {
                "event": self.event,
                "session": self.session,
                "rows": rows,
                "present_count": sum(1 for row in rows if row["present"]),
                "upload_form": kwargs.get("upload_form") or AttendanceUploadForm(),
                "report": kwargs.get("report"),
                "max_upload_size": iom_settings.ATTENDANCE_UPLOAD_MAX_SIZE,
            }
        )
        return context

    def post(self, request, session_id):
        if request.POST.get("action") == "upload":
            return self.upload(request)
        result = service.mark_session(self.session, request.POST.getlist("present"), request.user)
        if result.changed:
            messages.success(
                request,
                _(
                    "Attendance saved: %(added)d marked present, %(removed)d unmarked, "
                    "%(unchanged)d unchanged."
                )
                % {
                    "added": len(result.added),
                    "removed": len(result.removed),
                    "unchanged": result.unchanged,
                },
            )
        else:
            messages.info(request, _("Attendance saved: nothing changed."))
        if result.refused:
            messages.warning(
                request,
                _(
                    "%(count)d of the ticked sign-ups are not confirmed sign-ups of this event "
                    "(cancelled or changed meanwhile?) and were not marked."
                )
                % {"count": len(result.refused)},
            )
        return redirect(f"{URL_NAMESPACE}:session", session_id=self.session.pk)

    def upload(self, request):
        form = AttendanceUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(upload_form=form))
        upload = form.cleaned_data["file"]
        try:
            rows = service.read_attendance_file(upload.read(), upload.name)
        except service.AttendanceFileError as exc:
            form.add_error("file", forms.ValidationError(str(exc), code="file_unreadable"))
            return self.render_to_response(self.get_context_data(upload_form=form))
        report = service.import_attendance(self.session, rows, request.user)
        bad = len(report.bad_rows)
        summary = _(
            "List read: %(added)d marked present, %(already)d were already marked, "
            "%(bad)d rows not applied."
        ) % {
            "added": report.added,
            "already": len(report.ok_rows) - report.added,
            "bad": bad,
        }
        if bad:
            messages.warning(request, summary)
        else:
            messages.success(request, summary)
        return self.render_to_response(self.get_context_data(report=report))


event_attendance = EventAttendanceView.as_view()
session_attendance = SessionAttendanceView.as_view()
