"""Who read what: the access log of teachers' personal data (152-FZ).

Staff opening a teacher's profile, a diagnostic result or a route in the admin, printing a
route or exporting a listing of routes, diagnostics or sign-ups leave a
:class:`~wagtail_iom.people.models.PersonalDataAccess` row per teacher: who, when, which teacher,
what action. A page adds one query (one insert); an export two (the listing's teacher ids, then
one insert of all rows), whatever the number of rows.

Only the admin's screens write it: a teacher's own reading (the cabinet, the own print) is not
logged.
"""

from django.utils import timezone

from wagtail_iom.core import access
from wagtail_iom.people.models import PersonalDataAccess, PersonalDataAccessAction

Action = PersonalDataAccessAction

#: Rows per INSERT of an export's records; within SQLite's limit of bound parameters.
BATCH_SIZE = 5000


def _staff(user):
    return user if user is not None and user.is_authenticated else None


def record(user, action, teacher_id, object_id="", detail=""):
    """Log that ``user`` read teacher ``teacher_id``'s data (one insert)."""
    staff = _staff(user)
    if staff is None or teacher_id is None:
        return None
    return PersonalDataAccess.objects.create(
        staff_member=staff,
        teacher_id=teacher_id,
        action=action,
        object_id=str(object_id or ""),
        detail=detail[:200],
    )


def record_export(user, action, teacher_ids, detail=""):
    """Log an export: one row per distinct teacher in it. ``teacher_ids`` is a values_list
    query (or any iterable) of the exported rows' teacher ids."""
    staff = _staff(user)
    if staff is None:
        return 0
    now = timezone.now()
    ids = sorted({teacher_id for teacher_id in teacher_ids if teacher_id is not None})
    PersonalDataAccess.objects.bulk_create(
        [
            PersonalDataAccess(
                staff_member=staff, teacher_id=teacher_id, action=action, at=now, detail=detail
            )
            for teacher_id in ids
        ],
        batch_size=BATCH_SIZE,
    )
    return len(ids)


def can_read_access_log(user) -> bool:
    """The head of the centre (and superusers) read the access log."""
    return bool(
        user
        and user.is_active
        and (user.is_superuser or (access.is_centre_head(user) and _has_admin_access(user)))
    )


def _has_admin_access(user):
    return user.has_perm("wagtailadmin.access_admin")


__all__ = ["Action", "can_read_access_log", "record", "record_export"]


class AccessLoggedMixin:
    """For an admin view that shows one object about a teacher: a successful GET is logged.

    ``access_action`` names the action; ``logged_teacher_id(obj)`` the teacher (the object's
    ``teacher_id`` by default, the object's own id for a profile)."""

    access_action = None

    def logged_teacher_id(self, obj):
        return obj.teacher_id

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        obj = getattr(self, "object", None)
        if response.status_code == 200 and obj is not None:
            record(request.user, self.access_action, self.logged_teacher_id(obj), object_id=obj.pk)
        return response


class ExportLoggedMixin:
    """For an admin listing whose CSV/XLSX export holds teachers' data: the export is logged,
    one row per teacher in it. ``exported_teacher_ids(queryset)`` gives their ids."""

    export_access_action = None
    teacher_id_field = "teacher_id"

    def exported_teacher_ids(self, queryset):
        return queryset.order_by().values_list(self.teacher_id_field, flat=True)

    def as_spreadsheet(self, queryset, spreadsheet_format):
        record_export(
            self.request.user,
            self.export_access_action,
            self.exported_teacher_ids(queryset),
            detail=str(spreadsheet_format),
        )
        return super().as_spreadsheet(queryset, spreadsheet_format)
