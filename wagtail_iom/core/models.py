"""Models of the core: the record of e-mails already sent, and Wagtail's log of changes to
teachers' data, scoped like the data itself."""

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models.audit_log import BaseLogEntry, ModelLogEntryManager

from wagtail_iom.core import access


class SentNotification(models.Model):
    """An e-mail already sent, so that a retried or repeated task does not send it again.

    ``key`` names the occasion: the kind, the registration and what makes the occasion unique
    (the registration's status change, the event's calendar sequence, the session's date).
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", null=True
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sent notification")
        verbose_name_plural = _("sent notifications")
        indexes = [models.Index(fields=["kind", "sent_at"])]

    def __str__(self):
        return self.key


class TeacherLogEntryManager(ModelLogEntryManager):
    """Writes each entry with the teacher it is about, and shows a staff member only the
    entries about teachers they reach (:func:`wagtail_iom.core.access.teacher_scope`)."""

    def log_action(self, instance, action, **kwargs):
        from wagtail_iom.core import history

        kwargs.setdefault("teacher_id", history.teacher_id_of(instance))
        return super().log_action(instance, action, **kwargs)

    def log_actions(self, entries, action, *, user=None, timestamp=None):
        """:meth:`log_action` for many instances in one insert: ``entries`` are (instance,
        data) pairs. The user and the uuid of Wagtail's active log context apply as in
        ``wagtail.log_actions.log``."""
        from wagtail.log_actions import get_active_log_context

        from wagtail_iom.core import history

        context = get_active_log_context()
        timestamp = timestamp or timezone.now()
        return self.bulk_create(
            self.model(
                content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
                object_id=str(instance.pk),
                label=self.get_instance_title(instance),
                action=action,
                timestamp=timestamp,
                user=user or context.user,
                uuid=context.uuid,
                data=data or {},
                teacher_id=history.teacher_id_of(instance),
            )
            for instance, data in entries
        )

    def viewable_by_user(self, user):
        if user.is_superuser:
            return self.all()
        entries = self.filter(content_type_id__in=self._content_types_for(user))
        if access.sees_all_teachers(user):
            return entries
        TeacherProfile = access.model("TeacherProfile")
        return entries.filter(
            teacher_id__in=TeacherProfile.objects.filter(access.teacher_scope(user)).values("pk")
        )

    def _content_types_for(self, user):
        """The registered models' content types on which ``user`` holds any permission, as
        Wagtail's own rule is, read once per user object (request).

        Wagtail's ``viewable_by_user`` keeps its answer on the user object under one name for
        every log model, so whichever model the report asks first decides for all of them (and
        Wagtail's own log has none of these content types): this one keeps its own."""
        cached = getattr(user, "_iom_log_content_type_ids", None)
        if cached is None:
            from wagtail_iom.core import history

            content_types = ContentType.objects.get_for_models(
                *history.registered_models(), for_concrete_models=False
            ).values()
            labels = {ct.pk: ct.app_label for ct in content_types}
            cached = set()
            if user.is_active:
                for permission in Permission.objects.filter(content_type_id__in=labels):
                    if permission.content_type_id not in cached and user.has_perm(
                        f"{labels[permission.content_type_id]}.{permission.codename}"
                    ):
                        cached.add(permission.content_type_id)
            user._iom_log_content_type_ids = cached
        return cached


class TeacherLogEntry(BaseLogEntry):
    """Wagtail's log entry for an object about one teacher: the profile, a route, a diagnostic
    result, a sign-up (registered in ``wagtail_hooks.py`` through :mod:`wagtail_iom.core.history`).

    Wagtail's own ``ModelLogEntry`` shows every entry of a model to anyone who holds a permission
    on that model, so a curator would read in the site history report the names and route changes
    of teachers who are not theirs. These entries carry the teacher they are about, and
    ``viewable_by_user`` narrows them to the teachers the user reaches, in the site history report,
    its CSV and XLSX exports, its filters and every object's history.

    ``teacher`` keeps the id of a teacher who was later deleted (no database constraint): the
    entries about them stay visible to those who reach every teacher.
    """

    object_id = models.CharField(max_length=255, db_index=True)
    teacher = models.ForeignKey(
        "wagtail_iom.TeacherProfile",
        verbose_name=_("teacher"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = TeacherLogEntryManager()

    class Meta(BaseLogEntry.Meta):
        ordering = ["-timestamp", "-id"]
        verbose_name = _("log entry about a teacher")
        verbose_name_plural = _("log entries about teachers")
        indexes = [
            models.Index(fields=["uuid", "action", "-timestamp"], name="iom_teacherlog_uuid_idx"),
            models.Index(fields=["content_type", "object_id"], name="iom_teacherlog_object_idx"),
        ]

    def __str__(self):
        return f"LogEntry {self.pk}: '{self.action}' on '{self.object_verbose_name}'"
