"""Signal receivers of the diagnostics domain, connected when the app is ready."""

from django.db.models.signals import post_save

from wagtail_iom.diagnostics import importing
from wagtail_iom.people.models import TeacherProfile


def on_profile_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        importing.write_pending_results(instance)


def connect_profile_receivers():
    """A new teacher's profile (the consent, or staff creating it) takes the results an import
    kept for the account while it had none, in the transaction that creates the profile."""
    post_save.connect(
        on_profile_saved, sender=TeacherProfile, dispatch_uid="iom-diagnostics-profile-created"
    )
